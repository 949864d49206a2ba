package portal

import (
	"embed"
	"net/http"
	"strconv"
	"strings"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/blob"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/pii"
	"github.com/guanjia/guanjia/internal/web"
)

//go:embed templates
var templatesFS embed.FS

// AddPages parses the portal's pages, each with the shared partials (the
// portal's own layout among them: residents never see the staff
// navigation).
func AddPages(r *web.Renderer) error {
	if err := r.AddPages(templatesFS, "templates", "templates/partials.tmpl"); err != nil {
		return err
	}
	return r.AddPages(templatesFS, "templates/staff") // in the staff frame, with its navigation
}

// Nav is the butler's entry to the verification requests.
func Nav() []web.NavItem {
	return []web.NavItem{{Key: "nav.verifications", Href: "/verifications", Perm: auth.PermHouseholdManage}}
}

// Pages serves the portal's screens and the butler's review of
// verification requests.
type Pages struct {
	S     *Service
	Srv   *web.Server
	Blobs blob.Store
}

// Routes lists the pages. Sign-in and the verification request are public;
// everything else of the portal needs a portal session; the review page is
// for staff with household.manage.
func (h *Pages) Routes() []web.Route {
	pub := func(method, path string, fn web.HandlerFunc) web.Route {
		return web.Route{Method: method, Path: path, Access: web.Public, NoCSRF: method == http.MethodPost, Handler: h.wrap(fn)}
	}
	res := func(method, path string, fn web.HandlerFunc) web.Route {
		return web.Route{Method: method, Path: path, Access: web.Resident, Handler: h.wrap(fn)}
	}
	staff := func(method, path string, fn web.HandlerFunc) web.Route {
		return web.Route{Method: method, Path: path, Perm: auth.PermHouseholdManage, Handler: fn}
	}
	return []web.Route{
		pub("GET", "/portal", h.signInPage),
		pub("POST", "/portal/code", h.sendCode),
		pub("POST", "/portal/sign-in", h.signIn),
		pub("GET", "/portal/join", h.joinPage),
		pub("POST", "/portal/join/code", h.joinCode),
		pub("POST", "/portal/join", h.join),
		res("POST", "/portal/sign-out", h.signOut),
		res("GET", "/portal/home", h.home),
		res("GET", "/portal/cases", h.casesPage),
		res("GET", "/portal/cases/{id}", h.casePage),
		res("POST", "/portal/cases/{id}/rate", h.rate),
		res("POST", "/portal/cases/{id}/photos", h.addPhotos),
		res("GET", "/portal/report", h.reportPage),
		res("POST", "/portal/report", h.report),
		res("GET", "/portal/notices", h.noticesPage),
		res("GET", "/portal/applications", h.applicationsPage),
		res("GET", "/portal/applications/{id}", h.applicationPage),
		staff("GET", "/verifications", h.reviewPage),
		staff("GET", "/verifications/{id}/proof", h.proof),
		staff("POST", "/verifications/{id}/approve", h.approvePage),
		staff("POST", "/verifications/{id}/reject", h.rejectPage),
	}
}

// Kiosk idle time-out, in seconds: 60 unless the kiosk was set up with a
// shorter one (tests use 2); never longer, so no lobby screen keeps a
// session open for more than a minute of nobody touching it.
const (
	kioskIdle    = 60
	kioskIdleMin = 2
	kioskCookie  = "gj_kiosk"
)

// shell is what the portal's layout needs on every page.
type shell struct {
	Kiosk       bool
	Idle        int // seconds before a kiosk signs out
	SignedIn    bool
	CSRF        string
	Phone       string // masked
	Tab         string
	HasHomes    bool
	HasAccounts bool
	Flash       string
}

func (h *Pages) shell(c *web.Ctx, tab string) shell {
	sh := shell{Tab: tab, Idle: kioskIdle}
	if r := resident(c); r != nil {
		sh.SignedIn, sh.CSRF, sh.Phone, sh.Kiosk = true, r.CSRF, r.PhoneMasked, r.Kiosk
		sh.HasHomes, sh.HasAccounts = len(r.HouseholdIDs) > 0, len(r.Accounts) > 0
	}
	if idle, ok := kioskOf(c.R); ok {
		sh.Kiosk, sh.Idle = true, idle
	}
	if k := c.Query("done"); flashes[k] {
		sh.Flash = c.L.T("portal.flash." + k)
	}
	return sh
}

// flashes are the confirmations a redirect may ask for with ?done=.
var flashes = map[string]bool{"reported": true, "rated": true, "photos": true, "signed_out": true}

// kioskOf reports whether the device was set up as a kiosk (the cookie
// that /portal?kiosk=1 sets) and its idle time-out.
func kioskOf(r *http.Request) (int, bool) {
	ck, err := r.Cookie(kioskCookie)
	if err != nil || ck.Value == "" {
		return 0, false
	}
	return clampIdle(ck.Value), true
}

func clampIdle(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n > kioskIdle {
		return kioskIdle
	}
	return max(n, kioskIdleMin)
}

// wrap shows a refused request on the portal's own error page (a calm
// message and the way back to the portal, never to staff pages).
func (h *Pages) wrap(fn web.HandlerFunc) web.HandlerFunc {
	return func(c *web.Ctx) error {
		err := fn(c)
		if err == nil || errs.CodeOf(err) == errs.EInternal || errs.CodeOf(err) == errs.EUnauthorized {
			return err
		}
		return c.HTML(web.StatusOf(errs.CodeOf(err)), "portal_error", struct{ shell }{h.shell(c, "")}, err)
	}
}

// sameOrigin refuses a cross-site post of the public forms (sign-in CSRF):
// browsers send Origin on POST.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return r.Header.Get("Sec-Fetch-Site") != "cross-site"
	}
	o = strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://")
	return o == r.Host
}

// signInData is the sign-in screen: first the phone or account, then the
// code.
type signInData struct {
	shell
	By      string // phone or account
	Step    string // "" or code
	Phone   string
	Account string
	Masked  string // where the code went
}

func (h *Pages) signInPage(c *web.Ctx) error {
	switch c.Query("kiosk") {
	case "1":
		http.SetCookie(c.W, &http.Cookie{Name: kioskCookie, Value: strconv.Itoa(clampIdle(c.Query("idle"))), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 10 * 365 * 24 * 3600})
		return c.Redirect("/portal")
	case "0":
		http.SetCookie(c.W, &http.Cookie{Name: kioskCookie, Value: "", Path: "/", MaxAge: -1})
		return c.Redirect("/portal")
	}
	if ck, err := c.R.Cookie(web.PortalCookie); err == nil && ck.Value != "" {
		if _, _, err := h.S.Authenticate(c.R.Context(), ck.Value); err == nil {
			return c.Redirect("/portal/home")
		}
	}
	d := &signInData{shell: h.shell(c, ""), By: "phone"}
	if c.Query("by") == "account" {
		d.By = "account"
	}
	return c.HTML(http.StatusOK, "portal_signin", d, nil)
}

func (h *Pages) sendCode(c *web.Ctx) error {
	if !sameOrigin(c.R) {
		return errs.New(errs.EForbidden, "error.csrf")
	}
	d := &signInData{shell: h.shell(c, ""), By: "phone", Phone: strings.TrimSpace(c.R.FormValue("phone")), Account: strings.TrimSpace(c.R.FormValue("account"))}
	if c.R.FormValue("by") == "account" {
		d.By, d.Phone = "account", ""
	} else {
		d.Account = ""
	}
	sent, err := h.S.RequestCode(c.R.Context(), CodeRequest{Phone: d.Phone, Account: d.Account}, c.IP)
	if err != nil {
		if errs.CodeOf(err) == errs.EInternal {
			return err
		}
		return c.HTML(web.StatusOf(errs.CodeOf(err)), "portal_signin", d, err)
	}
	d.Step, d.Masked = "code", sent.MaskedPhone
	if d.Masked == "" {
		d.Masked = pii.MaskPhone(digits(d.Phone))
	}
	return c.HTML(http.StatusOK, "portal_signin", d, nil)
}

func (h *Pages) signIn(c *web.Ctx) error {
	if !sameOrigin(c.R) {
		return errs.New(errs.EForbidden, "error.csrf")
	}
	d := &signInData{shell: h.shell(c, ""), By: "phone", Step: "code", Phone: strings.TrimSpace(c.R.FormValue("phone")),
		Account: strings.TrimSpace(c.R.FormValue("account")), Masked: c.R.FormValue("masked")}
	if d.Account != "" {
		d.By = "account"
	}
	sess, err := h.S.Verify(c.R.Context(), VerifyRequest{Phone: d.Phone, Account: d.Account, Code: c.R.FormValue("code"), Kiosk: d.Kiosk})
	if err != nil {
		if errs.CodeOf(err) == errs.EInternal {
			return err
		}
		return c.HTML(web.StatusOf(errs.CodeOf(err)), "portal_signin", d, err)
	}
	h.Srv.SetPortalSession(c.W, sess.Token, sess.ExpiresAt)
	return c.Redirect("/portal/home")
}

func (h *Pages) signOut(c *web.Ctx) error {
	if err := h.S.Logout(c.R.Context(), resident(c)); err != nil {
		return err
	}
	h.Srv.ClearPortalSession(c.W)
	return c.Redirect("/portal?done=signed_out")
}
