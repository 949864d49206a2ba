package households

import (
	"errors"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/errs"
)

func fieldOf(err error) map[string]string {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

func TestPersonSealedMaskedAndSearchable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		h := w.household("1-0101")
		ctx := w.as("butler")
		p, err := w.svc.CreatePerson(ctx, h.ID, PersonInput{Role: "owner", Name: "张三", Phones: []PhoneInput{{Number: "13800000001"}},
			IDNumber: strp("11010519491231002X"), Birthday: strp("1949-12-31"),
			Consents: []ConsentInput{{Purpose: "id_number", TextVersion: "v1", Channel: "paper"}, {Purpose: "birthday", TextVersion: "v1", Channel: "paper"}}})
		if err != nil {
			t.Fatal(err)
		}
		if p.Phones[0].Masked != "138****0001" || p.IDNumberMasked != "110***********002X" || p.BirthdayMasked != "****-12-31" {
			t.Errorf("masked: %+v %q %q", p.Phones, p.IDNumberMasked, p.BirthdayMasked)
		}
		// Nothing of the clear values is stored.
		var enc, idx, bday string
		if err := d.Q(ctx).QueryRowContext(ctx, `SELECT id_number_enc, id_number_idx, birthday_enc FROM household_people WHERE id = ?`, p.ID).Scan(&enc, &idx, &bday); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{enc, idx, bday} {
			if strings.Contains(v, "11010519491231002X") || strings.Contains(v, "1949-12-31") || v == "" {
				t.Errorf("stored %q", v)
			}
		}
		for _, q := range []string{"张三", "张", "三", "zs", "ZS", "0001", "13800000001", "800000001", "1-01", "1-0101", "0101"} {
			page, err := w.svc.ListHouseholds(ctx, HouseholdFilter{Q: q})
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			if len(page.Items) != 1 || page.Items[0].ID != h.ID {
				t.Errorf("search %q: %d items", q, len(page.Items))
			}
		}
		for _, q := range []string{"李", "9999", "2-0101", "ls"} {
			page, _ := w.svc.ListHouseholds(ctx, HouseholdFilter{Q: q})
			if len(page.Items) != 0 {
				t.Errorf("search %q found %d", q, len(page.Items))
			}
		}
		// The technician sees nothing.
		if _, err := w.svc.Person(w.as("tech"), p.ID); errs.CodeOf(err) != errs.ENotFound {
			t.Errorf("technician: %v", err)
		}
	})
}

func TestConsentRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		h := w.household("1-0201")
		ctx := w.as("butler")
		before := count(t, d, "household_people")
		// An ID number without its consent is refused and nothing is written.
		_, err := w.svc.CreatePerson(ctx, h.ID, PersonInput{Role: "owner", Name: "王五", IDNumber: strp("11010519491231002X")})
		if fieldOf(err)["id_number"] != "error.consent.required" {
			t.Fatalf("id without consent: %v", err)
		}
		if count(t, d, "household_people") != before || count(t, d, "person_consents") != 0 {
			t.Error("a refused person was written")
		}
		owner, err := w.svc.CreatePerson(ctx, h.ID, PersonInput{Role: "owner", Name: "王五", Phones: []PhoneInput{{Number: "13900001111"}}})
		if err != nil {
			t.Fatal(err)
		}
		// A child under 14 (by birthday) needs a guardian's consent for any data.
		kid := PersonInput{Role: "family", Relation: "女儿", Name: "王小妹", Birthday: strp("2020-06-01")}
		if _, err := w.svc.CreatePerson(ctx, h.ID, kid); fieldOf(err)["birthday"] != "error.consent.guardian_required" {
			t.Fatalf("child without guardian consent: %v", err)
		}
		kid.Consents = []ConsentInput{{Purpose: "minor", TextVersion: "v1", Channel: "paper", GivenBy: "self"}}
		if _, err := w.svc.CreatePerson(ctx, h.ID, kid); fieldOf(err)["consents[0].given_by"] == "" {
			t.Fatalf("minor consent by self: %v", err)
		}
		kid.Consents = []ConsentInput{{Purpose: "minor", TextVersion: "v1", Channel: "paper", GivenBy: "guardian", GuardianRelation: "父亲", GuardianPersonID: &owner.ID}}
		child, err := w.svc.CreatePerson(ctx, h.ID, kid)
		if err != nil {
			t.Fatal(err)
		}
		if !child.ChildUnder14 {
			t.Error("a child by birthday is not flagged")
		}
		hh, _ := w.svc.Household(ctx, h.ID)
		if !hh.HasChild {
			t.Error("household flag not kept")
		}
		// Withdrawing the guardian's consent deletes the child's data.
		full, _ := w.svc.Person(ctx, child.ID)
		if _, err := w.svc.WithdrawConsent(ctx, full.Consents[0].ID); err != nil {
			t.Fatal(err)
		}
		after, _ := w.svc.Person(ctx, child.ID)
		if after.BirthdayMasked != "" {
			t.Errorf("birthday kept after withdrawal: %q", after.BirthdayMasked)
		}
	})
}

func count(t testing.TB, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUnmaskIsLogged(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		h := w.household("2-0301")
		ctx := w.as("butler")
		p, err := w.svc.CreatePerson(ctx, h.ID, PersonInput{Role: "owner", Name: "赵六", Phones: []PhoneInput{{Number: "13711112222"}, {Label: "home", Number: "0755-12345678"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Unmask(ctx, p.ID, UnmaskInput{Field: "phone"}); fieldOf(err)["reason"] == "" {
			t.Fatalf("no reason: %v", err)
		}
		if n := count(t, d, "pii_access_log"); n != 0 {
			t.Fatalf("refused unmask logged %d rows", n)
		}
		out, err := w.svc.Unmask(ctx, p.ID, UnmaskInput{Field: "phone", Reason: "回访报修"})
		if err != nil {
			t.Fatal(err)
		}
		if out.Value != "13711112222" || len(out.Values) != 2 || out.Values[1] != "0755-12345678" {
			t.Errorf("unmasked %+v", out)
		}
		if _, err := w.svc.Unmask(w.as("tech"), p.ID, UnmaskInput{Field: "phone", Reason: "看看"}); errs.CodeOf(err) != errs.ENotFound {
			t.Errorf("technician unmask: %v", err)
		}
		log, err := w.svc.AccessLog(w.as("admin"), AccessFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(log.Items) != 1 {
			t.Fatalf("log: %+v", log.Items)
		}
		r := log.Items[0]
		if *r.StaffID != w.staff["butler"] || *r.PersonID != p.ID || r.Field != "phone" || r.Reason != "回访报修" || r.UnitNumber != "2-0301" {
			t.Errorf("log row %+v", r)
		}
		var after string
		if err := d.Q(ctx).QueryRowContext(ctx, `SELECT after_json FROM audit_log WHERE action = 'unmask'`).Scan(&after); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(after, "13711112222") {
			t.Error("the system log holds the clear value")
		}
		// The butler may not read the review log.
		if page, _ := w.svc.AccessLog(w.as("butler"), AccessFilter{}); len(page.Items) != 0 {
			t.Error("butler reads the access log")
		}
	})
}
