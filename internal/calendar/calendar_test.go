package calendar

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/errs"
)

// mustBuiltin compiles a shipped calendar or stops the test.
func mustBuiltin(tb testing.TB, key string) *Calendar {
	tb.Helper()
	c, err := Builtin(key)
	if err != nil {
		tb.Fatalf("Builtin(%q): %v", key, err)
	}
	return c
}

// mustNew compiles spec or stops the test.
func mustNew(tb testing.TB, spec Spec) *Calendar {
	tb.Helper()
	c, err := New(spec)
	if err != nil {
		tb.Fatalf("New(%s): %v", spec.Key, err)
	}
	return c
}

// at reads "2025-09-30 16:00" or "2025-09-30 16:00:30" in the calendar's zone.
func at(tb testing.TB, c *Calendar, s string) time.Time {
	tb.Helper()
	layout := "2006-01-02 15:04"
	if len(s) > len(layout) {
		layout = time.DateTime
	}
	t, err := time.ParseInLocation(layout, s, c.Location())
	if err != nil {
		tb.Fatalf("bad test time %q: %v", s, err)
	}
	return t
}

func intervals(tb testing.TB, texts ...string) []Interval {
	tb.Helper()
	out := make([]Interval, len(texts))
	for i, s := range texts {
		iv, err := ParseInterval(s)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = iv
	}
	return out
}

func date(tb testing.TB, s string) Date {
	tb.Helper()
	d, err := ParseDate(s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func TestAddCNWorkdayHandChecked(t *testing.T) {
	c := mustBuiltin(t, KeyCNWorkday)
	tests := []struct {
		name  string
		start string
		d     time.Duration
		want  string
	}{
		// Tue Sep 30 16:00–18:00 gives 2h; Oct 1–8 are off; Thu Oct 9
		// 09:00–12:00 gives 3h and 13:30–16:30 the last 3h.
		{"national day 2025", "2025-09-30 16:00", 8 * time.Hour, "2025-10-09 16:30"},
		{"lands on the day's end", "2025-09-29 17:00", time.Hour, "2025-09-29 18:00"},
		{"lands on the morning's end, not after lunch", "2025-09-29 11:00", time.Hour, "2025-09-29 12:00"},
		{"one minute after lunch", "2025-09-29 11:00", 61 * time.Minute, "2025-09-29 13:31"},
		{"whole working day", "2025-09-29 09:00", 7*time.Hour + 30*time.Minute, "2025-09-29 18:00"},
		{"zero outside hours stays put", "2025-10-04 10:00", 0, "2025-10-04 10:00"},
		{"starts before opening", "2025-09-29 07:00", time.Hour, "2025-09-29 10:00"},
		{"starts at lunch", "2025-09-29 12:30", 30 * time.Minute, "2025-09-29 14:00"},
		// Fri Sep 26 17:00–18:00 gives 1h; Sat 27 is off; Sun 28 is a
		// make-up day worked with Monday's hours: 09:00–10:00.
		{"make-up sunday 2025-09-28", "2025-09-26 17:00", 2 * time.Hour, "2025-09-28 10:00"},
		// Fri Oct 10 17:00–18:00 gives 1h; Sat Oct 11 is worked: 09:00–10:00.
		{"make-up saturday 2025-10-11", "2025-10-10 17:00", 2 * time.Hour, "2025-10-11 10:00"},
		// Fri Jan 24 17:00–18:00 gives 1h; Sat 25 is off; Sun Jan 26 is worked.
		{"spring festival 2025 make-up", "2025-01-24 17:00", 2 * time.Hour, "2025-01-26 10:00"},
		// Mon Jan 27 17:00–18:00 gives 1h; Jan 28–Feb 4 are off; Wed Feb 5 09:00–10:00.
		{"spring festival 2025", "2025-01-27 17:00", 2 * time.Hour, "2025-02-05 10:00"},
		// Fri Feb 13 16:00–18:00 gives 2h; Sat Feb 14 is worked: 09:00–11:00.
		{"spring festival 2026 make-up", "2026-02-13 16:00", 4 * time.Hour, "2026-02-14 11:00"},
		// Sat Feb 14 17:00–18:00 gives 1h; Feb 15–23 are off; Tue Feb 24 09:00–10:00.
		{"spring festival 2026", "2026-02-14 17:00", 2 * time.Hour, "2026-02-24 10:00"},
		// Thu Oct 9 09:00–10:00 back 1h, Oct 1–8 skipped, Tue Sep 30 18:00–17:00 back 1h.
		{"backwards over national day", "2025-10-09 10:00", -2 * time.Hour, "2025-09-30 17:00"},
		{"backwards stops at the interval start", "2025-09-30 10:00", -time.Hour, "2025-09-30 09:00"},
		{"seconds are carried", "2025-09-29 09:00:30", time.Minute, "2025-09-29 09:01:30"},
		{"seconds are carried over lunch", "2025-09-29 11:59:30", time.Minute, "2025-09-29 13:30:30"},
		// 2027 has no holiday data: Fri 2027-01-01 is an ordinary Friday.
		{"year without holiday data", "2026-12-31 17:00", 2 * time.Hour, "2027-01-01 10:00"},
		// Mon 2035-12-31 17:00–18:00, then Tue 2036-01-01, past the horizon.
		{"across the horizon's end", "2035-12-31 17:00", 2 * time.Hour, "2036-01-01 10:00"},
		{"far beyond the horizon", "2040-03-02 17:00", 2 * time.Hour, "2040-03-05 10:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Add(at(t, c, tc.start), tc.d)
			if err != nil {
				t.Fatal(err)
			}
			if want := at(t, c, tc.want); !got.Equal(want) {
				t.Errorf("Add(%s, %v) = %s, want %s", tc.start, tc.d, got, want)
			}
		})
	}
}

func TestIsWorkingCNWorkday(t *testing.T) {
	c := mustBuiltin(t, KeyCNWorkday)
	tests := []struct {
		when string
		want bool
	}{
		{"2025-09-28 10:00", true},  // Sunday, make-up day
		{"2025-10-11 10:00", true},  // Saturday, make-up day
		{"2025-10-04 10:00", false}, // Saturday inside National Day
		{"2025-10-08 10:00", false}, // Wednesday, National Day
		{"2025-10-18 10:00", false}, // ordinary Saturday
		{"2025-09-29 09:00", true},  // opening minute
		{"2025-09-29 12:00", false}, // intervals are half-open
		{"2025-09-29 13:29", false},
		{"2025-09-29 13:30", true},
		{"2025-09-29 18:00", false},
		{"2026-02-14 10:00", true},  // Saturday, make-up day
		{"2026-02-23 10:00", false}, // Monday, Spring Festival
		{"2026-02-28 10:00", true},  // Saturday, make-up day
		{"2024-02-18 10:00", true},  // Sunday, make-up day
		{"2024-02-12 10:00", false}, // Monday, Spring Festival
	}
	for _, tc := range tests {
		if got := c.IsWorking(at(t, c, tc.when)); got != tc.want {
			t.Errorf("IsWorking(%s) = %v, want %v", tc.when, got, tc.want)
		}
	}
	justBeforeNoon := at(t, c, "2025-09-29 12:00").Add(-time.Nanosecond)
	if !c.IsWorking(justBeforeNoon) {
		t.Errorf("IsWorking(%s) = false, want true", justBeforeNoon)
	}
}

func TestNextWorkingCNWorkday(t *testing.T) {
	c := mustBuiltin(t, KeyCNWorkday)
	tests := []struct{ from, want string }{
		{"2025-09-30 18:00", "2025-10-09 09:00"},
		{"2025-09-29 12:00", "2025-09-29 13:30"},
		{"2025-09-29 10:15", "2025-09-29 10:15"},
		{"2025-09-27 10:00", "2025-09-28 09:00"},
		{"2035-12-31 19:00", "2036-01-01 09:00"},
	}
	for _, tc := range tests {
		if got, want := c.NextWorking(at(t, c, tc.from)), at(t, c, tc.want); !got.Equal(want) {
			t.Errorf("NextWorking(%s) = %s, want %s", tc.from, got, want)
		}
	}
}

func TestBetweenCNWorkday(t *testing.T) {
	c := mustBuiltin(t, KeyCNWorkday)
	tests := []struct {
		from, to string
		want     time.Duration
	}{
		// Only Tue Sep 30 is worked before Oct 9.
		{"2025-09-30 09:00", "2025-10-09 09:00", 7*time.Hour + 30*time.Minute},
		// Sep 30, Oct 9, Oct 10: three full days.
		{"2025-09-30 09:00", "2025-10-11 09:00", 22*time.Hour + 30*time.Minute},
		{"2025-09-30 09:00", "2025-09-30 09:00", 0},
		{"2025-10-09 09:00", "2025-09-30 09:00", -(7*time.Hour + 30*time.Minute)},
		{"2025-10-03 09:00", "2025-10-05 09:00", 0},
		{"2035-12-31 17:00", "2036-01-01 10:00", 2 * time.Hour},
	}
	for _, tc := range tests {
		if got := c.Between(at(t, c, tc.from), at(t, c, tc.to)); got != tc.want {
			t.Errorf("Between(%s, %s) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
}

func TestAddDaysCNWorkday(t *testing.T) {
	c := mustBuiltin(t, KeyCNWorkday)
	tests := []struct {
		name  string
		start string
		n     int
		want  string
	}{
		{"over national day", "2025-09-30 10:00", 1, "2025-10-09 10:00"},
		// Oct 9, Oct 10, then Saturday Oct 11, a make-up day.
		{"onto a make-up saturday", "2025-09-30 10:00", 3, "2025-10-11 10:00"},
		{"onto a make-up sunday", "2025-09-26 15:00", 1, "2025-09-28 15:00"},
		// Fri 19:00 is closed: the count starts at Sun Sep 28 09:00 (make-up).
		{"from after hours", "2025-09-26 19:00", 1, "2025-09-29 09:00"},
		{"zero is NextWorking", "2025-09-26 19:00", 0, "2025-09-28 09:00"},
		{"from lunch", "2025-09-29 12:30", 1, "2025-09-30 13:30"},
		// Sat Feb 14 is a make-up day; Feb 15–23 are off.
		{"spring festival 2026", "2026-02-13 10:00", 2, "2026-02-24 10:00"},
		{"across the horizon's end", "2035-12-31 10:00", 1, "2036-01-01 10:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.AddDays(at(t, c, tc.start), tc.n)
			if err != nil {
				t.Fatal(err)
			}
			if want := at(t, c, tc.want); !got.Equal(want) {
				t.Errorf("AddDays(%s, %d) = %s, want %s", tc.start, tc.n, got, want)
			}
		})
	}
	if _, err := c.AddDays(at(t, c, "2025-09-30 10:00"), -1); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("AddDays(-1) error = %v, want errs.ErrInvalid", err)
	}
}

// TestAddDaysShorterDay checks that the answer stays on the target day when
// its hours are shorter than the start day's.
func TestAddDaysShorterDay(t *testing.T) {
	long := intervals(t, "09:00-18:00")
	c := mustNew(t, Spec{Key: "short-friday", Week: WeeklyHours{
		time.Monday: long, time.Tuesday: long, time.Wednesday: long, time.Thursday: long,
		time.Friday: intervals(t, "09:00-15:00"),
	}})
	got, err := c.AddDays(at(t, c, "2025-09-25 17:00"), 1) // Thursday
	if err != nil {
		t.Fatal(err)
	}
	if want := at(t, c, "2025-09-26 15:00"); !got.Equal(want) {
		t.Errorf("AddDays(Thu 17:00, 1) = %s, want Fri 15:00", got)
	}
}

func TestAddBusinessCNWorkday(t *testing.T) {
	c := mustBuiltin(t, KeyCNWorkday)
	tests := []struct{ start, duration, want string }{
		// Tue 10:00, then 4h: 10:00–12:00 and 13:30–15:30.
		{"2025-09-29 10:00", "P1DT4H", "2025-09-30 15:30"},
		// Ten working days: Sep 23–26, Sun 28, 29, 30, Oct 9, 10, Sat 11.
		{"2025-09-22 10:00", "P2W", "2025-10-11 10:00"},
		{"2025-09-29 10:00", "8h", "2025-09-30 10:30"},
		{"2025-09-29 10:00", "PT0S", "2025-09-29 10:00"},
	}
	for _, tc := range tests {
		bd, err := ParseBusinessDuration(tc.duration)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.AddBusiness(at(t, c, tc.start), bd)
		if err != nil {
			t.Fatal(err)
		}
		if want := at(t, c, tc.want); !got.Equal(want) {
			t.Errorf("AddBusiness(%s, %s) = %s, want %s", tc.start, tc.duration, got, want)
		}
	}
}

func TestAlwaysOpen(t *testing.T) {
	c := mustBuiltin(t, Key24x7)
	start := at(t, c, "2025-10-01 03:07")
	if !c.IsWorking(start) || !c.NextWorking(start).Equal(start) {
		t.Error("24x7 is not working at 03:07 on a holiday")
	}
	if got, _ := c.Add(start, 50*time.Hour); !got.Equal(start.Add(50 * time.Hour)) {
		t.Errorf("Add = %s", got)
	}
	if got := c.Between(start, start.Add(-3*time.Hour)); got != -3*time.Hour {
		t.Errorf("Between = %v", got)
	}
	if got, _ := c.AddDays(start, 3); !got.Equal(at(t, c, "2025-10-04 03:07")) {
		t.Errorf("AddDays = %s", got)
	}
	if c.MissingYears(start.AddDate(5, 0, 0)) != nil || !c.HasDataFor(2031) {
		t.Error("24x7 flags missing holiday data")
	}
}

func TestOutOfRange(t *testing.T) {
	c := mustBuiltin(t, KeyCNWorkday)
	far := time.Date(2300, 1, 1, 10, 0, 0, 0, c.Location())
	if _, err := c.Add(far, time.Hour); !errors.Is(err, ErrOutOfRange) || !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("Add in 2300: err = %v, want ErrOutOfRange", err)
	}
	if _, err := c.Add(at(t, c, "2199-12-30 10:00"), 100*time.Hour); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("Add past 2199: err = %v, want ErrOutOfRange", err)
	}
	if c.IsWorking(far) || !c.NextWorking(far).Equal(far) {
		t.Error("an instant in 2300 is working")
	}
}

func TestMissingYears(t *testing.T) {
	c := mustBuiltin(t, KeyCNWorkday)
	for year, want := range map[int]bool{2023: false, 2024: true, 2025: true, 2026: true, 2027: false} {
		if got := c.HasDataFor(year); got != want {
			t.Errorf("HasDataFor(%d) = %v, want %v", year, got, want)
		}
	}
	if got := c.MissingYears(at(t, c, "2026-12-31 23:59")); got != nil {
		t.Errorf("MissingYears(end of 2026) = %v, want none", got)
	}
	if got := c.MissingYears(at(t, c, "2028-03-01 00:00")); !reflect.DeepEqual(got, []int{2027, 2028}) {
		t.Errorf("MissingYears(2028) = %v, want [2027 2028]", got)
	}
	merged, err := c.WithYear(YearData{Year: 2027, Holidays: []NamedDate{{Date: date(t, "2027-01-01"), Name: "元旦"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !merged.HasDataFor(2027) || c.HasDataFor(2027) {
		t.Error("WithYear did not add 2027 to the copy alone")
	}
	if merged.IsWorking(at(t, merged, "2027-01-01 10:00")) {
		t.Error("merged 2027-01-01 is still working")
	}
}

func TestWithYearReplaces(t *testing.T) {
	c := mustBuiltin(t, KeyCNWorkday)
	replaced, err := c.WithYear(YearData{Year: 2025})
	if err != nil {
		t.Fatal(err)
	}
	if !replaced.IsWorking(at(t, c, "2025-10-08 10:00")) || replaced.IsWorking(at(t, c, "2025-10-11 10:00")) {
		t.Error("replacing 2025 with an empty year kept its holidays")
	}
	if replaced.IsWorking(at(t, c, "2026-02-16 10:00")) {
		t.Error("replacing 2025 dropped 2026")
	}
	if _, err := mustBuiltin(t, Key24x7).WithYear(YearData{Year: 2025}); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("24x7 WithYear error = %v, want errs.ErrInvalid", err)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, key := range BuiltinKeys() {
		c := mustBuiltin(t, key)
		data, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var back Calendar
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("%s: %v\n%s", key, err, data)
		}
		if !reflect.DeepEqual(back.Spec(), c.Spec()) {
			t.Errorf("%s: round trip changed the spec:\n%s", key, data)
		}
	}
	data, _ := json.Marshal(mustBuiltin(t, KeyCNWorkday))
	for _, want := range []string{
		`"week":{"mon":["09:00-12:00","13:30-18:00"],`,
		`{"date":"2025-09-28","name":"国庆节、中秋节调休"}`,
		`"timeZone":"Asia/Shanghai"`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	for _, input := range []string{
		`{"key":"x","week":{"mon":["25:00-26:00"]}}`,
		`{"key":"x","week":{"someday":["09:00-12:00"]}}`,
		`{"key":"x","week":{"mon":["09:00-08:00"]}}`,
		`{"key":"x","years":[{"year":2025,"holidays":[{"date":"2025-02-30"}]}]}`,
		`[]`,
		`{"key":"x","zone":"Europe/Berlin","week":{"mon":["09:00-12:00"]}}`,
	} {
		var c Calendar
		err := json.Unmarshal([]byte(input), &c)
		if errs.CodeOf(err) != errs.EInvalid {
			t.Errorf("Unmarshal(%s) error = %v, want code invalid", input, err)
		}
	}
}

// berlin is a calendar in a zone with daylight saving; Sunday 01:00-04:00
// straddles both switches (02:00→03:00 in March, 03:00→02:00 in October).
func berlin(tb testing.TB, week WeeklyHours) *Calendar {
	return mustNew(tb, Spec{Key: "berlin", TimeZone: "Europe/Berlin", Week: week})
}

func allDay(tb testing.TB) WeeklyHours {
	var w WeeklyHours
	for d := range w {
		w[d] = intervals(tb, "00:00-24:00")
	}
	return w
}

func TestDaylightSavingBerlin(t *testing.T) {
	whole := berlin(t, allDay(t))
	if got := whole.Between(at(t, whole, "2025-03-30 00:00"), at(t, whole, "2025-03-31 00:00")); got != 23*time.Hour {
		t.Errorf("spring-forward day has %v, want 23h", got)
	}
	if got := whole.Between(at(t, whole, "2025-10-26 00:00"), at(t, whole, "2025-10-27 00:00")); got != 25*time.Hour {
		t.Errorf("fall-back day has %v, want 25h", got)
	}
	// 23:00 CET + 3h: 00:00, 01:00, 02:00 CET = 03:00 CEST.
	got, _ := whole.Add(at(t, whole, "2025-03-29 23:00"), 3*time.Hour)
	if want := time.Date(2025, 3, 30, 1, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Add across spring-forward = %s, want %s", got, want)
	}

	night := berlin(t, WeeklyHours{time.Sunday: intervals(t, "01:00-04:00")})
	if got := night.Between(at(t, night, "2025-03-29 12:00"), at(t, night, "2025-03-31 12:00")); got != 2*time.Hour {
		t.Errorf("01:00-04:00 on spring-forward Sunday holds %v, want 2h", got)
	}
	if got := night.Between(at(t, night, "2025-10-25 12:00"), at(t, night, "2025-10-27 12:00")); got != 4*time.Hour {
		t.Errorf("01:00-04:00 on fall-back Sunday holds %v, want 4h", got)
	}
	for _, utc := range []string{"2025-10-26T00:30:00Z", "2025-10-26T01:30:00Z"} { // 02:30 CEST and 02:30 CET
		if instant, _ := time.Parse(time.RFC3339, utc); !night.IsWorking(instant) {
			t.Errorf("%s (02:30 local) is not working", utc)
		}
	}

	office := intervals(t, "09:00-17:00")
	weekdays := berlin(t, WeeklyHours{time.Monday: office, time.Tuesday: office, time.Wednesday: office, time.Thursday: office, time.Friday: office})
	got, _ = weekdays.Add(at(t, weekdays, "2025-03-28 16:00"), 2*time.Hour)
	if want := at(t, weekdays, "2025-03-31 10:00"); !got.Equal(want) {
		t.Errorf("Add over the switch weekend = %s, want %s (wall clock kept)", got, want)
	}
	got, _ = weekdays.AddDays(at(t, weekdays, "2025-10-24 16:30"), 1)
	if want := at(t, weekdays, "2025-10-27 16:30"); !got.Equal(want) {
		t.Errorf("AddDays over the switch weekend = %s, want %s", got, want)
	}
}

// newYorkSpec has working time around 02:00 on Sundays, where New York's
// clocks change, and holidays and make-up days on switch days.
func newYorkSpec(tb testing.TB) Spec {
	office := intervals(tb, "08:00-12:00", "13:00-17:30")
	year := func(y int, off []string, work []string) YearData {
		yd := YearData{Year: y}
		for _, s := range off {
			yd.Holidays = append(yd.Holidays, NamedDate{Date: date(tb, s), Name: "off"})
		}
		for _, s := range work {
			yd.Workdays = append(yd.Workdays, NamedDate{Date: date(tb, s), Name: "work"})
		}
		return yd
	}
	return Spec{
		Key:      "new-york-nights",
		TimeZone: "America/New_York",
		Week: WeeklyHours{
			time.Monday: office, time.Tuesday: office, time.Wednesday: office, time.Thursday: office, time.Friday: office,
			time.Saturday: intervals(tb, "10:00-14:00"),
			time.Sunday:   intervals(tb, "00:30-03:30", "22:00-24:00"),
		},
		MakeUpWeekday: "sun",
		Years: []YearData{
			year(2024, []string{"2024-07-04", "2024-11-03"}, []string{"2024-03-09"}),
			year(2025, []string{"2025-07-04", "2025-12-25"}, []string{"2025-11-29"}),
			year(2026, []string{"2026-11-01"}, []string{"2026-03-07"}),
		},
	}
}

func TestDaylightSavingNewYork(t *testing.T) {
	c := mustNew(t, newYorkSpec(t))
	// Sun 2025-03-09: 00:30-02:00 EST, then 03:00-03:30 EDT.
	if got := c.Between(at(t, c, "2025-03-09 00:00"), at(t, c, "2025-03-09 12:00")); got != 2*time.Hour {
		t.Errorf("spring-forward night holds %v, want 2h", got)
	}
	// Sun 2025-11-02: 01:00-02:00 happens twice.
	if got := c.Between(at(t, c, "2025-11-02 00:00"), at(t, c, "2025-11-02 12:00")); got != 4*time.Hour {
		t.Errorf("fall-back night holds %v, want 4h", got)
	}
	// Sat 10:00 EST + 1 day is Sunday, whose 10:00 is not working: the
	// answer moves to that day's next interval, 22:00 EDT.
	got, _ := c.AddDays(at(t, c, "2025-03-08 10:00"), 1)
	if want := time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("AddDays onto spring-forward Sunday = %s, want %s", got, want)
	}
	got, _ = c.AddDays(at(t, c, "2025-03-08 10:00"), 2)
	if want := time.Date(2025, 3, 10, 14, 0, 0, 0, time.UTC); !got.Equal(want) { // Mon 10:00 EDT
		t.Errorf("AddDays over spring-forward = %s, want %s", got, want)
	}
}

// minuteGrid is the brute-force truth: whether each minute of a span is
// working, decided by a naive reading of the Spec, one minute at a time.
type minuteGrid struct {
	base    time.Time
	working []bool
	prefix  []int // working minutes before index i
}

func newMinuteGrid(tb testing.TB, spec Spec, from, to time.Time) *minuteGrid {
	tb.Helper()
	loc, err := time.LoadLocation(spec.TimeZone)
	if err != nil {
		tb.Fatal(err)
	}
	off, work := map[Date]bool{}, map[Date]bool{}
	for _, y := range spec.Years {
		for _, d := range y.Holidays {
			off[d.Date] = true
		}
		for _, d := range y.Workdays {
			work[d.Date] = true
		}
	}
	makeUp, _ := ParseWeekday(spec.MakeUpWeekday)
	n := int(to.Sub(from) / time.Minute)
	g := &minuteGrid{base: from, working: make([]bool, n), prefix: make([]int, n+1)}
	for i := range n {
		g.working[i] = naiveWorking(spec, loc, off, work, makeUp, from.Add(time.Duration(i)*time.Minute))
		g.prefix[i+1] = g.prefix[i]
		if g.working[i] {
			g.prefix[i+1]++
		}
	}
	return g
}

func naiveWorking(spec Spec, loc *time.Location, off, work map[Date]bool, makeUp time.Weekday, t time.Time) bool {
	if spec.AlwaysOpen {
		return true
	}
	local := t.In(loc)
	day := DateOf(local)
	hours := spec.Week[local.Weekday()]
	switch {
	case off[day]:
		hours = nil
	case work[day]:
		hours = spec.Week[makeUp]
	}
	minute := Clock(local.Hour()*60 + local.Minute())
	for _, iv := range hours {
		if iv.Start <= minute && minute < iv.End {
			return true
		}
	}
	return false
}

func (g *minuteGrid) instant(i int) time.Time { return g.base.Add(time.Duration(i) * time.Minute) }

// walk adds n working minutes from minute i one minute at a time; ok is false
// when the walk leaves the grid.
func (g *minuteGrid) walk(i, n int) (end int, ok bool) {
	for ; n > 0; i++ {
		if i >= len(g.working) {
			return 0, false
		}
		if g.working[i] {
			n--
		}
	}
	for ; n < 0; n++ {
		for {
			i--
			if i < 0 {
				return 0, false
			}
			if g.working[i] {
				break
			}
		}
	}
	return i, true
}

func TestAddAndBetweenAgreeWithMinuteWalk(t *testing.T) {
	from := time.Date(2023, 11, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	first := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	last := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	cnSpec, _ := BuiltinSpec(KeyCNWorkday)
	alwaysSpec, _ := BuiltinSpec(Key24x7)
	for _, spec := range []Spec{cnSpec, alwaysSpec, newYorkSpec(t)} {
		t.Run(spec.Key, func(t *testing.T) {
			c := mustNew(t, spec)
			spec = c.Spec()
			grid := newMinuteGrid(t, spec, from, to)
			rng := rand.New(rand.NewPCG(20251001, 8))
			lo, hi := int(first.Sub(from)/time.Minute), int(last.Sub(from)/time.Minute)
			for range 3000 {
				start := lo + rng.IntN(hi-lo)
				checkMinute(t, c, grid, start)
				checkAdd(t, c, grid, start, randomWorkingMinutes(rng))
				checkBetween(t, c, grid, start, start+rng.IntN(2*60*24*60)-60*24*60)
				checkSubMinute(t, c, grid.instant(start).Add(time.Duration(rng.Int64N(int64(time.Minute)))),
					time.Duration(rng.Int64N(int64(40*time.Hour))))
			}
		})
	}
}

// randomWorkingMinutes mixes short SLA targets with multi-day ones up to 30
// working days of 7h30m, and some negative ones.
func randomWorkingMinutes(rng *rand.Rand) int {
	switch p := rng.IntN(10); {
	case p < 4:
		return rng.IntN(8*60 + 1)
	case p < 7:
		return rng.IntN(3*450 + 1)
	case p < 9:
		return rng.IntN(30*450 + 1)
	default:
		return -rng.IntN(3*450 + 1)
	}
}

func checkMinute(t *testing.T, c *Calendar, g *minuteGrid, i int) {
	t.Helper()
	instant := g.instant(i)
	if got := c.IsWorking(instant); got != g.working[i] {
		t.Fatalf("IsWorking(%s) = %v, walk says %v", instant, got, g.working[i])
	}
	next := i
	for !g.working[next] {
		next++
	}
	if got := c.NextWorking(instant); !got.Equal(g.instant(next)) {
		t.Fatalf("NextWorking(%s) = %s, walk says %s", instant, got, g.instant(next))
	}
}

func checkAdd(t *testing.T, c *Calendar, g *minuteGrid, start, minutes int) {
	t.Helper()
	end, ok := g.walk(start, minutes)
	if !ok {
		return
	}
	d := time.Duration(minutes) * time.Minute
	got, err := c.Add(g.instant(start), d)
	if err != nil {
		t.Fatal(err)
	}
	if want := g.instant(end); minutes != 0 && !got.Equal(want) {
		t.Fatalf("Add(%s, %v) = %s, walk says %s", g.instant(start), d, got, want)
	}
	if back := c.Between(g.instant(start), got); back != d {
		t.Fatalf("Between(%s, Add(…, %v)) = %v", g.instant(start), d, back)
	}
}

func checkBetween(t *testing.T, c *Calendar, g *minuteGrid, a, b int) {
	t.Helper()
	want := time.Duration(g.prefix[b]-g.prefix[a]) * time.Minute
	if got := c.Between(g.instant(a), g.instant(b)); got != want {
		t.Fatalf("Between(%s, %s) = %v, grid says %v", g.instant(a), g.instant(b), got, want)
	}
}

// checkSubMinute adds durations with nanoseconds to instants with seconds:
// working time is continuous, so Between must give the duration back.
func checkSubMinute(t *testing.T, c *Calendar, start time.Time, d time.Duration) {
	t.Helper()
	got, err := c.Add(start, d)
	if err != nil {
		t.Fatal(err)
	}
	if back := c.Between(start, got); back != d {
		t.Fatalf("Between(%s, Add(…, %v) = %s) = %v", start, d, got, back)
	}
	if d > 0 && !c.IsWorking(got.Add(-time.Nanosecond)) {
		t.Fatalf("Add(%s, %v) = %s does not end working time", start, d, got)
	}
}

// TestOnTheFlyMatchesHorizon checks the slow path (timelines built for a
// window) against the precomputed horizon.
func TestOnTheFlyMatchesHorizon(t *testing.T) {
	c := mustBuiltin(t, KeyCNWorkday)
	rng := rand.New(rand.NewPCG(7, 7))
	first := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	span := int64(3 * 365 * 24 * time.Hour)
	for range 300 {
		x := first + rng.Int64N(span)
		d := time.Duration(rng.Int64N(int64(200*time.Hour))) - 20*time.Hour
		want, ok := c.horizon.add(x, d)
		day := c.dayOf(x)
		got, ok2 := c.build(day-40, day+60).add(x, d)
		if !ok || !ok2 || got != want {
			t.Fatalf("add(%d, %v): horizon %d/%v, window %d/%v", x, d, want, ok, got, ok2)
		}
	}
}
