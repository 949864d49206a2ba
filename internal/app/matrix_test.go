package app_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/demo"
	"github.com/guanjia/guanjia/internal/web"
)

// publicRoutes are the routes anybody may call without signing in. A route
// marked Public and not listed here fails TestRouteRules: opening a route
// to the world is a decision made in review, here.
var publicRoutes = map[string]bool{
	"POST /api/v1/auth/login": true,
	"GET /login":              true,
	"POST /login":             true, // the login form
	"POST /lang":              true, // the language switch (a cookie)
	// The portal's sign-in: a code by SMS, then the code for a portal token.
	"POST /api/portal/v1/auth/code":   true,
	"POST /api/portal/v1/auth/verify": true,
	// Asking to be verified at a unit: a code to any phone, then the
	// request with its proof; a butler decides.
	"POST /api/portal/v1/verifications/code": true,
	"POST /api/portal/v1/verifications":      true,
	// The portal's screens for signing in and asking to be verified.
	"GET /portal":            true,
	"POST /portal/code":      true,
	"POST /portal/sign-in":   true,
	"GET /portal/join":       true,
	"POST /portal/join/code": true,
	"POST /portal/join":      true,
}

// anyStaffRoutes are the routes every signed-in staff member may use: Staff
// access with no permission. A Staff route without a Perm and not listed
// here fails TestRouteRules, so a route added without a rule is caught.
var anyStaffRoutes = map[string]bool{
	"GET /api/v1/auth/me":        true,
	"POST /api/v1/auth/logout":   true,
	"POST /api/v1/auth/password": true,
	"GET /api/v1/announcements":  true, // those in force for the caller's own node
	"GET /{$}":                   true, // home
	"GET /events":                true, // the caller's own live updates; topics are checked per subscription
	"POST /logout":               true,
	"GET /account/password":      true,
	"POST /account/password":     true,
	// The bell: each person reads and marks only their own notifications.
	"GET /api/v1/notifications":            true,
	"POST /api/v1/notifications/{id}/read": true,
	"POST /api/v1/notifications/read-all":  true,
	"GET /notifications":                   true,
	"GET /notifications/bell":              true,
	"POST /notifications/read-all":         true,
	"POST /notifications/{id}/read":        true,
	"GET /api/v1/notification-preferences": true,
	"PUT /api/v1/notification-preferences": true,
	"GET /notifications/preferences":       true,
	"POST /notifications/preferences":      true,
}

func routeKey(r web.Route) string { return r.Method + " " + r.Path }

// apiRoutes returns the /api/ routes in a stable order.
func apiRoutes(e *apptest.Env) []web.Route {
	var out []web.Route
	for _, r := range e.App.Server.Routes() {
		if r.IsAPI() {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return routeKey(out[i]) < routeKey(out[j]) })
	return out
}

// fill puts value into every path parameter of a route pattern.
func fill(path, value string) string { return pathParamRe.ReplaceAllString(path, value) }

// apiErrorBody is the JSON error answer.
type apiErrorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

// decodeError parses an error answer; it fails the test when the answer is
// not the JSON error body with a code and a message.
func decodeError(t *testing.T, what string, res *apptest.Response) apiErrorBody {
	t.Helper()
	var body apiErrorBody
	if err := json.Unmarshal(res.Body, &body); err != nil || body.Error.Code == "" || body.Error.Message == "" {
		t.Errorf("%s: %d answer is not a JSON error body: %.300s", what, res.StatusCode, res.Body)
	}
	return body
}

// TestRouteRules: every route has an access rule someone chose. Staff
// routes need a permission unless listed as open to any staff; public
// routes must be listed.
func TestRouteRules(t *testing.T) {
	e := apptest.Start(t, dbtest.Open(t, db.SQLite))
	seen := map[string]bool{}
	for _, r := range e.App.Server.Routes() {
		key := routeKey(r)
		seen[key] = true
		switch {
		case r.Access == web.Resident && (r.Perm != "" || !(strings.HasPrefix(r.Path, "/api/portal/") || strings.HasPrefix(r.Path, "/portal"))):
			t.Errorf("%s is a resident route: it must live under /api/portal/ or /portal and need no staff permission", key)
		case r.Access == web.Public && !publicRoutes[key]:
			t.Errorf("%s is public but not listed in publicRoutes", key)
		case r.Access == web.Staff && r.Perm == "" && !anyStaffRoutes[key]:
			t.Errorf("%s has no permission: give it a Perm, or list it in anyStaffRoutes if every staff member may use it", key)
		case r.Access == web.Staff && r.Perm != "" && anyStaffRoutes[key]:
			t.Errorf("%s is listed in anyStaffRoutes but needs %s", key, r.Perm)
		case r.Perm != "" && !slices.Contains(auth.AllPerms(), r.Perm):
			t.Errorf("%s needs %q, which is not a permission", key, r.Perm)
		}
	}
	for key := range publicRoutes {
		if !seen[key] {
			t.Errorf("publicRoutes lists %s, which is not routed", key)
		}
	}
	for key := range anyStaffRoutes {
		if !seen[key] {
			t.Errorf("anyStaffRoutes lists %s, which is not routed", key)
		}
	}
}

// TestAuthorisationMatrix calls every API route as every built-in role
// (the demo account holding it) with a nonexistent id and an empty body. A
// role that holds the route's permission nowhere gets 403; a role that
// holds it somewhere gets past the access rule (neither 401 nor 403: the
// handler then answers 404, 422 or success). Without a token, every
// non-public API route answers 401.
func TestAuthorisationMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		doc := loadAPIDoc(t, e)
		users := map[string]string{}
		for _, acc := range demo.Accounts {
			users[acc.Role] = acc.Username
		}
		checked := 0
		for _, r := range apiRoutes(e) {
			key := routeKey(r)
			path := fill(r.Path, "999999")
			var body any
			if r.Doc.Body != nil {
				body = map[string]any{}
			}
			t.Run(key, func(t *testing.T) {
				t.Run("anonymous", func(t *testing.T) {
					res := e.Do(r.Method, path, "", body, nil)
					doc.check(t, r.Method, path, res)
					if r.Access == web.Public {
						if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden {
							t.Errorf("public route: %d %s", res.StatusCode, res.Body)
						}
						return
					}
					if res.StatusCode != http.StatusUnauthorized {
						t.Errorf("no token: %d, want 401: %s", res.StatusCode, res.Body)
					}
					if b := decodeError(t, key, res); b.Error.Code != "unauthorized" {
						t.Errorf("no token: code %q", b.Error.Code)
					}
					if res := e.Do(r.Method, path, "not-a-token", body, nil); res.StatusCode != http.StatusUnauthorized {
						t.Errorf("bad token: %d, want 401", res.StatusCode)
					}
				})
				for _, role := range auth.BuiltinRoles {
					t.Run(role, func(t *testing.T) {
						checked++
						tok := e.Login(users[role])
						if key == "POST /api/v1/auth/logout" {
							tok = e.LoginFresh(users[role], demo.Password) // logout ends the session
						}
						res := e.Do(r.Method, path, tok, body, nil)
						doc.check(t, r.Method, path, res)
						if r.Access == web.Resident {
							// A staff session is no portal session.
							if res.StatusCode != http.StatusUnauthorized {
								t.Errorf("staff token on a portal route: %d, want 401", res.StatusCode)
							}
							return
						}
						allowed := r.Access == web.Public || r.Perm == "" || slices.Contains(auth.BuiltinPerms(role), r.Perm)
						switch {
						case !allowed && res.StatusCode != http.StatusForbidden:
							t.Errorf("%s lacks %s: %d, want 403: %.300s", role, r.Perm, res.StatusCode, res.Body)
						case !allowed:
							if b := decodeError(t, key, res); b.Error.Code != "forbidden" {
								t.Errorf("403 with code %q", b.Error.Code)
							}
						case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
							t.Errorf("%s holds %q: %d: %.300s", role, r.Perm, res.StatusCode, res.Body)
						case res.StatusCode >= 500:
							t.Errorf("%s: %d: %.300s", role, res.StatusCode, res.Body)
						}
					})
				}
			})
		}
		t.Logf("%d API routes × %d roles = %d checks", len(apiRoutes(e)), len(auth.BuiltinRoles), checked)
	})
}
