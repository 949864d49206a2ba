package calendar

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

const holidayListFormat = "holiday list"

// ParseHolidayList reads our compact text format of public-holiday data, the
// format of the shipped cn_holidays.txt and handy for pasting by hand:
//
//	# comment
//	year 2025 国务院办公厅关于2025年部分节假日安排的通知
//	2025-10-01..2025-10-08 off 国庆节、中秋节
//	2025-09-28 work 国庆节调休
//
// A "year" line starts the data of a notice year (the rest of the line is
// its source); each following line is a date or an inclusive range, "off"
// or "work", and a name. It returns the years in file order, or an
// *errs.Error (code errs.EInvalid) wrapping a *ParseError with the line
// number of the first problem.
func ParseHolidayList(r io.Reader) ([]YearData, error) {
	p := holidayListParser{}
	scanner := bufio.NewScanner(io.LimitReader(r, maxImportBytes))
	for scanner.Scan() {
		p.line++
		if err := p.parseLine(strings.TrimSpace(scanner.Text())); err != nil {
			return nil, err
		}
	}
	if err := scanner.Err(); err != nil {
		p.line++ // the line that could not be read
		return nil, p.fail(err.Error())
	}
	if err := p.finishYear(); err != nil {
		return nil, err
	}
	if len(p.years) == 0 {
		return nil, malformed(&ParseError{Format: holidayListFormat, Problem: "no year line"})
	}
	return p.years, nil
}

type holidayListParser struct {
	line    int
	years   []YearData
	year    int
	source  string
	current *dayCollector
}

func (p *holidayListParser) fail(problem string) error {
	return malformed(&ParseError{Format: holidayListFormat, Line: p.line, Problem: problem})
}

func (p *holidayListParser) parseLine(text string) error {
	if text == "" || strings.HasPrefix(text, "#") {
		return nil
	}
	head, rest, _ := strings.Cut(text, " ")
	if head == "year" {
		return p.startYear(strings.TrimSpace(rest))
	}
	if p.current == nil {
		return p.fail("dates before the first \"year\" line")
	}
	return p.parseDays(head, strings.TrimSpace(rest))
}

func (p *holidayListParser) startYear(rest string) error {
	if err := p.finishYear(); err != nil {
		return err
	}
	yearText, source, _ := strings.Cut(rest, " ")
	year, err := strconv.Atoi(yearText)
	if err != nil || year < minDataYear || year > maxDataYear {
		return p.fail(fmt.Sprintf("want \"year YYYY <source>\", got year %q", yearText))
	}
	for _, y := range p.years {
		if y.Year == year {
			return p.fail(fmt.Sprintf("year %d is listed twice", year))
		}
	}
	p.year, p.source, p.current = year, strings.TrimSpace(source), newDayCollector(holidayListFormat)
	return nil
}

func (p *holidayListParser) finishYear() error {
	if p.current == nil {
		return nil
	}
	if err := p.current.checkYear(p.year); err != nil {
		return err
	}
	p.years = append(p.years, p.current.yearData(p.year, p.source))
	return nil
}

// parseDays reads "2025-10-01..2025-10-08 off 国庆节".
func (p *holidayListParser) parseDays(dates, rest string) error {
	kind, name, _ := strings.Cut(rest, " ")
	if kind != "off" && kind != "work" {
		return p.fail(fmt.Sprintf("want \"off\" or \"work\" after the date, got %q", kind))
	}
	firstText, lastText, isRange := strings.Cut(dates, "..")
	first, err := ParseDate(firstText)
	if err != nil {
		return p.fail(err.Error())
	}
	last := first
	if isRange {
		if last, err = ParseDate(lastText); err != nil {
			return p.fail(err.Error())
		}
	}
	return p.current.addRange(first, last, kind == "work", strings.TrimSpace(name), p.line, "")
}
