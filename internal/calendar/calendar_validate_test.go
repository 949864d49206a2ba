package calendar

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/errs"
)

func TestNewRejectsInvalidSpecs(t *testing.T) {
	office := intervals(t, "09:00-12:00", "13:30-18:00")
	valid := func() Spec {
		return Spec{Key: "office", Week: WeeklyHours{time.Monday: office, time.Tuesday: office}}
	}
	holidayAndWorkday := valid()
	holidayAndWorkday.Years = []YearData{{
		Year:     2025,
		Holidays: []NamedDate{{Date: date(t, "2025-10-01"), Name: "国庆节"}},
		Workdays: []NamedDate{{Date: date(t, "2025-10-01"), Name: "调休"}},
	}}
	tests := []struct {
		name    string
		change  func(*Spec)
		field   string // a key of errs.Error.Fields
		message string // part of the error text
	}{
		{"missing key", func(s *Spec) { s.Key = "" }, "key", "a key is required"},
		{"bad key", func(s *Spec) { s.Key = "CN Workday" }, "key", "lower-case"},
		{"long name", func(s *Spec) { s.Name = strings.Repeat("名", 101) }, "name", "longer than 100"},
		{"unknown zone", func(s *Spec) { s.TimeZone = "Mars/Olympus" }, "timeZone", `unknown time zone "Mars/Olympus"`},
		{"server zone", func(s *Spec) { s.TimeZone = "Local" }, "timeZone", "depends on the server"},
		{"inverted interval", func(s *Spec) { s.Week[time.Friday] = intervals(t, "18:00-09:00") }, "week.fri[0]", "18:00-09:00 does not end after it starts"},
		{"empty interval", func(s *Spec) { s.Week[time.Friday] = intervals(t, "09:00-09:00") }, "week.fri[0]", "does not end after it starts"},
		{"interval outside the day", func(s *Spec) { s.Week[time.Friday] = []Interval{{Start: -5, End: 60}} }, "week.fri[0]", "outside 00:00-24:00"},
		{"overlap", func(s *Spec) { s.Week[time.Friday] = intervals(t, "13:00-18:00", "09:00-13:30") }, "week.fri[0]", "13:00-18:00 overlaps 09:00-13:30"},
		{"no hours", func(s *Spec) { s.Week = WeeklyHours{} }, "week", "no working hours"},
		{"holiday and workday", func(s *Spec) { *s = holidayAndWorkday }, "years[0].workdays[0].date", "2025-10-01 is both a holiday (国庆节, years[0].holidays[0].date)"},
		{"duplicate year", func(s *Spec) { s.Years = []YearData{{Year: 2025}, {Year: 2025}} }, "years[1].year", "listed twice"},
		{"year out of range", func(s *Spec) { s.Years = []YearData{{Year: 3025}} }, "years[0].year", "outside"},
		{"date far from its year", func(s *Spec) {
			s.Years = []YearData{{Year: 2025, Holidays: []NamedDate{{Date: date(t, "2027-01-01")}}}}
		}, "years[0].holidays[0].date", "not a date of 2025"},
		{"impossible date", func(s *Spec) {
			s.Years = []YearData{{Year: 2025, Holidays: []NamedDate{{Date: Date{2025, time.February, 30}}}}}
		}, "years[0].holidays[0].date", "not a date of 2025"},
		{"unknown make-up weekday", func(s *Spec) { s.MakeUpWeekday = "funday" }, "makeUpWeekday", "funday"},
		{"make-up weekday without hours", func(s *Spec) {
			s.MakeUpWeekday = "sat"
			s.Years = []YearData{{Year: 2025, Workdays: []NamedDate{{Date: date(t, "2025-09-28")}}}}
		}, "makeUpWeekday", "sat, which has none"},
		{"24x7 with hours", func(s *Spec) { s.AlwaysOpen = true }, "week", "takes no weekly hours"},
		{"24x7 with holidays", func(s *Spec) { *s = Spec{Key: "x", AlwaysOpen: true, Years: []YearData{{Year: 2025}}} }, "years", "no holidays"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := valid()
			tc.change(&spec)
			_, err := New(spec)
			var e *errs.Error
			if !errors.As(err, &e) || e.Code != errs.EInvalid || !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("New error = %v, want an errs.EInvalid error", err)
			}
			if _, ok := e.Fields[tc.field]; !ok {
				t.Errorf("Fields = %v, want %q", e.Fields, tc.field)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q lacks %q", err, tc.message)
			}
		})
	}
}

func TestNewListsEveryProblem(t *testing.T) {
	_, err := New(Spec{Key: "BAD", TimeZone: "Nowhere/Land", Week: WeeklyHours{time.Monday: intervals(t, "12:00-09:00")}})
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	for _, field := range []string{"key", "timeZone", "week.mon[0]", "week"} {
		if _, ok := e.Fields[field]; !ok {
			t.Errorf("Fields = %v, want %q", e.Fields, field)
		}
	}
}

func TestNewAcceptsAndNormalises(t *testing.T) {
	c := mustNew(t, Spec{Key: "touching", Week: WeeklyHours{time.Monday: intervals(t, "12:00-18:00", "09:00-12:00")}})
	spec := c.Spec()
	if spec.TimeZone != DefaultTimeZone || spec.MakeUpWeekday != "mon" {
		t.Errorf("defaults not filled: %+v", spec)
	}
	if spec.Week[time.Monday][0].Start != 9*60 {
		t.Errorf("intervals not sorted: %v", spec.Week[time.Monday])
	}
	// Touching intervals are one stretch of working time.
	got, _ := c.Add(at(t, c, "2025-09-29 11:00"), 2*time.Hour)
	if want := at(t, c, "2025-09-29 13:00"); !got.Equal(want) {
		t.Errorf("Add over touching intervals = %s, want %s", got, want)
	}
	spec.Week[time.Monday][0] = Interval{}
	if c.Spec().Week[time.Monday][0].Start != 9*60 {
		t.Error("Spec() shares memory with the calendar")
	}
}

func TestParseClockAndInterval(t *testing.T) {
	for _, bad := range []string{"9:00", "24:01", "12:60", "ab:cd", "", "09:00:00"} {
		if _, err := ParseClock(bad); err == nil {
			t.Errorf("ParseClock(%q) accepted", bad)
		}
	}
	if c, err := ParseClock("24:00"); err != nil || c != endOfDay {
		t.Errorf("ParseClock(24:00) = %v, %v", c, err)
	}
	for _, bad := range []string{"09:00", "09:00-", "09:00–12:00", "09:00-25:00"} {
		if _, err := ParseInterval(bad); err == nil {
			t.Errorf("ParseInterval(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"2025-2-01", "2025-02-30", "20250201", "2025-02-01T00:00"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
}
