package calendars

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

//go:embed templates
var templates embed.FS

// AddPages registers this module's page templates.
func AddPages(r *web.Renderer) error { return r.AddPages(templates, "templates") }

// Nav lists this module's navigation entries.
func Nav() []web.NavItem {
	return []web.NavItem{{Key: "nav.calendars", Href: "/calendars", Perm: auth.PermCalendarView, Group: "nav.group.admin"}}
}

// HTTP serves the calendar API and pages.
type HTTP struct{ Svc *Service }

// List is the API answer for the calendar list.
type List struct {
	Items []Summary `json:"items"`
}

// ImportList is the API answer of an import.
type ImportList struct {
	Items []ImportResult `json:"items"`
}

// AddResult is the answer of add: the instant at which the duration of
// working time has elapsed, RFC 3339 in the calendar's zone.
type AddResult struct {
	Result string `json:"result"`
}

// BetweenResult is the working time between two instants.
type BetweenResult struct {
	Seconds  int64   `json:"seconds"`
	Minutes  float64 `json:"minutes"`
	Duration string  `json:"duration"` // ISO 8601, negative when to is before from
}

// maxImportBody bounds an uploaded holiday file; a year is a few kilobytes.
const maxImportBody = 1 << 20

// Routes lists the calendar endpoints.
func (h *HTTP) Routes() []web.Route {
	id := "a numeric id or the calendar's key"
	return []web.Route{
		{Method: "GET", Path: "/api/v1/calendars", Perm: auth.PermCalendarView, Handler: h.apiList,
			Doc: &web.Doc{Summary: "Business calendars", Tag: "calendars", Resp: List{}}},
		{Method: "POST", Path: "/api/v1/calendars", Perm: auth.PermCalendarManage, Handler: h.apiCreate,
			Doc: &web.Doc{Summary: "Create a calendar from its definition (key, timeZone, week, makeUpWeekday, years)", Tag: "calendars", Body: calendar.Spec{}, Resp: Record{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/v1/calendars/{id}", Perm: auth.PermCalendarView, Handler: h.apiGet,
			Doc: &web.Doc{Summary: "One calendar (" + id + ")", Tag: "calendars", Resp: Record{}}},
		{Method: "PUT", Path: "/api/v1/calendars/{id}", Perm: auth.PermCalendarManage, Handler: h.apiUpdate,
			Doc: &web.Doc{Summary: "Replace a calendar's definition: weekly hours, holidays, make-up working days; the key stays", Tag: "calendars", Body: calendar.Spec{}, Resp: Record{}}},
		{Method: "POST", Path: "/api/v1/calendars/{id}/import", Perm: auth.PermCalendarManage, Handler: h.apiImport,
			Doc: &web.Doc{Summary: "Import holiday data: the body is a holiday-cn JSON year, an iCalendar (.ics) file or holiday list text, told apart by content", Tag: "calendars",
				RawBody: []string{"application/json", "text/calendar", "text/plain"}, Resp: ImportList{}}},
		{Method: "DELETE", Path: "/api/v1/calendars/{id}/years/{year}", Perm: auth.PermCalendarManage, Handler: h.apiDeleteYear,
			Doc: &web.Doc{Summary: "Remove the holiday data of one year", Tag: "calendars", Resp: Record{}}},
		{Method: "GET", Path: "/api/v1/calendars/{id}/add", Perm: auth.PermCalendarView, Handler: h.apiAdd,
			Doc: &web.Doc{Summary: "Add working time to an instant", Tag: "calendars", Resp: AddResult{}, Query: []web.Param{
				{Name: "from", Desc: "RFC 3339 instant, or local date-time YYYY-MM-DDTHH:MM in the calendar's zone"},
				{Name: "duration", Desc: "Go duration (8h, 90m) or ISO 8601 (PT8H, P3D business days, P1W2D)"}}}},
		{Method: "GET", Path: "/api/v1/calendars/{id}/between", Perm: auth.PermCalendarView, Handler: h.apiBetween,
			Doc: &web.Doc{Summary: "Working time between two instants", Tag: "calendars", Resp: BetweenResult{}, Query: []web.Param{
				{Name: "from", Desc: "RFC 3339 or local date-time"}, {Name: "to", Desc: "RFC 3339 or local date-time"}}}},

		{Method: "GET", Path: "/calendars", Perm: auth.PermCalendarView, Handler: h.listPage},
		{Method: "POST", Path: "/calendars", Perm: auth.PermCalendarManage, Handler: h.createForm},
		{Method: "GET", Path: "/calendars/{id}", Perm: auth.PermCalendarView, Handler: h.editPage},
		{Method: "POST", Path: "/calendars/{id}", Perm: auth.PermCalendarManage, Handler: h.settingsForm},
		{Method: "POST", Path: "/calendars/{id}/years", Perm: auth.PermCalendarManage, Handler: h.yearForm},
		{Method: "POST", Path: "/calendars/{id}/years/{year}/delete", Perm: auth.PermCalendarManage, Handler: h.yearDeleteForm},
		{Method: "POST", Path: "/calendars/{id}/import", Perm: auth.PermCalendarManage, Handler: h.importForm},
	}
}

// ---- API ----

func (h *HTTP) apiList(c *web.Ctx) error {
	items, err := h.Svc.List(c.R.Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, List{Items: items})
}

func (h *HTTP) apiGet(c *web.Ctx) error {
	r, err := h.Svc.Record(c.R.Context(), c.R.PathValue("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// decodeSpec reads a calendar definition strictly: each field is decoded on
// its own so a problem names its field, an unknown field such as a misspelt
// "zone" is refused rather than silently ignored, and trailing data is
// malformed.
func decodeSpec(c *web.Ctx) (calendar.Spec, error) {
	var spec calendar.Spec
	dec := json.NewDecoder(http.MaxBytesReader(c.W, c.R.Body, maxImportBody))
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return spec, errs.Invalid("body", "error.body.empty")
		case errors.As(err, &mbe):
			return spec, errs.Invalid("body", "error.body.too_large")
		}
		return spec, errs.Invalid("body", "error.body.malformed")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return spec, errs.Invalid("body", "error.body.malformed")
	}
	fields := map[string]any{"key": &spec.Key, "name": &spec.Name, "timeZone": &spec.TimeZone, "alwaysOpen": &spec.AlwaysOpen,
		"week": &spec.Week, "makeUpWeekday": &spec.MakeUpWeekday, "years": &spec.Years}
	var v errs.Validation
	for name, val := range raw {
		dst, ok := fields[name]
		if !ok {
			v.Add(name, "error.calendar.unknown_field")
			continue
		}
		if err := json.Unmarshal(val, dst); err != nil {
			v.Add(name, "error.field.wrong_type")
		}
	}
	return spec, v.Err()
}

func (h *HTTP) apiCreate(c *web.Ctx) error {
	spec, err := decodeSpec(c)
	if err != nil {
		return err
	}
	r, err := h.Svc.Create(c.R.Context(), spec)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, r)
}

func (h *HTTP) apiUpdate(c *web.Ctx) error {
	spec, err := decodeSpec(c)
	if err != nil {
		return err
	}
	r, err := h.Svc.Update(c.R.Context(), c.R.PathValue("id"), spec)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (h *HTTP) apiImport(c *web.Ctx) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.W, c.R.Body, maxImportBody))
	if err != nil {
		return errs.Invalid("body", "error.body.too_large")
	}
	res, err := h.Svc.Import(c.R.Context(), c.R.PathValue("id"), body)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ImportList{Items: res})
}

func (h *HTTP) apiDeleteYear(c *web.Ctx) error {
	year, err := c.PathID("year")
	if err != nil {
		return err
	}
	r, err := h.Svc.DeleteYear(c.R.Context(), c.R.PathValue("id"), int(year))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (h *HTTP) apiAdd(c *web.Ctx) error {
	cal, err := h.Svc.Compiled(c.R.Context(), c.R.PathValue("id"))
	if err != nil {
		return err
	}
	res, err := AddDuration(cal, c.Query("from"), c.Query("duration"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, AddResult{Result: res.Format(time.RFC3339Nano)})
}

func (h *HTTP) apiBetween(c *web.Ctx) error {
	cal, err := h.Svc.Compiled(c.R.Context(), c.R.PathValue("id"))
	if err != nil {
		return err
	}
	d, err := Between(cal, c.Query("from"), c.Query("to"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, BetweenResult{Seconds: int64(d / time.Second), Minutes: d.Minutes(), Duration: isoDuration(d)})
}

// AddDuration parses from and duration as the API and the command line take
// them and adds the duration's working time on cal. The result is in the
// calendar's zone. Bad input is EInvalid naming the field ("from" or
// "duration"); a result outside the supported range is EInvalid on
// "duration".
func AddDuration(cal *calendar.Calendar, from, duration string) (time.Time, error) {
	var v errs.Validation
	t, terr := ParseInstant(from, cal.Location())
	if from == "" {
		v.Add("from", "error.field.required")
	} else if terr != nil {
		v.Add("from", "error.calendar.bad_instant")
	}
	bd, derr := calendar.ParseBusinessDuration(strings.TrimSpace(duration))
	if strings.TrimSpace(duration) == "" {
		v.Add("duration", "error.field.required")
	} else if derr != nil {
		v.Add("duration", "error.calendar.bad_duration")
	}
	if err := v.Err(); err != nil {
		return time.Time{}, err
	}
	res, err := cal.AddBusiness(t.In(cal.Location()), bd)
	if errors.Is(err, calendar.ErrOutOfRange) {
		return time.Time{}, errs.Invalid("duration", "error.calendar.out_of_range")
	}
	return res, err
}

// Between parses two instants and returns the working time between them on
// cal. Bad input is EInvalid naming the field ("from" or "to").
func Between(cal *calendar.Calendar, from, to string) (time.Duration, error) {
	var v errs.Validation
	a, aerr := ParseInstant(from, cal.Location())
	b, berr := ParseInstant(to, cal.Location())
	for _, f := range []struct {
		name, val string
		err       error
	}{{"from", from, aerr}, {"to", to, berr}} {
		if f.val == "" {
			v.Add(f.name, "error.field.required")
		} else if f.err != nil {
			v.Add(f.name, "error.calendar.bad_instant")
		}
	}
	if err := v.Err(); err != nil {
		return 0, err
	}
	return cal.Between(a, b), nil
}

// ParseInstant reads an RFC 3339 instant, or a local date-time
// ("2025-09-30T16:00", "2025-09-30 16:00:05") in loc. A "+" of an offset that
// arrived as a space (an unescaped query string) is read as "+".
func ParseInstant(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if i := strings.LastIndex(s, " "); i > 10 {
		if t, err := time.Parse(time.RFC3339Nano, s[:i]+"+"+s[i+1:]); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("calendars: %q is neither RFC 3339 nor a local date-time", s)
}

// isoDuration formats a signed duration as ISO 8601 time ("PT7H30M",
// "-PT1H").
func isoDuration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	return sign + calendar.BusinessDuration{Clock: d}.String()
}

// readImportForm takes the uploaded file, or else the pasted text.
func readImportForm(c *web.Ctx) ([]byte, error) {
	if err := c.R.ParseMultipartForm(maxImportBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return nil, errs.Invalid("file", "error.body.too_large")
	}
	if f, _, err := c.R.FormFile("file"); err == nil {
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxImportBody+1))
		if err != nil || len(b) > maxImportBody {
			return nil, errs.Invalid("file", "error.body.too_large")
		}
		if len(bytes.TrimSpace(b)) > 0 {
			return b, nil
		}
	}
	return []byte(c.R.FormValue("text")), nil
}
