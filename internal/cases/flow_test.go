package cases_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
)

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 64)...)

// fixture gives 示例花园 its categories and unit 1-0101 a household with
// the demo butler, unless the demo data has them already.
func fixture(t *testing.T, e *apptest.Env) (site, unit, category int64) {
	t.Helper()
	ctx := context.Background()
	site = e.SiteID("示例花园")
	err := e.DB.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if err := e.App.Cases.SeedCategories(ctx, site); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT id FROM case_categories WHERE site_id = ? AND code = 'water_power'`, site).Scan(&category); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `SELECT id FROM units WHERE site_id = ? AND number = '1-0101'`, site).Scan(&unit)
		if !db.IsNoRows(err) {
			return err
		}
		var path string
		if err := tx.QueryRowContext(ctx, `SELECT path FROM org_nodes WHERE id = ?`, site).Scan(&path); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO units (site_id, node_path, number, building, floor, created_at, updated_at) VALUES (?, ?, '1-0101', '1', 1, 0, 0) RETURNING id`,
			site, path).Scan(&unit); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO households (unit_id, site_id, node_path, butler_id, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0)`,
			unit, site, path, e.StaffID("butler"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return site, unit, category
}

func act(t *testing.T, e *apptest.Env, token string, id int64, action string, body any, want int) cases.Case {
	t.Helper()
	var out cases.Case
	res := e.Do("POST", fmt.Sprintf("/api/v1/cases/%d/%s", id, action), token, body, &out)
	if res.StatusCode != want {
		t.Fatalf("%s: %d %s", action, res.StatusCode, res.Body)
	}
	return out
}

func upload(t *testing.T, e *apptest.Env, token string, id int64, kind string) string {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("kind", kind)
	fw, _ := w.CreateFormFile("file", "p.png")
	fw.Write(png)
	w.Close()
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/cases/%d/files", e.URL, id), &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var f cases.File
	if res.StatusCode != http.StatusCreated || json.NewDecoder(res.Body).Decode(&f) != nil {
		t.Fatalf("upload: %d", res.StatusCode)
	}
	return f.BlobKey
}

// A resident calls; the butler takes the case; it is dispatched, accepted,
// paused for parts, resumed, completed, visited unhappy, reopened to the
// technician, completed again, visited happy and closed — over HTTP, with
// the SLA clocks checked along the way.
func TestRepairLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		site, unit, category := fixture(t, e)
		butler, tech := e.Login("butler"), e.Login("technician")
		var created cases.Created
		res := e.Do("POST", "/api/v1/cases", butler, map[string]any{"type": "repair", "category_id": category, "site_id": site, "unit_id": unit,
			"description": "厨房水龙头漏水", "priority": "normal", "contact_phone": "13800000001"}, &created)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", res.StatusCode, res.Body)
		}
		c := *created.Case
		if c.State != cases.StateNew || len(c.Number) != len("BX-20261127-0001") || c.Number[:3] != "BX-" || c.ContactPhone != "138****0001" || c.ButlerID == nil {
			t.Fatalf("created: %+v", c)
		}
		// The same unit and category again: a hint of the open case.
		var again cases.Created
		e.Do("POST", "/api/v1/cases", butler, map[string]any{"type": "repair", "category_id": category, "site_id": site, "unit_id": unit, "description": "还在漏"}, &again)
		if len(again.Duplicates) != 1 || again.Duplicates[0] != c.Number {
			t.Fatalf("duplicates: %v", again.Duplicates)
		}
		// The butler heard of it: a notification.
		var bell struct{ Unread int }
		e.Do("GET", "/api/v1/notifications", butler, nil, &bell)
		if bell.Unread < 1 {
			t.Fatal("the butler was not notified")
		}
		// Wrong actions are refused with the allowed ones, and change nothing.
		res = e.Do("POST", fmt.Sprintf("/api/v1/cases/%d/complete", c.ID), tech, map[string]any{"note": "x"}, nil)
		if res.StatusCode != http.StatusConflict || !bytes.Contains(res.Body, []byte("acknowledge")) {
			t.Fatalf("complete on new: %d %s", res.StatusCode, res.Body)
		}
		act(t, e, butler, c.ID, "acknowledge", map[string]any{"note": "已致电业主"}, 200)
		c = act(t, e, butler, c.ID, "dispatch", map[string]any{"assignee_id": e.StaffID("technician")}, 200)
		if c.State != cases.StateDispatched || c.AssigneeID == nil {
			t.Fatalf("dispatched: %+v", c)
		}
		c = act(t, e, tech, c.ID, "claim", nil, 200)
		if c.State != cases.StateAccepted {
			t.Fatalf("claim: %s", c.State)
		}
		act(t, e, tech, c.ID, "arrive", nil, 200)
		c = act(t, e, tech, c.ID, "pause", map[string]any{"reason": "等待配件"}, 200)
		if !c.Paused || len(c.Allowed) != 2 {
			t.Fatalf("paused: %+v", c.Allowed)
		}
		act(t, e, tech, c.ID, "complete", map[string]any{"note": "x"}, http.StatusConflict)
		time.Sleep(20 * time.Millisecond) // a pause of measurable length (the clock has millisecond steps)
		act(t, e, tech, c.ID, "resume", nil, 200)
		photo, sign := upload(t, e, tech, c.ID, "photo"), upload(t, e, tech, c.ID, "signature")
		act(t, e, tech, c.ID, "complete", map[string]any{"note": "更换阀芯", "photos": []string{photo}}, http.StatusUnprocessableEntity) // the category needs a signature
		c = act(t, e, tech, c.ID, "complete", map[string]any{"note": "更换阀芯", "photos": []string{photo}, "materials": "阀芯×1", "labour_minutes": 40, "signature": sign}, 200)
		if c.State != cases.StateCompleted {
			t.Fatalf("completed: %s", c.State)
		}
		c = act(t, e, butler, c.ID, "visit", map[string]any{"method": "phone", "speed": 2, "quality": 2, "attitude": 4, "comment": "还是有点漏"}, 200)
		if c.State != cases.StateAccepted || c.Reopened != 1 {
			t.Fatalf("unhappy visit: %s %d", c.State, c.Reopened)
		}
		act(t, e, tech, c.ID, "complete", map[string]any{"note": "再次处理", "signature": sign}, 200)
		c = act(t, e, butler, c.ID, "visit", map[string]any{"method": "visit", "speed": 5, "quality": 5, "attitude": 5}, 200)
		if c.State != cases.StateClosed || c.ClosedAt == nil {
			t.Fatalf("closed: %+v", c)
		}
		var detail cases.Detail
		e.Do("GET", fmt.Sprintf("/api/v1/cases/%d", c.ID), butler, nil, &detail)
		kinds := map[string]bool{}
		for _, ev := range detail.Timeline {
			kinds[ev.Source+":"+ev.Kind] = true
		}
		for _, k := range []string{"case:created", "case:acknowledged", "case:dispatched", "case:accepted", "case:arrived", "case:paused", "case:resumed", "case:completed", "case:visited", "case:back_to_work", "process:task_completed"} {
			if !kinds[k] {
				t.Errorf("timeline lacks %s", k)
			}
		}
		if len(detail.Visits) != 2 || detail.Visits[0].Happy || !detail.Visits[1].Happy {
			t.Fatalf("visits: %+v", detail.Visits)
		}
		// SLA: the acknowledgement met its 10 minutes; the feedback clock
		// carried the pause and moved its deadline by exactly its length.
		var ack, feedback bool
		for _, cy := range detail.Cycles {
			switch cy.Metric {
			case "first_response":
				if cy.Seq != 1 {
					t.Fatalf("first response restarted on reopen: %+v", cy)
				}
				ack = cy.State == "met" && cy.MetAt != nil && cy.MetAt.Sub(cy.StartedAt) < 10*time.Minute
			case "next_update":
				if cy.Seq != 1 {
					continue
				}
				if len(cy.Pauses) != 1 {
					t.Fatalf("next_update pauses: %+v", cy.Pauses)
				}
				p := cy.Pauses[0]
				paused := p.To.Sub(p.From)
				if paused <= 0 || cy.DueAt == nil || !cy.DueAt.Equal(cy.StartedAt.Add(24*time.Hour+paused)) {
					t.Fatalf("next_update due %v, started %v, paused %v", cy.DueAt, cy.StartedAt, paused)
				}
				feedback = cy.State == "met"
			}
		}
		if !ack || !feedback {
			t.Fatalf("cycles: %+v", detail.Cycles)
		}
		// The photo can be fetched by those who see the case.
		if res := e.Do("GET", fmt.Sprintf("/api/v1/cases/%d/files/%d", c.ID, detail.Files[0].ID), butler, nil, nil); res.StatusCode != 200 || !bytes.Equal(res.Body, png) {
			t.Fatalf("file: %d", res.StatusCode)
		}
		if res := e.Do("GET", fmt.Sprintf("/api/v1/cases/%d", c.ID), e.Login("attendant"), nil, nil); res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
			t.Fatalf("attendant reads a garden case: %d", res.StatusCode)
		}
	})
}
