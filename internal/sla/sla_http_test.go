package sla_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/sla"
)

type scenario struct {
	name, method, path, user string
	body                     any
	status                   int
	contains, notContains    []string
}

func (sc scenario) run(t *testing.T, e *apptest.Env) *apptest.Response {
	t.Helper()
	tok := ""
	if sc.user != "" {
		tok = e.Login(sc.user)
	}
	res := e.Do(sc.method, sc.path, tok, sc.body, nil)
	if res.StatusCode != sc.status {
		t.Errorf("%s: %s %s: status %d, want %d: %s", sc.name, sc.method, sc.path, res.StatusCode, sc.status, res.Body)
		return res
	}
	for _, s := range sc.contains {
		if !strings.Contains(string(res.Body), s) {
			t.Errorf("%s: body lacks %q: %s", sc.name, s, res.Body)
		}
	}
	for _, s := range sc.notContains {
		if strings.Contains(string(res.Body), s) {
			t.Errorf("%s: body has %q", sc.name, s)
		}
	}
	return res
}

func siteOf(t *testing.T, d *db.DB, code string) (int64, string) {
	t.Helper()
	var id int64
	var path string
	if err := d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT id, path FROM org_nodes WHERE code = ?`, code).Scan(&id, &path); err != nil {
		t.Fatal(err)
	}
	return id, path
}

func TestSLAPolicyAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		var list sla.PolicyList
		e.Do("GET", "/api/v1/sla/policies", e.Login("admin"), nil, &list)
		if len(list.Items) != 4 {
			t.Fatalf("shipped policies: %d", len(list.Items))
		}
		var complaint sla.Policy
		for _, p := range list.Items {
			if p.Key == "complaint" {
				complaint = p
			}
		}
		ok := map[string]any{"key": "hotel-room", "name": "客房服务", "enabled": true, "case_type": "room_service", "calendar": "24x7",
			"targets": []map[string]any{{"metric": "first_response", "minutes": 5, "business": true, "warn_pct": 60}},
			"ladder":  []map[string]any{{"on": "breach", "notify": "role:supervisor"}}}
		bad := func(edit func(m map[string]any)) map[string]any {
			m := map[string]any{}
			b, _ := json.Marshal(ok)
			json.Unmarshal(b, &m)
			edit(m)
			return m
		}
		cpath := fmt.Sprintf("/api/v1/sla/policies/%d", complaint.ID)
		for _, sc := range []scenario{
			{name: "butler may not", method: "GET", path: "/api/v1/sla/policies", user: "butler", status: 403},
			{name: "one", method: "GET", path: cpath, user: "admin", status: 200, contains: []string{`"key":"complaint"`, `"minutes":10080`, `"pause_states":["等待业主"]`}},
			{name: "missing", method: "GET", path: "/api/v1/sla/policies/999", user: "admin", status: 404},
			{name: "create", method: "POST", path: "/api/v1/sla/policies", user: "admin", body: ok, status: 201, contains: []string{`"key":"hotel-room"`, `"builtin":false`}},
			{name: "key taken", method: "POST", path: "/api/v1/sla/policies", user: "admin", body: ok, status: 422, contains: []string{`"key"`}},
			{name: "bad minutes", method: "POST", path: "/api/v1/sla/policies", user: "admin", status: 422, contains: []string{`"targets[0].minutes"`},
				body: bad(func(m map[string]any) { m["key"] = "x1"; m["targets"].([]any)[0].(map[string]any)["minutes"] = 0 })},
			{name: "bad notify", method: "POST", path: "/api/v1/sla/policies", user: "admin", status: 422, contains: []string{`"ladder[0].notify"`},
				body: bad(func(m map[string]any) {
					m["key"] = "x2"
					m["ladder"].([]any)[0].(map[string]any)["notify"] = "everyone"
				})},
			{name: "no targets", method: "POST", path: "/api/v1/sla/policies", user: "admin", status: 422, contains: []string{`"targets"`},
				body: bad(func(m map[string]any) { m["key"] = "x3"; m["targets"] = []any{} })},
			{name: "unknown calendar", method: "POST", path: "/api/v1/sla/policies", user: "admin", status: 422, contains: []string{`"calendar"`},
				body: bad(func(m map[string]any) { m["key"] = "x4"; m["calendar"] = "mars" })},
			{name: "warn 100", method: "POST", path: "/api/v1/sla/policies", user: "admin", status: 422, contains: []string{`"targets[0].warn_pct"`},
				body: bad(func(m map[string]any) { m["key"] = "x5"; m["targets"].([]any)[0].(map[string]any)["warn_pct"] = 100 })},
			{name: "wrong type", method: "POST", path: "/api/v1/sla/policies", user: "admin", status: 422, body: `{"key": 5}`},
		} {
			sc.run(t, e)
		}
		if n := e.Count("sla_policies"); n != 5 {
			t.Fatalf("refused policies were stored: %d", n)
		}
		// A change recomputes the open cycles of the policy in the background.
		_, garden := siteOf(t, d, "GARDEN")
		if _, err := e.App.SLA.Start(t.Context(), sla.StartInput{Subject: "t:1", Metric: sla.MetricResolution, Match: sla.Match{CaseType: sla.CaseComplaint, NodePath: garden}}); err != nil {
			t.Fatal(err)
		}
		complaint.Targets[1].Minutes = 3 * 24 * 60
		scenario{name: "update", method: "PUT", path: cpath, user: "admin", body: complaint, status: 200, contains: []string{`"minutes":4320`, `"version":2`}}.run(t, e)
		scenario{name: "recompute recorded", method: "GET", path: "/api/v1/sla/recomputes", user: "admin", status: 200, contains: []string{`"reason":"policy"`, `"policy_id":` + fmt.Sprint(complaint.ID)}}.run(t, e)
		scenario{name: "stale version", method: "PUT", path: cpath, user: "admin", body: complaint, status: 200}.run(t, e) // the version is the server's, not the body's
	})
}

func TestSLABoard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		ctx := t.Context()
		gardenID, garden := siteOf(t, d, "GARDEN")
		_, utility := siteOf(t, d, "POWER")
		var butler int64
		d.Q(ctx).QueryRowContext(ctx, `SELECT id FROM staff WHERE username = 'butler'`).Scan(&butler)
		now := time.Now().UTC()
		repair := sla.Match{CaseType: sla.CaseRepair, NodePath: garden}
		// case:1 was acknowledged late: 12 minutes ago with a 10-minute limit.
		for i, at := range []time.Time{now.Add(-12 * time.Minute), now.Add(-9 * time.Minute), now.Add(-time.Minute)} {
			in := sla.StartInput{Subject: fmt.Sprintf("t:%d", i+1), Metric: sla.MetricFirstResponse, Match: repair, At: at}
			if i == 0 {
				in.HolderID = &butler
			}
			if _, err := e.App.SLA.Start(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.App.SLA.Start(ctx, sla.StartInput{Subject: "t-app:1", Metric: "whole_process",
			Match: sla.Match{CaseType: sla.CasePowerApplication, Category: "residential", NodePath: utility}}); err != nil {
			t.Fatal(err)
		}
		res := scenario{name: "board", method: "GET", path: "/api/v1/sla/board", user: "supervisor", status: 200,
			contains: []string{`"subject":"t:1"`, `"holder_name":"赵管家"`, `"site_name":"示例花园"`}, notContains: []string{`"t-app:1"`}}.run(t, e)
		var board sla.CycleList
		json.Unmarshal(res.Body, &board)
		var mine []sla.Cycle // the demo's own cases are on the board too
		for _, c := range board.Items {
			if strings.HasPrefix(c.Subject, "t:") {
				mine = append(mine, c)
			}
		}
		if len(mine) != 3 || mine[0].Subject != "t:1" || mine[2].Subject != "t:3" || *mine[0].LeftSeconds > -100 || *mine[2].LeftSeconds < 500 {
			t.Fatalf("board order: %+v", mine)
		}
		for _, sc := range []scenario{
			{name: "butler has no board", method: "GET", path: "/api/v1/sla/board", user: "butler", status: 403},
			{name: "manager sees all", method: "GET", path: "/api/v1/sla/board?limit=500", user: "manager", status: 200, contains: []string{`"t-app:1"`, `"t:1"`}},
			{name: "narrowed to a site", method: "GET", path: "/api/v1/sla/board?limit=500&site=" + fmt.Sprint(gardenID), user: "manager", status: 200, notContains: []string{`"t-app:1"`}},
			{name: "site outside scope", method: "GET", path: "/api/v1/sla/board?site=" + fmt.Sprint(gardenID), user: "dispatcher", status: 404},
			{name: "overdue", method: "GET", path: "/api/v1/sla/overdue?per_page=200", user: "supervisor", status: 200, contains: []string{`"t:1"`}, notContains: []string{`"t:2"`}},
			{name: "subject", method: "GET", path: "/api/v1/sla/subjects/t:1", user: "supervisor", status: 200, contains: []string{`"kind":"started"`, `"seq":1`}},
			{name: "subject elsewhere", method: "GET", path: "/api/v1/sla/subjects/t:1", user: "dispatcher", status: 404},
			{name: "no subject", method: "GET", path: "/api/v1/sla/subjects/t:99", user: "supervisor", status: 404},
		} {
			sc.run(t, e)
		}
		b := e.SignIn("supervisor")
		page := b.Get("/sla/board")
		body := string(page.Body)
		if page.StatusCode != 200 || !strings.Contains(body, `class="overdue"`) || !strings.Contains(body, "已超时") || !strings.Contains(body, "即将超时") || !strings.Contains(body, `hx-trigger="every 15s"`) {
			t.Fatalf("board page: %d %s", page.StatusCode, body)
		}
		req, _ := http.NewRequest("GET", e.URL+"/sla/board", nil)
		req.Header.Set("HX-Request", "true")
		frag := e.NewBrowser()
		frag.Client.Jar = b.Client.Jar
		res2, err := frag.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res2.Body.Close()
		if res2.StatusCode != 200 {
			t.Fatalf("board fragment: %d", res2.StatusCode)
		}
	})
}

func TestSLAPolicyPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		b := e.SignIn("admin")
		page := b.Get("/sla/policies")
		if page.StatusCode != 200 || !strings.Contains(string(page.Body), "物业报修") || !strings.Contains(string(page.Body), "业扩报装（居民）") {
			t.Fatalf("list: %d", page.StatusCode)
		}
		csrf := between(string(page.Body), `name="csrf-token" content="`, `"`)
		var id int64
		d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT id FROM sla_policies WHERE key = 'property-repair'`).Scan(&id)
		path := fmt.Sprintf("/sla/policies/%d", id)
		page = b.Get(path)
		if page.StatusCode != 200 || !strings.Contains(string(page.Body), "紧急维修到场（二级服务）") {
			t.Fatalf("editor: %d", page.StatusCode)
		}
		form := map[string][]string{"csrf_token": {csrf}, "name": {"物业报修"}, "enabled": {"on"}, "case_type": {"repair"}, "calendar": {"24x7"},
			"t_id": {"", ""}, "t_metric": {"first_response", ""}, "t_name": {"受理响应", ""}, "t_priority": {"", ""}, "t_grade": {"", ""},
			"t_minutes": {"abc", ""}, "t_clock": {"business", "business"}, "t_warn_pct": {"80", "80"}, "t_start": {"created", ""}, "t_stop": {"acknowledged", ""}, "t_pause": {"", ""},
			"l_on": {"warning", "breach"}, "l_after": {"0", "0"}, "l_notify": {"assignee", ""}, "l_metric": {"", ""}}
		res := b.PostForm(path, form, nil)
		if res.StatusCode != 422 || !strings.Contains(string(res.Body), "targets[0].minutes") {
			t.Fatalf("bad minutes: %d", res.StatusCode)
		}
		form["t_minutes"] = []string{"15", ""}
		form["l_notify"] = []string{"assignee", "janitor"}
		res = b.PostForm(path, form, nil)
		if res.StatusCode != 422 || !strings.Contains(string(res.Body), "ladder[1].notify") {
			t.Fatalf("bad notify: %d", res.StatusCode)
		}
		form["l_notify"] = []string{"assignee", "role:supervisor"}
		if res = b.PostForm(path, form, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d %s", res.StatusCode, res.Body)
		}
		p, err := e.App.SLA.Policy(t.Context(), id)
		if err != nil || len(p.Targets) != 1 || p.Targets[0].Minutes != 15 || len(p.Ladder) != 2 || p.Ladder[1].Notify != "role:supervisor" {
			t.Fatalf("saved: %v %+v", err, p)
		}
		if page = b.Get("/sla/policies/new"); page.StatusCode != 200 {
			t.Fatalf("new: %d", page.StatusCode)
		}
		form["key"] = []string{"lobby"}
		form["name"] = []string{"大堂服务"}
		if res = b.PostForm("/sla/policies", form, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: %d %s", res.StatusCode, res.Body)
		}
	})
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	j := strings.Index(s, end)
	if j < 0 {
		return ""
	}
	return s[:j]
}
