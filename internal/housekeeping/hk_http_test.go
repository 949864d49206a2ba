package housekeeping_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/housekeeping"
)

type apiError struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
		Details map[string]any    `json:"details"`
	} `json:"error"`
}

// page fetches a page as a signed-in browser would see it.
func page(t *testing.T, e *apptest.Env, token, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/html")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func hotelID(t *testing.T, e *apptest.Env) int64 {
	t.Helper()
	var id int64
	if err := e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT id FROM org_nodes WHERE name = '示例酒店'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func roomID(t *testing.T, e *apptest.Env, number string) int64 {
	t.Helper()
	var id int64
	if err := e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT id FROM hk_rooms WHERE number = ?`, number).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestContract is the contract: the rooms list with every
// dimension and the code, a status change answering 200 or 409 naming the
// allowed values, and the board at a past instant.
func TestContract(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		site := hotelID(t, e)
		sup := e.Login(housekeeping.DemoSupervisor)
		var rooms housekeeping.RoomList
		if res := e.Do("GET", fmt.Sprintf("/api/v1/hk/rooms?site_id=%d", site), e.Login("clerk"), nil, &rooms); res.StatusCode != 200 || len(rooms.Items) != 120 {
			t.Fatalf("rooms: %d, %d items", res.StatusCode, len(rooms.Items))
		}
		codes := map[string]int{}
		for _, r := range rooms.Items {
			codes[r.Code]++
		}
		for _, c := range []string{"VC", "VD", "OD", "DND", "OOO", "OOS"} {
			if codes[c] == 0 {
				t.Errorf("the demo has no %s room: %v", c, codes)
			}
		}
		var vd housekeeping.Room
		for _, r := range rooms.Items {
			if r.Code == "VD" && r.Cleaning == "dirty" && r.WorkState == "" {
				vd = r
				break
			}
		}
		if vd.ID == 0 {
			for _, r := range rooms.Items {
				if r.Code == "VD" && r.Cleaning == "dirty" {
					vd = r
					break
				}
			}
		}
		var eb apiError
		res := e.Do("POST", fmt.Sprintf("/api/v1/hk/rooms/%d/status", vd.ID), sup, map[string]any{"cleaning": "inspected"}, &eb)
		if res.StatusCode != http.StatusConflict || !strings.Contains(string(res.Body), `"allowed":["cleaning","clean"]`) {
			t.Fatalf("dirty→inspected: %d %s", res.StatusCode, res.Body)
		}
		before := time.Now().UTC()
		time.Sleep(5 * time.Millisecond)
		var r housekeeping.Room
		if res := e.Do("POST", fmt.Sprintf("/api/v1/hk/rooms/%d/status", vd.ID), sup, map[string]any{"cleaning": "clean"}, &r); res.StatusCode != 200 || r.Cleaning != "clean" {
			t.Fatalf("dirty→clean: %d %s", res.StatusCode, res.Body)
		}
		if res := e.Do("POST", fmt.Sprintf("/api/v1/hk/rooms/%d/status", vd.ID), e.Login("attendant"), map[string]any{"cleaning": "inspected"}, nil); res.StatusCode != http.StatusForbidden {
			t.Fatalf("attendant inspecting: %d %s", res.StatusCode, res.Body)
		}
		var past housekeeping.RoomBoard
		if res := e.Do("GET", fmt.Sprintf("/api/v1/hk/board?site_id=%d&at=%s", site, before.Format(time.RFC3339Nano)), sup, nil, &past); res.StatusCode != 200 {
			t.Fatalf("board at: %d %s", res.StatusCode, res.Body)
		}
		for _, f := range past.Floors {
			for _, pr := range f.Rooms {
				if pr.ID == vd.ID && pr.Cleaning != "dirty" {
					t.Errorf("the past board shows %s as %s", pr.Number, pr.Cleaning)
				}
			}
		}
		if res := e.Do("GET", fmt.Sprintf("/api/v1/hk/board?site_id=%d&at=yesterday", site), sup, nil, nil); res.StatusCode != 422 {
			t.Errorf("bad at: %d", res.StatusCode)
		}
	})
}

// TestPages renders every housekeeping page for the people who use it.
func TestPages(t *testing.T) {
	e := apptest.Start(t, dbtest.Open(t, db.SQLite))
	room := roomID(t, e, "801")
	var work int64
	_ = e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT MIN(id) FROM hk_work WHERE attendant_id IS NOT NULL`).Scan(&work)
	pages := map[string][]string{
		"attendant": {"/hk/my", "/hk/board", fmt.Sprintf("/hk/work/%d", work), fmt.Sprintf("/hk/rooms/%d", room), "/hk/sheets"},
		"clerk": {"/hk/board", "/hk/tasks", "/hk/front-office", fmt.Sprintf("/hk/rooms/%d", room), "/hk/desk", "/hk/desk?shift=night",
			"/hk/minibar", "/hk/laundry", "/hk/lost-found", "/hk/keys", "/hk/lent", "/hk/handover", "/hk/guests", "/hk/guests?q=会员"},
		housekeeping.DemoSupervisor: {"/hk/board", "/hk/assign", "/hk/sheets", "/hk/tasks", fmt.Sprintf("/hk/rooms/%d", room), "/hk/board?minute=60"},
		"manager":                   {"/hk/board", "/hk/assign", "/hk/reports", "/hk/minibar", "/hk/reports?from=2020-01-01&to=2020-01-31", "/hk/setup"},
	}
	for user, paths := range pages {
		tok := e.Login(user)
		for _, p := range paths {
			status, body := page(t, e, tok, p)
			if status != 200 {
				t.Errorf("%s %s: %d %.800s", user, p, status, body)
			}
			if i := strings.Index(body, ">hk."); i >= 0 {
				t.Errorf("%s %s: an untranslated key: %.80s", user, p, body[i:])
			}
		}
	}
}
