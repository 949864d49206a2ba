package calendar

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Spec is the stored definition of a business calendar: what an admin edits
// and what the database keeps as JSON. New validates a Spec and compiles it
// into a Calendar; a Spec on its own computes nothing.
type Spec struct {
	// Key identifies the calendar, e.g. "cn-workday": 1 to 64 lower-case
	// letters, digits, '-' or '_', starting with a letter or digit.
	Key string `json:"key"`
	// Name is what people see, e.g. "中国工作日".
	Name string `json:"name,omitempty"`
	// TimeZone is an IANA zone name; empty means DefaultTimeZone.
	TimeZone string `json:"timeZone,omitempty"`
	// AlwaysOpen makes every instant working time (24×7). Such a calendar
	// takes no Week and no Years: a round-the-clock service has no holidays.
	AlwaysOpen bool `json:"alwaysOpen,omitempty"`
	// Week holds the regular working hours of each weekday in local
	// wall-clock time.
	Week WeeklyHours `json:"week"`
	// MakeUpWeekday names the weekday ("mon" … "sun") whose hours apply on a
	// make-up working day (调休); empty means "mon". A make-up day repays a
	// weekday that was given off, so it is worked as a full ordinary weekday
	// whatever day of the week it falls on.
	MakeUpWeekday string `json:"makeUpWeekday,omitempty"`
	// Years holds public-holiday data, one entry per year of official notices.
	Years []YearData `json:"years,omitempty"`
}

// DefaultTimeZone is the zone of a Spec that names none.
const DefaultTimeZone = "Asia/Shanghai"

// YearData is the public-holiday data of one notice year: the days off and
// the make-up working days. A notice may reach into the neighbouring years
// (the 2023 notice gives 2022-12-31 off), so dates may lie one year either
// side of Year; Year is what HasDataFor and Spec.ReplaceYear go by.
type YearData struct {
	Year int `json:"year"`
	// Source says where the data came from, e.g. the notice's title or URL.
	Source string `json:"source,omitempty"`
	// Holidays are whole days off, weekends inside a holiday included.
	Holidays []NamedDate `json:"holidays"`
	// Workdays are make-up working days (调休), usually weekend days.
	Workdays []NamedDate `json:"workdays"`
}

// NamedDate is a whole local day with a reason, e.g. 2025-10-01 国庆节.
type NamedDate struct {
	Date Date   `json:"date"`
	Name string `json:"name,omitempty"`
}

// ReplaceYear puts y in place of the data of the same year, or adds it, and
// keeps Years in ascending order. It does not validate: New does.
func (s *Spec) ReplaceYear(y YearData) {
	y = y.clone()
	for i := range s.Years {
		if s.Years[i].Year == y.Year {
			s.Years[i] = y
			return
		}
	}
	s.Years = append(s.Years, y)
	slices.SortStableFunc(s.Years, func(a, b YearData) int { return cmp.Compare(a.Year, b.Year) })
}

// clone returns a deep copy, so that a compiled Calendar never shares slices
// with its caller.
func (s Spec) clone() Spec {
	for d := range s.Week {
		s.Week[d] = slices.Clone(s.Week[d])
	}
	years := make([]YearData, len(s.Years))
	for i, y := range s.Years {
		years[i] = y.clone()
	}
	if s.Years != nil {
		s.Years = years
	}
	return s
}

func (y YearData) clone() YearData {
	y.Holidays = slices.Clone(y.Holidays)
	y.Workdays = slices.Clone(y.Workdays)
	return y
}

// Date is a civil date without a zone; the calendar's zone gives it instants.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads "YYYY-MM-DD". It returns an error naming the input when the
// text is not a real date in that form.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != len(time.DateOnly) {
		return Date{}, fmt.Errorf("calendar: date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// DateOf returns the date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// String formats the date as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return weekdayOfDay(d.dayNumber()) }

// AddDays returns the date n days after d (before it when n is negative).
func (d Date) AddDays(n int) Date { return dateOfDay(d.dayNumber() + n) }

// MarshalText writes YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads YYYY-MM-DD; see ParseDate for the error.
func (d *Date) UnmarshalText(b []byte) error {
	parsed, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// dayNumber counts days since 1970-01-01, the civil day arithmetic that the
// timeline is indexed by.
func (d Date) dayNumber() int {
	return int(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay)
}

func dateOfDay(day int) Date {
	return DateOf(time.Unix(int64(day)*secondsPerDay, 0).UTC())
}

func weekdayOfDay(day int) time.Weekday {
	// 1970-01-01 was a Thursday.
	return time.Weekday(((day % 7) + 7 + int(time.Thursday)) % 7)
}

// Clock is a wall-clock time of day in minutes after midnight, from 0 (00:00)
// to 1440 (24:00, which only closes an interval).
type Clock int

const endOfDay Clock = 24 * 60

// ParseClock reads "HH:MM" from 00:00 to 24:00. It returns an error naming the
// input otherwise.
func ParseClock(s string) (Clock, error) {
	bad := fmt.Errorf("calendar: clock %q: want HH:MM from 00:00 to 24:00", s)
	if len(s) != 5 || s[2] != ':' {
		return 0, bad
	}
	hours, okH := twoDigits(s[0:2])
	minutes, okM := twoDigits(s[3:5])
	c := Clock(hours*60 + minutes)
	if !okH || !okM || minutes > 59 || c > endOfDay {
		return 0, bad
	}
	return c, nil
}

func twoDigits(s string) (int, bool) {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// String formats the clock as HH:MM.
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// Interval is a half-open span of working wall-clock time [Start, End) within
// one day: 09:00-12:00 includes 09:00 and 11:59:59.999 but not 12:00. Night
// shifts are written as two intervals, 22:00-24:00 and 00:00-06:00.
type Interval struct {
	Start Clock
	End   Clock
}

// ParseInterval reads "HH:MM-HH:MM". It checks only the form; New reports an
// inverted or overlapping interval with its place in the Spec.
func ParseInterval(s string) (Interval, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Interval{}, fmt.Errorf("calendar: interval %q: want HH:MM-HH:MM", s)
	}
	start, err := ParseClock(from)
	if err != nil {
		return Interval{}, fmt.Errorf("calendar: interval %q: %w", s, err)
	}
	end, err := ParseClock(to)
	if err != nil {
		return Interval{}, fmt.Errorf("calendar: interval %q: %w", s, err)
	}
	return Interval{Start: start, End: end}, nil
}

// String formats the interval as HH:MM-HH:MM.
func (iv Interval) String() string { return iv.Start.String() + "-" + iv.End.String() }

// MarshalText writes HH:MM-HH:MM.
func (iv Interval) MarshalText() ([]byte, error) { return []byte(iv.String()), nil }

// UnmarshalText reads HH:MM-HH:MM; see ParseInterval for the error.
func (iv *Interval) UnmarshalText(b []byte) error {
	parsed, err := ParseInterval(string(b))
	if err != nil {
		return err
	}
	*iv = parsed
	return nil
}

// WeeklyHours holds the working intervals of each weekday, indexed by
// time.Weekday. In JSON it is an object keyed "mon" … "sun":
// {"mon":["09:00-12:00","13:30-18:00"], …}.
type WeeklyHours [7][]Interval

var weekdayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// jsonOrder lists weekdays the way people read a week, Monday first.
var jsonOrder = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// ParseWeekday reads "mon" … "sun" (any case). It returns an error naming the
// input otherwise.
func ParseWeekday(s string) (time.Weekday, error) {
	for d, key := range weekdayKeys {
		if strings.EqualFold(s, key) {
			return time.Weekday(d), nil
		}
	}
	return 0, fmt.Errorf("calendar: weekday %q: want one of mon, tue, wed, thu, fri, sat, sun", s)
}

// MarshalJSON writes the days that have hours, Monday first.
func (w WeeklyHours) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for _, d := range jsonOrder {
		if len(w[d]) == 0 {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		hours, err := json.Marshal(w[d])
		if err != nil {
			return nil, fmt.Errorf("calendar: week %s: %w", weekdayKeys[d], err)
		}
		fmt.Fprintf(&b, "%q:%s", weekdayKeys[d], hours)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object keyed by weekday. It returns an error for an
// unknown key or a malformed interval.
func (w *WeeklyHours) UnmarshalJSON(b []byte) error {
	var byKey map[string][]Interval
	if err := json.Unmarshal(b, &byKey); err != nil {
		return fmt.Errorf("calendar: week: %w", err)
	}
	*w = WeeklyHours{}
	for key, hours := range byKey {
		d, err := ParseWeekday(key)
		if err != nil {
			return fmt.Errorf("calendar: week: %w", err)
		}
		w[d] = hours
	}
	return nil
}
