// Package calendar computes business time: which instants are working time
// under a weekly schedule, public holidays and make-up working days (调休),
// and how deadlines move when working time is added.
//
// A Spec is the stored definition; New validates it and compiles a Calendar,
// which answers IsWorking, NextWorking, Add, AddDays, AddBusiness and Between.
//
// Semantics shared by every operation:
//   - Working intervals are half-open in local wall-clock time: 09:00-12:00
//     is working at 09:00 and not at 12:00. Interval bounds are whole
//     minutes; instants are used as given, down to the nanosecond, and
//     working time flows continuously inside an interval.
//   - Working time is real elapsed time. On a daylight-saving day an interval
//     01:00-04:00 holds the instants whose local clock reads 01:00 to 04:00:
//     two hours when clocks spring forward, four when they fall back.
//   - Results are returned in the location of the time passed in.
//   - Years without holiday data follow the weekly hours alone; MissingYears
//     tells an admin when that matters.
//   - Instants from 1900-01-02 to 2199-12-31 UTC are supported. Inside the
//     precomputed horizon (2020–2035, widened to cover every year of holiday
//     data) Add and Between take O(log n) time; outside it they compute what
//     they need on the fly, at a cost proportional to the span.
//
// A Calendar is immutable and safe for concurrent use.
package calendar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	_ "time/tzdata" // time zones work in minimal containers too

	"github.com/guanjia/guanjia/internal/errs"
)

// Calendar is a compiled, validated business calendar. Build one with New,
// Builtin or json.Unmarshal; the zero Calendar is not usable.
type Calendar struct {
	spec   Spec // normalised; never changed after New
	loc    *time.Location
	week   WeeklyHours
	makeUp time.Weekday
	// kinds marks the dates that differ from the weekly hours, by day number.
	kinds map[int]dayKind
	// dataYears lists the years with holiday data, ascending.
	dataYears       []int
	weeklyWork      time.Duration
	workdaysPerWeek int
	horizon         *timeline
}

type dayKind uint8

const (
	dayHoliday dayKind = iota + 1
	dayMakeUp
)

// New validates spec and compiles it. It returns an *errs.Error with code
// errs.EInvalid whose Fields map each offending JSON path (e.g.
// "week.mon[1]", "years[0].workdays[2].date") to an i18n key and whose
// message lists every problem; nothing is compiled then.
func New(spec Spec) (*Calendar, error) {
	spec = spec.clone()
	fillDefaults(&spec)
	c := &Calendar{spec: spec}
	// Validate before sorting, so that problems name the caller's indices.
	if err := c.validate(); err != nil {
		return nil, err
	}
	sortSpec(&c.spec)
	c.compileWeek()
	if !spec.AlwaysOpen {
		c.horizon = c.build(c.horizonDays())
	}
	return c, nil
}

// fillDefaults writes the defaults out, so that the stored JSON says what
// applies.
func fillDefaults(spec *Spec) {
	if spec.TimeZone == "" {
		spec.TimeZone = DefaultTimeZone
	}
	if spec.MakeUpWeekday == "" && !spec.AlwaysOpen {
		spec.MakeUpWeekday = weekdayKeys[time.Monday]
	}
}

// sortSpec orders intervals, dates and years, so that equal calendars store
// equal JSON.
func sortSpec(spec *Spec) {
	for d := range spec.Week {
		slices.SortFunc(spec.Week[d], func(a, b Interval) int { return int(a.Start) - int(b.Start) })
	}
	for i := range spec.Years {
		sortByDate(spec.Years[i].Holidays)
		sortByDate(spec.Years[i].Workdays)
	}
	slices.SortStableFunc(spec.Years, func(a, b YearData) int { return a.Year - b.Year })
}

func sortByDate(days []NamedDate) {
	slices.SortStableFunc(days, func(a, b NamedDate) int { return a.Date.dayNumber() - b.Date.dayNumber() })
}

func (c *Calendar) compileWeek() {
	c.week = c.spec.Week
	for _, hours := range c.week {
		for _, iv := range hours {
			c.weeklyWork += time.Duration(iv.End-iv.Start) * time.Minute
		}
		if len(hours) > 0 {
			c.workdaysPerWeek++
		}
	}
}

// horizonDays returns the day range to precompute: 2020–2035 and every year
// that has holiday data, with a day's margin for zone offsets.
func (c *Calendar) horizonDays() (fromDay, toDay int) {
	fromDay = Date{2020, time.January, 1}.dayNumber()
	toDay = Date{2036, time.January, 1}.dayNumber()
	for day := range c.kinds {
		fromDay = min(fromDay, day)
		toDay = max(toDay, day+1)
	}
	for _, y := range c.dataYears {
		fromDay = min(fromDay, Date{y, time.January, 1}.dayNumber())
		toDay = max(toDay, Date{y + 1, time.January, 1}.dayNumber())
	}
	return fromDay - 1, toDay + 1
}

// Key returns the calendar's key, e.g. "cn-workday".
func (c *Calendar) Key() string { return c.spec.Key }

// Name returns the calendar's display name.
func (c *Calendar) Name() string { return c.spec.Name }

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// AlwaysOpen reports whether every instant is working time (24×7).
func (c *Calendar) AlwaysOpen() bool { return c.spec.AlwaysOpen }

// Spec returns a copy of the normalised definition: defaults filled in,
// intervals, holidays and years sorted.
func (c *Calendar) Spec() Spec { return c.spec.clone() }

// Horizon returns the span in which Add and Between run in O(log n) time.
// For an AlwaysOpen calendar it is the whole supported range.
func (c *Calendar) Horizon() (from, to time.Time) {
	if c.spec.AlwaysOpen {
		return time.Unix(supportedFrom, 0).In(c.loc), time.Unix(supportedTo, 0).In(c.loc)
	}
	return time.Unix(0, c.horizon.from).In(c.loc), time.Unix(0, c.horizon.to).In(c.loc)
}

// HasDataFor reports whether the holiday data for year is present. A
// calendar that tracks no public holidays (AlwaysOpen, or no year of data at
// all) lacks nothing, so it reports true.
func (c *Calendar) HasDataFor(year int) bool {
	if c.spec.AlwaysOpen || len(c.dataYears) == 0 {
		return true
	}
	_, found := slices.BinarySearch(c.dataYears, year)
	return found
}

// MissingYears lists, ascending, the years from the first year with holiday
// data up to the year of now (in the calendar's zone) that have no data: the
// years that have begun and are computed with weekly hours only. It returns
// nil when nothing is missing and for calendars that track no holidays. To
// warn before a year begins, ask HasDataFor(nextYear).
func (c *Calendar) MissingYears(now time.Time) []int {
	if c.spec.AlwaysOpen || len(c.dataYears) == 0 {
		return nil
	}
	var missing []int
	for y := c.dataYears[0]; y <= now.In(c.loc).Year(); y++ {
		if !c.HasDataFor(y) {
			missing = append(missing, y)
		}
	}
	return missing
}

// WithYear returns a new calendar whose holiday data for y.Year is replaced
// by y (or added); c is unchanged. It returns New's validation error when the
// result is invalid, e.g. for an AlwaysOpen calendar or a date that is both a
// holiday and a make-up working day.
func (c *Calendar) WithYear(y YearData) (*Calendar, error) {
	spec := c.Spec()
	spec.ReplaceYear(y)
	merged, err := New(spec)
	if err != nil {
		return nil, fmt.Errorf("calendar %s: merge year %d: %w", c.Key(), y.Year, err)
	}
	return merged, nil
}

// MarshalJSON writes the normalised Spec.
func (c *Calendar) MarshalJSON() ([]byte, error) { return json.Marshal(c.spec) }

// UnmarshalJSON reads a Spec and compiles it. Unknown fields are refused, so
// that a misspelt "zone" does not silently fall back to the default. It
// returns an *errs.Error with code errs.EInvalid when the JSON is malformed
// or the Spec is invalid.
func (c *Calendar) UnmarshalJSON(b []byte) error {
	var spec Spec
	decoder := json.NewDecoder(bytes.NewReader(b))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&spec); err != nil {
		return &errs.Error{Code: errs.EInvalid, Key: "error.calendar.invalid",
			Err: fmt.Errorf("calendar: decode: %w", err)}
	}
	compiled, err := New(spec)
	if err != nil {
		return err
	}
	*c = *compiled
	return nil
}
