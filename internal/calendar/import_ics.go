package calendar

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

const icsFormat = "ics"

// ParseICS reads public-holiday data from an iCalendar file of all-day
// events (VEVENT with DTSTART;VALUE=DATE), such as holiday-cn's yearly .ics.
// An event whose SUMMARY starts with "上班" (e.g. "上班(补春节假期)") or
// contains "补班" marks make-up working days; every other event marks days
// off. DTEND is exclusive, as RFC 5545 says; without it an event lasts
// DURATION (PnD or PnW) or one day. Folded lines are unfolded, cancelled
// events skipped, other components (VTIMEZONE, VALARM) ignored.
//
// The Year of the result is the year most dates fall in (a notice may reach
// back to 31 December); X-WR-CALNAME becomes the Source. It returns an
// *errs.Error (code errs.EInvalid) wrapping a *ParseError with the line and
// property of the first problem: timed events, recurrence rules, bad dates,
// unbalanced BEGIN/END, a date both off and worked, no events at all, or
// dates spread over more than a year either side.
func ParseICS(r io.Reader) (YearData, error) {
	p := icsParser{days: newDayCollector(icsFormat)}
	if err := p.parse(r); err != nil {
		return YearData{}, err
	}
	if len(p.days.days) == 0 {
		return YearData{}, p.fail(0, "", "no all-day events")
	}
	year := p.days.majorityYear()
	if err := p.days.checkYear(year); err != nil {
		return YearData{}, err
	}
	return p.days.yearData(year, p.calendarName), nil
}

type icsParser struct {
	days         *dayCollector
	calendarName string
	stack        []icsComponent
	event        *icsEvent
}

type icsComponent struct {
	name string
	line int
}

// icsEvent is the part of a VEVENT that matters here.
type icsEvent struct {
	line      int
	summary   string
	start     Date
	hasStart  bool
	end       Date
	hasEnd    bool
	days      int // from DURATION; 0 when absent
	cancelled bool
}

// contentLine is one unfolded line: NAME;PARAMS:VALUE.
type contentLine struct {
	line   int // where it starts
	name   string
	params map[string]string
	value  string
}

func (p *icsParser) fail(line int, field, problem string) error {
	return malformed(&ParseError{Format: icsFormat, Line: line, Field: field, Problem: problem})
}

func (p *icsParser) parse(r io.Reader) error {
	err := unfold(io.LimitReader(r, maxImportBytes), func(line int, text string) error {
		cl, err := splitContentLine(line, text)
		if err != nil {
			return p.fail(line, "", err.Error())
		}
		return p.handle(cl)
	})
	if err != nil {
		return err
	}
	if n := len(p.stack); n > 0 {
		top := p.stack[n-1]
		return p.fail(top.line, "BEGIN", fmt.Sprintf("%s is never closed with END:%s", top.name, top.name))
	}
	return nil
}

// unfold joins folded lines (a line that starts with a space or tab
// continues the previous one) and calls emit with each logical line and the
// number of its first physical line.
func unfold(r io.Reader, emit func(line int, text string) error) error {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 0, 4096), maxImportBytes)
	var (
		current   strings.Builder
		startLine int
		physical  int
	)
	flush := func() error {
		if current.Len() == 0 {
			return nil
		}
		text := current.String()
		current.Reset()
		return emit(startLine, text)
	}
	for scanner.Scan() {
		physical++
		text := strings.TrimSuffix(scanner.Text(), "\r")
		if physical == 1 {
			text = strings.TrimPrefix(text, "\uFEFF")
		}
		if strings.HasPrefix(text, " ") || strings.HasPrefix(text, "\t") {
			current.WriteString(text[1:])
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		current.WriteString(text)
		startLine = physical
	}
	if err := scanner.Err(); err != nil {
		return malformed(&ParseError{Format: icsFormat, Line: physical + 1, Problem: err.Error()})
	}
	return flush()
}

// splitContentLine splits NAME;P1=V1;P2="V:2":VALUE, minding quoted
// parameter values that may hold ':' or ';'.
func splitContentLine(line int, text string) (contentLine, error) {
	cl := contentLine{line: line, params: map[string]string{}}
	inQuotes := false
	fieldStart := 0
	for i := 0; i < len(text); i++ {
		switch ch := text[i]; {
		case ch == '"':
			inQuotes = !inQuotes
		case inQuotes:
		case ch == ';' || ch == ':':
			cl.addPart(text[fieldStart:i])
			fieldStart = i + 1
			if ch == ':' {
				cl.value = text[i+1:]
				return cl, nil
			}
		}
	}
	return cl, fmt.Errorf("%q has no ':' between name and value", abbreviate(text))
}

// addPart records the name (first part) or a parameter.
func (cl *contentLine) addPart(part string) {
	if cl.name == "" {
		cl.name = strings.ToUpper(part)
		return
	}
	key, value, _ := strings.Cut(part, "=")
	cl.params[strings.ToUpper(key)] = strings.ToUpper(strings.Trim(value, `"`))
}

func abbreviate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func (p *icsParser) handle(cl contentLine) error {
	switch cl.name {
	case "BEGIN":
		return p.begin(cl)
	case "END":
		return p.end(cl)
	}
	if len(p.stack) == 1 && cl.name == "X-WR-CALNAME" {
		p.calendarName = unescapeText(cl.value)
	}
	if p.event != nil && p.stack[len(p.stack)-1].name == "VEVENT" {
		return p.eventProperty(cl)
	}
	return nil
}

func (p *icsParser) begin(cl contentLine) error {
	name := strings.ToUpper(cl.value)
	if name == "VEVENT" {
		if p.event != nil {
			return p.fail(cl.line, "BEGIN", "VEVENT inside VEVENT")
		}
		p.event = &icsEvent{line: cl.line}
	}
	p.stack = append(p.stack, icsComponent{name: name, line: cl.line})
	return nil
}

func (p *icsParser) end(cl contentLine) error {
	name := strings.ToUpper(cl.value)
	n := len(p.stack)
	if n == 0 || p.stack[n-1].name != name {
		return p.fail(cl.line, "END", fmt.Sprintf("END:%s does not close an open %s", name, name))
	}
	p.stack = p.stack[:n-1]
	if name != "VEVENT" {
		return nil
	}
	event := p.event
	p.event = nil
	return p.addEvent(event)
}

func (p *icsParser) eventProperty(cl contentLine) error {
	var err error
	switch cl.name {
	case "SUMMARY":
		p.event.summary = unescapeText(cl.value)
	case "DTSTART":
		p.event.start, err = allDayDate(cl)
		p.event.hasStart = true
	case "DTEND":
		p.event.end, err = allDayDate(cl)
		p.event.hasEnd = true
	case "DURATION":
		p.event.days, err = durationDays(cl.value)
	case "STATUS":
		p.event.cancelled = strings.EqualFold(cl.value, "CANCELLED")
	case "RRULE", "RDATE":
		err = fmt.Errorf("recurring events are not supported; list each holiday")
	}
	if err != nil {
		return p.fail(cl.line, cl.name, err.Error())
	}
	return nil
}

// allDayDate reads a DATE value (20250101). A DATE-TIME is refused: a
// holiday is a whole local day.
func allDayDate(cl contentLine) (Date, error) {
	if v, ok := cl.params["VALUE"]; ok && v != "DATE" {
		return Date{}, fmt.Errorf("VALUE=%s: only all-day events (VALUE=DATE) are supported", v)
	}
	if strings.Contains(cl.value, "T") {
		return Date{}, fmt.Errorf("%q is a date-time; only all-day events (VALUE=DATE) are supported", abbreviate(cl.value))
	}
	t, err := time.Parse("20060102", cl.value)
	if err != nil || len(cl.value) != 8 {
		return Date{}, fmt.Errorf("%q: want a date as YYYYMMDD", abbreviate(cl.value))
	}
	return DateOf(t), nil
}

// durationDays reads the whole-day durations an all-day event can have:
// PnD or PnW.
func durationDays(value string) (int, error) {
	bd, err := ParseBusinessDuration(value)
	if err != nil || !strings.HasPrefix(strings.ToUpper(value), "P") || bd.Clock != 0 {
		return 0, fmt.Errorf("%q: want whole days (P1D) or weeks (P1W)", abbreviate(value))
	}
	days := bd.Weeks*7 + bd.Days
	if days < 1 || days > maxEventDays {
		return 0, fmt.Errorf("%q: want 1 to %d days", abbreviate(value), maxEventDays)
	}
	return days, nil
}

func (p *icsParser) addEvent(e *icsEvent) error {
	if e.cancelled {
		return nil
	}
	if !e.hasStart {
		return p.fail(e.line, "DTSTART", "event has no DTSTART")
	}
	last := e.start
	switch {
	case e.hasEnd:
		last = e.end.AddDays(-1) // DTEND is exclusive
	case e.days > 0:
		last = e.start.AddDays(e.days - 1)
	}
	summary := strings.TrimSpace(e.summary)
	work := strings.HasPrefix(summary, "上班") || strings.Contains(summary, "补班")
	return p.days.addRange(e.start, last, work, summary, e.line, "VEVENT")
}

// unescapeText undoes RFC 5545 TEXT escapes: \\ \; \, \n \N.
func unescapeText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n', 'N':
			b.WriteByte('\n')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
