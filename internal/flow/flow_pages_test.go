package flow_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/flow"
)

// pageUser is a signed-in browser session with the CSRF token of its pages.
type pageUser struct {
	t    *testing.T
	b    *apptest.Browser
	csrf string
}

func signIn(t *testing.T, e *apptest.Env, username string) *pageUser {
	t.Helper()
	b := e.SignIn(username)
	page := b.Get("/")
	m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindSubmatch(page.Body)
	if m == nil {
		t.Fatalf("%s: no csrf token on the home page", username)
	}
	return &pageUser{t: t, b: b, csrf: string(m[1])}
}

func (u *pageUser) get(path string) *apptest.Response { return u.b.Get(path) }

func (u *pageUser) post(path string, form url.Values) *apptest.Response {
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", u.csrf)
	return u.b.PostForm(path, form, nil)
}

// upload posts a file as the processes page's upload form does.
func (u *pageUser) upload(name string, src []byte) *apptest.Response {
	u.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf_token", u.csrf)
	fw, _ := w.CreateFormFile("file", name)
	_, _ = fw.Write(src)
	_ = w.Close()
	req, _ := http.NewRequest("POST", u.b.E.URL+"/processes", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Origin", u.b.E.URL)
	res, err := u.b.Client.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &apptest.Response{StatusCode: res.StatusCode, Header: res.Header, Body: b}
}

// location returns where a redirect points, without the query.
func location(res *apptest.Response) string {
	loc := res.Header.Get("Location")
	p, _, _ := strings.Cut(loc, "?")
	return p
}

func mustContain(t *testing.T, what string, res *apptest.Response, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(string(res.Body), w) {
			t.Errorf("%s: the page lacks %q", what, w)
		}
	}
}

const badBPMN = `<?xml version="1.0"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<process id="p" isExecutable="true"><startEvent id="s"/><sequenceFlow id="f" sourceRef="s" targetRef="Gateway_1x2"/>
<eventBasedGateway id="Gateway_1x2"/><userTask id="u"><extensionElements><formField xmlns="http://guanjia.dev/bpmn" label="x"/></extensionElements></userTask></process></definitions>`

// The process screens from deploy to done, through the same forms a person
// uses: upload (a refused file lists every problem), start, claim from the
// pool, complete through the task's form (a wrong value is refused with the
// field named), and the instance page telling it.
func TestProcessPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		admin := signIn(t, e, "admin")

		res := admin.get("/processes")
		if res.StatusCode != 200 {
			t.Fatalf("processes: %d", res.StatusCode)
		}
		mustContain(t, "processes", res, `href="/processes/new"`, `id="upload-form"`)
		shipped := e.Count("flow_definitions")

		res = admin.upload("bad.bpmn", []byte(badBPMN))
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad upload: %d", res.StatusCode)
		}
		mustContain(t, "bad upload", res, "流程定义有 2 个问题，未部署。", "unsupported element bpmn:eventBasedGateway (Gateway_1x2)", "bpmn:userTask (u): guanjia:formField needs an id")
		if e.Count("flow_definitions") != shipped {
			t.Fatal("a refused file was deployed")
		}
		if res := admin.upload("empty.yaml", []byte("  \n")); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("empty upload: %d", res.StatusCode)
		}

		res = admin.upload("repair.yaml", []byte(repairYAML))
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(location(res), "/processes/") {
			t.Fatalf("upload: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		defPage := location(res)
		res = admin.get(defPage + "?ok=deployed")
		if res.StatusCode != 200 {
			t.Fatalf("definition page: %d", res.StatusCode)
		}
		mustContain(t, "definition page", res, "已部署为新版本。", "报修", "v1", "<code>triage</code>", "business:P1D")
		res = admin.get("/processes")
		mustContain(t, "processes", res, "报修", "<code>repair</code>", `href="/processes?start=repair#start"`, "无实例")
		// A YAML definition has no diagram to edit.
		if res := admin.get(defPage + "/edit"); res.StatusCode != http.StatusConflict {
			t.Errorf("edit YAML: %d", res.StatusCode)
		}

		// Start: a bad variable row and bad JSON are refused and echoed.
		instances := e.Count("flow_instances")
		garden := e.SiteID("示例花园")
		startForm := url.Values{"definition_key": {"repair"}, "business_key": {"BX-7"}, "site_id": {itoa(garden)},
			"var_name": {"unit", "9bad", ""}, "var_value": {"1-0101", "x", ""}, "variables_json": {"{nope"}}
		res = admin.post("/instances", startForm)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad start: %d", res.StatusCode)
		}
		mustContain(t, "bad start", res, "变量名只能用字母", "JSON 格式不对", `value="BX-7"`, "{nope")
		if e.Count("flow_instances") != instances {
			t.Fatal("a refused start started")
		}
		startForm["var_name"] = []string{"unit", "floors", ""}
		startForm["var_value"] = []string{"1-0101", "12", ""}
		startForm["variables_json"] = []string{`{"vip": true}`}
		res = admin.post("/instances", startForm)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(location(res), "/instances/") {
			t.Fatalf("start: %d %s", res.StatusCode, res.Body)
		}
		instPage := location(res)
		res = admin.get(instPage + "?ok=started")
		mustContain(t, "instance page", res, "流程已发起。", "运行中", "BX-7", "示例花园", "受理", "发起流程", "生成待办", "待认领",
			"<code>floors</code>", "<code>vip</code>", "撤销流程")

		// The butler finds the task in the pool, claims it and completes it.
		butler := signIn(t, e, "butler")
		res = butler.get("/tasks?view=claimable")
		taskID := []string{"", taskOf(t, e, "butler", "claimable", "BX-7")}
		mustContain(t, "claimable", res, "受理", "BX-7", "可认领 <span class=\"count\">", `action="/tasks/`+taskID[1]+`/claim"`)
		res = butler.post("/tasks/"+taskID[1]+"/claim", nil)
		if res.StatusCode != http.StatusSeeOther || location(res) != "/tasks/"+taskID[1] {
			t.Fatalf("claim: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		res = butler.get("/tasks/" + taskID[1] + "?ok=claimed")
		mustContain(t, "task page", res, "已认领，请办理。", "紧急", `type="checkbox"`, `name="f_urgent"`, "办结", "退回待认领池")
		res = butler.get("/tasks")
		mustContain(t, "mine", res, "我的待办 <span class=\"count\">", `href="/tasks/`+taskID[1]+`"`)

		// The technician may not take it over; the answer is a refusal, not a crash.
		tech := signIn(t, e, "technician")
		if res := tech.post("/tasks/"+taskID[1]+"/claim", nil); res.StatusCode != http.StatusConflict {
			t.Errorf("technician claim: %d", res.StatusCode)
		}

		res = butler.post("/tasks/"+taskID[1]+"/comment", url.Values{"kind": {"reply"}, "body": {"已联系业主"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("reply: %d", res.StatusCode)
		}
		res = butler.post("/tasks/"+taskID[1]+"/complete", url.Values{"f_urgent": {"on"}})
		if res.StatusCode != http.StatusSeeOther || location(res) != "/tasks" {
			t.Fatalf("complete: %d %s", res.StatusCode, res.Body)
		}
		res = admin.get(instPage)
		mustContain(t, "after triage", res, "紧急维修", "办结", "已联系业主", "<code>urgent</code>", "（新）", "<ins>true</ins>")

		// The technician completes the urgent repair with a number field typed wrong, then right.
		fix := []string{"", taskOf(t, e, "technician", "mine", "BX-7")}
		mustContain(t, "technician inbox", tech.get("/tasks"), `href="/tasks/`+fix[1]+`">紧急维修`)
		res = tech.post("/tasks/"+fix[1]+"/complete", url.Values{"f_minutes": {"abc"}})
		if res.StatusCode != http.StatusSeeOther { // the repair step has no form: anything goes
			t.Fatalf("complete repair: %d", res.StatusCode)
		}
		visit := []string{"", taskOf(t, e, "butler", "claimable", "BX-7")}
		if res := butler.post("/tasks/"+visit[1]+"/complete", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("complete visit: %d", res.StatusCode)
		}
		res = admin.get(instPage)
		mustContain(t, "completed instance", res, "已完成", "流程结束", "流程已结束，没有待办任务。")
		if strings.Contains(string(res.Body), "撤销流程") {
			t.Error("a completed instance offers to be cancelled")
		}

		res = admin.get("/instances?state=completed&definition=repair")
		mustContain(t, "instances filtered", res, "BX-7", "已完成")
		res = admin.get("/instances?state=active&definition=repair")
		mustContain(t, "instances active", res, "没有符合条件的流程实例")
		if res := admin.get("/instances?from=yesterday"); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("bad date filter: %d", res.StatusCode)
		}
	})
}

// taskOf returns the id of the one open task of a business key in a
// user's inbox view (the demo data has tasks of its own there).
func taskOf(t *testing.T, e *apptest.Env, user, view, businessKey string) string {
	t.Helper()
	page, err := e.App.Flow.ListTasks(as(t, e, user), flow.TaskFilter{View: view, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range page.Items {
		if tk.BusinessKey == businessKey {
			return itoa(tk.ID)
		}
	}
	t.Fatalf("%s has no %s task of %s", user, view, businessKey)
	return ""
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Who may open which screen, and what a missing record answers.
func TestProcessPagesAccess(t *testing.T) {
	e := apptest.Start(t, dbtest.Open(t, db.SQLite))
	if _, err := e.App.Flow.DeploySystem(t.Context(), []byte(repairYAML)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		user, path string
		status     int
	}{
		{"admin", "/processes", 200},
		{"admin", "/processes/new", 200},
		{"admin", "/instances", 200},
		{"admin", "/tasks", 200},
		{"admin", "/tasks?view=all&overdue=1", 200},
		{"admin", "/tasks/dispatch", 200},
		{"admin", "/processes/999999", 404},
		{"admin", "/processes/abc", 404},
		{"admin", "/instances/999999", 404},
		{"admin", "/tasks/999999", 404},
		{"admin", "/tasks?view=nope", 422},
		{"butler", "/processes", 200},
		{"butler", "/processes/new", 403},
		{"butler", "/tasks", 200},
		{"butler", "/tasks?view=all", 422}, // not offered to a butler
		{"butler", "/tasks/dispatch", 403},
		{"technician", "/tasks?view=claimable", 200},
		{"supervisor", "/tasks/dispatch", 200},
		{"supervisor", "/tasks?view=dispatched", 200},
	}
	users := map[string]*pageUser{}
	for _, c := range cases {
		u := users[c.user]
		if u == nil {
			u = signIn(t, e, c.user)
			users[c.user] = u
		}
		if res := u.get(c.path); res.StatusCode != c.status {
			t.Errorf("%s GET %s: %d, want %d", c.user, c.path, res.StatusCode, c.status)
		}
	}
	anon := e.NewBrowser()
	if res := anon.Get("/tasks"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("anonymous inbox: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// A form post without the page's token is refused.
	if res := users["admin"].b.PostForm("/processes", map[string][]string{}, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("post without csrf: %d", res.StatusCode)
	}
}

// Dispatch is all or nothing: one task that cannot go keeps every other
// where it was, and its row says why.
func TestDispatchPage(t *testing.T) {
	e := apptest.Start(t, dbtest.Open(t, db.SQLite))
	sup := signIn(t, e, "supervisor")
	admin := as(t, e, "admin")
	if _, err := e.App.Flow.Deploy(admin, []byte(repairYAML)); err != nil {
		t.Fatal(err)
	}
	garden := e.SiteID("示例花园")
	var ids []string
	for _, bk := range []string{"BX-1", "BX-2"} {
		if _, err := e.App.Flow.Start(admin, flow.StartInput{DefinitionKey: "repair", BusinessKey: bk, SiteID: &garden}); err != nil {
			t.Fatal(err)
		}
	}
	res := sup.get("/tasks/dispatch?unassigned=1&process=repair")
	mustContain(t, "dispatch", res, "BX-1", "BX-2", "派出所选任务", "赵管家")
	for _, m := range regexp.MustCompile(`name="task_ids" value="(\d+)"`).FindAllStringSubmatch(string(res.Body), -1) {
		ids = append(ids, m[1])
	}
	if len(ids) != 2 {
		t.Fatalf("task rows: %v", ids)
	}
	// Neither person nor team: refused with the field named.
	res = sup.post("/tasks/dispatch", url.Values{"task_ids": ids})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("no target: %d", res.StatusCode)
	}
	mustContain(t, "no target", res, "请指定一个处理人或一个班组")
	// One of the two is completed meanwhile: nothing is dispatched, that row says why.
	if err := e.App.Flow.Complete(admin, mustInt(ids[0]), map[string]any{"urgent": false}); err != nil {
		t.Fatal(err)
	}
	tech := itoa(e.StaffID("technician"))
	res = sup.post("/tasks/dispatch", url.Values{"task_ids": ids, "assignee_id": {tech}, "due_at": {"2099-01-02T09:30"}, "unassigned": {"1"}, "process": {"repair"}})
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("partial dispatch: %d", res.StatusCode)
	}
	mustContain(t, "partial dispatch", res, "有 1 个任务无法派工，全部未派出", "任务已办结或已取消", `id="dispatch-failures"`)
	techCtx := as(t, e, "technician")
	if mine, _ := e.App.Flow.ListTasks(techCtx, flow.TaskFilter{Key: "repair"}); len(mine.Items) != 0 {
		t.Fatalf("half dispatched: %+v", mine.Items)
	}
	res = sup.post("/tasks/dispatch", url.Values{"task_ids": ids[1:], "assignee_id": {tech}, "due_at": {"2099-01-02T09:30"}})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "ok=dispatched") {
		t.Fatalf("dispatch: %d %s", res.StatusCode, res.Body)
	}
	mine, _ := e.App.Flow.ListTasks(techCtx, flow.TaskFilter{Key: "repair"})
	if len(mine.Items) != 1 || mine.Items[0].DueAt == nil || mine.Items[0].DueAt.UTC().Format("2006-01-02 15:04") != "2099-01-02 01:30" {
		t.Fatalf("dispatched: %+v", mine.Items)
	}
	res = sup.get("/tasks?view=dispatched")
	mustContain(t, "dispatched view", res, `href="/tasks/`+ids[1]+`"`, "办理中")
	// Remind and reassign from the task page; a reassignment needs a reason.
	res = sup.post("/tasks/"+ids[1]+"/remind", url.Values{"body": {"业主在催"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("remind: %d", res.StatusCode)
	}
	res = sup.post("/tasks/"+ids[1]+"/assign", url.Values{"assignee_id": {itoa(e.StaffID("butler"))}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("reassign without reason: %d", res.StatusCode)
	}
	mustContain(t, "reassign without reason", res, "改派他人需要填写原因")
	res = sup.post("/tasks/"+ids[1]+"/assign", url.Values{"assignee_id": {itoa(e.StaffID("butler"))}, "reason": {"技术员请假"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reassign: %d", res.StatusCode)
	}
	res = sup.get("/tasks/" + ids[1])
	mustContain(t, "task after reassign", res, "催办 1 次", "业主在催", "赵管家")
}

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
