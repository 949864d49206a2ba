package cases

import (
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/blob"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

// intakeForm is the phone-entry form as sent.
type intakeForm struct {
	Type          string `json:"type"`
	CategoryID    int64  `json:"category_id"`
	SiteID        int64  `json:"site_id"`
	UnitID        int64  `json:"unit_id"`
	Area          string `json:"area"`
	Priority      string `json:"priority"`
	Description   string `json:"description"`
	ContactName   string `json:"contact_name"`
	ContactPhone  string `json:"contact_phone"`
	PreferredTime string `json:"preferred_time"`
}

// siteCategories are a site's categories, for a select's option group.
type siteCategories struct {
	Site  Choice
	Items []Category
}

type intakeData struct {
	Sites      []Choice
	Categories []siteCategories
	Q          string
	Searched   bool
	Results    []Residence
	Residence  *residenceView
	Form       intakeForm
	Types      []string
	Priorities []string
	Flash      string
}

// residenceView is the picked unit with its household's open cases.
type residenceView struct {
	Residence
	Open []Case
	More bool
}

func (h *Pages) intakeData(ctx context.Context, form intakeForm) (*intakeData, error) {
	d := &intakeData{Form: form, Types: Types, Priorities: Priorities}
	if d.Form.Type == "" {
		d.Form.Type = TypeRepair
	}
	if d.Form.Priority == "" {
		d.Form.Priority = "normal"
	}
	if d.Form.Area == "" {
		d.Form.Area = "home"
	}
	var err error
	if d.Sites, err = h.S.Sites(ctx, auth.PermCaseCreate); err != nil {
		return nil, err
	}
	for _, s := range d.Sites {
		cats, err := h.S.Categories(ctx, s.ID)
		if err != nil {
			return nil, err
		}
		d.Categories = append(d.Categories, siteCategories{Site: s, Items: cats})
	}
	if d.Form.SiteID == 0 && len(d.Sites) == 1 {
		d.Form.SiteID = d.Sites[0].ID
	}
	if form.UnitID != 0 {
		if d.Residence, err = h.residence(ctx, form.UnitID); err != nil {
			if errs.CodeOf(err) != errs.ENotFound {
				return nil, err
			}
			d.Form.UnitID = 0
		} else {
			d.Form.SiteID = d.Residence.SiteID
		}
	}
	return d, nil
}

// residence loads a unit and its household's open cases.
func (h *Pages) residence(ctx context.Context, unitID int64) (*residenceView, error) {
	r, err := h.residences().Residence(ctx, unitID)
	if err != nil {
		return nil, err
	}
	v := &residenceView{Residence: *r, Open: []Case{}}
	if r.HouseholdID != nil {
		p, err := h.S.List(ctx, Filter{HouseholdID: *r.HouseholdID, State: "open", Limit: 5})
		if err != nil {
			return nil, err
		}
		v.Open, v.More = p.Items, p.More
	}
	return v, nil
}

func (h *Pages) intakePage(c *web.Ctx) error {
	ctx := c.R.Context()
	d, err := h.intakeData(ctx, intakeForm{UnitID: c.QueryInt64("unit_id"), Type: c.Query("type")})
	if err != nil {
		return err
	}
	if q := c.Query("q"); q != "" && d.Residence == nil {
		d.Q, d.Searched = q, true
		if d.Results, err = h.residences().Search(ctx, q, 20); err != nil {
			return err
		}
	}
	return c.HTML(http.StatusOK, "cases_new", d, nil)
}

// residencesFragment answers the live search box (htmx); without htmx the
// intake page itself shows the results.
func (h *Pages) residencesFragment(c *web.Ctx) error {
	q := c.Query("q")
	if !c.IsHTMX() {
		return c.Redirect("/cases/new?q=" + url.QueryEscape(q))
	}
	d := &intakeData{Q: q, Searched: q != ""}
	if q != "" {
		var err error
		if d.Results, err = h.residences().Search(c.R.Context(), q, 20); err != nil {
			return err
		}
	}
	return c.HTML(http.StatusOK, "cases_residences", d, nil)
}

// residenceFragment answers a pick from the search results (htmx): the
// unit, its butler and its open cases, as hidden fields of the form.
func (h *Pages) residenceFragment(c *web.Ctx) error {
	id := c.QueryInt64("unit_id")
	if !c.IsHTMX() {
		return c.Redirect("/cases/new?unit_id=" + strconv.FormatInt(id, 10))
	}
	r, err := h.residence(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "cases_residence", &intakeData{Residence: r}, nil)
}

func (h *Pages) createForm(c *web.Ctx) error {
	ctx := c.R.Context()
	var f intakeForm
	if err := c.Decode(&f); err != nil {
		return h.intakeRefused(c, f, err)
	}
	in := CreateInput{Type: f.Type, SiteID: f.SiteID, Area: f.Area, Priority: f.Priority, Description: f.Description,
		ContactName: f.ContactName, ContactPhone: f.ContactPhone, PreferredTime: f.PreferredTime, Source: "phone"}
	if f.CategoryID != 0 {
		in.CategoryID = &f.CategoryID
	}
	if f.UnitID != 0 {
		in.UnitID = &f.UnitID
		if r, err := h.residences().Residence(ctx, f.UnitID); err == nil {
			in.SiteID = r.SiteID
		}
	}
	created, err := h.S.Create(ctx, in)
	if userError(err) {
		return h.intakeRefused(c, f, err)
	}
	if err != nil {
		return err
	}
	id := created.Case.ID
	next := "/cases/" + strconv.FormatInt(id, 10) + "?ok=created"
	if _, err := h.storeUploads(ctx, c, id, "photos", "photo"); err != nil {
		if !userError(err) {
			return err
		}
		next = withQuery(next, "photo_error", "1")
	}
	if len(created.Duplicates) > 0 {
		next = withQuery(next, "dup", strings.Join(created.Duplicates, ","))
	}
	return c.Redirect(next)
}

func (h *Pages) intakeRefused(c *web.Ctx, f intakeForm, err error) error {
	d, derr := h.intakeData(c.R.Context(), f)
	if derr != nil {
		return derr
	}
	return c.HTML(web.StatusOf(errs.CodeOf(err)), "cases_new", d, err)
}

// storeUploads keeps the files of a multipart field as the case's files of
// kind and returns their blob keys. It stops at the first file the policy
// refuses (EInvalid).
func (h *Pages) storeUploads(ctx context.Context, c *web.Ctx, caseID int64, field, kind string) ([]string, error) {
	if c.R.MultipartForm == nil {
		return nil, nil
	}
	var keys []string
	for _, fh := range c.R.MultipartForm.File[field] {
		if fh.Size == 0 && fh.Filename == "" {
			continue // an empty file input
		}
		key, err := h.storeUpload(ctx, caseID, fh, field, kind)
		if err != nil {
			return keys, err
		}
		keys = append(keys, key)
	}
	return keys, nil
}

func (h *Pages) storeUpload(ctx context.Context, caseID int64, fh *multipart.FileHeader, field, kind string) (string, error) {
	f, err := fh.Open()
	if err != nil {
		return "", errs.Invalid(field, "error.body.malformed")
	}
	defer f.Close()
	content, ct, err := blob.Documents.Check(field, f)
	if err != nil {
		return "", err
	}
	key, err := h.S.blobs.Put(ctx, content)
	if err != nil {
		return "", err
	}
	if _, err := h.S.AddFile(ctx, caseID, kind, key, ct, int64(len(content))); err != nil {
		return "", err
	}
	return key, nil
}
