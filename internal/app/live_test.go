package app_test

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
)

// A task created for the butler reaches their open page without a reload; another user's stream stays silent.
func TestLiveTaskEventsOverSSE(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		admin, butler := e.Login("admin"), e.Login("butler")
		src := "key: call\nsteps:\n  - id: call\n    name: 回电\n    assignee: butler\n"
		if res := e.Do("POST", "/api/v1/process-definitions", admin, src, nil); res.StatusCode != http.StatusCreated {
			t.Fatalf("deploy: %d %s", res.StatusCode, res.Body)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		open := func(token, query string) (*bufio.Reader, *http.Response) {
			req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+"/events"+query, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { res.Body.Close() })
			return bufio.NewReader(res.Body), res
		}
		stream, res := open(butler, "")
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" || res.Header.Get("X-Accel-Buffering") != "no" {
			t.Fatalf("stream: %d %v", res.StatusCode, res.Header)
		}
		// Somebody else's topic is refused.
		if _, res := open(butler, "?topic=user:1"); res.StatusCode != http.StatusForbidden {
			t.Fatalf("foreign topic: %d", res.StatusCode)
		}
		waitLine(t, stream, ": connected")
		garden := e.SiteID("示例花园")
		if res := e.Do("POST", "/api/v1/process-instances", admin, map[string]any{"definition_key": "call", "site_id": garden}, nil); res.StatusCode != http.StatusCreated {
			t.Fatalf("start: %d %s", res.StatusCode, res.Body)
		}
		waitLine(t, stream, "event: task.created")
	})
}

func waitLine(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if strings.TrimSpace(line) == want {
			return
		}
	}
}

// A case's stream is open to those who may see the case: the butler of
// 示例花园 follows one of its cases, a clerk of the hotel (who works with
// cases there) does not.
func TestCaseTopicFollowsTheCasesVisibility(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		butler, clerk := e.Login("butler"), e.Login("clerk")
		var unit int64
		if err := d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT u.id FROM units u JOIN households h ON h.unit_id = u.id WHERE u.site_id = ? ORDER BY u.id LIMIT 1`, e.SiteID("示例花园")).Scan(&unit); err != nil {
			t.Fatal(err)
		}
		var created struct {
			Case struct {
				ID int64 `json:"id"`
			} `json:"case"`
		}
		if res := e.Do("POST", "/api/v1/cases", butler, map[string]any{"type": "inquiry", "site_id": e.SiteID("示例花园"), "unit_id": unit, "description": "停车卡怎么办理"}, &created); res.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", res.StatusCode, res.Body)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		status := func(token, topic string) int {
			req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+"/events?topic="+topic, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		topic := "case:" + strconv.FormatInt(created.Case.ID, 10)
		if got := status(butler, topic); got != http.StatusOK {
			t.Errorf("butler: %d", got)
		}
		if got := status(clerk, topic); got != http.StatusForbidden {
			t.Errorf("hotel clerk: %d, want 403", got)
		}
		if got := status(butler, "case:x"); got != http.StatusForbidden {
			t.Errorf("bad id: %d, want 403", got)
		}
	})
}

// The butler's workbench lists the care tasks of their households that
// are due, beside the cases; another butler's and tomorrow's stay off it.
func TestWorkbenchShowsDueCareTasks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		ctx := t.Context()
		butler := e.StaffID("butler")
		site := e.SiteID("示例花园")
		var hh int64
		var path string
		now := time.Now()
		err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			// A household of its own, so that the demo's tasks cannot mix in.
			if err := tx.QueryRowContext(ctx, `SELECT path FROM org_nodes WHERE id = ?`, site).Scan(&path); err != nil {
				return err
			}
			var unit int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO units (site_id, node_path, number, building, floor, created_at, updated_at) VALUES (?, ?, '8-0808', '8', 8, 0, 0) RETURNING id`, site, path).Scan(&unit); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `INSERT INTO households (unit_id, site_id, node_path, butler_id, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0) RETURNING id`, unit, site, path, butler).Scan(&hh); err != nil {
				return err
			}
			for _, row := range []struct {
				kind     string
				butlerID any
				show     time.Time
			}{
				{"elderly_visit", butler, now.Add(-2 * time.Hour)},
				{"birthday", nil, now.Add(-time.Hour)},       // nobody's: not on the workbench
				{"holiday", butler, now.Add(24 * time.Hour)}, // appears tomorrow
			} {
				if _, err := tx.ExecContext(ctx, `INSERT INTO care_tasks (household_id, butler_id, node_path, kind, show_from, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
					hh, row.butlerID, path, row.kind, db.Ms(row.show), db.Ms(row.show.Add(-time.Minute)), db.Ms(now)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		b := e.SignIn("butler")
		page := b.Get("/inbox")
		body := string(page.Body)
		i := strings.Index(body, `id="g-care"`)
		if page.StatusCode != http.StatusOK || i < 0 {
			t.Fatalf("workbench: %d, care group missing", page.StatusCode)
		}
		care := body[i:]
		care = care[:strings.Index(care, "</section>")]
		mine := `data-household="` + strconv.FormatInt(hh, 10) + `"`
		if strings.Count(care, mine) != 1 || !strings.Contains(care, mine+` data-kind="elderly_visit"`) || !strings.Contains(care, "8-0808") {
			t.Fatalf("want the one due task of household %d: %s", hh, care)
		}
	})
}
