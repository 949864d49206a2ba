package e2e_test

import (
	"testing"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/e2e"
	"github.com/guanjia/guanjia/internal/i18n"
)

// screens are the main pages, in the order a person meets them. A path of
// "" means the page is reached by a click from the one before.
var screens = []struct {
	name, path string
}{
	{"home", "/"},
	{"org", "/org"},
	{"org-node", ""}, // the first site of the tree
	{"staff", "/staff"},
	{"staff-edit", ""}, // a demo account, from the list
	{"staff-new", "/staff/new"},
	{"roles", "/roles"},
	{"tokens", "/tokens"},
	{"audit", "/audit"},
	{"announcements", "/announcements"},
	{"account-password", "/account/password"},
}

// Every main page is saved as a PNG at desktop and phone sizes for a person
// to look at. None of them scrolls sideways or shows a catalog key instead
// of Chinese text, and on a phone every control is at least 44px either way.
func TestScreenshots(t *testing.T) {
	b := e2e.Start(t)
	env := apptest.Start(t, dbtest.Open(t, db.SQLite))
	keys := i18n.MustLoad().Keys(i18n.Default)
	for _, vp := range []e2e.Viewport{e2e.Desktop, e2e.Phone} {
		t.Run(vp.Name, func(t *testing.T) {
			t.Parallel()
			p := b.NewPage(t, env.URL, vp)
			check := func(name string) {
				t.Helper()
				p.Screenshot(name)
				p.AssertNoHorizontalScroll()
				if k := p.UntranslatedKeys(keys); len(k) > 0 {
					t.Errorf("%s: untranslated keys %v", name, k)
				}
				if vp.Mobile {
					if small := p.SmallTapTargets(44); len(small) > 0 {
						t.Errorf("%s: %d controls smaller than 44px: %v", name, len(small), small)
					}
				}
			}

			p.GoOK("/login")
			check("login")
			p.Login("admin", "wrong-password")
			check("login-error")

			p.LoginAs("admin")
			for _, s := range screens {
				switch s.name {
				case "org-node":
					p.Submit(".tree li:nth-child(2) > a")
				case "staff-edit":
					p.GoOK("/staff?q=butler")
					p.Submit("#staff-table tbody a")
				default:
					p.GoOK(s.path)
				}
				p.WaitVisible("h1")
				check(s.name)
			}
		})
	}
}
