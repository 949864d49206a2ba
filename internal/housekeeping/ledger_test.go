package housekeeping

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/errs"
)

// TestLedgers: the minibar count posts consumption at the day's prices and
// lines to replenish, the day's sales add up, a found item may be disposed
// of only after the site's days, keys go out once and the end-of-shift
// check sees them, the handover log knows who has read an entry, the
// shift checklist ticks and unticks.
func TestLedgers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHotel(t, d, 1, 3, false)
		att, attID := h.staff("att1", "attendant")
		clerk, clerkID := h.staff("clerk1", "clerk")
		mgr, _ := h.staff("mgr1", "manager")
		coke, err := h.s.CreateMinibarItem(mgr, MinibarItemInput{SiteID: h.site, Code: "COKE", Name: "可乐", PriceFen: 1000, Par: 2})
		if err != nil {
			t.Fatal(err)
		}
		nuts, err := h.s.CreateMinibarItem(mgr, MinibarItemInput{SiteID: h.site, Code: "NUTS", Name: "坚果", PriceFen: 1850, Par: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.s.CreateMinibarItem(att, MinibarItemInput{SiteID: h.site, Code: "X", Name: "x", PriceFen: 1, Par: 1}); errs.CodeOf(err) == "" {
			t.Fatal("an attendant added a minibar item")
		}
		// The count.
		res, err := h.s.PostMinibar(att, h.rooms["101"], MinibarInput{Lines: []MinibarLine{{ItemID: coke.ID, Qty: 2}, {ItemID: nuts.ID, Qty: 1}}})
		if err != nil || res.TotalFen != 3850 || len(res.Items) != 2 {
			t.Fatalf("post: %+v %v", res, err)
		}
		if _, err := h.s.PostMinibar(att, h.rooms["101"], MinibarInput{Lines: []MinibarLine{{ItemID: 999999, Qty: 1}}}); errs.CodeOf(err) != errs.EInvalid {
			t.Fatalf("unknown item: %v", err)
		}
		if _, err := h.s.PostMinibar(att, h.rooms["102"], MinibarInput{Lines: []MinibarLine{{ItemID: coke.ID, Qty: 1}}}); err != nil {
			t.Fatal(err)
		}
		open, _ := h.s.ToReplenish(context.Background(), h.site)
		if len(open) != 3 {
			t.Fatalf("to replenish: %d", len(open))
		}
		if n, err := h.s.Replenish(att, h.site, []int64{open[0].ID, open[1].ID, 999999}); err != nil || n != 2 {
			t.Fatalf("replenish: %d %v", n, err)
		}
		day, err := h.s.MinibarSales(context.Background(), h.site, "2026-11-27")
		if err != nil || day.TotalFen != 4850 || len(day.Lines) != 2 || day.Lines[0].Qty != 3 {
			t.Fatalf("sales: %+v %v", day, err)
		}
		if Yuan(day.TotalFen) != "¥48.50" || Yuan(123456789) != "¥1,234,567.89" {
			t.Errorf("yuan: %s %s", Yuan(day.TotalFen), Yuan(123456789))
		}
		if tl := strings.Join(h.timeline("101"), "\n"); !strings.Contains(tl, "minibar (可乐×2、坚果×1 ¥38.50)") {
			t.Errorf("timeline lacks the count:\n%s", tl)
		}
		ps, err := h.s.ExportFolio(clerk, h.site, "2026-11-27")
		if err != nil || len(ps) != 3 {
			t.Fatalf("folio: %d %v", len(ps), err)
		}
		if n := h.count(`SELECT COUNT(*) FROM hk_minibar_postings WHERE exported_at IS NULL`); n != 0 {
			t.Errorf("%d postings not marked exported", n)
		}

		// Lost and found: disposal after the site's 90 days.
		f, err := h.s.RecordFoundInRoom(att, h.rooms["103"], FoundInput{Description: "手表", Valuable: true, Storage: "保险柜"})
		if err != nil || f.Place != "103" || !f.Valuable || f.Disposable {
			t.Fatalf("found: %+v %v", f, err)
		}
		err = h.s.FoundAction(clerk, f.ID, FoundActionInput{Action: "disposed"})
		var e *errs.Error
		if !errors.As(err, &e) || e.Code != errs.EConflict || e.Args["date"] != "2027-02-25" {
			t.Fatalf("early disposal: %v", err)
		}
		if err := h.s.FoundAction(clerk, f.ID, FoundActionInput{Action: "claimed"}); errs.CodeOf(err) != errs.EInvalid {
			t.Fatalf("claimed without a name: %v", err)
		}
		if err := h.s.FoundAction(clerk, f.ID, FoundActionInput{Action: "contacted", Note: "已电话客人"}); err != nil {
			t.Fatal(err)
		}
		h.clock.Add(91 * 24 * time.Hour)
		if err := h.s.FoundAction(clerk, f.ID, FoundActionInput{Action: "disposed", Note: "按规定处理"}); err != nil {
			t.Fatal(err)
		}
		if err := h.s.FoundAction(clerk, f.ID, FoundActionInput{Action: "claimed", ClaimedBy: "x"}); errs.CodeOf(err) != errs.EConflict {
			t.Fatalf("act on a closed item: %v", err)
		}
		h.clock.Set(at("09:00"))

		// Keys.
		ctx := context.Background()
		err = d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO hk_keys (site_id, kind, code, label, created_at) VALUES (?, 'key', '1', '', 0), (?, 'key', '2', '', 0)`, h.site, h.site)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		keys, _ := h.s.Keys(ctx, h.site)
		if err := h.s.IssueKey(clerk, keys[0].ID, KeyIssueInput{StaffID: attID, Shift: "day"}); err != nil {
			t.Fatal(err)
		}
		if err := h.s.IssueKey(clerk, keys[0].ID, KeyIssueInput{StaffID: clerkID, Shift: "day"}); errs.CodeOf(err) != errs.EConflict {
			t.Fatalf("issue twice: %v", err)
		}
		if err := h.s.IssueKey(att, keys[1].ID, KeyIssueInput{StaffID: attID, Shift: "day"}); errs.CodeOf(err) != errs.EForbidden {
			t.Fatalf("an attendant issuing keys: %v", err)
		}
		if c, _ := h.s.CheckKeys(ctx, h.site); c.AllBack || len(c.Out) != 1 || c.Out[0].Loan.StaffName != "att1" {
			t.Fatalf("check: %+v", c)
		}
		if err := h.s.ReturnKey(clerk, keys[0].ID); err != nil {
			t.Fatal(err)
		}
		if c, _ := h.s.CheckKeys(ctx, h.site); !c.AllBack || c.Keys != 2 {
			t.Fatalf("check after return: %+v", c)
		}

		// Handover.
		id, err := h.s.WriteHandover(clerk, HandoverInput{SiteID: h.site, Shift: ShiftEarly, Body: "101 客人要求加床"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.s.WriteHandover(att, HandoverInput{SiteID: h.site, Shift: ShiftEarly, Body: "x"}); errs.CodeOf(err) != errs.EForbidden {
			t.Fatalf("an attendant writing the log: %v", err)
		}
		if err := h.s.ReadHandover(att, id); err != nil {
			t.Fatal(err)
		}
		if err := h.s.ReadHandover(att, id); err != nil {
			t.Fatal("reading twice:", err)
		}
		es, _ := h.s.Handovers(att, h.site, 10)
		if len(es) != 1 || !es[0].ReadByMe || len(es[0].ReadBy) != 1 {
			t.Fatalf("handover: %+v", es)
		}

		// Shift checklist.
		if err := h.s.TickShift(clerk, ShiftTickInput{SiteID: h.site, Date: "2026-11-27", Shift: ShiftEarly, Item: "keys_collect", Done: true}); err != nil {
			t.Fatal(err)
		}
		if err := h.s.TickShift(clerk, ShiftTickInput{SiteID: h.site, Date: "2026-11-27", Shift: ShiftEarly, Item: "keys_return", Done: true}); errs.CodeOf(err) != errs.EInvalid {
			t.Fatalf("a middle-shift duty on the early shift: %v", err)
		}
		cl, _ := h.s.ShiftChecklist(ctx, h.site, "2026-11-27", ShiftEarly)
		if cl.Done != 1 || !cl.Items[0].Done || len(cl.Items) != 10 {
			t.Fatalf("checklist: %+v", cl)
		}
		if s, d := CurrentShift(at("00:10").In(shanghai)); s != ShiftNight || d != "2026-11-26" {
			t.Errorf("00:10 is the night shift of the day before: %s %s", s, d)
		}
		if s, _ := CurrentShift(at("12:00").In(shanghai)); s != ShiftMiddle {
			t.Errorf("12:00: %s", s)
		}

		// Laundry and lent items on the room's timeline.
		bag, err := h.s.PickupLaundry(att, h.rooms["102"], LaundryInput{BagNo: "L-1", Pieces: 3})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.s.ReturnLaundry(clerk, bag.ID, 4500); err != nil {
			t.Fatal(err)
		}
		if err := h.s.ReturnLaundry(clerk, bag.ID, 4500); errs.CodeOf(err) != errs.EConflict {
			t.Fatalf("return twice: %v", err)
		}
		lent, err := h.s.Lend(clerk, h.rooms["102"], LendInput{Item: "熨斗", Qty: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.s.ReturnLent(clerk, lent.ID); err != nil {
			t.Fatal(err)
		}
		tl := strings.Join(h.timeline("102"), "\n")
		for _, w := range []string{"laundry (L-1 3)", "laundry_returned (¥45.00)", "lent (熨斗×1)", "lent_returned (熨斗)"} {
			if !strings.Contains(tl, w) {
				t.Errorf("timeline lacks %q:\n%s", w, tl)
			}
		}
		if err := h.s.AddGuestNote(clerk, GuestNoteInput{SiteID: h.site, GuestRef: "会员 8812", Note: "高楼层"}); err != nil {
			t.Fatal(err)
		}
		if ns, _ := h.s.GuestNotes(ctx, h.site, "会员"); len(ns) != 1 {
			t.Fatalf("guest notes: %+v", ns)
		}
		if ns, _ := h.s.GuestNotes(ctx, h.site, "会员 9"); len(ns) != 0 {
			t.Fatalf("prefix search: %+v", ns)
		}
	})
}

// TestReport: rooms per attendant, minutes per clean type, inspections,
// DND outcomes, minibar sales and lost and found, from what happened.
func TestReport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHotel(t, d, 1, 4, false)
		att, attID := h.staff("att1", "attendant")
		sup, _ := h.staff("sup1", "supervisor")
		h.set("104", RoomStatusInput{Occupancy: Occupied})
		if _, err := h.s.Generate(sup, WorkDayInput{SiteID: h.site}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.s.AutoAssign(sup, AutoAssignInput{SiteID: h.site, AttendantIDs: []int64{attID}}); err != nil {
			t.Fatal(err)
		}
		mine, _ := h.s.MyWork(att)
		for i, w := range mine[:3] {
			h.clock.Set(at("09:00").Add(time.Duration(i) * time.Hour))
			if _, err := h.s.StartClean(att, w.ID); err != nil {
				t.Fatal(err)
			}
			h.clock.Add(time.Duration(20+10*i) * time.Minute)
			if _, err := h.s.FinishClean(att, w.ID, FinishCleanInput{Steps: allSteps(StandardChecklist)}); err != nil {
				t.Fatal(err)
			}
			result := "pass"
			if i == 2 {
				result = "fail"
			}
			if _, err := h.s.Inspect(sup, w.RoomID, InspectionInput{Result: result, Score: 80 + 5*i, Reasons: "镜面有水迹"}); err != nil {
				t.Fatal(err)
			}
		}
		r, err := h.s.Report(sup, h.site, "2026-11-27", "2026-11-27")
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Attendants) != 1 || r.Attendants[0].Rooms != 2 || r.Attendants[0].Inspections != 3 || r.Attendants[0].Passed != 2 {
			t.Fatalf("attendants: %+v", r.Attendants)
		}
		if r.Inspections.Total != 3 || r.Inspections.Passed != 2 || r.Inspections.AvgScore != 85 || r.Inspections.Percent() != "67%" {
			t.Fatalf("inspections: %+v", r.Inspections)
		}
		if len(r.CleanTypes) != 1 || r.CleanTypes[0].CleanType != CleanCheckout || r.CleanTypes[0].Minutes != 25 {
			t.Fatalf("clean types: %+v", r.CleanTypes)
		}
		if len(r.Days) != 1 || r.Days[0].Rooms != 2 {
			t.Fatalf("days: %+v", r.Days)
		}
		if _, err := h.s.Report(sup, h.site, "2026-12-01", "2026-11-01"); errs.CodeOf(err) != errs.EInvalid {
			t.Fatalf("backwards range: %v", err)
		}
		if _, err := h.s.Report(att, h.site, "", ""); errs.CodeOf(err) != errs.ENotFound {
			t.Fatalf("an attendant's report: %v", err)
		}
	})
}
