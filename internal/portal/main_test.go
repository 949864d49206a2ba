package portal_test

import (
	"testing"

	"github.com/guanjia/guanjia/internal/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }
