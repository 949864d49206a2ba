package households

import (
	"errors"
	"testing"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/pii"
)

// TestRekey rotates the key: with the new key first in the ring and the
// old one after it, searches keep working while rows are still under the
// old key, Rekey moves every sealed value and index to the new key, and
// then the new key alone opens everything.
func TestRekey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		oldSpec := pii.NewKeySpec("k1")
		oldVault, _ := pii.ParseKeys(oldSpec)
		w.svc = NewService(d, audit.New(d), oldVault, w.auth, DefaultConfig(), nil, nil)
		h := w.household("1-0101")
		ctx := w.as("butler")
		p, err := w.svc.CreatePerson(ctx, h.ID, PersonInput{Role: "owner", Name: "孙悟空", Phones: []PhoneInput{{Number: "13712345678"}},
			IDNumber: strp("11010519491231002X"), Birthday: strp("1949-12-31"),
			Consents: []ConsentInput{{Purpose: "id_number", TextVersion: "v1", Channel: "paper"}, {Purpose: "birthday", TextVersion: "v1", Channel: "paper"}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.svc.CheckKey(ctx); err != nil {
			t.Fatal(err)
		}
		newSpec := pii.NewKeySpec("k2")
		ring, _ := pii.ParseKeys(newSpec + "," + oldSpec)
		w.svc = NewService(d, audit.New(d), ring, w.auth, DefaultConfig(), nil, nil)
		if err := w.svc.CheckKey(ctx); err != nil {
			t.Fatalf("the ring with the old key: %v", err)
		}
		// Mid-rotation: old rows are found under the old key's index.
		if page, _ := w.svc.ListHouseholds(ctx, HouseholdFilter{Q: "5678"}); len(page.Items) != 1 {
			t.Fatal("not found by phone suffix during the rotation")
		}
		rep, err := w.svc.Rekey(ctx, 1)
		if err != nil || rep.People != 1 || rep.Phones != 1 {
			t.Fatalf("rekey %+v %v", rep, err)
		}
		if ids, _ := w.svc.KeyIDsInUse(ctx); len(ids) != 1 || ids[0] != "k2" {
			t.Fatalf("keys in use after rekey: %v", ids)
		}
		if again, _ := w.svc.Rekey(ctx, 10); again.People != 0 {
			t.Errorf("a second rekey did %+v", again)
		}
		// The new key alone now opens everything.
		alone, _ := pii.ParseKeys(newSpec)
		w.svc = NewService(d, audit.New(d), alone, w.auth, DefaultConfig(), nil, nil)
		out, err := w.svc.Unmask(ctx, p.ID, UnmaskInput{Field: "id_number", Reason: "轮换后核对"})
		if err != nil || out.Value != "11010519491231002X" {
			t.Fatalf("after rotation: %+v %v", out, err)
		}
		if page, _ := w.svc.ListHouseholds(ctx, HouseholdFilter{Q: "5678"}); len(page.Items) != 1 {
			t.Error("not found by phone suffix after the rotation")
		}
		// The old key alone no longer opens what is stored: refused at start.
		w.svc = NewService(d, audit.New(d), oldVault, w.auth, DefaultConfig(), nil, nil)
		if err := w.svc.CheckKey(ctx); !errors.Is(err, ErrWrongKey) {
			t.Errorf("the old key alone after the rotation: %v", err)
		}
		// A wrong key with a known id is refused at start.
		wrong, _ := pii.ParseKeys(pii.NewKeySpec("k2"))
		w.svc = NewService(d, audit.New(d), wrong, w.auth, DefaultConfig(), nil, nil)
		if err := w.svc.CheckKey(ctx); err == nil {
			t.Error("a different key under a known id was accepted")
		}
	})
}
