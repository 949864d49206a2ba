package calendar

import (
	"errors"
	"fmt"
	"time"

	"github.com/guanjia/guanjia/internal/errs"
)

// ErrOutOfRange is wrapped by Add, AddDays and AddBusiness when the start or
// the answer lies outside the supported range (1900-01-02 to 2199-12-31 UTC).
// errors.Is(err, errs.ErrInvalid) holds for it too.
var ErrOutOfRange = &errs.Error{
	Code: errs.EInvalid,
	Key:  "error.calendar.out_of_range",
	Err:  errors.New("calendar: outside the supported range 1900-01-02 to 2199-12-31 UTC"),
}

// IsWorking reports whether t is working time. Intervals are half-open, so
// 09:00 is working and 12:00 is not under 09:00-12:00. Instants outside the
// supported range are not working.
func (c *Calendar) IsWorking(t time.Time) bool {
	if c.spec.AlwaysOpen {
		return true
	}
	x, ok := instantOf(t)
	if !ok {
		return false
	}
	tl := c.timelineFor(x, x)
	i := tl.segmentAt(x)
	return i >= 0 && x < tl.ends[i]
}

// NextWorking returns t itself when it is working time, else the start of
// the next working interval, in t's location. It returns t unchanged when t
// is outside the supported range or no working time follows before its end.
func (c *Calendar) NextWorking(t time.Time) time.Time {
	if c.spec.AlwaysOpen {
		return t
	}
	x, ok := instantOf(t)
	if !ok {
		return t
	}
	next, ok := c.nextWorking(x)
	if !ok || next == x {
		return t
	}
	return time.Unix(0, next).In(t.Location())
}

// Add returns the instant at which d of working time has elapsed after t, in
// t's location. Working time starts at NextWorking(t) when t is outside
// working hours. Boundary rule: an answer that falls exactly on the end of an
// interval is that end, not the start of the next interval (Mon 17:00 + 1h =
// Mon 18:00, and 11:00 + 1h = 12:00, not 13:30). Add(t, 0) is t, working or
// not. A negative d counts working time backwards and, symmetrically, stops
// at the start of an interval (Tue 10:00 − 1h = Tue 09:00). It returns an
// error wrapping ErrOutOfRange when t or the answer lies outside the
// supported range.
func (c *Calendar) Add(t time.Time, d time.Duration) (time.Time, error) {
	if d == 0 {
		return t, nil
	}
	if c.spec.AlwaysOpen {
		return t.Add(d), nil
	}
	if x, ok := instantOf(t); ok {
		if r, found := c.add(x, d); found {
			return time.Unix(0, r).In(t.Location()), nil
		}
	}
	return time.Time{}, fmt.Errorf("calendar %s: add %v to %s: %w", c.spec.Key, d, t.Format(time.RFC3339), ErrOutOfRange)
}

// AddDays returns the same local wall-clock time n working days later, in
// t's location. A working day is a local date with any working time (a
// make-up day counts, a holiday does not). When t is outside working hours
// the count starts from NextWorking(t), so AddDays(t, 0) is NextWorking(t):
// from Fri 19:00, one business day is Tue 09:00 (Mon 09:00 + 1 day). When
// that wall-clock time is not working on the target day (shorter hours, a
// lunch break, a daylight-saving gap) the answer moves forward to the next
// working instant of that day, or back to the end of its last interval, so
// it never leaves the target day. For an AlwaysOpen calendar every date is a
// working day. It returns an errs.EInvalid error when n is negative and an
// error wrapping ErrOutOfRange when t or the answer is outside the supported
// range.
func (c *Calendar) AddDays(t time.Time, n int) (time.Time, error) {
	if n < 0 || n > maxSearchDays {
		return time.Time{}, &errs.Error{Code: errs.EInvalid, Key: "error.calendar.days_out_of_range",
			Err: fmt.Errorf("calendar %s: add %d business days: want 0 to %d", c.spec.Key, n, maxSearchDays)}
	}
	if c.spec.AlwaysOpen {
		local := t.In(c.loc)
		y, m, d := local.Date()
		hh, mm, ss := local.Clock()
		return time.Date(y, m, d+n, hh, mm, ss, local.Nanosecond(), c.loc).In(t.Location()), nil
	}
	if x, ok := instantOf(t); ok {
		if start, ok := c.nextWorking(x); ok {
			if r, ok := c.addDays(start, n); ok {
				return time.Unix(0, r).In(t.Location()), nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("calendar %s: add %d business days to %s: %w", c.spec.Key, n, t.Format(time.RFC3339), ErrOutOfRange)
}

// AddBusiness applies a parsed business duration: first its weeks and days
// with AddDays (a week counts as many days as the calendar's regular week
// has working days, 5 for Monday to Friday, 7 for 24×7), then its clock part
// with Add. It returns the errors of AddDays and Add.
func (c *Calendar) AddBusiness(t time.Time, bd BusinessDuration) (time.Time, error) {
	days := bd.Days + bd.Weeks*c.daysPerBusinessWeek()
	if days != 0 {
		var err error
		if t, err = c.AddDays(t, days); err != nil {
			return time.Time{}, fmt.Errorf("calendar %s: add %s: %w", c.spec.Key, bd, err)
		}
	}
	r, err := c.Add(t, bd.Clock)
	if err != nil {
		return time.Time{}, fmt.Errorf("calendar %s: add %s: %w", c.spec.Key, bd, err)
	}
	return r, nil
}

func (c *Calendar) daysPerBusinessWeek() int {
	if c.spec.AlwaysOpen {
		return 7
	}
	return c.workdaysPerWeek
}

// Between returns the working time in [a, b). It is antisymmetric:
// Between(b, a) = −Between(a, b), so it is negative when b is before a and
// zero when they are equal; and Between(a, Add(a, d)) = d. Instants outside
// the supported range count as its nearest end.
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if c.spec.AlwaysOpen {
		return b.Sub(a)
	}
	if b.Before(a) {
		return -c.Between(b, a)
	}
	x, y := clampedInstant(a), clampedInstant(b)
	tl := c.timelineFor(x, y)
	return time.Duration(tl.position(y) - tl.position(x))
}

// instantOf returns t in unix nanoseconds; ok is false outside the supported
// range.
func instantOf(t time.Time) (x int64, ok bool) {
	s := t.Unix()
	if s < supportedFrom || s >= supportedTo {
		return 0, false
	}
	return t.UnixNano(), true
}

func clampedInstant(t time.Time) int64 {
	s := t.Unix()
	switch {
	case s < supportedFrom:
		return supportedFrom * int64(time.Second)
	case s >= supportedTo:
		return supportedTo * int64(time.Second)
	}
	return t.UnixNano()
}

// searchWindows calls try with ever wider day windows ahead of (or, when
// backward, behind) day, until try succeeds or the window spans the whole
// supported range. It is the slow path for answers beyond the horizon.
func searchWindows(firstSpan int, backward bool, day int, build func(from, to int) *timeline, try func(*timeline) bool) bool {
	for span := min(firstSpan, maxSearchDays); ; span = min(2*span, maxSearchDays) {
		from, to := day-1, day+span
		if backward {
			from, to = day-span, day+2
		}
		if try(build(from, to)) {
			return true
		}
		if span == maxSearchDays {
			return false
		}
	}
}

func (c *Calendar) nextWorking(x int64) (next int64, found bool) {
	try := func(tl *timeline) bool {
		next, found = tl.next(x)
		return found
	}
	if try(c.horizon) {
		return next, true
	}
	return next, searchWindows(14, false, c.dayOf(x), c.build, try)
}

// next returns x when it is working, else the start of the next segment.
func (tl *timeline) next(x int64) (int64, bool) {
	if !tl.covers(x) {
		return 0, false
	}
	i := tl.segmentAt(x)
	if i >= 0 && x < tl.ends[i] {
		return x, true
	}
	if i+1 < len(tl.starts) {
		return tl.starts[i+1], true
	}
	return 0, false
}

func (c *Calendar) add(x int64, d time.Duration) (r int64, found bool) {
	try := func(tl *timeline) bool {
		r, found = tl.add(x, d)
		return found
	}
	if try(c.horizon) {
		return r, true
	}
	return r, searchWindows(c.searchDays(d), d < 0, c.dayOf(x), c.build, try)
}

// searchDays guesses how many calendar days hold d of working time: the
// weekly rate with half as much again for holidays, plus a month.
func (c *Calendar) searchDays(d time.Duration) int {
	need := uint64(d)
	if d < 0 {
		need = uint64(-d)
	}
	weeks := need/uint64(c.weeklyWork) + 1
	return int(min(weeks*7*3/2+31, uint64(maxSearchDays)))
}

// addDays moves the working instant x to the same wall-clock time n working
// days later.
func (c *Calendar) addDays(x int64, n int) (r int64, found bool) {
	try := func(tl *timeline) bool {
		r, found = c.addDaysOn(tl, x, n)
		return found
	}
	if try(c.horizon) {
		return r, true
	}
	return r, searchWindows(2*n+31, false, c.dayOf(x), c.build, try)
}

func (c *Calendar) addDaysOn(tl *timeline, x int64, n int) (int64, bool) {
	if !tl.covers(x) {
		return 0, false
	}
	i := tl.segmentAt(x)
	if i < 0 || x >= tl.ends[i] {
		return 0, false
	}
	k := int(tl.segDay[i]) + n
	if k >= len(tl.days) {
		return 0, false
	}
	return c.sameClockOn(tl, k, x), true
}

// sameClockOn returns the instant on working day k of tl whose wall clock
// reads as x's does, moved into that day's working time.
func (c *Calendar) sameClockOn(tl *timeline, k int, x int64) int64 {
	local := time.Unix(0, x).In(c.loc)
	hh, mm, ss := local.Clock()
	date := dateOfDay(int(tl.days[k]))
	target := time.Date(date.Year, date.Month, date.Day, hh, mm, ss, local.Nanosecond(), c.loc).UnixNano()
	first, last := int(tl.dayFirst[k]), int(tl.dayFirst[k+1])-1
	for j := first; j <= last; j++ {
		if target < tl.ends[j] {
			return max(target, tl.starts[j])
		}
	}
	return tl.ends[last]
}
