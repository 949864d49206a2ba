package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/notify"
)

// The bell pages through every notification by id, newest first: no
// notification repeats or goes missing, also when new ones arrive between
// pages; a malformed cursor is refused naming it.
func TestNotificationsPageThroughAll(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		butler := e.Login("butler")
		staff := e.StaffID("butler")
		add := func(n int, tag string) {
			err := d.WithTx(context.Background(), func(ctx context.Context, tx *db.Tx) error {
				for i := 0; i < n; i++ {
					if err := e.App.Notify.Notify(ctx, notify.Note{RecipientID: staff, Kind: "case.remind", Subject: fmt.Sprintf("%s:%d", tag, i),
						Params: map[string]any{"number": fmt.Sprintf("BX-%s-%03d", tag, i)}}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		add(75, "old")
		var total int
		if err := d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT COUNT(*) FROM notifications WHERE recipient_id = ?`, staff).Scan(&total); err != nil {
			t.Fatal(err)
		}
		seen := map[int64]bool{}
		var before int64
		pages := 0
		for {
			var p notify.Page
			path := "/api/v1/notifications?limit=30"
			if before > 0 {
				path += fmt.Sprintf("&before=%d", before)
			}
			if res := e.Do("GET", path, butler, nil, &p); res.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", path, res.StatusCode, res.Body)
			}
			pages++
			if pages == 1 {
				add(5, "new") // arrive between pages: they are newer, not in the older pages
			}
			for i, it := range p.Items {
				if seen[it.ID] {
					t.Fatalf("notification %d twice", it.ID)
				}
				if i > 0 && it.ID >= p.Items[i-1].ID {
					t.Fatalf("not newest first: %d after %d", it.ID, p.Items[i-1].ID)
				}
				seen[it.ID] = true
			}
			if p.NextBefore == 0 {
				break
			}
			if len(p.Items) != 30 || p.NextBefore != p.Items[29].ID {
				t.Fatalf("page %d: %d items, next %d", pages, len(p.Items), p.NextBefore)
			}
			before = p.NextBefore
		}
		if len(seen) != total || pages != (total+29)/30 {
			t.Fatalf("%d of %d notifications in %d pages", len(seen), total, pages)
		}
		res := e.Do("GET", "/api/v1/notifications?before=abc", butler, nil, nil)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), `"before"`) {
			t.Fatalf("bad cursor: %d %s", res.StatusCode, res.Body)
		}
		// The page: 50 a page, a link to older ones and back to the newest.
		b := e.SignIn("butler")
		first := b.Get("/notifications")
		if first.StatusCode != http.StatusOK || strings.Count(string(first.Body), `<li class="note`) != 50 || !strings.Contains(string(first.Body), `id="older"`) {
			t.Fatalf("first page: %d, %d notes", first.StatusCode, strings.Count(string(first.Body), `<li class="note`))
		}
		i := strings.Index(string(first.Body), `href="/notifications?before=`)
		next := string(first.Body[i+len(`href="`):])
		next = next[:strings.Index(next, `"`)]
		second := b.Get(next)
		if second.StatusCode != http.StatusOK || strings.Count(string(second.Body), `<li class="note`) != total+5-50 || !strings.Contains(string(second.Body), `id="newest"`) {
			t.Fatalf("second page %s: %d, %d notes", next, second.StatusCode, strings.Count(string(second.Body), `<li class="note`))
		}
	})
}

// Preferences: a malformed time is refused naming its field and changes
// nothing; texts turned off on the page send none, urgent or not, while
// the bell still rings.
func TestNotificationPreferences(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		butler := e.Login("butler")
		var p notify.Prefs
		if res := e.Do("GET", "/api/v1/notification-preferences", butler, nil, &p); res.StatusCode != http.StatusOK || p != notify.DefaultPrefs {
			t.Fatalf("defaults: %d %+v", res.StatusCode, p)
		}
		res := e.Do("PUT", "/api/v1/notification-preferences", butler, map[string]any{"sms": false, "quiet_start": "25:00"}, nil)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), `"quiet_start"`) {
			t.Fatalf("bad time: %d %s", res.StatusCode, res.Body)
		}
		if e.Do("GET", "/api/v1/notification-preferences", butler, nil, &p); p != notify.DefaultPrefs {
			t.Fatalf("a refused change changed %+v", p)
		}
		if res := e.Do("PUT", "/api/v1/notification-preferences", butler, map[string]any{"sms": true, "quiet_start": "21:30", "quiet_end": "07:00"}, &p); res.StatusCode != http.StatusOK ||
			p != (notify.Prefs{SMS: true, QuietStart: "21:30", QuietEnd: "07:00"}) {
			t.Fatalf("change: %d %+v", res.StatusCode, p)
		}
		// The page: the box unticked turns texts off.
		b := e.SignIn("butler")
		page := b.Get("/notifications/preferences")
		if page.StatusCode != http.StatusOK || !strings.Contains(string(page.Body), `value="21:30"`) || !strings.Contains(string(page.Body), `name="sms" value="1" checked`) {
			t.Fatalf("page: %d", page.StatusCode)
		}
		csrf := between(string(page.Body), `name="csrf_token" value="`, `"`)
		if res := b.PostForm("/notifications/preferences", map[string][]string{"csrf_token": {csrf}, "quiet_start": {"9pm"}, "quiet_end": {"07:00"}}, nil); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad form: %d", res.StatusCode)
		}
		if res := b.PostForm("/notifications/preferences", map[string][]string{"csrf_token": {csrf}, "quiet_start": {"21:30"}, "quiet_end": {"07:00"}}, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("form: %d %s", res.StatusCode, res.Body)
		}
		if e.Do("GET", "/api/v1/notification-preferences", butler, nil, &p); p.SMS {
			t.Fatalf("texts still on: %+v", p)
		}
		texts := e.Count("sms_messages")
		bell := e.Count("notifications")
		err := d.WithTx(context.Background(), func(ctx context.Context, tx *db.Tx) error {
			return e.App.Notify.Notify(ctx, notify.Note{RecipientID: e.StaffID("butler"), Kind: "case.new", Subject: "case:1",
				Params: map[string]any{"number": "BX-1", "description": "漏水"}, SMS: true, Urgent: true})
		})
		if err != nil {
			t.Fatal(err)
		}
		if e.Count("sms_messages") != texts || e.Count("notifications") != bell+1 {
			t.Fatalf("texts %d → %d, bell %d → %d", texts, e.Count("sms_messages"), bell, e.Count("notifications"))
		}
	})
}
