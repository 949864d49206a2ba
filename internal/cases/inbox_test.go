package cases_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
)

// The inbox's groups, counts and order agree with one query per group (the
// definition of each group) for a butler and for a technician, over cases
// in every state, paused or not, overdue, due soon, due later or without a
// deadline, some of them closed.
func TestInboxGroupsMatchTheirDefinitions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		ctx := context.Background()
		site, units, _ := deskFixture(t, e, 4)
		butler, tech := e.StaffID("butler"), e.StaffID("technician")
		now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
		e.App.Cases.Now = func() time.Time { return now }
		var path string
		if err := d.R.QueryRowContext(ctx, d.Rebind(`SELECT path FROM org_nodes WHERE id = ?`), site).Scan(&path); err != nil {
			t.Fatal(err)
		}
		states := []string{"new", "acknowledged", "dispatched", "accepted", "on_site", "completed", "closed"}
		dues := []any{nil, db.Ms(now.Add(-time.Hour)), db.Ms(now.Add(time.Hour)), db.Ms(now.Add(5 * time.Hour)), db.Ms(now)}
		err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			n := 0
			for _, st := range states {
				for di, due := range dues {
					for _, paused := range []bool{false, true} {
						n++
						var assignee any
						if n%3 == 0 {
							assignee = tech
						}
						owner := any(butler)
						if n%5 == 0 {
							owner = nil // a case of another butler's, the technician's only
						}
						if _, err := tx.ExecContext(ctx, `INSERT INTO cases (number, type, site_id, node_path, unit_id, butler_id, assignee_id, description, state, paused, due_at, created_at, updated_at)
							VALUES (?, 'repair', ?, ?, ?, ?, ?, 'x', ?, ?, ?, ?, ?)`, fmt.Sprintf("T-%04d", n), site, path, units[n%len(units)], owner, assignee,
							st, paused && st != "closed" && st != "completed", due, db.Ms(now)-int64(di), db.Ms(now)); err != nil {
							return err
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		definitions := map[string]string{
			"overdue":  `c.state <> 'closed' AND c.due_at < ?`,
			"new":      `c.state IN ('new', 'acknowledged')`,
			"due_soon": `c.state <> 'closed' AND c.due_at >= ? AND c.due_at < ?`,
			"visit":    `c.state = 'completed'`,
			"paused":   `c.state <> 'closed' AND c.paused = TRUE`,
			"in_work":  `c.state IN ('dispatched', 'accepted', 'on_site') AND c.paused = FALSE`,
		}
		for _, staff := range []int64{butler, tech} {
			const perGroup = 3
			in, err := e.App.Cases.InboxFor(ctx, staff, perGroup)
			if err != nil {
				t.Fatal(err)
			}
			if len(in.Groups) != len(definitions) {
				t.Fatalf("groups: %d", len(in.Groups))
			}
			for _, g := range in.Groups {
				args := []any{staff, staff}
				switch g.Key {
				case "overdue":
					args = append(args, db.Ms(now))
				case "due_soon":
					args = append(args, db.Ms(now), db.Ms(now.Add(2*time.Hour)))
				}
				where := `(c.butler_id = ? OR c.assignee_id = ?) AND ` + definitions[g.Key]
				var count int
				if err := d.R.QueryRowContext(ctx, d.Rebind(`SELECT COUNT(*) FROM cases c WHERE `+where), args...).Scan(&count); err != nil {
					t.Fatal(err)
				}
				rows, err := d.R.QueryContext(ctx, d.Rebind(`SELECT c.id FROM cases c WHERE `+where+` ORDER BY c.due_at, c.id LIMIT ?`), append(args, perGroup)...)
				if err != nil {
					t.Fatal(err)
				}
				var want, got []int64
				for rows.Next() {
					var id int64
					rows.Scan(&id)
					want = append(want, id)
				}
				rows.Close()
				for _, c := range g.Items {
					got = append(got, c.ID)
				}
				if g.Count != count || !slices.Equal(got, want) || count == 0 {
					t.Errorf("staff %d %s: count %d items %v, want %d %v", staff, g.Key, g.Count, got, count, want)
				}
			}
		}
	})
}
