package cases

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/blob"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

// HTTP serves the service desk API.
type HTTP struct{ S *Service }

// NoteInput acknowledges.
type NoteInput struct {
	Note string `json:"note"`
}

// DispatchInput dispatches to a person or a department.
type DispatchInput struct {
	AssigneeID   int64  `json:"assignee_id,omitempty"`
	DepartmentID int64  `json:"department_id,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// ReasonInput carries a reason.
type ReasonInput struct {
	Reason string `json:"reason"`
}

// CompleteInput reports the work done.
type CompleteInput struct {
	Note          string   `json:"note"`
	Photos        []string `json:"photos"`
	Materials     string   `json:"materials"`
	LabourMinutes int      `json:"labour_minutes"`
	Signature     string   `json:"signature,omitempty"`
}

// VisitInput is a return visit.
type VisitInput struct {
	Method   string `json:"method"`
	Speed    int    `json:"speed"`
	Quality  int    `json:"quality"`
	Attitude int    `json:"attitude"`
	Comment  string `json:"comment"`
}

// CategoryList lists categories.
type CategoryList struct {
	Items []Category `json:"items"`
}

// Routes lists the endpoints.
func (h *HTTP) Routes() []web.Route {
	q := []web.Param{{Name: "type"}, {Name: "state", Desc: "a state, or open"}, {Name: "category_id", Type: "integer"}, {Name: "site_id", Type: "integer"},
		{Name: "butler_id", Type: "integer"}, {Name: "assignee_id", Type: "integer"}, {Name: "household_id", Type: "integer"}, {Name: "overdue", Type: "boolean"},
		{Name: "from", Desc: "RFC 3339"}, {Name: "to", Desc: "RFC 3339"}, {Name: "q", Desc: "case number"}, {Name: "before_id", Type: "integer"}}
	rs := []web.Route{
		{Method: "POST", Path: "/api/v1/cases", Perm: auth.PermCaseCreate, Handler: h.create,
			Doc: &web.Doc{Summary: "Open a case (报修, 投诉, 咨询, 建议, 表扬); answers with its number and open cases of the same unit and category", Tag: "cases", Body: CreateInput{}, Resp: Created{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/v1/cases", Perm: auth.PermCaseView, Handler: h.list,
			Doc: &web.Doc{Summary: "Cases in the caller's view, newest first", Tag: "cases", Query: q, Resp: Page{}}},
		{Method: "POST", Path: "/api/v1/cases/dispatch", Perm: auth.PermCaseDispatch, Handler: h.dispatchMany,
			Doc: &web.Doc{Summary: "Dispatch several cases to one person or department queue, all or nothing (at most 100)", Tag: "cases", Body: DispatchManyInput{}, Resp: Dispatched{}}},
		{Method: "GET", Path: "/api/v1/cases/{id}", Perm: auth.PermCaseView, Handler: h.get,
			Doc: &web.Doc{Summary: "A case with its timeline, SLA cycles, files and visits", Tag: "cases", Resp: Detail{}}},
		{Method: "POST", Path: "/api/v1/cases/{id}/files", Perm: auth.PermCaseView, Handler: h.upload,
			Doc: &web.Doc{Summary: "Attach a photo or document: multipart field \"file\" (and \"kind\"), or the file as the body (?kind=); JPEG, PNG, WebP, GIF or PDF", Tag: "cases", RawBody: []string{"multipart/form-data", "image/jpeg", "image/png", "application/pdf"}, Resp: File{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/v1/cases/{id}/files/{file}", Perm: auth.PermCaseView, Handler: h.download,
			Doc: &web.Doc{Summary: "A file of a case", Tag: "cases"}},
		{Method: "GET", Path: "/api/v1/case-categories", Perm: auth.PermCaseView, Handler: h.categories,
			Doc: &web.Doc{Summary: "A site's categories", Tag: "cases", Query: []web.Param{{Name: "site_id", Type: "integer"}}, Resp: CategoryList{}}},
		{Method: "POST", Path: "/api/v1/case-categories", Perm: auth.PermCaseManage, Handler: h.createCategory,
			Doc: &web.Doc{Summary: "Add a category to a site", Tag: "cases", Body: CategoryInput{}, Resp: Category{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/v1/inbox", Perm: auth.PermCaseView, Handler: h.inbox,
			Doc: &web.Doc{Summary: "The caller's service-desk inbox by group", Tag: "cases", Resp: Inbox{}}},
	}
	actions := []struct {
		act  string
		body any
		doc  string
	}{
		{ActAcknowledge, NoteInput{}, "Acknowledge (受理) the case"},
		{ActDispatch, DispatchInput{}, "Dispatch (派工) to a person or a department's pool; on a dispatched case, transfer with a reason"},
		{ActClaim, nil, "Accept a dispatched job (抢单 from a department's pool)"},
		{ActReturn, ReasonInput{}, "Return the job (退单) with a reason"},
		{ActArrive, nil, "Record arrival on site"},
		{ActPause, ReasonInput{}, "Pause (waiting for the owner, for parts); SLA clocks stop"},
		{ActResume, nil, "Resume a paused case"},
		{ActComplete, CompleteInput{}, "Report the work done with photos, materials, labour and the resident's signature"},
		{ActVisit, VisitInput{}, "Record the return visit (回访); an unhappy one sends the work back"},
		{ActReopen, ReasonInput{}, "Reopen a completed case"},
		{ActClose, ReasonInput{}, "Close the case"},
		{ActRemind, ReasonInput{}, "Remind (催办) whoever holds the job"},
	}
	for _, a := range actions {
		perm := actionPerm[a.act]
		if a.act == ActClaim || a.act == ActArrive || a.act == ActComplete || a.act == ActPause || a.act == ActResume || a.act == ActReturn {
			perm = auth.PermCaseView // the holder of the job or a supervisor; Do checks which
		}
		rs = append(rs, web.Route{Method: "POST", Path: "/api/v1/cases/{id}/" + a.act, Perm: perm, Handler: h.action(a.act, a.body),
			Doc: &web.Doc{Summary: a.doc + " (409 lists the actions the case's state allows)", Tag: "cases", Body: a.body, Resp: Case{}}})
	}
	return rs
}

func (h *HTTP) create(c *web.Ctx) error {
	var in CreateInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := h.S.Create(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (h *HTTP) dispatchMany(c *web.Ctx) error {
	var in DispatchManyInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := h.S.DispatchMany(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func timeParam(c *web.Ctx, name string, v *errs.Validation) time.Time {
	s := c.Query(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	v.Check(err == nil, name, "error.field.wrong_type")
	return t
}

// FilterOf reads a case filter from the query string.
func FilterOf(c *web.Ctx) (Filter, error) {
	var v errs.Validation
	f := Filter{Type: c.Query("type"), State: c.Query("state"), CategoryID: c.QueryInt64("category_id"), SiteID: c.QueryInt64("site_id"),
		ButlerID: c.QueryInt64("butler_id"), AssigneeID: c.QueryInt64("assignee_id"), HouseholdID: c.QueryInt64("household_id"),
		Overdue: c.Query("overdue") == "true" || c.Query("overdue") == "1", Q: c.Query("q"), BeforeID: c.QueryInt64("before_id"), Limit: c.QueryInt("limit", 50)}
	if f.Type != "" {
		v.OneOf("type", f.Type, Types...)
	}
	if f.State != "" && f.State != "open" {
		v.OneOf("state", f.State, States...)
	}
	f.From, f.To = timeParam(c, "from", &v), timeParam(c, "to", &v)
	return f, v.Err()
}

func (h *HTTP) list(c *web.Ctx) error {
	f, err := FilterOf(c)
	if err != nil {
		return err
	}
	p, err := h.S.List(c.R.Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *HTTP) get(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	d, err := h.S.Get(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (h *HTTP) action(act string, body any) web.HandlerFunc {
	return func(c *web.Ctx) error {
		id, err := c.PathID("id")
		if err != nil {
			return err
		}
		var in ActionInput
		switch body.(type) {
		case NoteInput:
			var b NoteInput
			if err := c.Decode(&b); err != nil {
				return err
			}
			in.Note = b.Note
		case DispatchInput:
			var b DispatchInput
			if err := c.Decode(&b); err != nil {
				return err
			}
			in.AssigneeID, in.DepartmentID, in.Reason = b.AssigneeID, b.DepartmentID, b.Reason
		case ReasonInput:
			var b ReasonInput
			if err := c.Decode(&b); err != nil {
				return err
			}
			in.Reason = b.Reason
		case CompleteInput:
			var b CompleteInput
			if err := c.Decode(&b); err != nil {
				return err
			}
			in.Note, in.Photos, in.Materials, in.LabourMinutes, in.Signature = b.Note, b.Photos, b.Materials, b.LabourMinutes, b.Signature
		case VisitInput:
			var b VisitInput
			if err := c.Decode(&b); err != nil {
				return err
			}
			in.Method, in.Speed, in.Quality, in.Attitude, in.Comment = b.Method, b.Speed, b.Quality, b.Attitude, b.Comment
		}
		out, err := h.S.Do(c.R.Context(), id, act, in)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, out)
	}
}

func (h *HTTP) upload(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	content, ct, value, err := blob.ReadUpload(c.R, "file", blob.Documents)
	if err != nil {
		return err
	}
	kind := value("kind")
	if kind == "" {
		kind = "photo"
	}
	if kind != "photo" && kind != "document" && kind != "signature" {
		return errs.Invalid("kind", "error.field.invalid_choice")
	}
	key, err := h.S.blobs.Put(c.R.Context(), content)
	if err != nil {
		return err
	}
	file, err := h.S.AddFile(c.R.Context(), id, kind, key, ct, int64(len(content)))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, file)
}

func (h *HTTP) download(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	fileID, err := c.PathID("file")
	if err != nil {
		return err
	}
	if _, err := h.S.Get(c.R.Context(), id); err != nil {
		return err
	}
	files, err := h.S.Files(c.R.Context(), id)
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.ID != fileID {
			continue
		}
		r, err := h.S.blobs.Open(c.R.Context(), f.BlobKey)
		if err != nil {
			return err
		}
		defer r.Close()
		c.W.Header().Set("Content-Type", f.ContentType)
		c.W.Header().Set("Cache-Control", "private, max-age=86400")
		c.W.Header().Set("Content-Length", strconv.FormatInt(f.Size, 10))
		_, err = io.Copy(c.W, r)
		return err
	}
	return errs.NotFound("error.not_found")
}

func (h *HTTP) categories(c *web.Ctx) error {
	site := c.QueryInt64("site_id")
	if site == 0 {
		return errs.Invalid("site_id", "error.field.required")
	}
	cs, err := h.S.Categories(c.R.Context(), site)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, CategoryList{Items: cs})
}

func (h *HTTP) createCategory(c *web.Ctx) error {
	var in CategoryInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	cat, err := h.S.CreateCategory(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, cat)
}

func (h *HTTP) inbox(c *web.Ctx) error {
	in, err := h.S.InboxFor(c.R.Context(), c.P.StaffID, c.QueryInt("per_group", 20))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, in)
}
