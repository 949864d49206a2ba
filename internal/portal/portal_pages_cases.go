package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/guanjia/guanjia/internal/blob"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

// maxPhotos is how many photos one report or one addition carries.
const maxPhotos = 6

// homeData is the resident's first screen.
type homeData struct {
	shell
	Me           *Me
	Homes        []homeView
	Cases        []CaseView // the latest few
	MoreCases    bool
	Notices      []Notice
	Applications []Application
}

func (h *Pages) home(c *web.Ctx) error {
	ctx, r := c.R.Context(), resident(c)
	d := &homeData{shell: h.shell(c, "home")}
	var err error
	if d.Me, err = h.S.MeOf(ctx, r); err != nil {
		return err
	}
	for _, hh := range d.Me.Households {
		d.Homes = append(d.Homes, homeView{Household: hh, Call: callURL(hh.ButlerPhone, r.Kiosk)})
	}
	if d.Cases, err = h.S.Cases(ctx, r, 4); err != nil {
		return err
	}
	if len(d.Cases) > 3 {
		d.Cases, d.MoreCases = d.Cases[:3], true
	}
	if d.Notices, err = h.S.Notices(ctx, r); err != nil {
		return err
	}
	if len(d.Notices) > 3 {
		d.Notices = d.Notices[:3]
	}
	if d.Applications, err = h.S.Applications(ctx, r); err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "portal_home", d, nil)
}

// homeView is a household with the link that calls its butler.
type homeView struct {
	Household
	Call template.URL
}

// callURL is a tap-to-call link for a work phone; none on a kiosk (a lobby
// screen cannot call, and shows the number masked).
func callURL(phone string, kiosk bool) template.URL {
	p := digits(phone)
	if kiosk || p == "" {
		return ""
	}
	return template.URL("tel:" + p)
}

type casesData struct {
	shell
	Cases []CaseView
}

func (h *Pages) casesPage(c *web.Ctx) error {
	cs, err := h.S.Cases(c.R.Context(), resident(c), 50)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "portal_cases", &casesData{shell: h.shell(c, "cases"), Cases: cs}, nil)
}

// caseData is one case: its progress, who handles it, what comes next,
// and the rating form once the work is done.
type caseData struct {
	shell
	C      *CaseView
	Call   template.URL
	Rated  int // the stars given, 0 when not rated
	Rate   RateInput
	Stars  []int
	Rating []string // the rating's aspects
}

func (h *Pages) casePage(c *web.Ctx) error {
	return h.renderCase(c, http.StatusOK, RateInput{}, nil)
}

func (h *Pages) renderCase(c *web.Ctx, status int, in RateInput, formErr error) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	v, _, err := h.S.Case(c.R.Context(), resident(c), id)
	if err != nil {
		return err
	}
	d := &caseData{shell: h.shell(c, "cases"), C: v, Call: callURL(v.ButlerPhone, resident(c).Kiosk), Rate: in, Stars: []int{1, 2, 3, 4, 5}, Rating: []string{"speed", "quality", "attitude"}}
	if v.Satisfaction != nil {
		d.Rated = *v.Satisfaction
	}
	return c.HTML(status, "portal_case", d, formErr)
}

func (h *Pages) rate(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in RateInput
	if err := c.Decode(&in); err != nil {
		return h.renderCase(c, http.StatusUnprocessableEntity, in, err)
	}
	var v errs.Validation
	for field, n := range map[string]int{"speed": in.Speed, "quality": in.Quality, "attitude": in.Attitude} {
		v.Check(n >= 1 && n <= 5, field, "error.portal.stars")
	}
	v.MaxLen("comment", in.Comment, 500)
	if err := v.Err(); err != nil {
		return h.renderCase(c, http.StatusUnprocessableEntity, in, err)
	}
	if err := h.S.Rate(c.R.Context(), resident(c), id, in); err != nil {
		if code := errs.CodeOf(err); code == errs.EInvalid || code == errs.EConflict {
			return h.renderCase(c, web.StatusOf(code), in, err)
		}
		return err
	}
	return c.Redirect(fmt.Sprintf("/portal/cases/%d?done=rated", id))
}

func (h *Pages) addPhotos(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	ctx, r := c.R.Context(), resident(c)
	if _, _, err := h.S.Case(ctx, r, id); err != nil {
		return err
	}
	photos, err := readPhotos(c)
	if err == nil && len(photos) == 0 {
		err = errs.Invalid("photos", "error.field.required")
	}
	if err != nil {
		return h.renderCase(c, http.StatusUnprocessableEntity, RateInput{}, err)
	}
	if err := h.S.AddPhotos(ctx, r, id, photos, h.Blobs); err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/portal/cases/%d?done=photos", id))
}

// photo is a checked upload.
type photo struct {
	content []byte
	ctype   string
}

// readPhotos reads the "photos" files of a multipart form, each checked as
// an image (at most maxPhotos of them).
func readPhotos(c *web.Ctx) ([]photo, error) {
	if err := c.R.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return nil, errs.Invalid("photos", "error.body.malformed")
	}
	if c.R.MultipartForm == nil {
		return nil, nil
	}
	var files []*multipart.FileHeader
	for _, fh := range c.R.MultipartForm.File["photos"] {
		if fh.Size > 0 || fh.Filename != "" {
			files = append(files, fh)
		}
	}
	if len(files) > maxPhotos {
		return nil, errs.Invalid("photos", "error.portal.too_many_photos")
	}
	out := make([]photo, 0, len(files))
	for _, fh := range files {
		f, err := fh.Open()
		if err != nil {
			return nil, errs.Invalid("photos", "error.body.malformed")
		}
		content, ct, err := blob.Images.Check("photos", f)
		f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, photo{content, ct})
	}
	return out, nil
}

// AddPhotos stores photos and attaches them to one of the resident's
// cases; ENotFound for anyone else's.
func (s *Service) AddPhotos(ctx context.Context, r *Resident, id int64, photos []photo, store blob.Store) error {
	if _, _, err := s.Case(ctx, r, id); err != nil {
		return err
	}
	for _, p := range photos {
		key, err := store.Put(ctx, p.content)
		if err != nil {
			return err
		}
		if _, err := s.cases.AddFile(system(ctx), id, "photo", key, p.ctype, int64(len(p.content))); err != nil {
			return err
		}
	}
	return nil
}

// reportData is the report form.
type reportData struct {
	shell
	Households []Household
	In         ReportInput
	Slot       string
	At         string
	Types      []string
	Slots      []string
}

var reportTypes = []string{cases.TypeRepair, cases.TypeComplaint, cases.TypeInquiry, cases.TypeSuggestion}

// preferredSlots are the visit times a resident may pick; "at" is a time
// of their choosing.
var preferredSlots = []string{"asap", "weekday_day", "weekday_evening", "weekend"}

func (h *Pages) reportPage(c *web.Ctx) error {
	in := ReportInput{Type: cases.TypeRepair}
	if t := c.Query("type"); containsStr(reportTypes, t) {
		in.Type = t
	}
	return h.renderReport(c, http.StatusOK, in, "asap", "", nil)
}

func (h *Pages) renderReport(c *web.Ctx, status int, in ReportInput, slot, at string, formErr error) error {
	ctx, r := c.R.Context(), resident(c)
	me, err := h.S.MeOf(ctx, r)
	if err != nil {
		return err
	}
	d := &reportData{shell: h.shell(c, "report"), Households: me.Households, In: in, Slot: slot, At: at, Types: reportTypes, Slots: preferredSlots}
	return c.HTML(status, "portal_report", d, formErr)
}

func (h *Pages) report(c *web.Ctx) error {
	ctx, r := c.R.Context(), resident(c)
	photos, perr := readPhotos(c)
	f := c.R.FormValue
	in := ReportInput{Type: f("type"), Description: strings.TrimSpace(f("description"))}
	if hh, err := strconv.ParseInt(f("household_id"), 10, 64); err == nil {
		in.HouseholdID = hh
	}
	slot, at := f("slot"), strings.TrimSpace(f("at"))
	if perr != nil {
		return h.renderReport(c, http.StatusUnprocessableEntity, in, slot, at, perr)
	}
	in.PreferredTime = h.preferredTime(c, slot, at)
	if !containsStr(reportTypes, in.Type) {
		return h.renderReport(c, http.StatusUnprocessableEntity, in, slot, at, errs.Invalid("type", "error.field.invalid_choice"))
	}
	created, err := h.S.Report(ctx, r, in)
	if err != nil {
		if errs.CodeOf(err) == errs.EInvalid {
			return h.renderReport(c, http.StatusUnprocessableEntity, in, slot, at, err)
		}
		return err
	}
	if err := h.S.AddPhotos(ctx, r, created.Case.ID, photos, h.Blobs); err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/portal/cases/%d?done=reported", created.Case.ID))
}

// preferredTime is the visit time as the butler reads it: the chosen time
// when one was given, else the slot's words.
func (h *Pages) preferredTime(c *web.Ctx, slot, at string) string {
	if at != "" {
		return strings.Replace(at, "T", " ", 1)
	}
	if containsStr(preferredSlots, slot) {
		return c.L.T("portal.report.slot." + slot)
	}
	return ""
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type noticesData struct {
	shell
	Notices []Notice
}

func (h *Pages) noticesPage(c *web.Ctx) error {
	ns, err := h.S.Notices(c.R.Context(), resident(c))
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "portal_notices", &noticesData{shell: h.shell(c, "notices"), Notices: ns}, nil)
}

type applicationsData struct {
	shell
	Applications []Application
}

func (h *Pages) applicationsPage(c *web.Ctx) error {
	as, err := h.S.Applications(c.R.Context(), resident(c))
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "portal_applications", &applicationsData{shell: h.shell(c, "applications"), Applications: as}, nil)
}

// applicationData is one application with its diagram.
type applicationData struct {
	shell
	A              *Application
	Diagram        string // the BPMN file's URL
	Done, Active   string // JSON arrays of element ids
	OverdueMarkers string
}

func (h *Pages) applicationPage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	a, err := h.S.Application(c.R.Context(), resident(c), id)
	if err != nil {
		return err
	}
	d := &applicationData{shell: h.shell(c, "applications"), A: a, Done: jsonList(a.Done), Active: jsonList(a.Active), OverdueMarkers: "[]"}
	if a.HasDiagram {
		d.Diagram = fmt.Sprintf("/api/portal/v1/applications/%d/diagram", a.ID)
	}
	return c.HTML(http.StatusOK, "portal_application", d, nil)
}

// jsonList is a JSON array of strings for a data attribute.
func jsonList(items []string) string {
	b, _ := json.Marshal(append([]string{}, items...))
	return string(b)
}
