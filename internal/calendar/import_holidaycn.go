package calendar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

const holidayCNFormat = "holiday-cn json"

// holidayCNFile is the JSON published by github.com/NateScarlet/holiday-cn,
// one file per notice year. Pointers tell a missing field from a zero one.
type holidayCNFile struct {
	Year   *int     `json:"year"`
	Papers []string `json:"papers"`
	Days   []struct {
		Name     string `json:"name"`
		Date     string `json:"date"`
		IsOffDay *bool  `json:"isOffDay"`
	} `json:"days"`
}

// ParseHolidayCNJSON reads one year of the holiday-cn JSON format:
//
//	{"year":2025,"papers":["https://…"],"days":[{"name":"春节","date":"2025-01-26","isOffDay":false},…]}
//
// Days with isOffDay true are holidays, false make-up working days; the
// papers become the Source. It returns an *errs.Error (code errs.EInvalid)
// wrapping a *ParseError that gives the line of a JSON syntax error or the
// field (e.g. "days[3].date") of a missing or wrong value.
func ParseHolidayCNJSON(r io.Reader) (YearData, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxImportBytes+1))
	if err != nil {
		return YearData{}, malformed(&ParseError{Format: holidayCNFormat, Problem: "read: " + err.Error()})
	}
	if len(data) > maxImportBytes {
		return YearData{}, malformed(&ParseError{Format: holidayCNFormat, Problem: fmt.Sprintf("larger than %d bytes", maxImportBytes)})
	}
	var file holidayCNFile
	if err := json.Unmarshal(data, &file); err != nil {
		return YearData{}, jsonError(data, err)
	}
	return file.yearData()
}

func (f *holidayCNFile) yearData() (YearData, error) {
	fail := func(field, problem string) (YearData, error) {
		return YearData{}, malformed(&ParseError{Format: holidayCNFormat, Field: field, Problem: problem})
	}
	if f.Year == nil {
		return fail("year", "missing")
	}
	if *f.Year < minDataYear || *f.Year > maxDataYear {
		return fail("year", fmt.Sprintf("%d is outside %d–%d", *f.Year, minDataYear, maxDataYear))
	}
	if f.Days == nil {
		return fail("days", "missing")
	}
	dc := newDayCollector(holidayCNFormat)
	for i, day := range f.Days {
		field := fmt.Sprintf("days[%d]", i)
		date, err := ParseDate(day.Date)
		if err != nil {
			return fail(field+".date", err.Error())
		}
		if day.IsOffDay == nil {
			return fail(field+".isOffDay", "missing")
		}
		if err := dc.addRange(date, date, !*day.IsOffDay, day.Name, 0, field); err != nil {
			return YearData{}, err
		}
	}
	if err := dc.checkYear(*f.Year); err != nil {
		return YearData{}, err
	}
	return dc.yearData(*f.Year, strings.Join(f.Papers, " ")), nil
}

// jsonError turns a decoding error into a ParseError with the line it
// happened on.
func jsonError(data []byte, err error) error {
	pe := &ParseError{Format: holidayCNFormat, Problem: err.Error()}
	var syntax *json.SyntaxError
	var wrongType *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		pe.Line = lineAt(data, syntax.Offset)
	case errors.As(err, &wrongType):
		pe.Line = lineAt(data, wrongType.Offset)
		pe.Field = wrongType.Field
		pe.Problem = fmt.Sprintf("want %s, got JSON %s", wrongType.Type, wrongType.Value)
	}
	return malformed(pe)
}

func lineAt(data []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(data)))
	return bytes.Count(data[:offset], []byte("\n")) + 1
}
