package portal

import (
	"io"
	"net/http"
	"strconv"

	"github.com/guanjia/guanjia/internal/blob"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

// HTTP serves the portal API.
type HTTP struct {
	S     *Service
	Srv   *web.Server
	Blobs blob.Store
}

// CaseList lists a resident's cases.
type CaseList struct {
	Items []CaseView `json:"items"`
}

// NoticeList lists notices.
type NoticeList struct {
	Items []Notice `json:"items"`
}

func resident(c *web.Ctx) *Resident { r, _ := c.Resident.(*Resident); return r }

// Routes lists the portal endpoints. Public: asking for and checking a
// code. Everything else needs a portal session (web.Resident).
func (h *HTTP) Routes() []web.Route {
	routes := []web.Route{
		{Method: "POST", Path: "/api/portal/v1/auth/code", Access: web.Public, NoCSRF: true, Handler: h.code,
			Doc: &web.Doc{Summary: "Send a 6-digit sign-in code to a phone, or to the phone bound to an account or application number (202 also for unknown phones)", Tag: "portal",
				Body: CodeRequest{}, Resp: CodeSent{}, Status: http.StatusAccepted}},
		{Method: "POST", Path: "/api/portal/v1/auth/verify", Access: web.Public, NoCSRF: true, Handler: h.verify,
			Doc: &web.Doc{Summary: "Sign in with the code; the token works as Authorization: Bearer on portal routes only", Tag: "portal", Body: VerifyRequest{}, Resp: Session{}}},
		{Method: "POST", Path: "/api/portal/v1/auth/logout", Access: web.Resident, Handler: h.logout,
			Doc: &web.Doc{Summary: "End the portal session", Tag: "portal", Status: http.StatusNoContent}},
		{Method: "GET", Path: "/api/portal/v1/me", Access: web.Resident, Handler: h.me,
			Doc: &web.Doc{Summary: "The resident: households, butler, accounts", Tag: "portal", Resp: Me{}}},
		{Method: "GET", Path: "/api/portal/v1/cases", Access: web.Resident, Handler: h.cases,
			Doc: &web.Doc{Summary: "My household's cases with their progress", Tag: "portal", Resp: CaseList{}}},
		{Method: "POST", Path: "/api/portal/v1/cases", Access: web.Resident, Handler: h.report,
			Doc: &web.Doc{Summary: "Report a repair, complaint, inquiry or suggestion", Tag: "portal", Body: ReportInput{}, Resp: cases.Created{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/portal/v1/cases/{id}", Access: web.Resident, Handler: h.caseDetail,
			Doc: &web.Doc{Summary: "One of my cases: progress, expected completion, who handles it, what to prepare", Tag: "portal", Resp: CaseView{}}},
		{Method: "POST", Path: "/api/portal/v1/cases/{id}/photos", Access: web.Resident, Handler: h.photo,
			Doc: &web.Doc{Summary: "Add a photo to my case: multipart field \"file\", or the image as the body", Tag: "portal", RawBody: []string{"multipart/form-data", "image/jpeg", "image/png"}, Resp: cases.File{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/portal/v1/cases/{id}/photos/{file}", Access: web.Resident, Handler: h.photoGet,
			Doc: &web.Doc{Summary: "A photo of my case", Tag: "portal"}},
		{Method: "POST", Path: "/api/portal/v1/cases/{id}/rate", Access: web.Resident, Handler: h.rate,
			Doc: &web.Doc{Summary: "Rate completed work (fills the return visit)", Tag: "portal", Body: RateInput{}, Status: http.StatusNoContent}},
		{Method: "GET", Path: "/api/portal/v1/notices", Access: web.Resident, Handler: h.notices,
			Doc: &web.Doc{Summary: "Announcements and rules of my site", Tag: "portal", Resp: NoticeList{}}},
	}
	return append(append(routes, h.applicationRoutes()...), h.verificationRoutes()...)
}

func (h *HTTP) code(c *web.Ctx) error {
	var in CodeRequest
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := h.S.RequestCode(c.R.Context(), in, c.IP)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, out)
}

func (h *HTTP) verify(c *web.Ctx) error {
	var in VerifyRequest
	if err := c.Decode(&in); err != nil {
		return err
	}
	sess, err := h.S.Verify(c.R.Context(), in)
	if err != nil {
		return err
	}
	if h.Srv != nil {
		h.Srv.SetPortalSession(c.W, sess.Token, sess.ExpiresAt)
	}
	return c.JSON(http.StatusOK, sess)
}

func (h *HTTP) logout(c *web.Ctx) error {
	if err := h.S.Logout(c.R.Context(), resident(c)); err != nil {
		return err
	}
	if h.Srv != nil {
		h.Srv.ClearPortalSession(c.W)
	}
	return c.NoContent()
}

func (h *HTTP) me(c *web.Ctx) error {
	me, err := h.S.MeOf(c.R.Context(), resident(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, me)
}

func (h *HTTP) cases(c *web.Ctx) error {
	cs, err := h.S.Cases(c.R.Context(), resident(c), 50)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, CaseList{Items: cs})
}

func (h *HTTP) report(c *web.Ctx) error {
	var in ReportInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := h.S.Report(c.R.Context(), resident(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (h *HTTP) caseDetail(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	v, _, err := h.S.Case(c.R.Context(), resident(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h *HTTP) photo(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	if _, _, err := h.S.Case(c.R.Context(), resident(c), id); err != nil {
		return err
	}
	content, ct, _, err := blob.ReadUpload(c.R, "file", blob.Images)
	if err != nil {
		return err
	}
	key, err := h.Blobs.Put(c.R.Context(), content)
	if err != nil {
		return err
	}
	file, err := h.S.cases.AddFile(system(c.R.Context()), id, "photo", key, ct, int64(len(content)))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, file)
}

func (h *HTTP) photoGet(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	fileID, err := c.PathID("file")
	if err != nil {
		return err
	}
	_, d, err := h.S.Case(c.R.Context(), resident(c), id)
	if err != nil {
		return err
	}
	for _, f := range d.Files {
		if f.ID == fileID && f.Kind != "signature" && f.Kind != "document" {
			r, err := h.Blobs.Open(c.R.Context(), f.BlobKey)
			if err != nil {
				return err
			}
			defer r.Close()
			c.W.Header().Set("Content-Type", f.ContentType)
			c.W.Header().Set("Content-Length", strconv.FormatInt(f.Size, 10))
			_, err = io.Copy(c.W, r)
			return err
		}
	}
	return errs.NotFound("error.not_found")
}

func (h *HTTP) rate(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in RateInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	if err := h.S.Rate(c.R.Context(), resident(c), id, in); err != nil {
		return err
	}
	return c.NoContent()
}

func (h *HTTP) notices(c *web.Ctx) error {
	ns, err := h.S.Notices(c.R.Context(), resident(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NoticeList{Items: ns})
}
