package cases

import (
	"encoding/json"

	"github.com/guanjia/guanjia/internal/errs"
)

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

type validationSink struct{ errs.Validation }
