package flow

import (
	"errors"

	"github.com/guanjia/guanjia/internal/errs"
)

func asErr(err error, target **errs.Error) bool { return errors.As(err, target) }
