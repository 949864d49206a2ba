package calendar

import (
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/errs"
)

// Keys of the calendars that ship with guanjia.
const (
	// KeyCNWorkday is the Chinese office week: Monday to Friday 09:00-12:00
	// and 13:30-18:00 in Asia/Shanghai, with public holidays and make-up
	// working days for 2024–2026.
	KeyCNWorkday = "cn-workday"
	// Key24x7 is round-the-clock service: every instant is working time.
	Key24x7 = "24x7"
)

//go:embed cn_holidays.txt
var cnHolidaysText string

// BuiltinKeys lists the keys Builtin knows, in the order an admin page
// shows them.
func BuiltinKeys() []string { return []string{KeyCNWorkday, Key24x7} }

// BuiltinSpec returns the definition of a shipped calendar, e.g. to store it
// in the database on first start. It returns an *errs.Error with code
// errs.ENotFound for an unknown key.
func BuiltinSpec(key string) (Spec, error) {
	switch key {
	case KeyCNWorkday:
		return cnWorkdaySpec()
	case Key24x7:
		return Spec{Key: Key24x7, Name: "全天候 24×7", TimeZone: DefaultTimeZone, AlwaysOpen: true}, nil
	}
	return Spec{}, &errs.Error{Code: errs.ENotFound, Key: "error.calendar.not_found",
		Err: fmt.Errorf("calendar: no built-in calendar %q (have %s)", key, strings.Join(BuiltinKeys(), ", "))}
}

// Builtin compiles a shipped calendar. Compiling cn-workday takes about a
// millisecond, so callers keep the result rather than call this per request.
// It returns an *errs.Error with code errs.ENotFound for an unknown key.
func Builtin(key string) (*Calendar, error) {
	spec, err := BuiltinSpec(key)
	if err != nil {
		return nil, err
	}
	c, err := New(spec)
	if err != nil {
		return nil, fmt.Errorf("calendar: built-in %s: %w", key, err)
	}
	return c, nil
}

func cnWorkdaySpec() (Spec, error) {
	years, err := ParseHolidayList(strings.NewReader(cnHolidaysText))
	if err != nil {
		return Spec{}, fmt.Errorf("calendar: built-in %s holidays: %w", KeyCNWorkday, err)
	}
	office := []Interval{{Start: 9 * 60, End: 12 * 60}, {Start: 13*60 + 30, End: 18 * 60}}
	return Spec{
		Key:      KeyCNWorkday,
		Name:     "中国工作日",
		TimeZone: DefaultTimeZone,
		Week: WeeklyHours{
			time.Monday:    office,
			time.Tuesday:   office,
			time.Wednesday: office,
			time.Thursday:  office,
			time.Friday:    office,
		},
		MakeUpWeekday: weekdayKeys[time.Monday],
		Years:         years,
	}, nil
}
