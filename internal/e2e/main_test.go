package e2e_test

import (
	"testing"

	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/e2e"
)

func TestMain(m *testing.M) { dbtest.Main(e2e.Runner(m)) }
