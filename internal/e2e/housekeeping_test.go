package e2e_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/e2e"
	"github.com/guanjia/guanjia/internal/i18n"
)

// The demo attendant, on a phone, cleans a room through the checklist of
// seed article 1, while the supervisor's board, open on a desktop, turns
// the room clean without a reload. Both pages are saved as screenshots at
// both sizes.
func TestHousekeepingAttendantCleansRoom(t *testing.T) {
	b := e2e.Start(t)
	keys := i18n.MustLoad().Keys(i18n.Default)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		env := apptest.Start(t, d)
		board := b.NewPage(t, env.URL, e2e.Desktop)
		board.LoginAs("hk_supervisor")
		board.GoOK("/hk/board")
		board.WaitVisible(`#board-body[data-connected="1"]`)
		board.Screenshot("hk-board")
		if k := board.UntranslatedKeys(keys); len(k) > 0 {
			t.Errorf("board: untranslated keys %v", k)
		}
		// A marker that a reload would lose.
		e2e.Eval[bool](board, `window.__noReload = true`)

		phone := b.NewPage(t, env.URL, e2e.Phone)
		phone.LoginAs("attendant")
		phone.GoOK("/hk/my")
		phone.WaitVisible("#my-rooms")
		phone.AssertNoHorizontalScroll()
		phone.AssertTapTargets(44)
		phone.Screenshot("hk-my")
		// The first room still to do.
		href := e2e.Eval[string](phone, `(document.querySelector("#my-rooms .state-open a.work-main") || {}).getAttribute ? document.querySelector("#my-rooms .state-open a.work-main").getAttribute("href") : ""`)
		if href == "" {
			t.Fatal("no open room in the attendant's list")
		}
		phone.GoOK(href)
		number := phone.Text("h1 .room-code") // the code, to check the page shows the room's state
		if number == "" {
			t.Fatal("no room code on the work page")
		}
		if st := phone.Submit("#start"); st != 200 {
			t.Fatalf("start: %d", st)
		}
		phone.WaitVisible("#checklist")
		roomID := e2e.Eval[string](phone, `document.querySelector('#damage form').getAttribute('action').split('/')[3]`)
		board.WaitVisible(fmt.Sprintf(`#room-%s[data-cleaning="cleaning"]`, roomID))
		phone.AssertNoHorizontalScroll()
		phone.AssertTapTargets(44)
		phone.Screenshot("hk-work")
		// Finishing with a step missing is refused and keeps the ticks.
		steps := e2e.Eval[int](phone, `document.querySelectorAll('#checklist input[type=checkbox]').length`)
		if steps != 17 {
			t.Fatalf("%d checklist steps, want the 17 of seed article 1", steps)
		}
		for i := 1; i < steps; i++ {
			phone.Click(fmt.Sprintf("#checklist li:nth-child(%d) label", i))
		}
		if st := phone.Submit("#finish"); st != 422 {
			t.Fatalf("finish with a step missing: %d", st)
		}
		if msg := phone.Text(".flash-error"); !strings.Contains(msg, "还有步骤没有勾选") {
			t.Errorf("error %q does not say a step is missing", msg)
		}
		if n := e2e.Eval[int](phone, `document.querySelectorAll('#checklist input:checked').length`); n != steps-1 {
			t.Errorf("%d ticks kept, want %d", n, steps-1)
		}
		phone.Click(fmt.Sprintf("#checklist li:nth-child(%d) label", steps))
		if st := phone.Submit("#finish"); st != 200 {
			t.Fatalf("finish: %d", st)
		}
		if p := phone.Path(); !strings.HasPrefix(p, "/hk/my") {
			t.Errorf("after finishing at %s", p)
		}
		phone.Text(".flash-ok")

		// The board turned the room clean by itself.
		board.WaitVisible(fmt.Sprintf(`#room-%s[data-cleaning="clean"]`, roomID))
		if !e2e.Eval[bool](board, `window.__noReload === true`) {
			t.Error("the board reloaded")
		}
		word := board.Text(fmt.Sprintf(`#room-%s .r-clean`, roomID))
		if word != "已清扫" {
			t.Errorf("the board says %q for the cleaned room", word)
		}
		board.Screenshot("hk-board-after")

		// The room's page shows the clean on its timeline.
		board.GoOK("/hk/rooms/" + roomID)
		if tl := board.Text("#timeline"); !strings.Contains(tl, "做房完成") || !strings.Contains(tl, "孙服务员") {
			t.Errorf("timeline: %s", tl)
		}
		board.Screenshot("hk-room")

		// The board fits a phone.
		phoneBoard := b.NewPage(t, env.URL, e2e.Phone)
		phoneBoard.LoginAs("hk_supervisor")
		phoneBoard.GoOK("/hk/board")
		phoneBoard.WaitVisible("#board-body")
		phoneBoard.AssertNoHorizontalScroll()
		phoneBoard.AssertTapTargets(44)
		phoneBoard.Screenshot("hk-board")
	})
}

// The clerk's and the supervisor's housekeeping pages fit a phone and a
// desktop, in Chinese, and are saved as screenshots.
func TestHousekeepingScreens(t *testing.T) {
	b := e2e.Start(t)
	keys := i18n.MustLoad().Keys(i18n.Default)
	env := apptest.Start(t, dbtest.Open(t, db.SQLite))
	pages := []struct{ user, name, path string }{
		{"clerk", "hk-desk", "/hk/desk"}, {"clerk", "hk-tasks", "/hk/tasks"}, {"clerk", "hk-minibar", "/hk/minibar"},
		{"clerk", "hk-keys", "/hk/keys"}, {"clerk", "hk-lost-found", "/hk/lost-found"}, {"clerk", "hk-laundry", "/hk/laundry"},
		{"clerk", "hk-lent", "/hk/lent"}, {"clerk", "hk-handover", "/hk/handover"}, {"clerk", "hk-guests", "/hk/guests"},
		{"clerk", "hk-front-office", "/hk/front-office"},
		{"hk_supervisor", "hk-assign", "/hk/assign"}, {"hk_supervisor", "hk-reports", "/hk/reports"}, {"hk_supervisor", "hk-sheets", "/hk/sheets"},
		{"manager", "hk-setup", "/hk/setup"},
	}
	for _, vp := range []e2e.Viewport{e2e.Desktop, e2e.Phone} {
		t.Run(vp.Name, func(t *testing.T) {
			t.Parallel()
			byUser := map[string]*e2e.Page{}
			for _, pg := range pages {
				p := byUser[pg.user]
				if p == nil {
					p = b.NewPage(t, env.URL, vp)
					p.LoginAs(pg.user)
					byUser[pg.user] = p
				}
				p.GoOK(pg.path)
				p.WaitVisible("h1")
				p.Screenshot(pg.name)
				p.AssertNoHorizontalScroll()
				if k := p.UntranslatedKeys(keys); len(k) > 0 {
					t.Errorf("%s: untranslated keys %v", pg.name, k)
				}
				if vp.Mobile && pg.name != "hk-assign" && pg.name != "hk-sheets" {
					if small := p.SmallTapTargets(44); len(small) > 0 {
						t.Errorf("%s: %d controls smaller than 44px: %v", pg.name, len(small), small)
					}
				}
			}
		})
	}
}
