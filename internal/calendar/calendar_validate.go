package calendar

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/guanjia/guanjia/internal/errs"
)

var keyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

const maxNameLength = 100

// problems collects everything wrong with a Spec, so that an admin fixes all
// of it in one round instead of one error at a time.
type problems struct {
	fields   map[string]string
	messages []string
}

func (p *problems) add(field, key, format string, args ...any) {
	if p.fields == nil {
		p.fields = map[string]string{}
	}
	if _, seen := p.fields[field]; !seen {
		p.fields[field] = key
	}
	p.messages = append(p.messages, field+": "+fmt.Sprintf(format, args...))
}

func (p *problems) err(calendarKey string) error {
	if len(p.messages) == 0 {
		return nil
	}
	return &errs.Error{
		Code:   errs.EInvalid,
		Key:    "error.calendar.invalid",
		Fields: p.fields,
		Err:    fmt.Errorf("calendar: invalid calendar %q: %s", calendarKey, strings.Join(p.messages, "; ")),
	}
}

// validate checks c.spec and, as it goes, fills the compiled fields that the
// checks compute anyway: loc, makeUp, kinds and dataYears.
func (c *Calendar) validate() error {
	var p problems
	c.validateIdentity(&p)
	c.validateZone(&p)
	if c.spec.AlwaysOpen {
		c.validateAlwaysOpen(&p)
	} else {
		c.validateWeek(&p)
		c.validateYears(&p)
		c.validateMakeUp(&p)
	}
	return p.err(c.spec.Key)
}

func (c *Calendar) validateIdentity(p *problems) {
	switch {
	case c.spec.Key == "":
		p.add("key", "error.field.required", "a key is required")
	case !keyPattern.MatchString(c.spec.Key):
		p.add("key", "error.calendar.key_invalid",
			"%q: use 1 to 64 lower-case letters, digits, '-' or '_'", c.spec.Key)
	}
	if utf8.RuneCountInString(c.spec.Name) > maxNameLength {
		p.add("name", "error.field.too_long", "longer than %d characters", maxNameLength)
	}
}

func (c *Calendar) validateZone(p *problems) {
	c.loc = time.UTC // keeps the struct usable while problems are collected
	if c.spec.TimeZone == "Local" {
		p.add("timeZone", "error.calendar.time_zone_unknown",
			"\"Local\" depends on the server; name an IANA zone such as Asia/Shanghai")
		return
	}
	loc, err := time.LoadLocation(c.spec.TimeZone)
	if err != nil {
		p.add("timeZone", "error.calendar.time_zone_unknown", "unknown time zone %q", c.spec.TimeZone)
		return
	}
	c.loc = loc
}

func (c *Calendar) validateAlwaysOpen(p *problems) {
	for _, hours := range c.spec.Week {
		if len(hours) > 0 {
			p.add("week", "error.calendar.always_open_with_hours",
				"a 24×7 calendar takes no weekly hours")
			break
		}
	}
	if len(c.spec.Years) > 0 {
		p.add("years", "error.calendar.always_open_with_holidays",
			"a 24×7 calendar takes no holidays or make-up days")
	}
}

func (c *Calendar) validateWeek(p *problems) {
	anyHours := false
	for d, hours := range c.spec.Week {
		for i, iv := range hours {
			field := fmt.Sprintf("week.%s[%d]", weekdayKeys[d], i)
			switch {
			case iv.Start < 0 || iv.End > endOfDay:
				p.add(field, "error.calendar.interval_out_of_day", "%d–%d minutes is outside 00:00-24:00", iv.Start, iv.End)
			case iv.Start >= iv.End:
				p.add(field, "error.calendar.interval_inverted", "%s does not end after it starts", iv)
			default:
				anyHours = true
			}
		}
		validateOverlaps(p, time.Weekday(d), hours)
	}
	if !anyHours {
		p.add("week", "error.calendar.no_working_hours",
			"no working hours on any weekday; set alwaysOpen for a 24×7 calendar")
	}
}

// validateOverlaps reports each interval that starts before the one ahead of
// it (in start order) has ended. Touching intervals (…-12:00, 12:00-…) are
// fine.
func validateOverlaps(p *problems, d time.Weekday, hours []Interval) {
	order := make([]int, len(hours))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(hours[a].Start) - int(hours[b].Start) })
	for k := 1; k < len(order); k++ {
		prev, cur := hours[order[k-1]], hours[order[k]]
		if cur.Start < prev.End {
			p.add(fmt.Sprintf("week.%s[%d]", weekdayKeys[d], order[k]), "error.calendar.interval_overlap",
				"%s overlaps %s", cur, prev)
		}
	}
}

func (c *Calendar) validateMakeUp(p *problems) {
	d, err := ParseWeekday(c.spec.MakeUpWeekday)
	if err != nil {
		p.add("makeUpWeekday", "error.calendar.weekday_unknown", "%v", err)
		return
	}
	c.makeUp = d
	if len(c.spec.Week[d]) > 0 {
		return
	}
	for _, kind := range c.kinds {
		if kind == dayMakeUp {
			p.add("makeUpWeekday", "error.calendar.make_up_weekday_no_hours",
				"make-up working days take the hours of %s, which has none", weekdayKeys[d])
			return
		}
	}
}

// seenDate remembers where a date was first listed, to name both places when
// it is listed again with the other meaning.
type seenDate struct {
	kind  dayKind
	field string
	name  string
}

func (c *Calendar) validateYears(p *problems) {
	c.kinds = map[int]dayKind{}
	seen := map[int]seenDate{}
	for i, y := range c.spec.Years {
		field := fmt.Sprintf("years[%d]", i)
		if y.Year < minDataYear || y.Year > maxDataYear {
			p.add(field+".year", "error.calendar.year_out_of_range",
				"year %d is outside %d–%d", y.Year, minDataYear, maxDataYear)
			continue
		}
		if slices.Contains(c.dataYears, y.Year) {
			p.add(field+".year", "error.calendar.year_duplicate", "year %d is listed twice", y.Year)
			continue
		}
		c.dataYears = append(c.dataYears, y.Year)
		c.validateDays(p, seen, y.Year, field+".holidays", y.Holidays, dayHoliday)
		c.validateDays(p, seen, y.Year, field+".workdays", y.Workdays, dayMakeUp)
	}
	slices.Sort(c.dataYears)
}

func (c *Calendar) validateDays(p *problems, seen map[int]seenDate, year int, field string, days []NamedDate, kind dayKind) {
	for j, nd := range days {
		dateField := fmt.Sprintf("%s[%d].date", field, j)
		day := nd.Date.dayNumber()
		if dateOfDay(day) != nd.Date || nd.Date.Year < year-1 || nd.Date.Year > year+1 {
			p.add(dateField, "error.calendar.date_outside_year",
				"%s is not a date of %d or a neighbouring year", nd.Date, year)
			continue
		}
		first, dup := seen[day]
		if !dup {
			seen[day] = seenDate{kind: kind, field: dateField, name: nd.Name}
			c.kinds[day] = kind
			continue
		}
		if first.kind != kind {
			p.add(dateField, "error.calendar.date_holiday_and_workday",
				"%s is both a %s (%s, %s) and a %s (%s)", nd.Date,
				kindWord(first.kind), first.name, first.field, kindWord(kind), nd.Name)
		}
	}
}

func kindWord(k dayKind) string {
	if k == dayMakeUp {
		return "make-up working day"
	}
	return "holiday"
}
