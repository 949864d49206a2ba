package cases_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
)

// Every action in every state: the allowed ones succeed, the others answer
// 409 naming the allowed actions and change nothing.
func TestEveryActionInEveryState(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		site, unit, category := fixture(t, e)
		butler, tech := e.Login("butler"), e.Login("technician")
		techID := e.StaffID("technician")
		actor := func(action string) string {
			switch action {
			case cases.ActClaim, cases.ActArrive, cases.ActComplete, cases.ActPause, cases.ActResume, cases.ActReturn:
				return tech
			}
			return butler
		}
		sign := ""
		body := func(id int64, action string) map[string]any {
			switch action {
			case cases.ActDispatch:
				return map[string]any{"assignee_id": techID, "reason": "转派"}
			case cases.ActPause, cases.ActReturn, cases.ActReopen, cases.ActClose, cases.ActRemind:
				return map[string]any{"reason": "测试"}
			case cases.ActComplete:
				var state string
				_ = d.Q(context.Background()).QueryRowContext(context.Background(), `SELECT state FROM cases WHERE id = ?`, id).Scan(&state)
				if state == cases.StateClosed {
					return map[string]any{"note": "完成"}
				}
				if sign == "" {
					sign = upload(t, e, tech, id, "signature")
				} else {
					upload(t, e, tech, id, "signature") // the same content, now also on this case
				}
				return map[string]any{"note": "完成", "signature": sign}
			case cases.ActVisit:
				return map[string]any{"method": "phone", "speed": 5, "quality": 5, "attitude": 5}
			}
			return map[string]any{}
		}
		path := map[string][]string{
			cases.StateNew:          {},
			cases.StateAcknowledged: {cases.ActAcknowledge},
			cases.StateDispatched:   {cases.ActAcknowledge, cases.ActDispatch},
			cases.StateAccepted:     {cases.ActAcknowledge, cases.ActDispatch, cases.ActClaim},
			cases.StateOnSite:       {cases.ActAcknowledge, cases.ActDispatch, cases.ActClaim, cases.ActArrive},
			"paused":                {cases.ActAcknowledge, cases.ActDispatch, cases.ActClaim, cases.ActPause},
			cases.StateCompleted:    {cases.ActAcknowledge, cases.ActDispatch, cases.ActClaim, cases.ActComplete},
			cases.StateClosed:       {cases.ActAcknowledge, cases.ActDispatch, cases.ActClaim, cases.ActComplete, cases.ActVisit},
		}
		newCase := func(to string) int64 {
			var created cases.Created
			res := e.Do("POST", "/api/v1/cases", butler, map[string]any{"type": "repair", "category_id": category, "site_id": site, "unit_id": unit, "description": "测试 " + to}, &created)
			if res.StatusCode != http.StatusCreated {
				t.Fatalf("create: %d %s", res.StatusCode, res.Body)
			}
			for _, a := range path[to] {
				act(t, e, actor(a), created.Case.ID, a, body(created.Case.ID, a), 200)
			}
			return created.Case.ID
		}
		snapshot := func(id int64) string {
			var state, reason string
			var paused bool
			var updated, events int64
			ctx := context.Background()
			if err := d.Q(ctx).QueryRowContext(ctx, `SELECT state, paused, pause_reason, updated_at, (SELECT COUNT(*) FROM case_events WHERE case_id = cases.id) FROM cases WHERE id = ?`, id).
				Scan(&state, &paused, &reason, &updated, &events); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(state, paused, reason, updated, events)
		}
		for to := range path {
			st, paused := to, false
			if to == "paused" {
				st, paused = cases.StateAccepted, true
			}
			allowed := map[string]bool{}
			for _, a := range cases.Allowed(st, paused) {
				allowed[a] = true
			}
			for _, action := range cases.Actions {
				t.Run(to+"/"+action, func(t *testing.T) {
					id := newCase(to)
					b := body(id, action)
					before := snapshot(id)
					res := e.Do("POST", fmt.Sprintf("/api/v1/cases/%d/%s", id, action), actor(action), b, nil)
					if allowed[action] {
						if res.StatusCode != 200 {
							t.Fatalf("allowed %s in %s: %d %s", action, to, res.StatusCode, res.Body)
						}
						return
					}
					if res.StatusCode != http.StatusConflict || !strings.Contains(string(res.Body), `"allowed"`) {
						t.Fatalf("%s in %s: %d %s", action, to, res.StatusCode, res.Body)
					}
					if after := snapshot(id); after != before {
						t.Fatalf("a refused %s changed the case: %s → %s", action, before, after)
					}
				})
			}
		}
	})
}
