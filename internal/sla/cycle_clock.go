package sla

import (
	"time"

	"github.com/guanjia/guanjia/internal/calendar"
)

// clock counts the time a target runs on: working time on a calendar, or
// plain elapsed time.
type clock struct {
	cal *calendar.Calendar // nil: elapsed time
}

func (c clock) add(t time.Time, d time.Duration) (time.Time, error) {
	if c.cal == nil {
		return t.Add(d), nil
	}
	return c.cal.Add(t, d)
}

func (c clock) between(a, b time.Time) time.Duration {
	if c.cal == nil {
		return b.Sub(a)
	}
	return c.cal.Between(a, b)
}

// reach returns the instant at which need of counted time has run since
// start, leaving out the closed pauses (sorted, not overlapping) and an open
// pause from openFrom when that is not zero. ok is false when the clock
// stands still (an open pause) before need is reached: the instant is not
// known until the cycle resumes.
func (c clock) reach(start time.Time, pauses []Pause, openFrom time.Time, need time.Duration) (at time.Time, ok bool, err error) {
	t, rem := start, need
	for _, p := range pauses {
		if !p.To.After(t) {
			continue
		}
		if p.From.After(t) {
			avail := c.between(t, p.From)
			if avail >= rem {
				at, err := c.add(t, rem)
				return at, err == nil, err
			}
			rem -= avail
		}
		t = p.To
	}
	if !openFrom.IsZero() {
		if openFrom.After(t) {
			if avail := c.between(t, openFrom); avail >= rem {
				at, err := c.add(t, rem)
				return at, err == nil, err
			}
		}
		return time.Time{}, false, nil
	}
	at, err = c.add(t, rem)
	return at, err == nil, err
}

// elapsed returns the counted time from start to now, leaving out pauses.
func (c clock) elapsed(start time.Time, pauses []Pause, openFrom, now time.Time) time.Duration {
	d := c.between(start, now)
	for _, p := range pauses {
		d -= c.between(maxTime(p.From, start), minTime(p.To, now))
	}
	if !openFrom.IsZero() && openFrom.Before(now) {
		d -= c.between(maxTime(openFrom, start), now)
	}
	return d
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// deadlines computes the warning and breach instants of a cycle from its
// start, pauses and target. Both are nil while a pause holds the clock
// before they are reached.
func (c clock) deadlines(cy *Cycle) (warnAt, dueAt *time.Time, err error) {
	var open time.Time
	if cy.PausedAt != nil {
		open = *cy.PausedAt
	}
	target := time.Duration(cy.TargetMinutes) * time.Minute
	due, ok, err := c.reach(cy.StartedAt, cy.Pauses, open, target)
	if err != nil {
		return nil, nil, err
	}
	if ok {
		dueAt = &due
	}
	if cy.WarnPct > 0 && cy.WarnPct < 100 {
		warn, ok, err := c.reach(cy.StartedAt, cy.Pauses, open, target*time.Duration(cy.WarnPct)/100)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			warnAt = &warn
		}
	}
	return warnAt, dueAt, nil
}
