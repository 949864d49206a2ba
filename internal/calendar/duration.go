package calendar

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// BusinessDuration is an SLA target split the way a calendar applies it:
// whole business weeks and days move the wall clock from working day to
// working day (AddDays), the clock part then adds working time (Add). Keep
// them apart, because "P1D" is "same time next working day" while "PT24H" is
// 24 hours of working time, about three working days in an office.
// Calendar.AddBusiness applies one. Fields are never negative.
type BusinessDuration struct {
	Weeks int           // business weeks, each as many days as the regular week has working days
	Days  int           // business days
	Clock time.Duration // working time added after the days
}

// maxBusinessDays bounds Weeks and Days so that sums cannot overflow; it is
// far beyond any service-level target.
const maxBusinessDays = 100_000

// ParseBusinessDuration reads a Go duration ("8h", "90m", "1h30m") as clock
// time, or an ISO 8601 duration: "PT8H", "PT1.5H", "P3D", "P1DT4H", "P2W",
// "P1W2D". Designators may be lower case. Years and months are refused
// because they have no fixed business length, as are negative values and
// fractional days or weeks. It returns an error naming the input and the
// problem.
func ParseBusinessDuration(s string) (BusinessDuration, error) {
	text := strings.TrimSpace(s)
	if text == "" {
		return BusinessDuration{}, fmt.Errorf("calendar: business duration: empty")
	}
	var (
		bd  BusinessDuration
		err error
	)
	if text[0] == 'P' || text[0] == 'p' {
		bd, err = parseISODuration(strings.ToUpper(text))
	} else {
		bd.Clock, err = parseGoDuration(text)
	}
	if err != nil {
		return BusinessDuration{}, fmt.Errorf("calendar: business duration %q: %w", s, err)
	}
	return bd, nil
}

func parseGoDuration(text string) (time.Duration, error) {
	d, err := time.ParseDuration(text)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("negative")
	}
	return d, nil
}

// parseISODuration reads P[nW][nD][T[nH][nM][nS]], already upper-cased.
func parseISODuration(text string) (BusinessDuration, error) {
	datePart, timePart, hasTime := strings.Cut(text[1:], "T")
	if datePart == "" && timePart == "" {
		return BusinessDuration{}, fmt.Errorf("no components after P")
	}
	if hasTime && timePart == "" {
		return BusinessDuration{}, fmt.Errorf("T must be followed by hours, minutes or seconds")
	}
	var bd BusinessDuration
	err := eachComponent(datePart, "WD", func(value string, unit byte) error {
		n, err := wholeDays(value, unit)
		if unit == 'W' {
			bd.Weeks = n
		} else {
			bd.Days = n
		}
		return err
	})
	if err != nil {
		return BusinessDuration{}, err
	}
	err = eachComponent(timePart, "HMS", func(value string, unit byte) error {
		part, err := time.ParseDuration(strings.ReplaceAll(value, ",", ".") + strings.ToLower(string(unit)))
		if err != nil || part > maxDuration-bd.Clock {
			return fmt.Errorf("%s%c is too large or malformed", value, unit)
		}
		bd.Clock += part
		return nil
	})
	return bd, err
}

const maxDuration = time.Duration(1<<63 - 1)

// eachComponent splits "3W2D" into (value, designator) pairs and checks that
// designators come from units, in that order, each at most once.
func eachComponent(part, units string, use func(value string, unit byte) error) error {
	next := 0 // index in units of the earliest designator still allowed
	for part != "" {
		end := strings.IndexFunc(part, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != ',' })
		if end < 0 {
			return fmt.Errorf("number %q lacks a designator", part)
		}
		if end == 0 {
			return fmt.Errorf("designator %q lacks a number", part[:1])
		}
		unit := part[end]
		at := strings.IndexByte(units[next:], unit)
		if at < 0 {
			return designatorError(unit, units)
		}
		if err := use(part[:end], unit); err != nil {
			return err
		}
		next += at + 1
		part = part[end+1:]
	}
	return nil
}

func designatorError(unit byte, units string) error {
	if (unit == 'Y' || unit == 'M') && units == "WD" {
		return fmt.Errorf("years and months have no fixed business length; use days (P20D) or weeks (P4W)")
	}
	return fmt.Errorf("designator %q is unknown, repeated or out of order here (want %s in that order)", unit, units)
}

func wholeDays(value string, unit byte) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil {
		return 0, fmt.Errorf("%s%c: days and weeks must be whole numbers; write fractions as hours (PT4H)", value, unit)
	}
	if n > maxBusinessDays {
		return 0, fmt.Errorf("%s%c: more than %d", value, unit, maxBusinessDays)
	}
	return n, nil
}

// String formats bd as ISO 8601, e.g. "P1DT4H", "P2W", "PT1H30M"; zero is
// "PT0S". ParseBusinessDuration reads it back to the same value.
func (bd BusinessDuration) String() string {
	var b strings.Builder
	b.WriteByte('P')
	if bd.Weeks != 0 {
		fmt.Fprintf(&b, "%dW", bd.Weeks)
	}
	if bd.Days != 0 {
		fmt.Fprintf(&b, "%dD", bd.Days)
	}
	if bd.Clock != 0 || b.Len() == 1 {
		b.WriteByte('T')
		writeClock(&b, bd.Clock)
	}
	return b.String()
}

func writeClock(b *strings.Builder, d time.Duration) {
	if d < 0 {
		// Only a hand-built value can be negative; keep it readable.
		b.WriteByte('-')
		d = -d
	}
	hours, rest := d/time.Hour, d%time.Hour
	minutes, rest := rest/time.Minute, rest%time.Minute
	seconds, nanos := rest/time.Second, rest%time.Second
	if hours != 0 {
		fmt.Fprintf(b, "%dH", hours)
	}
	if minutes != 0 {
		fmt.Fprintf(b, "%dM", minutes)
	}
	if seconds != 0 || nanos != 0 || (hours == 0 && minutes == 0) {
		fmt.Fprintf(b, "%d", seconds)
		if nanos != 0 {
			fmt.Fprintf(b, ".%s", strings.TrimRight(fmt.Sprintf("%09d", nanos), "0"))
		}
		b.WriteByte('S')
	}
}
