package cases_test

import (
	"bytes"
	"context"
	"fmt"
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
)

// pageUser is a signed-in browser session with its pages' CSRF token.
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

// htmx fetches path as htmx does.
func (u *pageUser) htmx(path string) *apptest.Response {
	req, _ := http.NewRequest("GET", u.b.E.URL+path, nil)
	req.Header.Set("HX-Request", "true")
	return u.do(req)
}

func (u *pageUser) do(req *http.Request) *apptest.Response {
	u.t.Helper()
	res, err := u.b.Client.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &apptest.Response{StatusCode: res.StatusCode, Header: res.Header, Body: b}
}

func (u *pageUser) post(path string, form url.Values) *apptest.Response {
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", u.csrf)
	return u.b.PostForm(path, form, nil)
}

// postFiles posts a multipart form with files (field → contents).
func (u *pageUser) postFiles(path string, form url.Values, files map[string][]byte) *apptest.Response {
	u.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf_token", u.csrf)
	for k, vs := range form {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	for field, content := range files {
		fw, _ := w.CreateFormFile(field, field+".png")
		_, _ = fw.Write(content)
	}
	_ = w.Close()
	req, _ := http.NewRequest("POST", u.b.E.URL+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Origin", u.b.E.URL)
	return u.do(req)
}

func mustContain(t *testing.T, what string, res *apptest.Response, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(string(res.Body), w) {
			t.Errorf("%s: %q missing (status %d)", what, w, res.StatusCode)
		}
	}
}

func mustNotContain(t *testing.T, what string, res *apptest.Response, nots ...string) {
	t.Helper()
	for _, w := range nots {
		if strings.Contains(string(res.Body), w) {
			t.Errorf("%s: %q should not be there", what, w)
		}
	}
}

func status(t *testing.T, what string, res *apptest.Response, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s: status %d, want %d\n%s", what, res.StatusCode, want, clipBody(res.Body))
	}
}

func clipBody(b []byte) string {
	s := string(b)
	if i := strings.Index(s, `<main`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 1500 {
		s = s[:1500]
	}
	return s
}

var caseLocation = regexp.MustCompile(`^/cases/(\d+)\?ok=created`)

// The service desk's screens over HTTP with cookie sessions: intake with
// the unit search, the case page's action forms (a refused one shows the
// page again with the message), the technician's jobs with a completion
// carrying a photo and a signature, the workbench and its live fragment,
// the list's filters, categories and the bell.
func TestCasePages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		site, unit, category := fixture(t, e)
		butler, tech := signIn(t, e, "butler"), signIn(t, e, "technician")

		// Intake: the search box finds the unit, with and without htmx.
		res := butler.get("/cases/new")
		status(t, "intake", res, 200)
		mustContain(t, "intake", res, `id="f-q"`, `name="description"`, "水电", `value="repair"`)
		res = butler.get("/cases/new?q=1-01")
		mustContain(t, "search without js", res, `data-unit="1-0101"`, "/cases/new?unit_id="+strconv.FormatInt(unit, 10))
		res = butler.htmx("/cases/new/residences?q=1-0101")
		status(t, "search fragment", res, 200)
		mustContain(t, "search fragment", res, `class="res-hit"`, "赵管家")
		mustNotContain(t, "search fragment", res, "<html")
		if res := butler.get("/cases/new/residences?q=1-0101"); res.StatusCode != http.StatusSeeOther {
			t.Errorf("search fragment without htmx: %d", res.StatusCode)
		}
		// With the households demo, one box finds a caller by name or by
		// the last digits of their phone too, people shown masked.
		var owners int
		_ = d.Q(context.Background()).QueryRowContext(context.Background(), `SELECT COUNT(*) FROM household_people WHERE name = '张三'`).Scan(&owners)
		t.Logf("households demo people named 张三: %d", owners)
		if owners > 0 {
			for _, q := range []string{"张三", "zs", "0001"} {
				res = butler.htmx("/cases/new/residences?q=" + url.QueryEscape(q))
				mustContain(t, "search "+q, res, `data-unit="1-0101"`, "张三 138****0001")
				mustNotContain(t, "search "+q, res, "13800000001")
			}
		}
		res = butler.htmx(fmt.Sprintf("/cases/new/residence?unit_id=%d", unit))
		mustContain(t, "pick", res, `name="unit_id" value="`+strconv.FormatInt(unit, 10), "赵管家", "该户没有未关闭的工单", `hx-swap-oob`)

		// Bad input re-renders the form with the field's message.
		res = butler.post("/cases", url.Values{"type": {"repair"}, "unit_id": {strconv.FormatInt(unit, 10)}, "site_id": {strconv.FormatInt(site, 10)}})
		status(t, "empty description", res, http.StatusUnprocessableEntity)
		mustContain(t, "empty description", res, `has-error`, `class="res-card"`)

		form := url.Values{"type": {"repair"}, "unit_id": {strconv.FormatInt(unit, 10)}, "category_id": {strconv.FormatInt(category, 10)},
			"priority": {"normal"}, "area": {"home"}, "description": {"卫生间水管漏水"}, "contact_phone": {"13800000001"}, "preferred_time": {"今天下午"}}
		res = butler.postFiles("/cases", form, map[string][]byte{"photos": png})
		status(t, "create", res, http.StatusSeeOther)
		m := caseLocation.FindStringSubmatch(res.Header.Get("Location"))
		if m == nil {
			t.Fatalf("create went to %q", res.Header.Get("Location"))
		}
		id := m[1]
		page := butler.get("/cases/" + id + "?ok=created")
		status(t, "case page", page, 200)
		mustContain(t, "case page", page, "工单已登记", "BX-", "待受理", "1-0101", "赵管家", "138****0001", "今天下午", `id="do-acknowledge"`, `id="act-dispatch"`,
			"登记工单", `alt="照片"`, `/api/v1/cases/`+id+`/files/`, "首次响应", `name="gj-topic" content="case:`+id+`"`)
		// The same unit and category again: the page hints at the open case.
		res = butler.post("/cases", form)
		again := caseLocation.FindStringSubmatch(res.Header.Get("Location"))
		if again == nil || !strings.Contains(res.Header.Get("Location"), "dup=BX-") {
			t.Fatalf("second case went to %q", res.Header.Get("Location"))
		}
		mustContain(t, "duplicate hint", butler.get(res.Header.Get("Location")), `id="duplicates"`, "可能是重复来电")
		res = butler.htmx(fmt.Sprintf("/cases/new/residence?unit_id=%d", unit))
		mustContain(t, "open cases of the household", res, `id="open-cases"`, "卫生间水管漏水")

		// A technician sees the case but not the butler's actions; a
		// refused action shows the page again with the reason in words.
		res = tech.get("/cases/" + id)
		status(t, "technician's view", res, 200)
		mustNotContain(t, "technician's view", res, `id="do-acknowledge"`, `id="act-dispatch"`)
		res = tech.post("/cases/"+id+"/claim", nil)
		status(t, "claim before dispatch", res, http.StatusConflict)
		mustContain(t, "claim before dispatch", res, `id="refusal"`, "工单当前为「待受理」", "受理、派工、关闭工单、催办", `id="case-head"`)
		// The same in English.
		en := signIn(t, e, "technician")
		en.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
		res = en.post("/cases/"+id+"/claim", nil)
		status(t, "claim before dispatch in English", res, http.StatusConflict)
		mustContain(t, "claim before dispatch in English", res, `lang="en"`, "The case is “New” and does not accept this. Possible now: Acknowledge, Dispatch, Close, Remind.")
		res = tech.post("/cases/"+id+"/acknowledge", nil)
		if res.StatusCode != http.StatusConflict && res.StatusCode != http.StatusForbidden {
			t.Fatalf("technician acknowledges: %d", res.StatusCode)
		}
		if res := tech.post("/cases/"+id+"/fly", nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown action: %d", res.StatusCode)
		}
		res = e.NewBrowser().PostForm("/cases/"+id+"/acknowledge", nil, nil)
		if res.StatusCode != http.StatusUnauthorized && res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusForbidden {
			t.Errorf("anonymous post: %d", res.StatusCode)
		}
		if res := butler.b.PostForm("/cases/"+id+"/acknowledge", nil, nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("post without csrf: %d", res.StatusCode)
		}

		// The butler acknowledges from the workbench and dispatches.
		res = butler.post("/cases/"+id+"/acknowledge", url.Values{"next": {"/inbox"}})
		status(t, "acknowledge", res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/inbox?ok=acknowledge" {
			t.Errorf("acknowledge went to %q", loc)
		}
		res = butler.post("/cases/"+id+"/dispatch", url.Values{"target": {"person"}})
		status(t, "dispatch to nobody", res, http.StatusUnprocessableEntity)
		mustContain(t, "dispatch to nobody", res, `id="act-dispatch" open`, "请指定一名处理人或一个部门")
		res = butler.post("/cases/"+id+"/dispatch", url.Values{"target": {"person"}, "assignee_id": {strconv.FormatInt(e.StaffID("technician"), 10)},
			"department_id": {"999"}})
		status(t, "dispatch", res, http.StatusSeeOther)

		// The technician's jobs: accept, arrive, pause for parts, resume.
		res = tech.get("/jobs")
		status(t, "jobs", res, 200)
		mustContain(t, "jobs", res, `data-case="`+id+`"`, "卫生间水管漏水", `class="primary do-claim"`)
		for _, act := range []string{"claim", "arrive", "pause", "resume"} {
			f := url.Values{"next": {"/jobs"}}
			if act == "pause" {
				f.Set("reason", "等待配件")
			}
			res = tech.post("/cases/"+id+"/"+act, f)
			status(t, act, res, http.StatusSeeOther)
			if loc := res.Header.Get("Location"); loc != "/jobs?ok="+act {
				t.Errorf("%s went to %q", act, loc)
			}
		}
		res = tech.get("/jobs?ok=resume")
		mustContain(t, "jobs on site", res, "已恢复处理", "已到场", `action="/cases/`+id+`/complete"`, `capture="environment"`, `data-sig`)

		// Completion: the category needs the resident's signature; the
		// refusal keeps the photo for the second try.
		res = tech.postFiles("/cases/"+id+"/complete", url.Values{"note": {"更换阀芯"}, "materials": {"阀芯×1"}, "labour_minutes": {"40"}, "next": {"/jobs"}},
			map[string][]byte{"photos": png})
		status(t, "complete unsigned", res, http.StatusUnprocessableEntity)
		mustContain(t, "complete unsigned", res, "该类别需要业主签字确认", `id="act-complete" open`, `name="photo_keys"`, "已保留上次上传的 1 张照片")
		kept := regexp.MustCompile(`name="photo_keys" value="([0-9a-f]{64})"`).FindSubmatch(res.Body)
		caseID, _ := strconv.ParseInt(id, 10, 64)
		sign := upload(t, e, e.Login("technician"), caseID, "signature")
		res = tech.post("/cases/"+id+"/complete", url.Values{"note": {"更换阀芯"}, "labour_minutes": {"40"}, "signature": {sign}, "photo_keys": {string(kept[1])}, "next": {"/jobs"}})
		status(t, "complete", res, http.StatusSeeOther)
		res = butler.get("/cases/" + id)
		mustContain(t, "completed case", res, "已完工", "完工回单", "业主已签字", "工时 40 分钟", "照片 1 张", "钱师傅", `id="act-visit" open`, "暂停计时", "恢复计时")

		// The workbench: the case waits for its visit; htmx gets the groups only.
		res = butler.get("/inbox")
		status(t, "inbox", res, 200)
		mustContain(t, "inbox", res, `id="inbox-groups"`, `id="g-visit"`, `data-case="`+id+`"`, `name="gj-live"`, "case.created")
		res = butler.htmx("/inbox")
		mustContain(t, "inbox fragment", res, `id="g-visit"`)
		mustNotContain(t, "inbox fragment", res, "<html", `id="inbox-groups"`)

		// A return visit with a score out of range is refused; a happy one closes.
		res = butler.post("/cases/"+id+"/visit", url.Values{"method": {"phone"}, "speed": {"9"}, "quality": {"5"}, "attitude": {"5"}})
		status(t, "visit out of range", res, http.StatusUnprocessableEntity)
		mustContain(t, "visit out of range", res, "评分为 1–5 分", `id="act-visit" open`)
		res = butler.post("/cases/"+id+"/visit", url.Values{"method": {"phone"}, "speed": {"5"}, "quality": {"4"}, "attitude": {"5"}, "comment": {"很满意"}})
		status(t, "visit", res, http.StatusSeeOther)
		mustContain(t, "closed case", butler.get("/cases/"+id), "已关闭", "满意", "速度 5 · 质量 4 · 态度 5", "很满意", "工单已关闭。")

		// The list: filters in the URL, bad ones answered 422.
		res = butler.get("/cases?state=open&type=repair")
		status(t, "list", res, 200)
		mustContain(t, "list", res, `id="case-table"`, again[1])
		mustNotContain(t, "open list", res, `data-case="`+id+`"`)
		res = butler.get("/cases?state=closed&q=" + url.QueryEscape(numberOf(t, butler, id)))
		mustContain(t, "by number", res, `data-case="`+id+`"`)
		status(t, "bad state", butler.get("/cases?state=lost"), http.StatusUnprocessableEntity)
		status(t, "bad date", butler.get("/cases?from=yesterday"), http.StatusUnprocessableEntity)
		mustContain(t, "overdue filter", butler.get("/cases?overdue=1"), "没有符合条件的工单")

		// Categories: managers add them; butlers may not.
		status(t, "categories as butler", butler.get("/cases/categories"), http.StatusForbidden)
		manager := signIn(t, e, "manager")
		res = manager.get(fmt.Sprintf("/cases/categories?site_id=%d", site))
		status(t, "categories", res, 200)
		mustContain(t, "categories", res, "水电", "完工需签字", "工程部")
		res = manager.post("/cases/categories", url.Values{"site_id": {strconv.FormatInt(site, 10)}, "code": {"water_power"}, "name": {"水电"}, "department_kind": {"engineering"}})
		status(t, "duplicate code", res, http.StatusUnprocessableEntity)
		mustContain(t, "duplicate code", res, "该编码已被使用")
		res = manager.post("/cases/categories", url.Values{"site_id": {strconv.FormatInt(site, 10)}, "code": {"gas"}, "name": {"燃气"}, "department_kind": {"engineering"}, "needs_signature": {"1"}})
		status(t, "add category", res, http.StatusSeeOther)
		mustContain(t, "added category", manager.get(res.Header.Get("Location")), "类别已添加", "燃气")

		// Someone of another site does not see the case.
		attendant := signIn(t, e, "attendant")
		if res := attendant.get("/cases/" + id); res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
			t.Errorf("attendant reads a garden case page: %d", res.StatusCode)
		}

		// The bell: the butler was told of the new cases and the visit due.
		res = butler.htmx("/notifications/bell")
		status(t, "bell", res, 200)
		mustContain(t, "bell", res, `id="bell"`, `class="bell-count"`, `hx-trigger="gj-notification from:body"`)
		res = butler.get("/notifications")
		mustContain(t, "notifications", res, "新工单", "待回访", `action="/notifications/`)
		note := regexp.MustCompile(`action="/notifications/(\d+)/read"`).FindSubmatch(res.Body)
		res = butler.post("/notifications/"+string(note[1])+"/read", url.Values{"next": {"/cases/" + id}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/cases/"+id {
			t.Errorf("open a notification: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		if res := butler.post("/notifications/"+string(note[1])+"/read", url.Values{"next": {"https://evil.example/"}}); res.Header.Get("Location") != "/notifications" {
			t.Errorf("a foreign next: %q", res.Header.Get("Location"))
		}
		status(t, "read all", butler.post("/notifications/read-all", nil), http.StatusSeeOther)
		mustNotContain(t, "bell after reading", butler.htmx("/notifications/bell"), "bell-count")
		mustContain(t, "no unread", butler.get("/notifications?unread=1"), "没有未读通知")
	})
}

func numberOf(t *testing.T, u *pageUser, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<h1 class="num">([A-Z]{2}-\d{8}-\d{4})</h1>`).FindSubmatch(u.get("/cases/" + id).Body)
	if m == nil {
		t.Fatal("no case number on the page")
	}
	return string(m[1])
}
