package flow_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/flow"
)

const poolYAML = `
key: pool
name: 池
steps:
  - id: pick
    name: 待领取
    candidate_groups: [butler]
    candidate_users: [butler]
`

// TestClaimablePagePickedFromCandidates checks the claimable inbox, which
// picks its page from the candidate rows, against the page computed from
// every task: tasks matching through two candidate rows appear once, ties
// on the due date keep the page's order, overdue and key filters hold.
func TestClaimablePagePickedFromCandidates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		ctx := context.Background()
		if _, err := e.App.Flow.DeploySystem(ctx, []byte(poolYAML)); err != nil {
			t.Fatal(err)
		}
		garden := e.SiteID("示例花园")
		for i := 0; i < 130; i++ {
			if _, err := e.App.Flow.StartSystem(ctx, flow.StartInput{DefinitionKey: "pool", SiteID: &garden}); err != nil {
				t.Fatal(err)
			}
		}
		// Spread the due dates over 40 minutes, many sharing one, half past.
		now := time.Now().UTC().Truncate(time.Millisecond)
		base := db.Ms(now) - 20*60000
		err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			for _, q := range []string{
				// The demo's own pools stay out of this test's pages.
				`DELETE FROM flow_task_candidates WHERE task_id IN (SELECT id FROM flow_tasks WHERE definition_key <> 'pool') AND CAST(? AS BIGINT) > 0`,
				// Some tasks match the butler twice (as a user and through
				// the group), others once.
				`DELETE FROM flow_task_candidates WHERE kind = 'user' AND task_id % 3 = 0 AND CAST(? AS BIGINT) > 0`,
				`UPDATE flow_tasks SET due_at = CAST(? AS BIGINT) + (id * 7919 % 40) * 60000 WHERE definition_key = 'pool'`,
				`UPDATE flow_task_candidates SET due_at = CAST(? AS BIGINT) + (task_id * 7919 % 40) * 60000`,
			} {
				if _, err := tx.ExecContext(ctx, q, base); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		type row struct{ id, due int64 }
		var all []row
		rows, err := d.Q(ctx).QueryContext(ctx, `SELECT id, due_at FROM flow_tasks WHERE definition_key = 'pool' AND state = 'open' AND assignee_id IS NULL`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.due); err != nil {
				t.Fatal(err)
			}
			all = append(all, r)
		}
		rows.Close()
		want := func(overdue bool, limit int) []int64 {
			var out []row
			for _, r := range all {
				if !overdue || r.due < db.Ms(now) {
					out = append(out, r)
				}
			}
			slices.SortFunc(out, func(a, b row) int {
				if a.due != b.due {
					return int(a.due - b.due)
				}
				if overdue {
					return int(a.id - b.id)
				}
				return int(b.id - a.id)
			})
			var ids []int64
			for _, r := range out[:min(limit, len(out))] {
				ids = append(ids, r.id)
			}
			return ids
		}
		butler := as(t, e, "butler")
		for _, c := range []struct {
			name string
			f    flow.TaskFilter
		}{
			{"first page", flow.TaskFilter{View: "claimable", Now: now}},
			{"overdue", flow.TaskFilter{View: "claimable", Overdue: true, Now: now}},
			{"by key", flow.TaskFilter{View: "claimable", Key: "pool", Now: now}},
			{"overdue by key", flow.TaskFilter{View: "claimable", Key: "pool", Overdue: true, Now: now}},
			{"small page", flow.TaskFilter{View: "claimable", Limit: 7, Now: now}},
		} {
			page, err := e.App.Flow.ListTasks(butler, c.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, task := range page.Items {
				got = append(got, task.ID)
			}
			limit := c.f.Limit
			if limit == 0 {
				limit = 50
			}
			if w := want(c.f.Overdue, limit); fmt.Sprint(got) != fmt.Sprint(w) {
				t.Errorf("%s:\n got %v\nwant %v", c.name, got, w)
			}
			if !page.More {
				t.Errorf("%s: no more pages announced", c.name)
			}
		}
	})
}
