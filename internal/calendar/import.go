package calendar

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/guanjia/guanjia/internal/errs"
)

// ParseError locates malformed import input. The importers return it inside
// an *errs.Error with code errs.EInvalid and key
// "error.calendar.import_malformed" (Args "format", "line", "field"); reach
// it with errors.As.
type ParseError struct {
	Format  string // "ics", "holiday-cn json" or "holiday list"
	Line    int    // 1-based; 0 when not known
	Field   string // JSON path or iCalendar property, when known
	Problem string
}

// Error reads like "calendar: ics line 12: DTSTART: …".
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("calendar: ")
	b.WriteString(e.Format)
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Problem)
	return b.String()
}

func malformed(pe *ParseError) error {
	return &errs.Error{
		Code: errs.EInvalid,
		Key:  "error.calendar.import_malformed",
		Args: map[string]any{"format": pe.Format, "line": pe.Line, "field": pe.Field},
		Err:  pe,
	}
}

const (
	// maxImportBytes bounds what an importer reads; a year of holidays is a
	// few kilobytes.
	maxImportBytes = 1 << 20
	// maxEventDays bounds one holiday or range; the longest Chinese holiday
	// is nine days.
	maxEventDays = 62
	// maxImportDays bounds the dates of one import.
	maxImportDays = 3660
)

// dayCollector gathers the dates of an import, keeps the first name of each
// and refuses a date that is both off and worked.
type dayCollector struct {
	format string
	days   map[Date]collectedDay
}

type collectedDay struct {
	work  bool
	name  string
	where string
}

func newDayCollector(format string) *dayCollector {
	return &dayCollector{format: format, days: map[Date]collectedDay{}}
}

// addRange adds the dates [first, last] inclusive. line and field say where
// they came from, for errors.
func (dc *dayCollector) addRange(first, last Date, work bool, name string, line int, field string) error {
	span := last.dayNumber() - first.dayNumber() + 1
	switch {
	case span < 1:
		return dc.fail(line, field, fmt.Sprintf("%s ends before it starts (%s)", last, first))
	case span > maxEventDays:
		return dc.fail(line, field, fmt.Sprintf("%s to %s is longer than %d days", first, last, maxEventDays))
	case len(dc.days)+span > maxImportDays:
		return dc.fail(line, field, fmt.Sprintf("more than %d dates", maxImportDays))
	}
	where := field
	if line > 0 {
		where = fmt.Sprintf("line %d", line)
	}
	for d := first; d.dayNumber() <= last.dayNumber(); d = d.AddDays(1) {
		prev, seen := dc.days[d]
		if seen && prev.work != work {
			return dc.fail(line, field, fmt.Sprintf("%s is both a %s (%s) and a %s",
				d, dayWord(prev.work), prev.where, dayWord(work)))
		}
		if !seen {
			dc.days[d] = collectedDay{work: work, name: name, where: where}
		}
	}
	return nil
}

func dayWord(work bool) string {
	if work {
		return "make-up working day"
	}
	return "day off"
}

func (dc *dayCollector) fail(line int, field, problem string) error {
	return malformed(&ParseError{Format: dc.format, Line: line, Field: field, Problem: problem})
}

// checkYear refuses a year that New would refuse and dates more than a year
// away from year.
func (dc *dayCollector) checkYear(year int) error {
	if year < minDataYear || year > maxDataYear {
		return dc.fail(0, "", fmt.Sprintf("year %d is outside %d–%d", year, minDataYear, maxDataYear))
	}
	for _, d := range slices.SortedFunc(maps.Keys(dc.days), compareDates) {
		if d.Year < year-1 || d.Year > year+1 {
			return dc.fail(0, "", fmt.Sprintf("%s (%s) is not in %d or a neighbouring year", d, dc.days[d].where, year))
		}
	}
	return nil
}

// majorityYear returns the year most dates fall in, the later on a tie: a
// notice's own year outnumbers the New Year's Eve it may reach back to.
func (dc *dayCollector) majorityYear() int {
	count := map[int]int{}
	best := 0
	for d := range dc.days {
		count[d.Year]++
	}
	for y, n := range count {
		if n > count[best] || (n == count[best] && y > best) {
			best = y
		}
	}
	return best
}

func (dc *dayCollector) yearData(year int, source string) YearData {
	y := YearData{Year: year, Source: source, Holidays: []NamedDate{}, Workdays: []NamedDate{}}
	for _, d := range slices.SortedFunc(maps.Keys(dc.days), compareDates) {
		day := dc.days[d]
		if day.work {
			y.Workdays = append(y.Workdays, NamedDate{Date: d, Name: day.name})
		} else {
			y.Holidays = append(y.Holidays, NamedDate{Date: d, Name: day.name})
		}
	}
	return y
}

func compareDates(a, b Date) int { return a.dayNumber() - b.dayNumber() }
