package app_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/housekeeping"
)

// hkFixtures are valid requests for the housekeeping write routes. Each
// fixture that changes a room has a room of its own in the state it needs,
// so the order they run in does not matter.
func hkFixtures(t *testing.T, e *apptest.Env, ids demoIDs) map[string]writeFixture {
	t.Helper()
	ctx := t.Context()
	admin := e.Login("admin")
	one := func(q string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := e.DB.Q(ctx).QueryRowContext(ctx, q, args...).Scan(&id); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return id
	}
	do := func(method, path string, body any, want int) {
		t.Helper()
		if res := e.Do(method, path, admin, body, nil); res.StatusCode != want {
			t.Fatalf("fixture %s %s: %d %s", method, path, res.StatusCode, res.Body)
		}
	}
	std := one(`SELECT id FROM hk_room_types WHERE site_id = ? AND code = 'STD'`, ids.Hotel)
	floor1 := ids.Floor
	// Fresh rooms on the first floor, vacant and dirty.
	var created housekeeping.RoomsCreated
	if res := e.Do("POST", "/api/v1/hk/rooms", admin, map[string]any{"site_id": ids.Hotel, "floor_id": floor1, "floor": 1, "type_id": std,
		"numbers": []string{"1F1", "1F2", "1F3", "1F4", "1F5"}}, &created); res.StatusCode != http.StatusCreated || len(created.Items) != 5 {
		t.Fatalf("fixture rooms: %d %s", res.StatusCode, res.Body)
	}
	room := func(i int) int64 { return created.Items[i].ID }
	// 1F3 is clean, ready for an inspection.
	do("POST", fmt.Sprintf("/api/v1/hk/rooms/%d/status", room(2)), map[string]any{"cleaning": "clean"}, http.StatusOK)
	// Today's work: one open item for a vacant room, one for an occupied
	// room, one started.
	openWork := func(occupied bool, skip ...int64) int64 {
		t.Helper()
		occ := "vacant"
		if occupied {
			occ = "occupied"
		}
		q := `SELECT MIN(w.id) FROM hk_work w JOIN hk_rooms r ON r.id = w.room_id WHERE w.site_id = ? AND w.state = 'open' AND r.occupancy = ?
			AND r.flags NOT LIKE '%dnd%' AND r.cleaning = 'dirty'`
		args := []any{ids.Hotel, occ}
		for _, s := range skip {
			q += ` AND w.id <> ?`
			args = append(args, s)
		}
		return one(q, args...)
	}
	startW := openWork(false)
	finishW := openWork(false, startW)
	assignW := openWork(false, startW, finishW)
	skipW := openWork(true)
	do("POST", fmt.Sprintf("/api/v1/hk/work/%d/start", finishW), nil, http.StatusOK)
	// An open DND call: an occupied room shows DND and its call time comes.
	dndRoom := one(`SELECT MIN(id) FROM hk_rooms WHERE site_id = ? AND occupancy = 'occupied' AND flags = ''`, ids.Hotel)
	do("POST", fmt.Sprintf("/api/v1/hk/rooms/%d/status", dndRoom), map[string]any{"flags": map[string]bool{"dnd": true}}, http.StatusOK)
	timer := one(`SELECT id FROM timers WHERE kind = 'hk.dnd_call' AND subject = ? AND state = 'pending'`, fmt.Sprintf("room:%d", dndRoom))
	if _, err := e.DB.W.ExecContext(ctx, e.DB.Rebind(`UPDATE timers SET due_at = ? WHERE id = ?`), db.Ms(time.Now().Add(-time.Minute)), timer); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.App.Timers.Fire(ctx, timer); err != nil || !ok {
		t.Fatalf("fixture DND call: %v %v", ok, err)
	}
	task := one(`SELECT id FROM hk_tasks WHERE room_id = ? AND state = 'open'`, dndRoom)
	site := ids.Hotel
	today := time.Now().In(shanghai).Format(time.DateOnly)
	coke := one(`SELECT id FROM hk_minibar_items WHERE site_id = ? AND code = 'COKE'`, ids.Hotel)
	return map[string]writeFixture{
		"POST /api/v1/hk/rooms":             fx("/api/v1/hk/rooms", map[string]any{"site_id": site, "floor_id": floor1, "floor": 1, "type_id": std, "numbers": []string{"1F9"}}),
		"POST /api/v1/hk/rooms/{id}/status": fx(fmt.Sprintf("/api/v1/hk/rooms/%d/status", room(0)), map[string]any{"cleaning": "cleaning", "note": "先做这间"}),
		"POST /api/v1/hk/rooms/bulk-status": fx("/api/v1/hk/rooms/bulk-status", map[string]any{"room_ids": []int64{room(1)}, "cleaning": "clean"}),
		"POST /api/v1/hk/rooms/{id}/inspection": fx(fmt.Sprintf("/api/v1/hk/rooms/%d/inspection", room(2)), map[string]any{"result": "pass", "score": 95,
			"failed_items": []string{}, "reasons": ""}),
		"POST /api/v1/hk/rooms/{id}/damage": fx(fmt.Sprintf("/api/v1/hk/rooms/%d/damage", room(3)), map[string]any{"description": "台灯不亮",
			"out_of_order": true, "until": today}),
		"POST /api/v1/hk/front-office":     fx("/api/v1/hk/front-office", map[string]any{"site_id": site, "items": []map[string]string{{"room": "1F5", "event": "arrival"}}}),
		"POST /api/v1/hk/front-office/csv": rawFx(fmt.Sprintf("/api/v1/hk/front-office/csv?site_id=%d", site), "房号,事件\n1F5,预抵\n"),
		"POST /api/v1/hk/room-types": fx("/api/v1/hk/room-types", map[string]any{"site_id": site, "code": "TWN", "name": "双床房", "bed_style": "western",
			"credits": map[string]int{"checkout": 10, "stayover": 5}, "minutes": map[string]int{"checkout": 30}, "checklist": []map[string]string{{"id": "knock"}, {"id": "own", "text": "检查保险箱"}}}),
		"PUT /api/v1/hk/sites/{id}/settings": fx(fmt.Sprintf("/api/v1/hk/sites/%d/settings", site), map[string]any{"inspection_required": true,
			"dnd_call_times": []string{"12:00", "14:00"}, "roll_time": "03:00", "rooms_min": 12, "rooms_max": 16, "lost_found_days": 90}),
		"POST /api/v1/hk/work/generate": fx("/api/v1/hk/work/generate", map[string]any{"site_id": site, "date": today}),
		"POST /api/v1/hk/work/auto-assign": fx("/api/v1/hk/work/auto-assign", map[string]any{"site_id": site, "date": today,
			"attendant_ids": []int64{ids.Staff["attendant"]}, "max_rooms": 16}),
		"POST /api/v1/hk/work/{id}/assign":   fx(fmt.Sprintf("/api/v1/hk/work/%d/assign", assignW), map[string]any{"attendant_id": ids.Staff["attendant"], "position": 1}),
		"POST /api/v1/hk/work/{id}/start":    fx(fmt.Sprintf("/api/v1/hk/work/%d/start", startW), nil),
		"POST /api/v1/hk/work/{id}/finish":   fx(fmt.Sprintf("/api/v1/hk/work/%d/finish", finishW), map[string]any{"steps": stepIDs(), "note": ""}),
		"POST /api/v1/hk/work/{id}/skip":     fx(fmt.Sprintf("/api/v1/hk/work/%d/skip", skipW), map[string]any{"reason": "dnd", "note": "门外挂勿扰牌"}),
		"POST /api/v1/hk/rooms/{id}/minibar": fx(fmt.Sprintf("/api/v1/hk/rooms/%d/minibar", room(4)), map[string]any{"lines": []map[string]any{{"item_id": coke, "qty": 2}}}),
		"POST /api/v1/hk/rooms/{id}/laundry": fx(fmt.Sprintf("/api/v1/hk/rooms/%d/laundry", room(4)), map[string]any{"bag_no": "L-0901", "pieces": 3, "note": "西装干洗"}),
		"POST /api/v1/hk/rooms/{id}/found": fx(fmt.Sprintf("/api/v1/hk/rooms/%d/found", room(4)), map[string]any{"place": "", "description": "眼镜",
			"valuable": false, "storage": "A 柜"}),
		"POST /api/v1/hk/tasks/{id}/outcome": fx(fmt.Sprintf("/api/v1/hk/tasks/%d/outcome", task), map[string]any{"outcome": "service_later",
			"service_at": time.Now().Add(time.Hour).UTC().Truncate(time.Second), "note": "客人说一小时后"}),
	}
}

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}()

func stepIDs() []string {
	var out []string
	for _, s := range housekeeping.StandardChecklist {
		out = append(out, s.ID)
	}
	return out
}

// hkReads are the housekeeping GET routes with a path id.
func hkReads(t *testing.T, e *apptest.Env, ids demoIDs) map[string]string {
	t.Helper()
	var room int64
	if err := e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT MIN(id) FROM hk_rooms`).Scan(&room); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"GET /api/v1/hk/rooms/{id}":          fmt.Sprintf("/api/v1/hk/rooms/%d", room),
		"GET /api/v1/hk/rooms/{id}/events":   fmt.Sprintf("/api/v1/hk/rooms/%d/events?limit=10", room),
		"GET /api/v1/hk/sites/{id}/settings": fmt.Sprintf("/api/v1/hk/sites/%d/settings", ids.Hotel),
	}
}
