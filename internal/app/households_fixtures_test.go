package app_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/households"
)

// householdSetup is what the households fixtures work on; each write
// fixture has a record of its own, so the order they run in does not matter.
type householdSetup struct {
	household, owner, unit, freeUnit, moveOut, erasee, consent, event, keyA, keyB, task, butler2Household int64
}

func householdRecords(t *testing.T, e *apptest.Env, ids demoIDs) householdSetup {
	t.Helper()
	admin := e.Login("admin")
	one := func(q string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := e.DB.Q(t.Context()).QueryRowContext(t.Context(), q, args...).Scan(&id); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return id
	}
	post := func(path string, body any) int64 {
		t.Helper()
		var out struct {
			ID int64 `json:"id"`
		}
		if res := e.Do("POST", path, admin, body, &out); res.StatusCode != http.StatusCreated {
			t.Fatalf("fixture %s: %d %s", path, res.StatusCode, res.Body)
		}
		return out.ID
	}
	var s householdSetup
	s.household = one(`SELECT h.id FROM households h JOIN units u ON u.id = h.unit_id WHERE u.number = ? AND h.status = 'current'`, households.DemoOwnerUnit)
	s.unit = one(`SELECT unit_id FROM households WHERE id = ?`, s.household)
	s.owner = one(`SELECT id FROM household_people WHERE household_id = ? AND name = ?`, s.household, households.DemoOwnerName)
	butler := ids.Staff["butler"]
	s.freeUnit = post("/api/v1/units", map[string]any{"site_id": ids.Garden, "number": "1-2101", "layout": "3室2厅"})
	moveUnit := post("/api/v1/units", map[string]any{"site_id": ids.Garden, "number": "1-2102"})
	s.moveOut = post("/api/v1/households", map[string]any{"unit_id": moveUnit, "butler_id": butler})
	hh := fmt.Sprintf("/api/v1/households/%d", s.household)
	s.erasee = post(hh+"/people", map[string]any{"role": "tenant", "name": "待删除", "phones": []map[string]any{{"number": "13912340000"}}})
	s.consent = post(fmt.Sprintf("/api/v1/people/%d/consents", s.owner), map[string]any{"purpose": "birthday", "text_version": "2026-02", "channel": "app"})
	s.event = post(hh+"/events", map[string]any{"kind": "birth", "starts_on": time.Now().Format("2006-01-02")})
	s.keyA = post(hh+"/keys", map[string]any{"label": "入户门钥匙 A", "purposes": []string{"airing"}})
	s.keyB = post(hh+"/keys", map[string]any{"label": "入户门钥匙 B", "purposes": []string{"airing", "checks"}})
	s.task = one(`SELECT MIN(id) FROM care_tasks WHERE status = 'open' AND household_id <> ?`, s.moveOut)
	s.butler2Household = one(`SELECT MIN(h.id) FROM households h JOIN staff st ON st.id = h.butler_id WHERE st.username = ?`, households.DemoSecondButler)
	return s
}

// importFile is a valid one-row import.
func importFile(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	if err := households.Template(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	row := []any{"1-2103", 90, "2室2厅", "已入住", "自住", "butler", "导入测试", "业主", "", "男", "13911112222", "", "", "", "否", "否", "否", "",
		"", "", "", "", "", ""}
	if err := f.SetSheetRow(households.SheetName, "A2", &row); err != nil {
		t.Fatal(err)
	}
	if err := f.RemoveRow(households.SheetName, 3); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := f.Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// householdFixtures are valid requests for the households write routes.
func householdFixtures(t *testing.T, e *apptest.Env, ids demoIDs) map[string]writeFixture {
	t.Helper()
	s := householdRecords(t, e, ids)
	now := time.Now().UTC().Truncate(time.Second)
	hh := func(suffix string) string { return fmt.Sprintf("/api/v1/households/%d%s", s.household, suffix) }
	person := func(suffix string) string { return fmt.Sprintf("/api/v1/people/%d%s", s.owner, suffix) }
	return map[string]writeFixture{
		"POST /api/v1/units": fx("/api/v1/units", map[string]any{"site_id": ids.Garden, "building_id": ids.Building, "number": "1-2104", "floor": 21,
			"area_m2": 88.5, "layout": "2室2厅", "state": "delivered"}),
		"PUT /api/v1/units/{id}": fx(fmt.Sprintf("/api/v1/units/%d", s.freeUnit), map[string]any{"site_id": ids.Garden, "building_id": ids.Building,
			"number": "1-2101", "floor": 21, "area_m2": 120.5, "layout": "3室2厅", "state": "decorating"}),
		"POST /api/v1/households": fx("/api/v1/households", map[string]any{"unit_id": s.freeUnit, "butler_id": ids.Staff["butler"], "residency": "living",
			"moved_in_on": "2026-01-01", "notes": "新交房"}),
		"PUT /api/v1/households/{id}": fx(hh(""), map[string]any{"unit_id": s.unit, "residency": "living", "moved_in_on": "2010-05-01",
			"notes": "业主喜欢安静"}),
		"POST /api/v1/households/{id}/move-out": fx(fmt.Sprintf("/api/v1/households/%d/move-out", s.moveOut), map[string]any{"moved_out_on": now.Format("2006-01-02"),
			"unit_state": "vacant"}),
		"POST /api/v1/households/{id}/people": fx(hh("/people"), map[string]any{"role": "family", "relation": "女儿", "name": "张小妹", "gender": "f",
			"phones": []map[string]any{{"label": "mobile", "number": "13987650000"}}, "notes": "钢琴课周六上午", "elderly_alone": false,
			"child_under_14": false, "needs_assistance": false, "vehicles": []map[string]any{}, "pets": []map[string]any{{"kind": "cat", "name": "咪咪"}},
			"consents": []map[string]any{}}),
		"PUT /api/v1/people/{id}": fx(person(""), map[string]any{"role": "owner", "relation": "", "name": households.DemoOwnerName, "gender": "m",
			"notes": "喜欢安静；快递放前台", "elderly_alone": false, "child_under_14": false, "needs_assistance": false}),
		"POST /api/v1/people/{id}/unmask":     fx(person("/unmask"), map[string]any{"field": "phone", "reason": "回访报修"}),
		"POST /api/v1/people/{id}/consents":   fx(person("/consents"), map[string]any{"purpose": "id_number", "text_version": "2026-02", "channel": "paper", "given_by": "self"}),
		"POST /api/v1/consents/{id}/withdraw": fx(fmt.Sprintf("/api/v1/consents/%d/withdraw", s.consent), nil),
		"POST /api/v1/people/{id}/export":     fx(person("/export"), map[string]any{"reason": "本人申请查阅"}),
		"POST /api/v1/people/{id}/erase":      fx(fmt.Sprintf("/api/v1/people/%d/erase", s.erasee), map[string]any{"reason": "本人申请删除", "confirm": s.erasee}),
		"POST /api/v1/households/{id}/events": fx(hh("/events"), map[string]any{"kind": "wedding", "starts_on": now.AddDate(0, 0, 20).Format("2006-01-02"),
			"notes": "来宾约 40 人"}),
		"POST /api/v1/households/{id}/arrivals": fx(hh("/arrivals"), map[string]any{"arrive_at": now.Add(72 * time.Hour), "prepare": []string{"airing", "ac_on"},
			"notes": "周五回来"}),
		"POST /api/v1/events/{id}/cancel":       fx(fmt.Sprintf("/api/v1/events/%d/cancel", s.event), nil),
		"POST /api/v1/care-tasks/{id}/complete": fx(fmt.Sprintf("/api/v1/care-tasks/%d/complete", s.task), map[string]any{"channel": "phone", "note": "已问候"}),
		"POST /api/v1/households/{id}/contacts": fx(hh("/contacts"), map[string]any{"person_id": s.owner, "channel": "visit", "note": "上门回访"}),
		"POST /api/v1/households/{id}/keys": fx(hh("/keys"), map[string]any{"label": "车库钥匙", "purposes": []string{"checks"}, "storage": "A-3",
			"received_from_person_id": s.owner, "notes": "出差期间"}),
		"POST /api/v1/keys/{id}/uses": fx(fmt.Sprintf("/api/v1/keys/%d/uses", s.keyB), map[string]any{"purpose": "airing", "accompanied_by": "秩序部 李师傅",
			"note": "通风半小时", "taken_at": now.Add(-2 * time.Hour), "back_at": now.Add(-time.Hour)}),
		"POST /api/v1/keys/{id}/return": fx(fmt.Sprintf("/api/v1/keys/%d/return", s.keyA), map[string]any{"returned_to_person_id": s.owner, "note": "业主回来了"}),
		"POST /api/v1/handovers": fx("/api/v1/handovers", map[string]any{"from_butler_id": e.StaffID(households.DemoSecondButler), "to_butler_id": ids.Staff["butler"],
			"household_ids": []int64{s.butler2Household}, "reason": "片区调整"}),
		"POST /api/v1/households/import": rawFx(fmt.Sprintf("/api/v1/households/import?site_id=%d", ids.Garden), importFile(t)),
	}
}

// householdReads are GET requests on existing records.
func householdReads(t *testing.T, e *apptest.Env) map[string]string {
	t.Helper()
	var hh, unit, owner int64
	err := e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT h.id, h.unit_id, (SELECT MIN(id) FROM household_people WHERE household_id = h.id)
		FROM households h JOIN units u ON u.id = h.unit_id WHERE u.number = ? AND h.status = 'current'`, households.DemoOwnerUnit).Scan(&hh, &unit, &owner)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"GET /api/v1/units/{id}":      fmt.Sprintf("/api/v1/units/%d", unit),
		"GET /api/v1/households/{id}": fmt.Sprintf("/api/v1/households/%d", hh),
		"GET /api/v1/people/{id}":     fmt.Sprintf("/api/v1/people/%d", owner),
	}
}
