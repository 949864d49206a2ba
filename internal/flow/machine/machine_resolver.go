package machine

import (
	"fmt"
	"time"

	"github.com/guanjia/guanjia/internal/flow/model"
)

// CalendarResolver resolves time values in plain calendar time, ignoring
// the business flag. It is the default; the runtime replaces it with one
// that knows working hours and holidays.
type CalendarResolver struct{}

// Resolve returns now+duration, the date itself, or a cycle's next firing
// (its start when still ahead, else now+interval). It returns an error
// wrapping model.ErrBadTime for a malformed value.
func (CalendarResolver) Resolve(now time.Time, spec model.TimerSpec) (time.Time, error) {
	switch spec.Kind {
	case model.TimeDuration:
		d, err := model.ParseDuration(spec.Raw)
		if err != nil {
			return time.Time{}, err
		}
		return d.AddTo(now), nil
	case model.TimeDate:
		return model.ParseDate(spec.Raw)
	case model.TimeCycle:
		c, err := model.ParseCycle(spec.Raw)
		if err != nil {
			return time.Time{}, err
		}
		if c.Start.After(now) {
			return c.Start, nil
		}
		return c.Interval.AddTo(now), nil
	}
	return time.Time{}, fmt.Errorf("machine: resolve %q: %w", spec.Raw, model.ErrBadTime)
}
