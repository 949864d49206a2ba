package model

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is an ISO 8601 duration. Years, months, weeks and days are kept
// apart from the clock part because they are calendar units: P1D across a
// daylight-saving change is not 24 hours.
type Duration struct {
	Negative                   bool
	Years, Months, Weeks, Days int
	Clock                      time.Duration
}

// AddTo returns t moved by the duration (calendar units first).
func (d Duration) AddTo(t time.Time) time.Time {
	sign := 1
	if d.Negative {
		sign = -1
	}
	t = t.AddDate(sign*d.Years, sign*d.Months, sign*(d.Weeks*7+d.Days))
	return t.Add(time.Duration(sign) * d.Clock)
}

// IsZero reports whether the duration moves nothing.
func (d Duration) IsZero() bool {
	return d.Years == 0 && d.Months == 0 && d.Weeks == 0 && d.Days == 0 && d.Clock == 0
}

// ParseDuration reads PnYnMnWnDTnHnMnS (fractional seconds allowed). It
// returns an error wrapping ErrBadTime when s is malformed.
func ParseDuration(s string) (Duration, error) {
	var d Duration
	bad := func() (Duration, error) { return Duration{}, fmt.Errorf("duration %q: %w", s, ErrBadTime) }
	rest := s
	if strings.HasPrefix(rest, "-") {
		d.Negative, rest = true, rest[1:]
	}
	if !strings.HasPrefix(rest, "P") || len(rest) < 2 {
		return bad()
	}
	rest = rest[1:]
	inTime, any := false, false
	for rest != "" {
		if rest[0] == 'T' {
			if inTime || len(rest) == 1 {
				return bad()
			}
			inTime, rest = true, rest[1:]
			continue
		}
		i := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != ',' })
		if i <= 0 {
			return bad()
		}
		num, unit := strings.ReplaceAll(rest[:i], ",", "."), rest[i]
		rest = rest[i+1:]
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return bad()
		}
		if !d.set(inTime, unit, f) {
			return bad()
		}
		any = true
	}
	if !any {
		return bad()
	}
	return d, nil
}

func (d *Duration) set(inTime bool, unit byte, f float64) bool {
	whole := f == float64(int(f))
	if inTime {
		switch unit {
		case 'H':
			d.Clock += time.Duration(f * float64(time.Hour))
		case 'M':
			d.Clock += time.Duration(f * float64(time.Minute))
		case 'S':
			d.Clock += time.Duration(f * float64(time.Second))
		default:
			return false
		}
		return true
	}
	if !whole {
		return false
	}
	switch unit {
	case 'Y':
		d.Years += int(f)
	case 'M':
		d.Months += int(f)
	case 'W':
		d.Weeks += int(f)
	case 'D':
		d.Days += int(f)
	default:
		return false
	}
	return true
}

// ParseDate reads an RFC 3339 instant, a local date-time (taken as UTC) or a
// date (midnight UTC). It returns an error wrapping ErrBadTime otherwise.
func ParseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q: %w", s, ErrBadTime)
}

// Cycle is an ISO 8601 repeating interval: R[n][/start]/duration.
type Cycle struct {
	Repeat   int // -1 = unbounded (R/...)
	Start    time.Time
	Interval Duration
}

// ParseCycle reads R3/PT10M, R/P1D or R2/2026-01-01T09:00:00Z/PT1H. It
// returns an error wrapping ErrBadTime for anything else (cron included).
func ParseCycle(s string) (Cycle, error) {
	bad := func() (Cycle, error) { return Cycle{}, fmt.Errorf("cycle %q: %w", s, ErrBadTime) }
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || !strings.HasPrefix(parts[0], "R") {
		return bad()
	}
	c := Cycle{Repeat: -1}
	if n := parts[0][1:]; n != "" {
		r, err := strconv.Atoi(n)
		if err != nil || r < 0 {
			return bad()
		}
		c.Repeat = r
	}
	if len(parts) == 3 {
		t, err := ParseDate(parts[1])
		if err != nil {
			return bad()
		}
		c.Start = t
	}
	d, err := ParseDuration(parts[len(parts)-1])
	if err != nil || d.IsZero() || d.Negative {
		return bad()
	}
	c.Interval = d
	return c, nil
}
