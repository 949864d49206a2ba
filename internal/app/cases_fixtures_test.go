package app_test

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/guanjia/guanjia/internal/apptest"
)

// pngFile is a tiny PNG, as an uploaded photo.
var pngFile = string(append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{5}, 64)...))

// residentPhone is the portal user the fixtures sign in as.
const residentPhone = "13955556666"

// caseSetup is what the service-desk and portal fixtures work on.
type caseSetup struct {
	fixtures map[string]writeFixture
	reads    map[string]string
	resident string // a portal token
}

var caseSetups sync.Map // *apptest.Env → caseSetup: both fixture maps of one test share it

// caseFixturesFor returns the test's case setup, making it once.
func caseFixturesFor(t *testing.T, e *apptest.Env, ids demoIDs) caseSetup {
	if cs, ok := caseSetups.Load(e); ok {
		return cs.(caseSetup)
	}
	cs := caseFixtures(t, e, ids)
	caseSetups.Store(e, cs)
	return cs
}

// freshVerify makes a resident and has a code sent to them, and returns a
// valid sign-in request with it.
func freshVerify(t *testing.T, e *apptest.Env) map[string]any {
	t.Helper()
	const phone = "13977778888"
	e.Resident("9-9902", "吴女士", phone)
	if res := e.Do("POST", "/api/portal/v1/auth/code", "", map[string]string{"phone": phone}, nil); res.StatusCode != http.StatusAccepted {
		t.Fatalf("code: %d %s", res.StatusCode, res.Body)
	}
	e.DeliverSMS()
	code := ""
	for _, line := range strings.Split(e.SMSLog.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "SMS to "+phone+":"); ok {
			code = regexp.MustCompile(`\b\d{6}\b`).FindString(rest)
		}
	}
	return map[string]any{"phone": phone, "code": code}
}

// caseFixtures opens a case in the state each action needs (in the
// garden's public area, category 电梯, which needs no signature), a
// resident with a completed case to rate, and a notification to read.
func caseFixtures(t *testing.T, e *apptest.Env, ids demoIDs) caseSetup {
	t.Helper()
	admin, butler, tech := e.Login("admin"), e.Login("butler"), e.Login("technician")
	one := func(q string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := e.DB.Q(t.Context()).QueryRowContext(t.Context(), q, args...).Scan(&id); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return id
	}
	category := one(`SELECT id FROM case_categories WHERE site_id = ? AND code = 'elevator'`, ids.Garden)
	engineering := one(`SELECT id FROM departments WHERE node_id = ? AND kind = 'engineering'`, ids.Garden)
	techID := ids.Staff["technician"]
	act := func(tok string, id int64, action string, body any) {
		t.Helper()
		if res := e.Do("POST", fmt.Sprintf("/api/v1/cases/%d/%s", id, action), tok, body, nil); res.StatusCode != http.StatusOK {
			t.Fatalf("fixture %s: %d %s", action, res.StatusCode, res.Body)
		}
	}
	open := func(steps ...string) int64 {
		t.Helper()
		var out struct{ Case struct{ ID int64 } }
		if res := e.Do("POST", "/api/v1/cases", butler, map[string]any{"type": "repair", "category_id": category, "site_id": ids.Garden,
			"area": "public", "description": "2 号电梯异响"}, &out); res.StatusCode != http.StatusCreated {
			t.Fatalf("fixture case: %d %s", res.StatusCode, res.Body)
		}
		id := out.Case.ID
		for _, s := range steps {
			switch s {
			case "dispatch":
				act(butler, id, "dispatch", map[string]any{"assignee_id": techID})
			case "pool":
				act(butler, id, "dispatch", map[string]any{"department_id": engineering})
			case "claim":
				act(tech, id, "claim", nil)
			case "admin-claim":
				act(admin, id, "claim", nil)
			case "pause":
				act(tech, id, "pause", map[string]any{"reason": "等待配件"})
			case "complete":
				act(tech, id, "complete", map[string]any{"note": "已更换按钮"})
			}
		}
		return id
	}
	path := func(id int64, action string) string { return fmt.Sprintf("/api/v1/cases/%d/%s", id, action) }
	withFile := open()
	var file struct{ ID int64 }
	if res := e.Do("POST", fmt.Sprintf("/api/v1/cases/%d/files?kind=photo", withFile), butler, pngFile, &file); res.StatusCode != http.StatusCreated {
		t.Fatalf("fixture file: %d %s", res.StatusCode, res.Body)
	}
	// A resident with a completed case of their own.
	hh := e.Resident("9-9901", "周先生", residentPhone)
	resident := e.PortalToken(residentPhone)
	var mine struct{ Case struct{ ID int64 } }
	if res := e.Do("POST", "/api/portal/v1/cases", resident, map[string]any{"type": "repair", "household_id": hh, "description": "阳台灯不亮"}, &mine); res.StatusCode != http.StatusCreated {
		t.Fatalf("fixture portal case: %d %s", res.StatusCode, res.Body)
	}
	act(butler, mine.Case.ID, "dispatch", map[string]any{"assignee_id": techID})
	act(tech, mine.Case.ID, "claim", nil)
	act(tech, mine.Case.ID, "complete", map[string]any{"note": "更换灯泡"})
	var photo struct{ ID int64 }
	if res := e.Do("POST", fmt.Sprintf("/api/portal/v1/cases/%d/photos", mine.Case.ID), resident, pngFile, &photo); res.StatusCode != http.StatusCreated {
		t.Fatalf("fixture portal photo: %d %s", res.StatusCode, res.Body)
	}
	// Something in the admin's bell.
	var note int64
	if err := e.DB.W.QueryRowContext(t.Context(), e.DB.Rebind(`INSERT INTO notifications (recipient_id, kind, subject, payload, created_at) VALUES (?, 'case.remind', 'case:0', '{"title":"催办"}', 0) RETURNING id`), ids.Staff["admin"]).Scan(&note); err != nil {
		t.Fatal(err)
	}
	return caseSetup{
		resident: resident,
		fixtures: map[string]writeFixture{
			"POST /api/v1/cases": fx("/api/v1/cases", map[string]any{"type": "repair", "category_id": category, "site_id": ids.Garden, "area": "public",
				"description": "3 号楼道灯不亮", "priority": "normal", "contact_name": "王女士", "contact_phone": "13800000009", "preferred_time": "明天上午", "source": "phone"}),
			"POST /api/v1/case-categories":          fx("/api/v1/case-categories", map[string]any{"site_id": ids.Garden, "code": "water_supply", "name": "二次供水", "department_kind": "engineering"}),
			"POST /api/v1/cases/{id}/files":         rawFx(fmt.Sprintf("/api/v1/cases/%d/files?kind=photo", withFile), pngFile),
			"POST /api/v1/cases/{id}/acknowledge":   fx(path(open(), "acknowledge"), map[string]any{"note": "已联系"}),
			"POST /api/v1/cases/dispatch":           fx("/api/v1/cases/dispatch", map[string]any{"case_ids": []int64{open(), open()}, "assignee_id": techID, "reason": "同一楼层一起修"}),
			"POST /api/v1/cases/{id}/dispatch":      fx(path(open(), "dispatch"), map[string]any{"assignee_id": techID}),
			"POST /api/v1/cases/{id}/claim":         fx(path(open("pool"), "claim"), nil),
			"POST /api/v1/cases/{id}/return":        fx(path(open("pool", "admin-claim"), "return"), map[string]any{"reason": "不是我的专业"}),
			"POST /api/v1/cases/{id}/arrive":        fx(path(open("dispatch", "claim"), "arrive"), nil),
			"POST /api/v1/cases/{id}/pause":         fx(path(open("dispatch", "claim"), "pause"), map[string]any{"reason": "等待配件"}),
			"POST /api/v1/cases/{id}/resume":        fx(path(open("dispatch", "claim", "pause"), "resume"), nil),
			"POST /api/v1/cases/{id}/complete":      fx(path(open("dispatch", "claim"), "complete"), map[string]any{"note": "已修复", "materials": "按钮×1", "labour_minutes": 30}),
			"POST /api/v1/cases/{id}/visit":         fx(path(open("dispatch", "claim", "complete"), "visit"), map[string]any{"method": "phone", "speed": 5, "quality": 4, "attitude": 5, "comment": "满意"}),
			"POST /api/v1/cases/{id}/reopen":        fx(path(open("dispatch", "claim", "complete"), "reopen"), map[string]any{"reason": "还有异响"}),
			"POST /api/v1/cases/{id}/close":         fx(path(open(), "close"), map[string]any{"reason": "重复报事"}),
			"POST /api/v1/cases/{id}/remind":        fx(path(open("dispatch"), "remind"), map[string]any{"reason": "业主催问"}),
			"POST /api/v1/notifications/{id}/read":  fx(fmt.Sprintf("/api/v1/notifications/%d/read", note), nil),
			"POST /api/v1/notifications/read-all":   fx("/api/v1/notifications/read-all", nil),
			"PUT /api/v1/notification-preferences":  fx("/api/v1/notification-preferences", map[string]any{"sms": false, "quiet_start": "21:30", "quiet_end": "08:00"}),
			"POST /api/portal/v1/auth/code":         fx("/api/portal/v1/auth/code", map[string]any{"phone": "13966667777"}),
			"POST /api/portal/v1/auth/verify":       fx("/api/portal/v1/auth/verify", map[string]any{"phone": residentPhone, "code": "000000"}),
			"POST /api/portal/v1/auth/logout":       fx("/api/portal/v1/auth/logout", nil),
			"POST /api/portal/v1/cases":             fx("/api/portal/v1/cases", map[string]any{"type": "inquiry", "household_id": hh, "description": "停车月卡怎么办理", "preferred_time": "周末"}),
			"POST /api/portal/v1/cases/{id}/photos": rawFx(fmt.Sprintf("/api/portal/v1/cases/%d/photos", mine.Case.ID), pngFile),
			"POST /api/portal/v1/cases/{id}/rate":   fx(fmt.Sprintf("/api/portal/v1/cases/%d/rate", mine.Case.ID), map[string]any{"speed": 5, "quality": 5, "attitude": 5, "comment": "很快"}),
		},
		reads: map[string]string{
			"GET /api/v1/cases/{id}":                      fmt.Sprintf("/api/v1/cases/%d", withFile),
			"GET /api/v1/cases/{id}/files/{file}":         fmt.Sprintf("/api/v1/cases/%d/files/%d", withFile, file.ID),
			"GET /api/v1/case-categories":                 fmt.Sprintf("/api/v1/case-categories?site_id=%d", ids.Garden),
			"GET /api/portal/v1/cases/{id}":               fmt.Sprintf("/api/portal/v1/cases/%d", mine.Case.ID),
			"GET /api/portal/v1/cases/{id}/photos/{file}": fmt.Sprintf("/api/portal/v1/cases/%d/photos/%d", mine.Case.ID, photo.ID),
		},
	}
}
