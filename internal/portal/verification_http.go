package portal

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/blob"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

// maxProofRequest caps a verification request: the photo (10 MiB at most)
// and a few short fields.
var maxProofRequest = blob.Images.MaxBytes + 1<<20

func (h *HTTP) verificationRoutes() []web.Route {
	return []web.Route{
		{Method: "POST", Path: "/api/portal/v1/verifications/code", Access: web.Public, NoCSRF: true, Handler: h.verifyCode,
			Doc: &web.Doc{Summary: "Send a verification code to a phone that is not registered yet (any phone; the same limits as sign-in codes)", Tag: "portal",
				Body: VerifyCodeRequest{}, Resp: CodeSent{}, Status: http.StatusAccepted}},
		{Method: "POST", Path: "/api/portal/v1/verifications", Access: web.Public, NoCSRF: true, Handler: h.submitVerification,
			Doc: &web.Doc{Summary: "Ask to be recognised as owner, co-resident or tenant of a unit: multipart fields phone, code, site_id, unit, role, name and the proof photo \"file\"; the unit's butler decides",
				Tag: "portal", RawBody: []string{"multipart/form-data"}, Resp: VerificationSent{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/v1/portal/verifications", Perm: auth.PermHouseholdManage, Handler: h.verifications,
			Doc: &web.Doc{Summary: "Verification requests at units in my scope, newest first", Tag: "portal",
				Query: []web.Param{{Name: "state", Desc: "pending (default), approved, rejected"}, {Name: "before_id", Type: "integer"}, {Name: "limit", Type: "integer"}},
				Resp:  VerificationPage{}}},
		{Method: "POST", Path: "/api/v1/portal/verifications/{id}/approve", Perm: auth.PermHouseholdManage, Handler: h.approve,
			Doc: &web.Doc{Summary: "Approve a request: the phone's portal includes the unit's household from now on", Tag: "portal", Status: http.StatusNoContent}},
		{Method: "POST", Path: "/api/v1/portal/verifications/{id}/reject", Perm: auth.PermHouseholdManage, Handler: h.reject,
			Doc: &web.Doc{Summary: "Reject a request with a reason (texted to the person)", Tag: "portal", Body: RejectInput{}, Status: http.StatusNoContent}},
	}
}

func (h *HTTP) verifyCode(c *web.Ctx) error {
	var in VerifyCodeRequest
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := h.S.RequestVerifyCode(c.R.Context(), in, c.IP)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, out)
}

func (h *HTTP) submitVerification(c *web.Ctx) error {
	in, proof, err := readVerification(c)
	if err != nil {
		return err
	}
	out, err := h.S.SubmitVerification(c.R.Context(), in, proof, h.Blobs)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

// readVerification reads the multipart request (the API's and the page's):
// the fields and the checked proof photo (nil when none was sent).
func readVerification(c *web.Ctx) (VerificationInput, []byte, error) {
	var in VerificationInput
	c.R.Body = http.MaxBytesReader(c.W, c.R.Body, maxProofRequest)
	if err := c.R.ParseMultipartForm(1 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return in, nil, errs.Invalid("file", "error.upload.too_large")
		}
		return in, nil, errs.Invalid("body", "error.body.malformed")
	}
	f := c.R.FormValue
	in = VerificationInput{Phone: f("phone"), Code: f("code"), Unit: f("unit"), Role: f("role"), Name: f("name")}
	if s := strings.TrimSpace(f("site_id")); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return in, nil, errs.Invalid("site_id", "error.field.wrong_type")
		}
		in.SiteID = id
	}
	file, _, err := c.R.FormFile("file")
	if errors.Is(err, http.ErrMissingFile) {
		return in, nil, nil
	}
	if err != nil {
		return in, nil, errs.Invalid("file", "error.body.malformed")
	}
	defer file.Close()
	proof, _, err := blob.Images.Check("file", file)
	return in, proof, err
}

func (h *HTTP) verifications(c *web.Ctx) error {
	p, err := h.S.Verifications(c.R.Context(), VerificationFilter{State: c.Query("state"), BeforeID: c.QueryInt64("before_id"), Limit: c.QueryInt("limit", 50)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *HTTP) approve(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	if err := h.S.ApproveVerification(c.R.Context(), id); err != nil {
		return err
	}
	return c.NoContent()
}

func (h *HTTP) reject(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in RejectInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	if err := h.S.RejectVerification(c.R.Context(), id, in); err != nil {
		return err
	}
	return c.NoContent()
}
