package app_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/demo"
)

// demoIDs are the ids of the demo data the API tests work on.
type demoIDs struct {
	Company, Garden, Hotel, Utility int64
	Building                        int64 // 示例花园 1 栋
	Floor                           int64 // 示例酒店 1 楼
	GardenDept, HotelDept           int64 // 客服中心, 管家部
	Staff                           map[string]int64
	Roles                           map[string]int64
	Paths                           map[int64]string
}

func lookupDemo(t *testing.T, e *apptest.Env) demoIDs {
	t.Helper()
	ctx := t.Context()
	q := e.DB.Q(ctx)
	one := func(query string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := q.QueryRowContext(ctx, query, args...).Scan(&id); err != nil {
			t.Fatalf("%s %v: %v", query, args, err)
		}
		return id
	}
	node := func(name string) int64 { return one(`SELECT id FROM org_nodes WHERE name = ?`, name) }
	ids := demoIDs{Company: node("示例物业集团"), Garden: node("示例花园"), Hotel: node("示例酒店"), Utility: node("示例供电营业厅"),
		Staff: map[string]int64{}, Roles: map[string]int64{}, Paths: map[int64]string{}}
	ids.Building = one(`SELECT id FROM org_nodes WHERE parent_id = ? AND name = ?`, ids.Garden, "1 栋")
	ids.Floor = one(`SELECT id FROM org_nodes WHERE parent_id = ? AND name = ?`, ids.Hotel, "1 楼")
	ids.GardenDept = one(`SELECT id FROM departments WHERE node_id = ? AND kind = 'customer_service'`, ids.Garden)
	ids.HotelDept = one(`SELECT id FROM departments WHERE node_id = ? AND kind = 'housekeeping'`, ids.Hotel)
	for _, acc := range demo.Accounts {
		ids.Staff[acc.Username] = one(`SELECT id FROM staff WHERE username = ?`, acc.Username)
		ids.Roles[acc.Role] = one(`SELECT id FROM roles WHERE key = ?`, acc.Role)
	}
	rows, err := q.QueryContext(ctx, `SELECT id, path FROM org_nodes`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var p string
		if err := rows.Scan(&id, &p); err != nil {
			t.Fatal(err)
		}
		ids.Paths[id] = p
	}
	return ids
}

// want fails the test unless res has one of the statuses.
func want(t *testing.T, what string, res *apptest.Response, statuses ...int) {
	t.Helper()
	if !slices.Contains(statuses, res.StatusCode) {
		t.Errorf("%s: %d, want %v: %.400s", what, res.StatusCode, statuses, res.Body)
	}
}

type idOut struct {
	ID int64 `json:"id"`
}

// TestSubtreeAdmin: an administrator of 示例酒店 manages the hotel and
// cannot read or change anything of 示例花园 or the company.
func TestSubtreeAdmin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		ids := lookupDemo(t, e)
		doc := loadAPIDoc(t, e)
		admin := e.Login("admin")
		do := func(tok, method, path string, body, out any) *apptest.Response {
			t.Helper()
			res := e.Do(method, path, tok, body, out)
			doc.check(t, method, path, res)
			return res
		}
		hotelPath, gardenPath := ids.Paths[ids.Hotel], ids.Paths[ids.Garden]

		// The company admin makes a hotel admin, and a few garden things
		// the hotel admin must not reach.
		var ha idOut
		want(t, "create hotel admin", do(admin, "POST", "/api/v1/staff", map[string]any{"node_id": ids.Hotel, "username": "hoteladmin",
			"name": "酒店管理员", "password": "hotel-admin-1"}, &ha), http.StatusCreated)
		want(t, "grant admin on hotel", do(admin, "POST", "/api/v1/grants", map[string]any{"staff_id": ha.ID, "role_id": ids.Roles["admin"],
			"node_id": ids.Hotel}, nil), http.StatusCreated)
		var gardenRole, gardenToken, gardenAnn idOut
		want(t, "garden role", do(admin, "POST", "/api/v1/roles", map[string]any{"key": "garden_patrol", "name": "花园巡逻",
			"permissions": []string{"org.view"}, "node_id": ids.Garden}, &gardenRole), http.StatusCreated)
		var tok struct {
			Info idOut `json:"info"`
		}
		want(t, "garden token", do(admin, "POST", "/api/v1/tokens", map[string]any{"name": "花园门禁", "staff_id": ids.Staff["butler"],
			"scopes": []string{"staff.view"}}, &tok), http.StatusCreated)
		gardenToken = tok.Info
		want(t, "garden announcement", do(admin, "POST", "/api/v1/announcements", map[string]any{"node_id": ids.Garden, "title": "花园停水"}, &gardenAnn),
			http.StatusCreated)
		var butlerGrants struct{ Items []idOut }
		want(t, "butler grants", do(admin, "GET", fmt.Sprintf("/api/v1/staff/%d/grants", ids.Staff["butler"]), nil, &butlerGrants), http.StatusOK)

		h := e.LoginFresh("hoteladmin", "hotel-admin-1")

		t.Run("sees only the hotel", func(t *testing.T) {
			var tree struct {
				Items []struct {
					ID   int64
					Path string
				}
			}
			want(t, "tree", do(h, "GET", "/api/v1/org/nodes", nil, &tree), http.StatusOK)
			if len(tree.Items) != 9 { // the hotel and its eight floors
				t.Errorf("tree has %d nodes, want 9", len(tree.Items))
			}
			for _, n := range tree.Items {
				if !strings.HasPrefix(n.Path, hotelPath) {
					t.Errorf("tree shows node %d at %s", n.ID, n.Path)
				}
			}
			var staff struct {
				Items []struct {
					ID       int64
					NodeID   int64 `json:"node_id"`
					Username string
				}
				Total int
			}
			want(t, "staff", do(h, "GET", "/api/v1/staff?per_page=200", nil, &staff), http.StatusOK)
			var names []string
			for _, s := range staff.Items {
				names = append(names, s.Username)
				if !strings.HasPrefix(ids.Paths[s.NodeID], hotelPath) {
					t.Errorf("staff list shows %s of node %d", s.Username, s.NodeID)
				}
			}
			slices.Sort(names)
			if !slices.Equal(names, []string{"attendant", "clerk", "hk_supervisor", "hoteladmin"}) || staff.Total != 4 {
				t.Errorf("staff list: %v (total %d), want attendant, clerk, hk_supervisor, hoteladmin", names, staff.Total)
			}
			want(t, "staff filtered to the garden", do(h, "GET", fmt.Sprintf("/api/v1/staff?node_id=%d", ids.Garden), nil, &staff), http.StatusOK)
			if staff.Total != 0 || len(staff.Items) != 0 {
				t.Errorf("garden filter shows %d staff", staff.Total)
			}
			var anns struct{ Items []idOut }
			want(t, "announcements", do(h, "GET", "/api/v1/announcements/managed", nil, &anns), http.StatusOK)
			for _, a := range anns.Items {
				if a.ID == gardenAnn.ID {
					t.Error("managed announcements show the garden's")
				}
			}
			var toks struct {
				Items []struct {
					ID      int64
					StaffID int64 `json:"staff_id"`
				}
			}
			want(t, "tokens", do(h, "GET", "/api/v1/tokens", nil, &toks), http.StatusOK)
			for _, tk := range toks.Items {
				if tk.ID == gardenToken.ID {
					t.Error("token list shows a garden staff member's token")
				}
			}
		})

		t.Run("audit shows only the hotel", func(t *testing.T) {
			var page struct {
				Items []struct {
					ID       int64
					Entity   string
					EntityID string `json:"entity_id"`
				}
			}
			want(t, "audit", do(h, "GET", "/api/v1/audit?limit=200", nil, &page), http.StatusOK)
			sawOwn := false
			for _, r := range page.Items {
				var path string
				if err := e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT node_path FROM audit_log WHERE id = ?`, r.ID).Scan(&path); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(path, hotelPath) {
					t.Errorf("audit row %d (%s %s) at %q is outside the hotel", r.ID, r.Entity, r.EntityID, path)
				}
				sawOwn = sawOwn || (r.Entity == "staff" && r.EntityID == itoa(ha.ID))
			}
			if !sawOwn {
				t.Error("audit does not show the hotel admin's own creation")
			}
			var garden int
			if err := e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_log WHERE node_path LIKE ?`, gardenPath+"%").Scan(&garden); err != nil || garden == 0 {
				t.Fatalf("the garden has no audit rows to hide (%d, %v)", garden, err)
			}
		})

		t.Run("cannot touch the garden or the company", func(t *testing.T) {
			hidden := []int{http.StatusNotFound, http.StatusForbidden}
			gardenStaff := func() int {
				var n int
				_ = e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT COUNT(*) FROM staff WHERE username = 'intruder' OR name LIKE '%改%' OR node_path LIKE ?`,
					gardenPath+"%").Scan(&n)
				return n
			}
			staffBefore, grantsBefore := gardenStaff(), e.Count("role_grants")
			butler := ids.Staff["butler"]
			want(t, "read garden staff", do(h, "GET", fmt.Sprintf("/api/v1/staff/%d", butler), nil, nil), hidden...)
			want(t, "read garden staff grants", do(h, "GET", fmt.Sprintf("/api/v1/staff/%d/grants", butler), nil, nil), hidden...)
			want(t, "update garden staff", do(h, "PUT", fmt.Sprintf("/api/v1/staff/%d", butler), map[string]any{"node_id": ids.Garden,
				"name": "赵管家改", "status": "active"}, nil), hidden...)
			want(t, "move garden staff to the hotel", do(h, "PUT", fmt.Sprintf("/api/v1/staff/%d", butler), map[string]any{"node_id": ids.Hotel,
				"name": "赵管家", "status": "active"}, nil), hidden...)
			want(t, "reset garden staff password", do(h, "POST", fmt.Sprintf("/api/v1/staff/%d/password", butler), map[string]any{"password": "taken-over-1"}, nil), hidden...)
			want(t, "create staff in the garden", do(h, "POST", "/api/v1/staff", map[string]any{"node_id": ids.Garden, "username": "intruder",
				"name": "入侵者", "password": "intruder-pass"}, nil), hidden...)
			want(t, "move hotel staff to the garden", do(h, "PUT", fmt.Sprintf("/api/v1/staff/%d", ids.Staff["attendant"]), map[string]any{"node_id": ids.Garden,
				"name": "孙服务员", "status": "active"}, nil), hidden...)

			want(t, "read garden node", do(h, "GET", fmt.Sprintf("/api/v1/org/nodes/%d", ids.Garden), nil, nil), hidden...)
			want(t, "update garden node", do(h, "PUT", fmt.Sprintf("/api/v1/org/nodes/%d", ids.Garden), map[string]any{"name": "我的花园"}, nil), hidden...)
			want(t, "delete garden building", do(h, "DELETE", fmt.Sprintf("/api/v1/org/nodes/%d", ids.Building), nil, nil), hidden...)
			want(t, "create node in the garden", do(h, "POST", "/api/v1/org/nodes", map[string]any{"parent_id": ids.Garden, "kind": "area",
				"area_kind": "building", "name": "9 栋"}, nil), hidden...)
			want(t, "create site in the company", do(h, "POST", "/api/v1/org/nodes", map[string]any{"parent_id": ids.Company, "kind": "site",
				"site_kind": "hotel", "name": "第二酒店"}, nil), hidden...)
			want(t, "create a company", do(h, "POST", "/api/v1/org/nodes", map[string]any{"kind": "company", "name": "另一集团"}, nil), hidden...)
			want(t, "create department in the garden", do(h, "POST", "/api/v1/departments", map[string]any{"node_id": ids.Garden, "kind": "custom",
				"name": "外包部"}, nil), hidden...)
			want(t, "create position in the garden", do(h, "POST", "/api/v1/positions", map[string]any{"node_id": ids.Garden, "name": "领班"}, nil), hidden...)

			grant := func(what string, staff int64, role string, node int64) {
				t.Helper()
				want(t, what, do(h, "POST", "/api/v1/grants", map[string]any{"staff_id": staff, "role_id": ids.Roles[role], "node_id": node}, nil), hidden...)
			}
			grant("grant on the garden", ids.Staff["attendant"], "butler", ids.Garden)
			grant("grant on the company", ids.Staff["attendant"], "attendant", ids.Company)
			grant("grant admin on the company to oneself", ha.ID, "admin", ids.Company)
			grant("grant a garden staff member a hotel role", butler, "attendant", ids.Hotel)
			for _, g := range butlerGrants.Items {
				want(t, "revoke a garden grant", do(h, "DELETE", fmt.Sprintf("/api/v1/grants/%d", g.ID), nil, nil), hidden...)
			}
			want(t, "create role in the garden", do(h, "POST", "/api/v1/roles", map[string]any{"key": "garden_spy", "name": "间谍",
				"permissions": []string{"org.view"}, "node_id": ids.Garden}, nil), hidden...)
			want(t, "update a garden role", do(h, "PUT", fmt.Sprintf("/api/v1/roles/%d", gardenRole.ID), map[string]any{"name": "改名",
				"permissions": []string{"org.view"}}, nil), hidden...)
			want(t, "token for garden staff", do(h, "POST", "/api/v1/tokens", map[string]any{"name": "x", "staff_id": butler,
				"scopes": []string{"staff.view"}}, nil), hidden...)
			want(t, "revoke a garden token", do(h, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", gardenToken.ID), nil, nil), hidden...)
			want(t, "announce in the garden", do(h, "POST", "/api/v1/announcements", map[string]any{"node_id": ids.Garden, "title": "假通知"}, nil), hidden...)
			want(t, "announce to the company", do(h, "POST", "/api/v1/announcements", map[string]any{"node_id": ids.Company, "title": "假通知"}, nil), hidden...)
			want(t, "delete a garden announcement", do(h, "DELETE", fmt.Sprintf("/api/v1/announcements/%d", gardenAnn.ID), nil, nil), hidden...)

			// Nothing of that reached the database.
			if n := gardenStaff(); n != staffBefore {
				t.Errorf("garden staff rows: %d, want the %d there were", n, staffBefore)
			}
			if c := e.Count("role_grants"); c != grantsBefore {
				t.Errorf("role_grants: %d, want %d", c, grantsBefore)
			}
		})

		t.Run("manages the hotel", func(t *testing.T) {
			var st, node, g idOut
			want(t, "create hotel staff", do(h, "POST", "/api/v1/staff", map[string]any{"node_id": ids.Hotel, "department_id": ids.HotelDept,
				"username": "hotelnew", "name": "新服务员", "password": "hotel-new-1"}, &st), http.StatusCreated)
			want(t, "update hotel staff", do(h, "PUT", fmt.Sprintf("/api/v1/staff/%d", ids.Staff["attendant"]), map[string]any{"node_id": ids.Floor,
				"department_id": ids.HotelDept, "name": "孙服务员", "phone": "13900000006", "status": "active"}, nil), http.StatusOK)
			want(t, "reset hotel staff password", do(h, "POST", fmt.Sprintf("/api/v1/staff/%d/password", ids.Staff["clerk"]), map[string]any{"password": "clerk-reset-1"}, nil),
				http.StatusNoContent)
			want(t, "create floor", do(h, "POST", "/api/v1/org/nodes", map[string]any{"parent_id": ids.Hotel, "kind": "area", "area_kind": "floor",
				"name": "9 楼", "code": "F9"}, &node), http.StatusCreated)
			want(t, "update floor", do(h, "PUT", fmt.Sprintf("/api/v1/org/nodes/%d", node.ID), map[string]any{"area_kind": "floor", "name": "九楼", "code": "F9"}, nil), http.StatusOK)
			want(t, "delete floor", do(h, "DELETE", fmt.Sprintf("/api/v1/org/nodes/%d", node.ID), nil, nil), http.StatusNoContent)
			want(t, "create department", do(h, "POST", "/api/v1/departments", map[string]any{"node_id": ids.Hotel, "kind": "custom", "name": "洗衣房"}, nil),
				http.StatusCreated)
			want(t, "create position", do(h, "POST", "/api/v1/positions", map[string]any{"node_id": ids.Hotel, "name": "领班"}, nil), http.StatusCreated)
			want(t, "grant in the hotel", do(h, "POST", "/api/v1/grants", map[string]any{"staff_id": st.ID, "role_id": ids.Roles["attendant"],
				"node_id": ids.Floor}, &g), http.StatusCreated)
			want(t, "revoke in the hotel", do(h, "DELETE", fmt.Sprintf("/api/v1/grants/%d", g.ID), nil, nil), http.StatusNoContent)
			want(t, "create hotel role", do(h, "POST", "/api/v1/roles", map[string]any{"key": "hotel_night", "name": "夜班",
				"permissions": []string{"org.view", "task.work"}, "node_id": ids.Hotel}, nil), http.StatusCreated)
			want(t, "token for hotel staff", do(h, "POST", "/api/v1/tokens", map[string]any{"name": "客房平板", "staff_id": st.ID,
				"scopes": []string{"task.work"}, "expires_at": time.Now().Add(time.Hour)}, nil), http.StatusCreated)
			want(t, "announce in the hotel", do(h, "POST", "/api/v1/announcements", map[string]any{"node_id": ids.Hotel, "title": "客房检查"}, nil),
				http.StatusCreated)
		})
	})
}

// TestGrantEscalation: role.manage lets someone hand out only what they
// hold themselves, where they hold it.
func TestGrantEscalation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		ids := lookupDemo(t, e)
		doc := loadAPIDoc(t, e)
		admin := e.Login("admin")
		do := func(tok, method, path string, body, out any) *apptest.Response {
			t.Helper()
			res := e.Do(method, path, tok, body, out)
			doc.check(t, method, path, res)
			return res
		}
		// A custom role that may grant roles but does no work.
		var grantor, viewer, person idOut
		want(t, "grantor role", do(admin, "POST", "/api/v1/roles", map[string]any{"key": "grantor", "name": "授权员",
			"permissions": []string{"role.manage", "staff.view", "org.view"}, "node_id": ids.Company}, &grantor), http.StatusCreated)
		want(t, "viewer role", do(admin, "POST", "/api/v1/roles", map[string]any{"key": "viewer", "name": "查看员",
			"permissions": []string{"staff.view", "org.view"}, "node_id": ids.Garden}, &viewer), http.StatusCreated)
		want(t, "grantor staff", do(admin, "POST", "/api/v1/staff", map[string]any{"node_id": ids.Garden, "username": "grantor1",
			"name": "授权员甲", "password": "grantor-pass"}, &person), http.StatusCreated)
		want(t, "grant grantor", do(admin, "POST", "/api/v1/grants", map[string]any{"staff_id": person.ID, "role_id": grantor.ID,
			"node_id": ids.Garden}, nil), http.StatusCreated)
		g := e.LoginFresh("grantor1", "grantor-pass")
		butler := ids.Staff["butler"]

		escalation := func(what string, res *apptest.Response) {
			t.Helper()
			want(t, what, res, http.StatusForbidden)
			if b := decodeError(t, what, res); b.Error.Code != "forbidden" {
				t.Errorf("%s: code %q", what, b.Error.Code)
			}
		}
		grant := func(role, node int64) *apptest.Response {
			return do(g, "POST", "/api/v1/grants", map[string]any{"staff_id": butler, "role_id": role, "node_id": node}, nil)
		}
		escalation("grant technician (task.work is not theirs)", grant(ids.Roles["technician"], ids.Garden))
		escalation("grant manager", grant(ids.Roles["manager"], ids.Garden))
		escalation("grant admin", grant(ids.Roles["admin"], ids.Garden))
		escalation("grant viewer outside their subtree", grant(viewer.ID, ids.Hotel))
		escalation("create a role with audit.view", do(g, "POST", "/api/v1/roles", map[string]any{"key": "auditor", "name": "审计",
			"permissions": []string{"org.view", "audit.view"}, "node_id": ids.Garden}, nil))
		var mine idOut
		want(t, "create a role within their permissions", do(g, "POST", "/api/v1/roles", map[string]any{"key": "looker", "name": "看看",
			"permissions": []string{"org.view"}, "node_id": ids.Garden}, &mine), http.StatusCreated)
		escalation("widen their role with task.work", do(g, "PUT", fmt.Sprintf("/api/v1/roles/%d", mine.ID), map[string]any{"name": "看看",
			"permissions": []string{"org.view", "task.work"}}, nil))
		want(t, "update their role within their permissions", do(g, "PUT", fmt.Sprintf("/api/v1/roles/%d", mine.ID), map[string]any{"name": "只看",
			"permissions": []string{"org.view", "staff.view"}}, nil), http.StatusOK)
		want(t, "grant viewer in the garden", grant(viewer.ID, ids.Garden), http.StatusCreated)
		want(t, "grant their own role in the garden", grant(grantor.ID, ids.Garden), http.StatusCreated)

		// The refused grants left nothing behind.
		var n int
		_ = e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT COUNT(*) FROM role_grants WHERE staff_id = ?`, butler).Scan(&n)
		if n != 3 { // butler (demo), viewer, grantor
			t.Errorf("butler has %d grants, want 3", n)
		}
		var m int
		_ = e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT COUNT(*) FROM role_permissions WHERE role_id = ? AND perm = 'task.work'`, mine.ID).Scan(&m)
		if m != 0 {
			t.Error("the refused widening was written")
		}
	})
}
