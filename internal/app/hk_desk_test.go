package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/housekeeping"
)

// Damage an attendant finds in a room opens a repair case on the service
// desk for the hotel's site; the room goes out of order; when the case is
// completed the room returns to service, dirty, and its timeline says it
// was repaired.
func TestDamageOpensARepairCase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		ctx := t.Context()
		hotel := e.SiteID("示例酒店")
		var room int64
		if err := d.Q(ctx).QueryRowContext(ctx, `SELECT MIN(id) FROM hk_rooms WHERE site_id = ? AND occupancy = 'vacant' AND block = 'none'`, hotel).Scan(&room); err != nil {
			t.Fatal(err)
		}
		attendant, admin := e.Login("attendant"), e.Login("admin")
		var order housekeeping.RepairOrder
		if res := e.Do("POST", fmt.Sprintf("/api/v1/hk/rooms/%d/damage", room), attendant, map[string]any{"description": "台灯不亮", "out_of_order": true}, &order); res.StatusCode != http.StatusCreated {
			t.Fatalf("damage: %d %s", res.StatusCode, res.Body)
		}
		if order.CaseID == nil || !strings.HasPrefix(order.CaseNumber, "BX-") || order.InstanceID != nil {
			t.Fatalf("want a repair case instead of the maintenance process: %+v", order)
		}
		var c cases.Case
		if res := e.Do("GET", fmt.Sprintf("/api/v1/cases/%d", *order.CaseID), admin, nil, &c); res.StatusCode != http.StatusOK ||
			c.SiteID != hotel || c.Type != cases.TypeRepair || !strings.Contains(c.Description, "台灯不亮") || c.State != cases.StateNew {
			t.Fatalf("case: %d %+v", res.StatusCode, c)
		}
		block := func() (string, string) {
			var b, cl string
			if err := d.Q(ctx).QueryRowContext(ctx, `SELECT block, cleaning FROM hk_rooms WHERE id = ?`, room).Scan(&b, &cl); err != nil {
				t.Fatal(err)
			}
			return b, cl
		}
		if b, _ := block(); b != "ooo" {
			t.Fatalf("room block %s, want ooo", b)
		}
		me := e.StaffID("admin")
		for _, step := range []struct {
			act  string
			body map[string]any
		}{{"dispatch", map[string]any{"assignee_id": me}}, {"claim", nil}, {"complete", map[string]any{"note": "更换灯泡"}}} {
			if res := e.Do("POST", fmt.Sprintf("/api/v1/cases/%d/%s", *order.CaseID, step.act), admin, step.body, nil); res.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", step.act, res.StatusCode, res.Body)
			}
		}
		if b, cl := block(); b != "none" || cl != "dirty" {
			t.Fatalf("after the repair the room is %s/%s, want none/dirty", b, cl)
		}
		var state, note string
		if err := d.Q(ctx).QueryRowContext(ctx, `SELECT state, done_note FROM hk_maintenance WHERE id = ?`, order.ID).Scan(&state, &note); err != nil || state != "done" || note != "更换灯泡" {
			t.Fatalf("maintenance: %s %q %v", state, note, err)
		}
	})
}
