package housekeeping

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/errs"
)

func allSteps(t []ChecklistStep) []string {
	out := make([]string, len(t))
	for i, s := range t {
		out[i] = s.ID
	}
	return out
}

// TestAttendantFlow: the day's work generated and shared out, an attendant
// cleans through the checklist, the supervisor fails the room once and
// passes it after the re-clean; DND at the door skips the room.
func TestAttendantFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHotel(t, d, 2, 4, false)
		att, attID := h.staff("att1", "attendant")
		other, _ := h.staff("att2", "attendant")
		sup, _ := h.staff("sup1", "supervisor")
		h.set("101", RoomStatusInput{Occupancy: Occupied})
		h.set("102", RoomStatusInput{Occupancy: Occupied})
		h.set("102", RoomStatusInput{Flags: on(FlagDueOut)})
		h.set("201", RoomStatusInput{Cleaning: Clean})
		h.set("201", RoomStatusInput{Cleaning: Inspected})
		day, err := h.s.Generate(sup, WorkDayInput{SiteID: h.site})
		if err != nil {
			t.Fatal(err)
		}
		if day.Created != 7 || day.Date != "2026-11-27" { // 201 is ready
			t.Fatalf("generated: %+v", day)
		}
		if _, err := h.s.Generate(att, WorkDayInput{SiteID: h.site}); errs.CodeOf(err) != errs.EInvalid && errs.CodeOf(err) != errs.ENotFound {
			t.Fatalf("an attendant generating: %v", err)
		}
		day, err = h.s.AutoAssign(sup, AutoAssignInput{SiteID: h.site, AttendantIDs: []int64{attID}, MaxRooms: 5})
		if err != nil {
			t.Fatal(err)
		}
		if day.Unassigned != 2 || len(day.Attendants) != 1 || day.Attendants[0].Rooms != 5 {
			t.Fatalf("assigned: %+v", day)
		}
		site, _ := h.s.loadSite(context.Background(), h.site)
		if ros, _ := h.s.Attendants(context.Background(), site, day.Date); len(ros) != 1 || ros[0].ID != attID {
			t.Fatalf("the day shift's roster: %+v", ros)
		}
		mine, err := h.s.MyWork(att)
		if err != nil || len(mine) != 5 {
			t.Fatalf("my work: %d %v", len(mine), err)
		}
		var w101, w102 WorkItem
		for _, w := range mine {
			switch w.RoomNumber {
			case "101":
				w101 = w
			case "102":
				w102 = w
			}
		}
		if w101.CleanType != CleanStayover || w102.CleanType != CleanCheckout {
			t.Fatalf("clean types: %s %s", w101.CleanType, w102.CleanType)
		}
		// Not someone else's room.
		if _, err := h.s.StartClean(other, w101.ID); errs.CodeOf(err) != errs.EConflict {
			t.Fatalf("another attendant starting: %v", err)
		}
		h.clock.Set(at("09:00"))
		w, err := h.s.StartClean(att, w101.ID)
		if err != nil || w.State != WorkStarted {
			t.Fatalf("start: %+v %v", w, err)
		}
		if r := h.room("101"); r.Cleaning != Cleaning {
			t.Fatalf("room while cleaning: %s", r.Cleaning)
		}
		h.clock.Set(at("09:20"))
		_, err = h.s.FinishClean(att, w101.ID, FinishCleanInput{Steps: []string{"knock", "door_open"}})
		var e *errs.Error
		if !errors.As(err, &e) || e.Fields["steps"] != "error.hk.steps_missing" {
			t.Fatalf("finish with steps missing: %v", err)
		}
		w, err = h.s.FinishClean(att, w101.ID, FinishCleanInput{Steps: allSteps(StandardChecklist)})
		if err != nil || w.State != WorkDone || w.Code != CodeOC || len(w.Steps) != len(StandardChecklist) {
			t.Fatalf("finish: %+v %v", w, err)
		}
		if w.FinishedAt.Sub(*w.StartedAt) != 20*time.Minute {
			t.Errorf("took %s", w.FinishedAt.Sub(*w.StartedAt))
		}
		// An attendant cannot pass their own room.
		if _, err := h.s.Inspect(att, h.rooms["101"], InspectionInput{Result: "pass", Score: 90}); errs.CodeOf(err) != errs.EForbidden {
			t.Fatalf("attendant inspecting: %v", err)
		}
		in, err := h.s.Inspect(sup, h.rooms["101"], InspectionInput{Result: "fail", Score: 60, FailedItems: []string{"bathroom"}, Reasons: "面盆有毛发"})
		if err != nil || in.Passed {
			t.Fatalf("fail: %+v %v", in, err)
		}
		r := h.room("101")
		if r.Cleaning != Dirty || r.WorkState != WorkOpen {
			t.Fatalf("after a failed inspection: %+v", r)
		}
		if _, err := h.s.Inspect(sup, h.rooms["101"], InspectionInput{Result: "pass", Score: 90}); errs.CodeOf(err) != errs.EConflict {
			t.Fatalf("inspecting a dirty room: %v", err)
		}
		if _, err := h.s.StartClean(att, w101.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := h.s.FinishClean(att, w101.ID, FinishCleanInput{Steps: allSteps(StandardChecklist)}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.s.Inspect(sup, h.rooms["101"], InspectionInput{Result: "pass", Score: 95}); err != nil {
			t.Fatal(err)
		}
		if r := h.room("101"); r.Cleaning != Inspected || r.Code != CodeOC {
			t.Fatalf("after passing: %+v", r)
		}
		// DND at 102's door.
		w, err = h.s.Skip(att, w102.ID, SkipCleanInput{Reason: FlagDND})
		if err != nil || w.State != WorkSkipped || w.Code != CodeDND {
			t.Fatalf("skip: %+v %v", w, err)
		}
		if _, err := h.s.StartClean(att, w102.ID); errs.CodeOf(err) != errs.EConflict {
			t.Fatalf("entering a DND room: %v", err)
		}
		// The guest leaves: the DND goes with the check-out, the work reopens.
		h.set("102", RoomStatusInput{Occupancy: Vacant})
		w, _ = h.s.WorkItem(att, w102.ID)
		if w.State != WorkOpen || w.CleanType != CleanCheckout {
			t.Fatalf("after check-out: %+v", w)
		}
		// The supervisor moves 102 to the front of nobody's list, then back.
		if _, err := h.s.Move(sup, w102.ID, WorkMoveInput{AttendantID: new(int64)}); err != nil {
			t.Fatal(err)
		}
		if w, _ := h.s.WorkItem(sup, w102.ID); w.AttendantID != nil {
			t.Fatal("not unassigned")
		}
		if w, err := h.s.Move(sup, w102.ID, WorkMoveInput{AttendantID: &attID, Position: 1}); err != nil || w.Seq != 1 {
			t.Fatalf("move to first: %+v %v", w, err)
		}
		if w, err := h.s.Reorder(att, w102.ID, +1); err != nil || w.Seq != 2 {
			t.Fatalf("reorder: %+v %v", w, err)
		}
	})
}

// TestDamageToMaintenance: damage becomes a maintenance process with a
// repair task; the room goes out of order; completing the repair task
// runs the engine's service task, which returns the room to service.
func TestDamageToMaintenance(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHotel(t, d, 1, 2, true)
		att, _ := h.staff("att1", "attendant")
		m, err := h.s.ReportDamage(att, h.rooms["101"], DamageReportInput{Description: "地毯烟头烫坏", OutOfOrder: true})
		if err != nil || m.InstanceID == nil {
			t.Fatalf("damage: %+v %v", m, err)
		}
		if r := h.room("101"); r.Code != CodeOOO || r.BlockReason != "地毯烟头烫坏" {
			t.Fatalf("not out of order: %+v", r)
		}
		var taskID int64
		ctx := context.Background()
		if err := d.Q(ctx).QueryRowContext(ctx, `SELECT id FROM flow_tasks WHERE instance_id = ? AND state = 'open'`, *m.InstanceID).Scan(&taskID); err != nil {
			t.Fatalf("repair task: %v", err)
		}
		if err := h.flow.Complete(ctx, taskID, map[string]any{"fixed": true, "repair_note": "更换地毯"}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			var state string
			if err := d.Q(ctx).QueryRowContext(ctx, `SELECT state FROM hk_maintenance WHERE id = ?`, m.ID).Scan(&state); err != nil {
				t.Fatal(err)
			}
			if state == "done" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the engine's service task did not report back")
			}
			time.Sleep(100 * time.Millisecond)
		}
		if r := h.room("101"); r.Block != BlockNone || r.Cleaning != Dirty {
			t.Fatalf("after the repair: %+v", r)
		}
	})
}
