package housekeeping

import (
	"context"
	"slices"
	"testing"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/errs"
)

func TestExpandNumbers(t *testing.T) {
	got, err := ExpandNumbers("801-803, 810，0901-0902")
	if err != nil || !slices.Equal(got, []string{"801", "802", "803", "810", "0901", "0902"}) {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"", "803-801", "8a-9", "1-9999"} {
		if _, err := ExpandNumbers(bad); errs.CodeOf(err) != errs.EInvalid {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestOwnChecklist: a room type's own checklist replaces the standard one
// for finishing a clean, and can be set back.
func TestOwnChecklist(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHotel(t, d, 1, 1, false)
		mgr, _ := h.staff("mgr1", "manager")
		att, _ := h.staff("att1", "attendant")
		sup, _ := h.staff("sup1", "supervisor")
		own := []ChecklistStep{{ID: "s1", Text: "检查保险箱"}, {ID: "s2", Text: "更换浴袍"}}
		if err := h.s.SetChecklist(att, h.typeID, own); errs.CodeOf(err) != errs.ENotFound {
			t.Fatalf("an attendant changing the checklist: %v", err)
		}
		if err := h.s.SetChecklist(mgr, h.typeID, own); err != nil {
			t.Fatal(err)
		}
		if _, err := h.s.Generate(sup, WorkDayInput{SiteID: h.site}); err != nil {
			t.Fatal(err)
		}
		items, _ := h.s.Work(context.Background(), h.site, "", 0)
		w := items.Items[0]
		if _, err := h.s.StartClean(att, w.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := h.s.FinishClean(att, w.ID, FinishCleanInput{Steps: allSteps(StandardChecklist)}); errs.CodeOf(err) != errs.EInvalid {
			t.Fatalf("the standard steps on a type with its own: %v", err)
		}
		if _, err := h.s.FinishClean(att, w.ID, FinishCleanInput{Steps: []string{"s1", "s2"}}); err != nil {
			t.Fatal(err)
		}
		if err := h.s.SetChecklist(mgr, h.typeID, nil); err != nil {
			t.Fatal(err)
		}
		rt, _ := h.s.roomType(context.Background(), h.typeID)
		if len(rt.Checklist) != len(StandardChecklist) {
			t.Fatalf("back to standard: %d steps", len(rt.Checklist))
		}
	})
}
