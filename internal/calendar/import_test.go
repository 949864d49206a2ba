package calendar

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/errs"
)

// referenceDir holds holiday-cn's published files, outside the repository:
// the repository root is two levels up, and /work/shared beside it.
var referenceDir = filepath.Join("..", "..", "..", "shared", "reference", "holiday-cn")

// dayKinds flattens year data to date → "off" or "work" for comparison.
func dayKinds(ys ...YearData) map[string]string {
	kinds := map[string]string{}
	for _, y := range ys {
		for _, d := range y.Holidays {
			kinds[d.Date.String()] = "off"
		}
		for _, d := range y.Workdays {
			kinds[d.Date.String()] = "work"
		}
	}
	return kinds
}

func diffKinds(t *testing.T, label string, got, want map[string]string) {
	t.Helper()
	for day, kind := range want {
		if got[day] != kind {
			t.Errorf("%s: %s is %q, reference says %q", label, day, got[day], kind)
		}
	}
	for day, kind := range got {
		if _, ok := want[day]; !ok {
			t.Errorf("%s: %s is %q, reference does not list it", label, day, kind)
		}
	}
}

func readReference(t *testing.T, year int, ext string) YearData {
	t.Helper()
	f, err := os.Open(filepath.Join(referenceDir, fmt.Sprintf("%d.%s", year, ext)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var y YearData
	if ext == "json" {
		y, err = ParseHolidayCNJSON(f)
	} else {
		y, err = ParseICS(f)
	}
	if err != nil {
		t.Fatalf("%d.%s: %v", year, ext, err)
	}
	if y.Year != year {
		t.Errorf("%d.%s: Year = %d", year, ext, y.Year)
	}
	return y
}

func skipWithoutReference(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(referenceDir); err != nil {
		t.Skipf("reference data not found at %s: %v", referenceDir, err)
	}
}

// TestShippedHolidaysMatchReference checks every date of the shipped
// 2024–2026 data against holiday-cn's JSON and iCalendar files, read through
// our importers.
func TestShippedHolidaysMatchReference(t *testing.T) {
	skipWithoutReference(t)
	spec, err := BuiltinSpec(KeyCNWorkday)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Years) != 3 {
		t.Fatalf("shipped years = %d, want 2024–2026", len(spec.Years))
	}
	for _, shipped := range spec.Years {
		ours := dayKinds(shipped)
		diffKinds(t, fmt.Sprintf("%d vs json", shipped.Year), ours, dayKinds(readReference(t, shipped.Year, "json")))
		diffKinds(t, fmt.Sprintf("%d vs ics", shipped.Year), ours, dayKinds(readReference(t, shipped.Year, "ics")))
	}
}

// TestImportersAgreeOnEveryReferenceYear reads each published year in both
// formats; the two importers must see the same days.
func TestImportersAgreeOnEveryReferenceYear(t *testing.T) {
	skipWithoutReference(t)
	for year := 2020; year <= 2026; year++ {
		fromJSON := readReference(t, year, "json")
		fromICS := readReference(t, year, "ics")
		diffKinds(t, fmt.Sprint(year), dayKinds(fromICS), dayKinds(fromJSON))
		if _, err := mustBuiltin(t, KeyCNWorkday).WithYear(fromJSON); err != nil {
			t.Errorf("merge %d: %v", year, err)
		}
	}
}

// wantImportError checks that err is a malformed-import error mentioning
// each of parts.
func wantImportError(t *testing.T, err error, parts ...string) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) || errs.CodeOf(err) != errs.EInvalid {
		t.Fatalf("err = %v, want a ParseError with code invalid", err)
	}
	for _, part := range parts {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q lacks %q", err, part)
		}
	}
}

func TestParseHolidayCNJSON(t *testing.T) {
	y, err := ParseHolidayCNJSON(strings.NewReader(`{"year":2025,"papers":["a","b"],"days":[
		{"name":"春节","date":"2025-01-26","isOffDay":false},
		{"name":"春节","date":"2025-01-28","isOffDay":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if y.Year != 2025 || y.Source != "a b" || len(y.Holidays) != 1 || len(y.Workdays) != 1 || y.Workdays[0].Name != "春节" {
		t.Errorf("got %+v", y)
	}
	tests := []struct {
		name, input string
		parts       []string
	}{
		{"syntax", "{\"year\":2025,\n\"days\":[\n{\"date\":}]}", []string{"line 3"}},
		{"truncated", `{"year":2025,"days":[`, []string{"line 1", "unexpected end"}},
		{"wrong type", "{\n\"year\":\"2025\"}", []string{"line 2", "year", "want int"}},
		{"missing year", `{"days":[]}`, []string{"year: missing"}},
		{"missing days", `{"year":2025}`, []string{"days: missing"}},
		{"bad date", `{"year":2025,"days":[{"date":"2025-13-01","isOffDay":true}]}`, []string{"days[0].date", "2025-13-01"}},
		{"missing isOffDay", `{"year":2025,"days":[{"date":"2025-01-01","isOffDay":true},{"date":"2025-01-02"}]}`, []string{"days[1].isOffDay: missing"}},
		{"off and worked", `{"year":2025,"days":[{"date":"2025-01-01","isOffDay":true},{"date":"2025-01-01","isOffDay":false}]}`, []string{"days[1]", "both a day off (days[0])"}},
		{"far date", `{"year":2025,"days":[{"date":"2030-01-01","isOffDay":true}]}`, []string{"2030-01-01", "not in 2025"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHolidayCNJSON(strings.NewReader(tc.input))
			wantImportError(t, err, tc.parts...)
		})
	}
}

// ics wraps events in a calendar with CRLF line ends, as files have them.
func ics(lines ...string) string {
	all := append([]string{"BEGIN:VCALENDAR", "VERSION:2.0", "X-WR-CALNAME:测试"}, lines...)
	all = append(all, "END:VCALENDAR")
	return strings.Join(all, "\r\n") + "\r\n"
}

func TestParseICS(t *testing.T) {
	input := ics(
		"BEGIN:VEVENT",
		"SUMMARY:国庆节、中秋节", // folded below in the middle of a character's bytes
		"DTSTART;VALUE=DATE:20251001",
		"DTEND;VALUE=DATE:20251009",
		"END:VEVENT",
		"BEGIN:VEVENT",
		"SUMMARY:上班(补国庆节、中秋",
		" 节假期)",
		"DTSTART;VALUE=DATE:20250928",
		"BEGIN:VALARM",
		"TRIGGER:-PT15M",
		"END:VALARM",
		"END:VEVENT",
		"BEGIN:VEVENT",
		"SUMMARY:补班",
		"DTSTART:20251011",
		"DURATION:P1D",
		"END:VEVENT",
		"BEGIN:VEVENT",
		"SUMMARY:取消了",
		"STATUS:CANCELLED",
		"DTSTART;VALUE=DATE:20251012",
		"END:VEVENT",
	)
	folded := strings.Replace(input, "中秋节\r\n", "中\xe7\r\n \xa7\x8b节\r\n", 1) // 秋 is e7 a7 8b
	y, err := ParseICS(strings.NewReader(folded))
	if err != nil {
		t.Fatal(err)
	}
	if y.Year != 2025 || y.Source != "测试" {
		t.Errorf("Year, Source = %d, %q", y.Year, y.Source)
	}
	if len(y.Holidays) != 8 || y.Holidays[0].Name != "国庆节、中秋节" || y.Holidays[7].Date.String() != "2025-10-08" {
		t.Errorf("holidays = %v", y.Holidays)
	}
	if len(y.Workdays) != 2 || y.Workdays[0].Name != "上班(补国庆节、中秋节假期)" || y.Workdays[1].Date.String() != "2025-10-11" {
		t.Errorf("workdays = %v", y.Workdays)
	}
}

func TestParseICSErrors(t *testing.T) {
	event := func(props ...string) string {
		return ics(append(append([]string{"BEGIN:VEVENT"}, props...), "END:VEVENT")...)
	}
	tests := []struct {
		name, input string
		parts       []string
	}{
		{"timed event", event("SUMMARY:x", "DTSTART:20251001T090000"), []string{"line 6", "DTSTART", "date-time"}},
		{"value date-time", event("DTSTART;VALUE=DATE-TIME:20251001T090000"), []string{"line 5", "VALUE=DATE-TIME"}},
		{"bad date", event("DTSTART;VALUE=DATE:20251301"), []string{"line 5", "YYYYMMDD"}},
		{"no start", event("SUMMARY:x"), []string{"line 4", "no DTSTART"}},
		{"end before start", event("DTSTART;VALUE=DATE:20251005", "DTEND;VALUE=DATE:20251001"), []string{"line 4", "ends before it starts"}},
		{"too long", event("DTSTART;VALUE=DATE:20250101", "DTEND;VALUE=DATE:20251231"), []string{"longer than 62 days"}},
		{"recurring", event("DTSTART;VALUE=DATE:20250101", "RRULE:FREQ=YEARLY"), []string{"RRULE", "recurring"}},
		{"bad duration", event("DTSTART;VALUE=DATE:20250101", "DURATION:PT1H"), []string{"DURATION", "whole days"}},
		{"no colon", event("DTSTART;VALUE=DATE"), []string{"line 5", "no ':'"}},
		{"unclosed", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20250101\r\n", []string{"line 2", "never closed"}},
		{"mismatched end", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n", []string{"line 3", "END:VCALENDAR"}},
		{"no events", ics(), []string{"no all-day events"}},
		{"off and worked", ics(
			"BEGIN:VEVENT", "SUMMARY:假", "DTSTART:20250101", "DTEND:20250103", "END:VEVENT",
			"BEGIN:VEVENT", "SUMMARY:上班", "DTSTART:20250102", "END:VEVENT",
		), []string{"line 9", "2025-01-02 is both a day off (line 4)"}},
		{"years apart", ics(
			"BEGIN:VEVENT", "DTSTART:20250101", "END:VEVENT",
			"BEGIN:VEVENT", "DTSTART:20250102", "END:VEVENT",
			"BEGIN:VEVENT", "DTSTART:20300101", "END:VEVENT",
		), []string{"2030-01-01", "not in 2025"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseICS(strings.NewReader(tc.input))
			wantImportError(t, err, tc.parts...)
		})
	}
}

func TestParseHolidayListErrors(t *testing.T) {
	tests := []struct {
		name, input string
		parts       []string
	}{
		{"no year line", "2025-01-01 off 元旦\n", []string{"line 1", "before the first \"year\""}},
		{"bad year", "year 20x5\n", []string{"line 1", "20x5"}},
		{"bad kind", "year 2025\n2025-01-01 holiday 元旦\n", []string{"line 2", `"holiday"`}},
		{"bad date", "year 2025\n2025-01-32 off 元旦\n", []string{"line 2", "2025-01-32"}},
		{"inverted range", "year 2025\n2025-01-05..2025-01-01 off x\n", []string{"line 2", "ends before it starts"}},
		{"conflict", "year 2025\n2025-01-01..2025-01-03 off x\n2025-01-02 work y\n", []string{"line 3", "both a day off (line 2)"}},
		{"year twice", "year 2025\nyear 2025\n", []string{"line 2", "listed twice"}},
		{"empty", "# nothing\n", []string{"no year line"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHolidayList(strings.NewReader(tc.input))
			wantImportError(t, err, tc.parts...)
		})
	}
}

func FuzzParseICS(f *testing.F) {
	f.Add(ics("BEGIN:VEVENT", "SUMMARY:春节", "DTSTART;VALUE=DATE:20250128", "DTEND;VALUE=DATE:20250205", "END:VEVENT"))
	f.Add(ics("BEGIN:VEVENT", "SUMMARY:上班(补", " 春节)", "DTSTART:20250126", "DURATION:P1D", "END:VEVENT"))
	f.Add("BEGIN:VEVENT\nDTSTART;X=\"a:b\";VALUE=DATE:20250101\nEND:VEVENT\n")
	f.Add("BEGIN:VCALENDAR\r\n\tEND:VCALENDAR")
	f.Add("")
	f.Fuzz(func(t *testing.T, input string) {
		y, err := ParseICS(strings.NewReader(input))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || errs.CodeOf(err) != errs.EInvalid {
				t.Fatalf("error is not a ParseError: %v", err)
			}
			return
		}
		kinds := dayKinds(y)
		if len(kinds) != len(y.Holidays)+len(y.Workdays) || len(kinds) == 0 {
			t.Fatalf("dates repeated or missing: %+v", y)
		}
		if _, err := New(Spec{Key: "fuzz", Week: WeeklyHours{1: intervals(t, "09:00-17:00")}, Years: []YearData{y}}); err != nil {
			t.Fatalf("imported data does not compile: %v", err)
		}
	})
}
