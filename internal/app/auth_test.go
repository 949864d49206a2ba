package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/app"
	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
)

func TestLoginLockoutAndRecovery(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		now := time.Now().UTC()
		e.App.Auth.Now = func() time.Time { return now }
		for i := 1; i <= 5; i++ {
			res := e.Do("POST", "/api/v1/auth/login", "", map[string]string{"username": "butler", "password": "wrong"}, nil)
			want := http.StatusUnauthorized
			if i == 5 {
				want = http.StatusForbidden // the fifth failure locks
			}
			if res.StatusCode != want {
				t.Fatalf("attempt %d: status %d, want %d: %s", i, res.StatusCode, want, res.Body)
			}
		}
		// Locked: even the right password is refused, with a clear message.
		res := e.Do("POST", "/api/v1/auth/login", "", map[string]string{"username": "butler", "password": "demo123"}, nil)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(string(res.Body), "锁定") {
			t.Fatalf("locked login: %d %s", res.StatusCode, res.Body)
		}
		// 14 minutes later still locked, 15 minutes later open again.
		now = now.Add(14 * time.Minute)
		if res := e.Do("POST", "/api/v1/auth/login", "", map[string]string{"username": "butler", "password": "demo123"}, nil); res.StatusCode != http.StatusForbidden {
			t.Fatalf("after 14 min: %d", res.StatusCode)
		}
		now = now.Add(61 * time.Second)
		if res := e.Do("POST", "/api/v1/auth/login", "", map[string]string{"username": "butler", "password": "demo123"}, nil); res.StatusCode != http.StatusOK {
			t.Fatalf("after 15 min: %d %s", res.StatusCode, res.Body)
		}
		// A success resets the counter: four more failures do not lock.
		for i := 0; i < 4; i++ {
			e.Do("POST", "/api/v1/auth/login", "", map[string]string{"username": "butler", "password": "wrong"}, nil)
		}
		if res := e.Do("POST", "/api/v1/auth/login", "", map[string]string{"username": "butler", "password": "demo123"}, nil); res.StatusCode != http.StatusOK {
			t.Fatalf("after reset: %d", res.StatusCode)
		}
		// The lockout is in the system log.
		var n int
		if err := d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_log WHERE action = 'locked'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("locked audit rows: %d %v", n, err)
		}
	})
}

func TestLoginRateLimitPerIP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.StartWith(t, d, func(c *app.Config) { c.Auth.LoginsPerIP = 5 })
		for i := 1; i <= 6; i++ {
			res := e.Do("POST", "/api/v1/auth/login", "", map[string]string{"username": "nobody", "password": "x"}, nil)
			want := http.StatusUnauthorized
			if i == 6 {
				want = http.StatusTooManyRequests
			}
			if res.StatusCode != want {
				t.Fatalf("attempt %d: %d, want %d", i, res.StatusCode, want)
			}
		}
		// Limited by IP before the password is even checked: the right one fails too.
		if res := e.Do("POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": "demo123"}, nil); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("right password while limited: %d", res.StatusCode)
		}
	})
}

func TestCSRF(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		b := e.NewBrowser()
		res := b.PostForm("/login", map[string][]string{"username": {"admin"}, "password": {"demo123"}}, nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("login form: %d %s", res.StatusCode, res.Body)
		}
		// A cross-site login form is refused.
		cross := e.NewBrowser()
		if res := cross.PostForm("/login", map[string][]string{"username": {"admin"}, "password": {"demo123"}}, map[string]string{"Origin": "https://evil.example"}); res.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site login: %d", res.StatusCode)
		}
		before := e.Count("announcements")
		form := map[string][]string{"title": {"停水通知"}, "node_id": {"1"}, "body": {"明天 9 点停水"}}
		// Without the token: refused, nothing written.
		if res := b.PostForm("/announcements", form, nil); res.StatusCode != http.StatusForbidden {
			t.Fatalf("no token: %d", res.StatusCode)
		}
		form["csrf_token"] = []string{"forged"}
		if res := b.PostForm("/announcements", form, nil); res.StatusCode != http.StatusForbidden {
			t.Fatalf("wrong token: %d", res.StatusCode)
		}
		if e.Count("announcements") != before {
			t.Fatal("a request without a valid CSRF token wrote")
		}
		// With the token from the page: accepted.
		page := b.Get("/announcements")
		tok := between(string(page.Body), `name="csrf-token" content="`, `"`)
		if tok == "" {
			t.Fatal("no csrf token on the page")
		}
		form["csrf_token"] = []string{tok}
		if res := b.PostForm("/announcements", form, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("with token: %d %s", res.StatusCode, res.Body)
		}
		// The header works too (htmx), and a bearer token needs no CSRF token.
		delete(form, "csrf_token")
		if res := b.PostForm("/announcements", form, map[string]string{"X-CSRF-Token": tok}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("header token: %d", res.StatusCode)
		}
		res = e.Do("POST", "/api/v1/announcements", e.Login("admin"), map[string]any{"title": "API", "node_id": 1}, nil)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("bearer: %d %s", res.StatusCode, res.Body)
		}
		if e.Count("announcements") != before+3 {
			t.Fatalf("announcements: %d", e.Count("announcements"))
		}
	})
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	j := strings.Index(s, b)
	if j < 0 {
		return ""
	}
	return s[:j]
}

func TestSessionExpiryAndLogout(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		now := time.Now().UTC()
		e.App.Auth.Now = func() time.Time { return now }
		tok := e.LoginFresh("clerk", "demo123")
		if res := e.Do("GET", "/api/v1/auth/me", tok, nil, nil); res.StatusCode != 200 {
			t.Fatalf("me: %d", res.StatusCode)
		}
		// Use slides the idle expiry: 11 h, use, 11 h more is still fine.
		now = now.Add(11 * time.Hour)
		if res := e.Do("GET", "/api/v1/auth/me", tok, nil, nil); res.StatusCode != 200 {
			t.Fatalf("after 11h: %d", res.StatusCode)
		}
		now = now.Add(11 * time.Hour)
		if res := e.Do("GET", "/api/v1/auth/me", tok, nil, nil); res.StatusCode != 200 {
			t.Fatalf("after 22h with use: %d", res.StatusCode)
		}
		// Idle past 12 h: expired.
		now = now.Add(12*time.Hour + time.Minute)
		res := e.Do("GET", "/api/v1/auth/me", tok, nil, nil)
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("idle: %d", res.StatusCode)
		}
		var body struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal(res.Body, &body)
		if body.Error.Code != "unauthorized" || body.Error.Message == "" {
			t.Fatalf("error body: %s", res.Body)
		}
		// Logout ends a session at once.
		tok = e.LoginFresh("clerk", "demo123")
		if res := e.Do("POST", "/api/v1/auth/logout", tok, nil, nil); res.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d", res.StatusCode)
		}
		if res := e.Do("GET", "/api/v1/auth/me", tok, nil, nil); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("after logout: %d", res.StatusCode)
		}
		// The cleanup job removes expired sessions.
		now = now.Add(30 * 24 * time.Hour)
		n, err := e.App.Auth.CleanupExpired(t.Context())
		if err != nil || n == 0 || e.Count("sessions") != 0 {
			t.Fatalf("cleanup: %d %v, left %d", n, err, e.Count("sessions"))
		}
	})
}

func TestAPITokenScopes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		admin := e.Login("admin")
		var created struct {
			Token string
			Info  struct{ ID int64 }
		}
		res := e.Do("POST", "/api/v1/tokens", admin, map[string]any{"name": "触摸屏", "staff_id": 1, "scopes": []string{"staff.view"}}, &created)
		if res.StatusCode != http.StatusCreated || !strings.HasPrefix(created.Token, "gjt_") {
			t.Fatalf("create token: %d %s", res.StatusCode, res.Body)
		}
		if res := e.Do("GET", "/api/v1/staff", created.Token, nil, nil); res.StatusCode != 200 {
			t.Fatalf("in scope: %d", res.StatusCode)
		}
		// Out of scope although the acting account is an admin.
		if res := e.Do("POST", "/api/v1/staff", created.Token, map[string]any{"username": "x"}, nil); res.StatusCode != http.StatusForbidden {
			t.Fatalf("out of scope: %d", res.StatusCode)
		}
		if res := e.Do("GET", "/api/v1/audit", created.Token, nil, nil); res.StatusCode != http.StatusForbidden {
			t.Fatalf("audit out of scope: %d", res.StatusCode)
		}
		// The clear token is not stored.
		var n int
		_ = d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT COUNT(*) FROM api_tokens WHERE token_hash = ? OR prefix = ?`, created.Token, created.Token).Scan(&n)
		if n != 0 {
			t.Fatal("clear token stored")
		}
		// Unknown scopes are refused; a manager cannot mint scopes they lack.
		if res := e.Do("POST", "/api/v1/tokens", admin, map[string]any{"name": "x", "staff_id": 1, "scopes": []string{"root.everything"}}, nil); res.StatusCode != 422 {
			t.Fatalf("unknown scope: %d", res.StatusCode)
		}
		// Revoked tokens stop at once.
		if res := e.Do("DELETE", "/api/v1/tokens/"+itoa(created.Info.ID), admin, nil, nil); res.StatusCode != http.StatusNoContent {
			t.Fatalf("revoke: %d %s", res.StatusCode, res.Body)
		}
		if res := e.Do("GET", "/api/v1/staff", created.Token, nil, nil); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("revoked: %d", res.StatusCode)
		}
	})
}

func TestChangePassword(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		tok := e.LoginFresh("technician", "demo123")
		other := e.LoginFresh("technician", "demo123")
		if res := e.Do("POST", "/api/v1/auth/password", tok, map[string]string{"old_password": "nope", "new_password": "a-better-secret"}, nil); res.StatusCode != 422 || !strings.Contains(string(res.Body), "old_password") {
			t.Fatalf("wrong old: %d %s", res.StatusCode, res.Body)
		}
		if res := e.Do("POST", "/api/v1/auth/password", tok, map[string]string{"old_password": "demo123", "new_password": "short"}, nil); res.StatusCode != 422 || !strings.Contains(string(res.Body), "new_password") {
			t.Fatalf("short: %d %s", res.StatusCode, res.Body)
		}
		if res := e.Do("POST", "/api/v1/auth/password", tok, map[string]string{"old_password": "demo123", "new_password": "a-better-secret"}, nil); res.StatusCode != 204 {
			t.Fatalf("change: %d %s", res.StatusCode, res.Body)
		}
		// This session lives on; the other sessions of the account end.
		if res := e.Do("GET", "/api/v1/auth/me", tok, nil, nil); res.StatusCode != 200 {
			t.Fatalf("own session: %d", res.StatusCode)
		}
		if res := e.Do("GET", "/api/v1/auth/me", other, nil, nil); res.StatusCode != 401 {
			t.Fatalf("other session: %d", res.StatusCode)
		}
		e.LoginFresh("technician", "a-better-secret")
	})
}
