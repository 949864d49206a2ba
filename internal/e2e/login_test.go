package e2e_test

import (
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/e2e"
)

// A wrong password keeps the person on the login page with a message in
// their language, once, and the username they typed.
func TestLoginWrongPasswordIsLocalised(t *testing.T) {
	b := e2e.Start(t)
	env := apptest.Start(t, dbtest.Open(t, db.SQLite))
	for _, tc := range []struct {
		lang, heading, button, message string
	}{
		{"zh-CN", "管家", "登录", "用户名或密码错误。"},
		{"en", "Guanjia", "Sign in", "Wrong username or password."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			p := b.NewPage(t, env.URL, e2e.Desktop, e2e.WithLanguage(tc.lang))
			p.GoOK("/login")
			if got := p.Lang(); got != tc.lang {
				t.Errorf("html lang = %q, want %q", got, tc.lang)
			}
			if got := p.Text(`form[action="/login"] button[type=submit]`); got != tc.button {
				t.Errorf("button = %q, want %q", got, tc.button)
			}
			if st := p.Login("admin", "wrong-password"); st != 401 {
				t.Errorf("wrong password: status %d, want 401", st)
			}
			if !strings.HasPrefix(p.Path(), "/login") || p.Has(".topbar") {
				t.Fatalf("wrong password signed in (at %s)", p.Path())
			}
			if got := p.Texts(`[role=alert]`); len(got) != 1 || got[0] != tc.message {
				t.Errorf("alerts = %q, want exactly [%q]", got, tc.message)
			}
			if got := p.Text("h1"); got != tc.heading {
				t.Errorf("heading = %q, want %q", got, tc.heading)
			}
			if got := tcValue(p, "#f-username"); got != "admin" {
				t.Errorf("username field = %q, want it kept", got)
			}
		})
	}
}

func tcValue(p *e2e.Page, sel string) string {
	return e2e.Eval[string](p, `document.querySelector("`+sel+`").value`)
}

// The language switch changes the page language on the login page and,
// once signed in, everywhere, and survives navigation.
func TestLanguageSwitch(t *testing.T) {
	b := e2e.Start(t)
	env := apptest.Start(t, dbtest.Open(t, db.SQLite))
	p := b.NewPage(t, env.URL, e2e.Desktop)

	p.GoOK("/login")
	if got := p.Lang(); got != "zh-CN" {
		t.Fatalf("default html lang = %q, want zh-CN", got)
	}
	p.Submit(`.langswitch button[value=en]`)
	if got, btn := p.Lang(), p.Text(`form[action="/login"] button[type=submit]`); got != "en" || btn != "Sign in" {
		t.Fatalf("after English on the login page: lang %q, button %q", got, btn)
	}
	p.LoginAs("admin")
	if got := p.Lang(); got != "en" {
		t.Errorf("signed in after choosing English: lang %q", got)
	}
	p.GoOK("/staff")
	if h := p.Text("h1"); h != "Staff" {
		t.Errorf("staff heading in English = %q", h)
	}

	p.Submit(`.usermenu button[name=lang]`) // shows 中文 when in English
	if got := p.Lang(); got != "zh-CN" {
		t.Fatalf("after 中文: lang %q", got)
	}
	if path := p.Path(); path != "/staff" {
		t.Errorf("the switch should come back to the same page, at %s", path)
	}
	if h := p.Text("h1"); h != "员工" {
		t.Errorf("staff heading in Chinese = %q", h)
	}
	if nav := strings.Join(p.Texts(".mainnav a"), " "); !strings.Contains(nav, "组织架构") {
		t.Errorf("nav in Chinese = %q", nav)
	}

	p.Submit(`.usermenu button[name=lang]`) // now shows English
	p.GoOK("/org")
	if got, h := p.Lang(), p.Text("h1"); got != "en" || h != "Organisation" {
		t.Errorf("English should stick across pages: lang %q, heading %q", got, h)
	}
}
