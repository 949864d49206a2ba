package calendars

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

// weekdays in the order a Chinese week is shown, with their Spec keys.
var weekdays = []struct {
	key string
	day time.Weekday
}{{"mon", time.Monday}, {"tue", time.Tuesday}, {"wed", time.Wednesday}, {"thu", time.Thursday}, {"fri", time.Friday}, {"sat", time.Saturday}, {"sun", time.Sunday}}

type listData struct {
	Items     []Summary
	CanManage bool
	Form      createInput
}

type createInput struct {
	Key      string `json:"key"`
	Name     string `json:"name"`
	CopyFrom string `json:"copy_from"`
}

func (h *HTTP) listData(c *web.Ctx) (*listData, error) {
	items, err := h.Svc.List(c.R.Context())
	if err != nil {
		return nil, err
	}
	return &listData{Items: items, CanManage: c.P.CanAnywhere(auth.PermCalendarManage), Form: createInput{CopyFrom: calendar.KeyCNWorkday}}, nil
}

func (h *HTTP) listPage(c *web.Ctx) error {
	d, err := h.listData(c)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "calendar_list", d, nil)
}

// createForm makes a calendar as a copy of another one's settings and
// holidays under a new key and name.
func (h *HTTP) createForm(c *web.Ctx) error {
	var in createInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	spec := calendar.Spec{Key: strings.TrimSpace(in.Key), Name: strings.TrimSpace(in.Name)}
	if in.CopyFrom != "" {
		src, err := h.Svc.Record(c.R.Context(), in.CopyFrom)
		if err != nil {
			return err
		}
		spec = src.Spec
		spec.Key, spec.Name = strings.TrimSpace(in.Key), strings.TrimSpace(in.Name)
	}
	rec, err := h.Svc.Create(c.R.Context(), spec)
	if errs.CodeOf(err) == errs.EInvalid {
		d, derr := h.listData(c)
		if derr != nil {
			return derr
		}
		d.Form = in
		return c.HTML(http.StatusUnprocessableEntity, "calendar_list", d, err)
	} else if err != nil {
		return err
	}
	return c.Redirect("/calendars/" + rec.Key + "?saved=1")
}

type weekRow struct {
	Key   string
	Value string
}

type dayCell struct {
	Day   int
	Kind  string // "work" (make-up day), "off" (holiday), "rest" (no regular hours), "" (a working day)
	Name  string
	Today bool
}

type monthView struct {
	Month int
	Weeks [][]dayCell // 7 cells a week, Monday first; Day 0 pads
}

type tryView struct {
	From, Duration, Result string
	Weekday                string            // "mon" … "sun" of the result
	Err                    map[string]string // field → i18n key
}

type editData struct {
	Rec       *Record
	CanManage bool
	Week      []weekRow
	Form      settingsInput
	Year      int
	DataYears []int
	Months    []monthView
	YearText  string
	Try       tryView
	Imported  []ImportResult
	Weekdays  []string
}

type settingsInput struct {
	Name          string `json:"name"`
	TimeZone      string `json:"time_zone"`
	AlwaysOpen    bool   `json:"always_open"`
	MakeUpWeekday string `json:"make_up_weekday"`
	Mon           string `json:"week_mon"`
	Tue           string `json:"week_tue"`
	Wed           string `json:"week_wed"`
	Thu           string `json:"week_thu"`
	Fri           string `json:"week_fri"`
	Sat           string `json:"week_sat"`
	Sun           string `json:"week_sun"`
}

func (in *settingsInput) days() []*string {
	return []*string{&in.Mon, &in.Tue, &in.Wed, &in.Thu, &in.Fri, &in.Sat, &in.Sun}
}

func settingsOf(spec calendar.Spec) settingsInput {
	in := settingsInput{Name: spec.Name, TimeZone: spec.TimeZone, AlwaysOpen: spec.AlwaysOpen, MakeUpWeekday: spec.MakeUpWeekday}
	for i, p := range in.days() {
		var parts []string
		for _, iv := range spec.Week[weekdays[i].day] {
			parts = append(parts, iv.String())
		}
		*p = strings.Join(parts, " ")
	}
	return in
}

// spec reads the form into a definition. Intervals are separated by spaces,
// commas or semicolons. A malformed interval is EInvalid on its weekday.
func (in *settingsInput) spec() (calendar.Spec, error) {
	spec := calendar.Spec{Name: strings.TrimSpace(in.Name), TimeZone: strings.TrimSpace(in.TimeZone), AlwaysOpen: in.AlwaysOpen, MakeUpWeekday: in.MakeUpWeekday}
	var v errs.Validation
	for i, p := range in.days() {
		fields := strings.FieldsFunc(*p, func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == '，' || r == '；' || r == '、' })
		for _, f := range fields {
			iv, err := calendar.ParseInterval(f)
			if err != nil {
				v.Add("week_"+weekdays[i].key, "error.calendar.interval_malformed")
				continue
			}
			spec.Week[weekdays[i].day] = append(spec.Week[weekdays[i].day], iv)
		}
	}
	return spec, v.Err()
}

// formFields maps the definition's JSON paths ("week.mon[1]", "timeZone")
// to the names of the form's inputs.
func formFields(err error) error {
	var e *errs.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return err
	}
	out := *e
	out.Fields = map[string]string{}
	for f, k := range e.Fields {
		switch {
		case strings.HasPrefix(f, "week."):
			day, _, _ := strings.Cut(strings.TrimPrefix(f, "week."), "[")
			f = "week_" + day
		case f == "timeZone":
			f = "time_zone"
		case f == "makeUpWeekday":
			f = "make_up_weekday"
		case f == "alwaysOpen":
			f = "always_open"
		case strings.HasPrefix(f, "years"):
			f = "text"
		}
		if _, seen := out.Fields[f]; !seen {
			out.Fields[f] = k
		}
	}
	return &out
}

func (h *HTTP) editData(c *web.Ctx) (*editData, error) {
	ctx := c.R.Context()
	rec, err := h.Svc.Record(ctx, c.R.PathValue("id"))
	if err != nil {
		return nil, err
	}
	cal, err := h.Svc.Get(ctx, rec.Key)
	if err != nil {
		return nil, err
	}
	now := h.Svc.Now().In(cal.Location())
	year := c.QueryInt("year", now.Year())
	if year < 1901 || year > 2199 {
		year = now.Year()
	}
	d := &editData{Rec: rec, CanManage: c.P.CanAnywhere(auth.PermCalendarManage), Form: settingsOf(rec.Spec), Year: year}
	for _, w := range weekdays {
		d.Weekdays = append(d.Weekdays, w.key)
	}
	for _, y := range rec.Spec.Years {
		d.DataYears = append(d.DataYears, y.Year)
		if y.Year == year {
			d.YearText = FormatYear(y)
		}
	}
	d.Months = yearView(rec.Spec, year, calendar.DateOf(now))
	d.Try = tryView{From: c.Query("from"), Duration: c.Query("duration")}
	if d.Try.From == "" {
		d.Try.From = now.Format("2006-01-02T15:04")
	}
	if c.Query("duration") != "" {
		if res, err := AddDuration(cal, d.Try.From, d.Try.Duration); err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || len(e.Fields) == 0 {
				return nil, err
			}
			d.Try.Err = e.Fields
		} else {
			d.Try.Result = res.Format("2006-01-02 15:04:05")
			d.Try.Weekday = weekdays[(int(res.Weekday())+6)%7].key
		}
	}
	return d, nil
}

func (h *HTTP) editPage(c *web.Ctx) error {
	d, err := h.editData(c)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "calendar_edit", d, nil)
}

// renderEdit shows the editor again after a failed form, keeping what the
// user typed.
func (h *HTTP) renderEdit(c *web.Ctx, status int, formErr error, keep func(*editData)) error {
	d, err := h.editData(c)
	if err != nil {
		return err
	}
	if keep != nil {
		keep(d)
	}
	return c.HTML(status, "calendar_edit", d, formErr)
}

func (h *HTTP) settingsForm(c *web.Ctx) error {
	var in settingsInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	spec, err := in.spec()
	if err == nil {
		_, err = h.Svc.UpdateSettings(c.R.Context(), c.R.PathValue("id"), spec)
	}
	if errs.CodeOf(err) == errs.EInvalid {
		return h.renderEdit(c, http.StatusUnprocessableEntity, formFields(err), func(d *editData) { d.Form = in })
	} else if err != nil {
		return err
	}
	return c.Redirect("/calendars/" + url.PathEscape(c.R.PathValue("id")) + "?saved=1")
}

// yearForm saves one year typed in the holiday list format, without its
// "year" line: "2025-10-01..2025-10-08 off 国庆节" per line.
func (h *HTTP) yearForm(c *web.Ctx) error {
	var in struct {
		Year   int    `json:"year"`
		Source string `json:"source"`
		Text   string `json:"text"`
	}
	if err := c.Decode(&in); err != nil {
		return err
	}
	keep := func(d *editData) { d.Year, d.YearText = in.Year, in.Text }
	if in.Year < 1901 || in.Year > 2199 {
		return h.renderEdit(c, http.StatusUnprocessableEntity, errs.Invalid("year", "error.calendar.year_out_of_range"), keep)
	}
	text := in.Text
	if !strings.HasPrefix(strings.TrimSpace(text), "year ") {
		text = fmt.Sprintf("year %d %s\n%s", in.Year, strings.TrimSpace(in.Source), text)
	}
	years, err := calendar.ParseHolidayList(strings.NewReader(text))
	if err == nil && (len(years) != 1 || years[0].Year != in.Year) {
		err = errs.Invalid("text", "error.calendar.one_year_only")
	}
	if err == nil {
		_, err = h.Svc.SetYear(c.R.Context(), c.R.PathValue("id"), years[0])
	}
	if errs.CodeOf(err) == errs.EInvalid {
		return h.renderEdit(c, http.StatusUnprocessableEntity, formFields(err), keep)
	} else if err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/calendars/%s?year=%d&saved=1", url.PathEscape(c.R.PathValue("id")), in.Year))
}

func (h *HTTP) yearDeleteForm(c *web.Ctx) error {
	year, err := strconv.Atoi(c.R.PathValue("year"))
	if err != nil {
		return errs.NotFound("error.calendar.year_not_found")
	}
	if _, err := h.Svc.DeleteYear(c.R.Context(), c.R.PathValue("id"), year); err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/calendars/%s?year=%d&saved=1", url.PathEscape(c.R.PathValue("id")), year))
}

func (h *HTTP) importForm(c *web.Ctx) error {
	body, err := readImportForm(c)
	if err != nil {
		return h.renderEdit(c, http.StatusUnprocessableEntity, err, nil)
	}
	res, err := h.Svc.Import(c.R.Context(), c.R.PathValue("id"), body)
	if errs.CodeOf(err) == errs.EInvalid {
		return h.renderEdit(c, http.StatusUnprocessableEntity, err, nil)
	} else if err != nil {
		return err
	}
	return h.renderEdit(c, http.StatusOK, nil, func(d *editData) {
		d.Imported = res
		if len(res) > 0 {
			d.Year = res[0].Year
			d.Months = yearView(d.Rec.Spec, d.Year, calendar.DateOf(h.Svc.Now()))
			for _, y := range d.Rec.Spec.Years {
				if y.Year == d.Year {
					d.YearText = FormatYear(y)
				}
			}
		}
	})
}

// yearView lays out the twelve months of year, Monday first, marking the
// holidays, the make-up working days and the days without regular hours.
func yearView(spec calendar.Spec, year int, today calendar.Date) []monthView {
	off, work := map[calendar.Date]string{}, map[calendar.Date]string{}
	for _, y := range spec.Years {
		for _, d := range y.Holidays {
			off[d.Date] = d.Name
		}
		for _, d := range y.Workdays {
			work[d.Date] = d.Name
		}
	}
	months := make([]monthView, 12)
	for m := range 12 {
		first := calendar.Date{Year: year, Month: time.Month(m + 1), Day: 1}
		mv := monthView{Month: m + 1}
		week := make([]dayCell, 7)
		col := (int(first.Weekday()) + 6) % 7
		for d := first; d.Month == first.Month; d = d.AddDays(1) {
			cell := dayCell{Day: d.Day, Today: d == today}
			if name, ok := off[d]; ok {
				cell.Kind, cell.Name = "off", name
			} else if name, ok := work[d]; ok {
				cell.Kind, cell.Name = "work", name
			} else if !spec.AlwaysOpen && len(spec.Week[d.Weekday()]) == 0 {
				cell.Kind = "rest"
			}
			week[col] = cell
			col++
			if col == 7 {
				mv.Weeks = append(mv.Weeks, week)
				week, col = make([]dayCell, 7), 0
			}
		}
		if col > 0 {
			mv.Weeks = append(mv.Weeks, week)
		}
		months[m] = mv
	}
	return months
}

// FormatYear writes one year in the holiday list format that
// calendar.ParseHolidayList reads back: a "year" line, then runs of
// consecutive days with the same kind and name as ranges.
func FormatYear(y calendar.YearData) string {
	type entry struct {
		d    calendar.Date
		work bool
		name string
	}
	var all []entry
	for _, d := range y.Holidays {
		all = append(all, entry{d.Date, false, d.Name})
	}
	for _, d := range y.Workdays {
		all = append(all, entry{d.Date, true, d.Name})
	}
	slices.SortFunc(all, func(a, b entry) int { return strings.Compare(a.d.String(), b.d.String()) })
	var b strings.Builder
	fmt.Fprintf(&b, "year %d %s\n", y.Year, y.Source)
	for i := 0; i < len(all); {
		j := i
		for j+1 < len(all) && all[j+1].work == all[i].work && all[j+1].name == all[i].name && all[j+1].d == all[j].d.AddDays(1) {
			j++
		}
		kind := "off"
		if all[i].work {
			kind = "work"
		}
		if j > i {
			fmt.Fprintf(&b, "%s..%s %s %s\n", all[i].d, all[j].d, kind, all[i].name)
		} else {
			fmt.Fprintf(&b, "%s %s %s\n", all[i].d, kind, all[i].name)
		}
		i = j + 1
	}
	return b.String()
}
