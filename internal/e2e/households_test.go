package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/e2e"
	"github.com/guanjia/guanjia/internal/households"
	"github.com/guanjia/guanjia/internal/i18n"
)

// TestHouseholdScreens saves the households screens at desktop and phone
// sizes as the demo butler and the admin see them, checks that none
// scrolls sideways, shows a catalog key or (on a phone) has a control
// under 44px, and that no page shows 张三's phone in clear until the
// butler asks, with a reason, and it appears in place.
func TestHouseholdScreens(t *testing.T) {
	b := e2e.Start(t)
	env := apptest.Start(t, dbtest.Open(t, db.SQLite))
	keys := i18n.MustLoad().Keys(i18n.Default)
	var hh, owner int64
	ctx := context.Background()
	if err := env.DB.Q(ctx).QueryRowContext(ctx, `SELECT h.id, p.id FROM households h JOIN units u ON u.id = h.unit_id
		JOIN household_people p ON p.household_id = h.id AND p.name = ? WHERE u.number = ? AND h.status = 'current'`,
		households.DemoOwnerName, households.DemoOwnerUnit).Scan(&hh, &owner); err != nil {
		t.Fatal(err)
	}
	screens := []struct{ user, name, path string }{
		{"butler", "households", "/households?mine=1"},
		{"butler", "households-search", "/households?q=zs"},
		{"butler", "household", fmt.Sprintf("/households/%d", hh)},
		{"butler", "household-person", fmt.Sprintf("/people/%d", owner)},
		{"butler", "household-person-edit", fmt.Sprintf("/people/%d/edit", owner)},
		{"butler", "care", "/care"},
		{"butler", "units", "/units"},
		{"admin", "butlers", "/butlers"},
		{"admin", "households-import", "/households/import"},
		{"admin", "pii-access-log", "/pii/access-log"},
		{"admin", "household-person-admin", fmt.Sprintf("/people/%d", owner)},
	}
	for _, vp := range []e2e.Viewport{e2e.Desktop, e2e.Phone} {
		t.Run(vp.Name, func(t *testing.T) {
			p := b.NewPage(t, env.URL, vp)
			user := ""
			for _, s := range screens {
				if s.user != user {
					if user != "" {
						p.Submit(`form[action="/logout"] button`)
					}
					p.LoginAs(s.user)
					user = s.user
				}
				p.GoOK(s.path)
				p.WaitVisible("h1")
				p.Screenshot(s.name)
				p.AssertNoHorizontalScroll()
				if k := p.UntranslatedKeys(keys); len(k) > 0 {
					t.Errorf("%s: untranslated keys %v", s.name, k)
				}
				if vp.Mobile {
					if small := p.SmallTapTargets(44); len(small) > 0 {
						t.Errorf("%s: %d controls smaller than 44px: %v", s.name, len(small), small)
					}
				}
				if strings.Contains(p.Text("main"), households.DemoOwnerPhone) {
					t.Errorf("%s shows 张三's phone in clear", s.name)
				}
			}
		})
	}
	t.Run("unmask in place", func(t *testing.T) {
		p := b.NewPage(t, env.URL, e2e.Desktop)
		p.LoginAs("butler")
		p.GoOK(fmt.Sprintf("/households/%d", hh))
		sel := fmt.Sprintf("#person-%d details.unmask", owner)
		p.Click(sel + " summary")
		p.Fill(sel+` input[name="reason"]`, "回访报修")
		p.Click(sel + ` button[type="submit"]`)
		p.WaitVisible(fmt.Sprintf("#clear-%d-phone .clear-value", owner))
		if got := p.Text(fmt.Sprintf("#clear-%d-phone", owner)); !strings.Contains(got, households.DemoOwnerPhone) {
			t.Errorf("unmasked: %q", got)
		}
		p.Screenshot("household-unmasked")
		if env.Count("pii_access_log") == 0 {
			t.Error("not logged")
		}
	})
}
