package portal

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/pii"
	"github.com/guanjia/guanjia/internal/web"
)

// Site is a residential site a person may say they live at.
type Site struct {
	ID   int64
	Name string
}

// Sites lists the residential and commercial sites, for the verification
// form (their names are on every gate; nothing personal).
func (s *Service) Sites(ctx context.Context) ([]Site, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id, name FROM org_nodes WHERE kind = 'site' AND site_kind IN ('residential', 'commercial') ORDER BY sort, id LIMIT 500`)
	if err != nil {
		return nil, fmt.Errorf("portal: sites: %w", err)
	}
	defer rows.Close()
	var out []Site
	for rows.Next() {
		var x Site
		if err := rows.Scan(&x.ID, &x.Name); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// joinData is the verification request: the phone first, then the code
// with the unit, the role, the name and the proof.
type joinData struct {
	shell
	Step   string // "", code, sent
	In     VerificationInput
	Masked string
	Sites  []Site
	Roles  []string
}

func (h *Pages) joinPage(c *web.Ctx) error {
	return c.HTML(http.StatusOK, "portal_join", &joinData{shell: h.shell(c, ""), Roles: VerifyRoles}, nil)
}

func (h *Pages) joinCode(c *web.Ctx) error {
	if !sameOrigin(c.R) {
		return errs.New(errs.EForbidden, "error.csrf")
	}
	d := &joinData{shell: h.shell(c, ""), Roles: VerifyRoles, In: VerificationInput{Phone: strings.TrimSpace(c.R.FormValue("phone")), Role: "owner"}}
	sent, err := h.S.RequestVerifyCode(c.R.Context(), VerifyCodeRequest{Phone: d.In.Phone}, c.IP)
	if err != nil {
		if errs.CodeOf(err) == errs.EInternal {
			return err
		}
		return c.HTML(web.StatusOf(errs.CodeOf(err)), "portal_join", d, err)
	}
	d.Step, d.Masked = "code", sent.MaskedPhone
	if d.Sites, err = h.S.Sites(c.R.Context()); err != nil {
		return err
	}
	if len(d.Sites) == 1 {
		d.In.SiteID = d.Sites[0].ID
	}
	return c.HTML(http.StatusOK, "portal_join", d, nil)
}

func (h *Pages) join(c *web.Ctx) error {
	if !sameOrigin(c.R) {
		return errs.New(errs.EForbidden, "error.csrf")
	}
	in, proof, err := readVerification(c)
	d := &joinData{shell: h.shell(c, ""), Step: "code", Roles: VerifyRoles, In: in, Masked: pii.MaskPhone(digits(in.Phone))}
	if err == nil {
		_, err = h.S.SubmitVerification(c.R.Context(), in, proof, h.Blobs)
	}
	if err != nil {
		if errs.CodeOf(err) == errs.EInternal {
			return err
		}
		sites, serr := h.S.Sites(c.R.Context())
		if serr != nil {
			return serr
		}
		d.Sites = sites
		return c.HTML(web.StatusOf(errs.CodeOf(err)), "portal_join", d, err)
	}
	d.Step = "sent"
	return c.HTML(http.StatusCreated, "portal_join", d, nil)
}

// reviewData is the butler's list of requests.
type reviewData struct {
	State    string
	States   []string
	Page     *VerificationPage
	Flash    string
	NextURL  string
	FirstURL string
}

func (h *Pages) reviewPage(c *web.Ctx) error {
	return h.renderReview(c, http.StatusOK, nil)
}

func (h *Pages) renderReview(c *web.Ctx, status int, formErr error) error {
	state := c.Query("state")
	if state == "" {
		state = VerifyPending
	}
	p, err := h.S.Verifications(c.R.Context(), VerificationFilter{State: state, BeforeID: c.QueryInt64("before_id"), Limit: 50})
	if err != nil {
		return err
	}
	d := &reviewData{State: state, States: []string{VerifyPending, VerifyApproved, VerifyRejected}, Page: p}
	if k := c.Query("done"); k == VerifyApproved || k == VerifyRejected {
		d.Flash = c.L.T("portal.review.done." + k)
	}
	if p.More {
		d.NextURL = fmt.Sprintf("/verifications?state=%s&before_id=%d", state, p.NextID)
	}
	if c.QueryInt64("before_id") > 0 {
		d.FirstURL = "/verifications?state=" + state
	}
	return c.HTML(status, "portal_review", d, formErr)
}

func (h *Pages) proof(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	key, err := h.S.Proof(c.R.Context(), id)
	if err != nil {
		return err
	}
	r, err := h.Blobs.Open(c.R.Context(), key)
	if err != nil {
		return err
	}
	defer r.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(r, head)
	c.W.Header().Set("Content-Type", http.DetectContentType(head[:n]))
	c.W.Header().Set("Cache-Control", "private, no-store")
	if _, err := c.W.Write(head[:n]); err != nil {
		return err
	}
	_, err = io.Copy(c.W, r)
	return err
}

func (h *Pages) approvePage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	if err := h.S.ApproveVerification(c.R.Context(), id); err != nil {
		if code := errs.CodeOf(err); code == errs.EConflict {
			return h.renderReview(c, http.StatusConflict, err)
		}
		return err
	}
	return c.Redirect("/verifications?done=approved")
}

func (h *Pages) rejectPage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	if err := h.S.RejectVerification(c.R.Context(), id, RejectInput{Reason: c.R.FormValue("reason")}); err != nil {
		if code := errs.CodeOf(err); code == errs.EConflict || code == errs.EInvalid {
			return h.renderReview(c, web.StatusOf(code), err)
		}
		return err
	}
	return c.Redirect("/verifications?done=rejected")
}
