package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/i18n"
)

// Account holds the sign-in, sign-out, language and password endpoints.
type Account struct {
	S *Server
	// Home returns the data of the home page (announcements etc.).
	Home func(c *Ctx) (any, error)
}

// LoginRequest is the body of POST /api/v1/auth/login.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// LoginResponse is the answer to a successful login.
type LoginResponse struct {
	Token     string    `json:"token"`
	CSRFToken string    `json:"csrf_token"`
	StaffID   int64     `json:"staff_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// PasswordRequest changes the caller's password.
type PasswordRequest struct {
	OldPassword string `json:"old_password"`
	NewPassword string `json:"new_password"`
}

// MeResponse describes the caller.
type MeResponse struct {
	ID          int64    `json:"id"`
	Username    string   `json:"username"`
	Name        string   `json:"name"`
	Roles       []string `json:"roles"`
	Permissions []string `json:"permissions"`
}

// Routes lists the account endpoints.
func (a *Account) Routes() []Route {
	return []Route{
		{Method: "GET", Path: "/login", Access: Public, Handler: a.loginPage},
		{Method: "POST", Path: "/login", Access: Public, NoCSRF: true, Handler: a.loginForm},
		{Method: "POST", Path: "/logout", Access: Staff, Handler: a.logout},
		{Method: "POST", Path: "/lang", Access: Public, NoCSRF: true, Handler: a.lang},
		{Method: "GET", Path: "/{$}", Access: Staff, Handler: a.home},
		{Method: "GET", Path: "/account/password", Access: Staff, Handler: a.passwordPage},
		{Method: "POST", Path: "/account/password", Access: Staff, Handler: a.passwordForm},
		{Method: "POST", Path: "/api/v1/auth/login", Access: Public, NoCSRF: true, Handler: a.apiLogin,
			Doc: &Doc{Summary: "Sign in with username and password", Tag: "auth", Body: LoginRequest{}, Resp: LoginResponse{}}},
		{Method: "POST", Path: "/api/v1/auth/logout", Access: Staff, Handler: a.apiLogout,
			Doc: &Doc{Summary: "End the current session", Tag: "auth", Status: http.StatusNoContent}},
		{Method: "GET", Path: "/api/v1/auth/me", Access: Staff, Handler: a.me,
			Doc: &Doc{Summary: "The caller, their roles and permissions", Tag: "auth", Resp: MeResponse{}}},
		{Method: "POST", Path: "/api/v1/auth/password", Access: Staff, Handler: a.apiPassword,
			Doc: &Doc{Summary: "Change the caller's password", Tag: "auth", Body: PasswordRequest{}, Status: http.StatusNoContent}},
	}
}

func (a *Account) loginPage(c *Ctx) error {
	if c.P != nil {
		return c.Redirect(safeNext(c.Query("next")))
	}
	return c.HTML(http.StatusOK, "login", map[string]string{"Next": c.Query("next")}, nil)
}

// sameOrigin rejects a cross-site login form post (login CSRF): browsers
// send Origin on POST; a request without it comes from a non-browser client.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return r.Header.Get("Sec-Fetch-Site") != "cross-site"
	}
	o = strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://")
	return o == r.Host
}

func (a *Account) loginForm(c *Ctx) error {
	if !sameOrigin(c.R) {
		return errs.New(errs.EForbidden, "error.csrf")
	}
	in := LoginRequest{Username: c.R.FormValue("username"), Password: c.R.FormValue("password")}
	next := safeNext(c.R.FormValue("next"))
	sess, err := a.S.auth.Login(c.R.Context(), in.Username, in.Password, c.IP, c.R.UserAgent())
	if err != nil {
		if errs.CodeOf(err) == errs.EInternal {
			return err
		}
		return c.HTML(StatusOf(errs.CodeOf(err)), "login", map[string]string{"Next": next, "Username": in.Username}, err)
	}
	a.S.SetSession(c.W, sess.Token, sess.ExpiresAt)
	return c.Redirect(next)
}

func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (a *Account) apiLogin(c *Ctx) error {
	var in LoginRequest
	if err := c.Decode(&in); err != nil {
		return err
	}
	var v errs.Validation
	v.Required("username", in.Username)
	v.Required("password", in.Password)
	// No account has a longer name or password; refusing here keeps a huge
	// value from costing a hash or a failed-login row.
	v.MaxLen("username", in.Username, 100)
	v.MaxLen("password", in.Password, 200)
	if err := v.Err(); err != nil {
		return err
	}
	sess, err := a.S.auth.Login(c.R.Context(), in.Username, in.Password, c.IP, c.R.UserAgent())
	if err != nil {
		return err
	}
	a.S.SetSession(c.W, sess.Token, sess.ExpiresAt)
	return c.JSON(http.StatusOK, LoginResponse{Token: sess.Token, CSRFToken: sess.CSRF, StaffID: sess.StaffID, ExpiresAt: sess.ExpiresAt})
}

func (a *Account) logout(c *Ctx) error {
	if c.P.SessionID != "" {
		if err := a.S.auth.Logout(c.R.Context(), c.P.SessionID); err != nil {
			return err
		}
	}
	a.S.clearSession(c.W)
	return c.Redirect("/login")
}

func (a *Account) apiLogout(c *Ctx) error {
	if c.P.SessionID != "" {
		if err := a.S.auth.Logout(c.R.Context(), c.P.SessionID); err != nil {
			return err
		}
	}
	a.S.clearSession(c.W)
	return c.NoContent()
}

func (a *Account) me(c *Ctx) error {
	out := MeResponse{ID: c.P.StaffID, Username: c.P.Username, Name: c.P.Name, Roles: []string{}, Permissions: []string{}}
	seen := map[string]bool{}
	for _, g := range c.P.Grants {
		if !seen["r"+g.RoleKey] {
			seen["r"+g.RoleKey] = true
			out.Roles = append(out.Roles, g.RoleKey)
		}
	}
	for _, p := range auth.AllPerms() {
		if c.P.CanAnywhere(p) {
			out.Permissions = append(out.Permissions, string(p))
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (a *Account) lang(c *Ctx) error {
	loc := i18n.Normalize(c.R.FormValue("lang"))
	a.S.SetLocale(c.W, loc)
	return c.Redirect(safeNext(c.R.FormValue("next")))
}

func (a *Account) home(c *Ctx) error {
	var data any
	if a.Home != nil {
		d, err := a.Home(c)
		if err != nil {
			return err
		}
		data = d
	}
	return c.HTML(http.StatusOK, "home", data, nil)
}

func (a *Account) passwordPage(c *Ctx) error {
	return c.HTML(http.StatusOK, "account_password", nil, nil)
}

func (a *Account) passwordForm(c *Ctx) error {
	in := PasswordRequest{OldPassword: c.R.FormValue("old_password"), NewPassword: c.R.FormValue("new_password")}
	if err := a.S.auth.ChangePassword(c.R.Context(), c.P.StaffID, c.P.SessionID, in.OldPassword, in.NewPassword); err != nil {
		if errs.CodeOf(err) == errs.EInvalid {
			return c.HTML(http.StatusUnprocessableEntity, "account_password", nil, err)
		}
		return err
	}
	return c.Redirect("/")
}

func (a *Account) apiPassword(c *Ctx) error {
	var in PasswordRequest
	if err := c.Decode(&in); err != nil {
		return err
	}
	if err := a.S.auth.ChangePassword(c.R.Context(), c.P.StaffID, c.P.SessionID, in.OldPassword, in.NewPassword); err != nil {
		return err
	}
	return c.NoContent()
}
