package households_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/households"
)

// allTables lists every table of the database, every module's and River's.
func allTables(t *testing.T, e *apptest.Env) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if e.DB.Dialect == db.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	rows, err := e.DB.Q(t.Context()).QueryContext(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// scan reads every column of every row of every table and reports where
// any needle appears.
func scan(t *testing.T, e *apptest.Env, needles []string) (hits []string, cells int) {
	t.Helper()
	ctx := t.Context()
	for _, table := range allTables(t, e) {
		rows, err := e.DB.Q(ctx).QueryContext(ctx, `SELECT * FROM `+table)
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				cells++
				var s string
				switch x := v.(type) {
				case nil:
					continue
				case []byte:
					s = string(x)
				case string:
					s = x
				default:
					s = fmt.Sprint(x)
				}
				for _, n := range needles {
					if strings.Contains(s, n) {
						hits = append(hits, fmt.Sprintf("%s.%s holds %q", table, cols[i], n))
					}
				}
			}
		}
		rows.Close()
	}
	return hits, cells
}

// unusedDay returns a month-day no person of the demo was born on, so the
// birthday's blind index is the erased person's alone.
func unusedDay(t *testing.T, e *apptest.Env) string {
	t.Helper()
	used := map[string]bool{}
	rows, err := e.DB.Q(t.Context()).QueryContext(t.Context(), `SELECT birthday_md_idx FROM household_people WHERE birthday_md_idx <> ''`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		used[s] = true
	}
	rows.Close()
	v := e.App.Households.Vault()
	for d := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2001; d = d.AddDate(0, 0, 1) {
		if !used[v.Index("birthday_md", d.Format("01-02"))] {
			return d.Format("01-02")
		}
	}
	t.Fatal("every day is somebody's birthday")
	return ""
}

// TestErasureLeavesNoTrace erases a person who was used everywhere (phones,
// ID number, birthday, notes, a car, a pet, consents, an unmasked phone, an
// export, contacts and a key mentioning them, a birthday task) and then
// reads every column of every table of the database, the system log's
// before/after JSON included: none holds the clear values, their sealed
// forms or their blind indexes. The statistics stay.
func TestErasureLeavesNoTrace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		ids := lookup(t, e)
		admin := e.Login("admin")
		const name, phone, phone2, idNumber, plate = "欧阳测删", "13655558888", "0755-86661234", "440305198803120011", "粤B9X8Y7"
		md := unusedDay(t, e)
		birthday := "1988-" + md
		var p households.Person
		res := e.Do("POST", fmt.Sprintf("/api/v1/households/%d/people", ids.household), admin, map[string]any{
			"role": "tenant", "name": name, "relation": "租客", "phones": []map[string]any{{"number": phone}, {"label": "home", "number": phone2}},
			"id_number": idNumber, "birthday": birthday, "notes": name + "每晚 22 点后回家", "vehicles": []map[string]any{{"plate": plate}},
			"pets":     []map[string]any{{"kind": "cat", "name": "测删的猫", "notes": name + "的猫"}},
			"consents": []map[string]any{{"purpose": "id_number", "text_version": "v1", "channel": "paper"}, {"purpose": "birthday", "text_version": "v1", "channel": "app"}},
		}, &p)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", res.StatusCode, res.Body)
		}
		// Use the person everywhere.
		ctx := t.Context()
		var sealed []string
		for _, q := range []string{`SELECT id_number_enc FROM household_people WHERE id = ?`, `SELECT id_number_idx FROM household_people WHERE id = ?`,
			`SELECT birthday_enc FROM household_people WHERE id = ?`, `SELECT birthday_md_idx FROM household_people WHERE id = ?`,
			`SELECT phone_enc FROM person_phones WHERE person_id = ? AND sort = 0`, `SELECT phone_idx FROM person_phones WHERE person_id = ? AND sort = 0`,
			`SELECT phone_enc FROM person_phones WHERE person_id = ? AND sort = 1`, `SELECT uid FROM household_people WHERE id = ?`} {
			var s string
			if err := e.DB.Q(ctx).QueryRowContext(ctx, q, p.ID).Scan(&s); err != nil || s == "" {
				t.Fatalf("%s: %q %v", q, s, err)
			}
			sealed = append(sealed, s)
		}
		sealed = sealed[:len(sealed)-1] // the uid is a reference, not personal data
		tail := e.App.Households.Vault().Index("phone_tail", "8888")
		tail2 := e.App.Households.Vault().Index("phone_tail", "1234")
		_ = tail2 // "1234" is a common tail: other people's index, not this person's alone
		sealed = append(sealed, tail)
		steps := []struct {
			method, path string
			body         any
			want         int
		}{
			{"POST", fmt.Sprintf("/api/v1/people/%d/unmask", p.ID), map[string]any{"field": "phone", "reason": "核实" + name + "的电话"}, 200},
			{"POST", fmt.Sprintf("/api/v1/people/%d/unmask", p.ID), map[string]any{"field": "id_number", "reason": "办理门禁卡"}, 200},
			{"POST", fmt.Sprintf("/api/v1/people/%d/export", p.ID), map[string]any{"reason": "本人申请查阅"}, 200},
			{"POST", fmt.Sprintf("/api/v1/households/%d/contacts", ids.household), map[string]any{"person_id": p.ID, "channel": "phone",
				"note": "打给 " + name + " " + phone + "，车 " + plate + " 挪一下"}, 201},
			{"POST", fmt.Sprintf("/api/v1/households/%d/keys", ids.household), map[string]any{"label": name + "的钥匙", "purposes": []string{"airing"},
				"received_from_person_id": p.ID, "notes": "联系 " + phone}, 201},
		}
		// The service desk and the portal keep copies of their own.
		steps = append(steps, struct {
			method, path string
			body         any
			want         int
		}{"POST", "/api/v1/cases", map[string]any{"type": "repair", "site_id": ids.site, "household_id": ids.household,
			"description": name + "家卫生间漏水，回电 " + phone, "contact_name": name, "contact_phone": phone}, 201})
		v := e.App.Households.Vault()
		portalEnc, _ := v.Seal("portal.phone", phone)
		if err := e.DB.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO portal_sessions (id_hash, phone_idx, phone_enc, csrf, kiosk, created_at, last_seen_at, expires_at)
				VALUES ('erase-test', ?, ?, 'x', FALSE, 0, 0, 0)`, v.Index("phone", phone), portalEnc)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, portalEnc, v.Index("phone", phone))
		for _, s := range steps {
			if res := e.Do(s.method, s.path, admin, s.body, nil); res.StatusCode != s.want {
				t.Fatalf("%s %s: %d %s", s.method, s.path, res.StatusCode, res.Body)
			}
		}
		// A birthday greeting for them, done with a note naming them.
		bd, _ := time.ParseInLocation("2006-01-02", "2030-"+md, time.FixedZone("CST", 8*3600))
		if _, err := e.App.Households.GenerateCare(context.Background(), bd.Add(9*time.Hour)); err != nil {
			t.Fatal(err)
		}
		var task int64
		if err := e.DB.Q(ctx).QueryRowContext(ctx, `SELECT id FROM care_tasks WHERE person_id = ? AND kind = 'birthday'`, p.ID).Scan(&task); err != nil {
			t.Fatalf("birthday task: %v", err)
		}
		if res := e.Do("POST", fmt.Sprintf("/api/v1/care-tasks/%d/complete", task), admin, map[string]any{"channel": "wechat", "note": "祝" + name + "生日快乐"}, nil); res.StatusCode != 200 {
			t.Fatalf("complete: %d %s", res.StatusCode, res.Body)
		}
		needles := append([]string{name, phone, "86661234", idNumber, birthday, plate, "测删的猫"}, sealed...)
		if hits, _ := scan(t, e, needles); len(hits) == 0 {
			t.Fatal("the scan finds nothing before the erasure: it cannot be trusted")
		}
		// Refused without the confirmation, then done.
		if res := e.Do("POST", fmt.Sprintf("/api/v1/people/%d/erase", p.ID), admin, map[string]any{"reason": "本人申请", "confirm": 1}, nil); res.StatusCode != 422 {
			t.Fatalf("erase without confirmation: %d", res.StatusCode)
		}
		if res := e.Do("POST", fmt.Sprintf("/api/v1/people/%d/erase", p.ID), e.Login("butler"), map[string]any{"reason": "本人申请", "confirm": p.ID}, nil); res.StatusCode != 403 {
			t.Fatalf("butler erasing: %d", res.StatusCode)
		}
		if res := e.Do("POST", fmt.Sprintf("/api/v1/people/%d/erase", p.ID), admin, map[string]any{"reason": name + "本人书面申请删除", "confirm": p.ID}, nil); res.StatusCode != 204 {
			t.Fatalf("erase: %d %s", res.StatusCode, res.Body)
		}
		hits, cells := scan(t, e, needles)
		for _, h := range hits {
			t.Error(h)
		}
		t.Logf("%d cells of %d tables scanned for %d values", cells, len(allTables(t, e)), len(needles))
		// Statistics stay: the person's row (role, household), the done task, the consents.
		var role, status string
		var done int
		if err := e.DB.Q(ctx).QueryRowContext(ctx, `SELECT role, status, (SELECT COUNT(*) FROM care_tasks WHERE person_id = ? AND status = 'done')
			FROM household_people WHERE id = ?`, p.ID, p.ID).Scan(&role, &status, &done); err != nil {
			t.Fatal(err)
		}
		if role != "tenant" || status != "erased" || done != 1 || e.Count("person_consents") == 0 {
			t.Errorf("statistics lost: %s %s %d", role, status, done)
		}
		// And the person is gone from search, pages and the API.
		var page households.HouseholdPage
		e.Do("GET", "/api/v1/households?q=8888", admin, nil, &page)
		if len(page.Items) != 0 {
			t.Errorf("still found by phone suffix: %+v", page.Items)
		}
		if res := e.Do("POST", fmt.Sprintf("/api/v1/people/%d/unmask", p.ID), admin, map[string]any{"field": "phone", "reason": "再看看"}, nil); res.StatusCode != 409 {
			t.Errorf("unmask after erasure: %d", res.StatusCode)
		}
	})
}
