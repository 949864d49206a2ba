package calendars_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
)

// scenario is one API call and what must come back.
type scenario struct {
	name, method, path, user string
	body                     any
	status                   int
	contains, notContains    []string
}

func (sc scenario) run(t *testing.T, e *apptest.Env) {
	t.Helper()
	tok := ""
	if sc.user != "" {
		tok = e.Login(sc.user)
	}
	res := e.Do(sc.method, sc.path, tok, sc.body, nil)
	if res.StatusCode != sc.status {
		t.Errorf("%s: %s %s: status %d, want %d: %s", sc.name, sc.method, sc.path, res.StatusCode, sc.status, res.Body)
		return
	}
	for _, s := range sc.contains {
		if !strings.Contains(string(res.Body), s) {
			t.Errorf("%s: body lacks %q: %s", sc.name, s, res.Body)
		}
	}
	for _, s := range sc.notContains {
		if strings.Contains(string(res.Body), s) {
			t.Errorf("%s: body has %q: %s", sc.name, s, res.Body)
		}
	}
}

func add(cal, from, dur string) string {
	return "/api/v1/calendars/" + cal + "/add?from=" + url.QueryEscape(from) + "&duration=" + url.QueryEscape(dur)
}

func TestCalendarAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		officeHours := map[string]any{"key": "night-desk", "name": "夜班前台", "timeZone": "Asia/Shanghai",
			"week": map[string]any{"mon": []string{"22:00-24:00", "00:00-06:00"}, "tue": []string{"22:00-24:00"}}}
		for _, sc := range []scenario{
			{name: "list", method: "GET", path: "/api/v1/calendars", user: "butler", status: 200, contains: []string{`"key":"cn-workday"`, `"key":"24x7"`}},
			{name: "anonymous", method: "GET", path: "/api/v1/calendars", status: 401},
			{name: "by key", method: "GET", path: "/api/v1/calendars/cn-workday", user: "butler", status: 200, contains: []string{`"builtin":true`, `"2025-10-01"`, `"missing_years":[]`}},
			{name: "by id", method: "GET", path: "/api/v1/calendars/2", user: "butler", status: 200, contains: []string{`"key":"24x7"`}},
			{name: "unknown", method: "GET", path: "/api/v1/calendars/nope", user: "butler", status: 404},
			// National Day 2025: 1–8 October off. 16:00 on the 30th + 8h = 2h
			// that day, then 9 October 09:00–12:00 and 13:30–16:30.
			{name: "add over National Day", method: "GET", path: add("cn-workday", "2025-09-30T16:00:00+08:00", "8h"), user: "butler", status: 200,
				contains: []string{`{"result":"2025-10-09T16:30:00+08:00"}`}},
			// Sunday 28 September is a make-up working day (Monday's hours).
			{name: "add on a make-up Sunday", method: "GET", path: add("cn-workday", "2025-09-27T18:00:00+08:00", "1h"), user: "butler", status: 200,
				contains: []string{`"2025-09-28T10:00:00+08:00"`}},
			{name: "add business days", method: "GET", path: add("cn-workday", "2025-09-30T10:00:00+08:00", "P1D"), user: "butler", status: 200,
				contains: []string{`"2025-10-09T10:00:00+08:00"`}},
			{name: "add in UTC is answered in the calendar's zone", method: "GET", path: add("cn-workday", "2025-09-30T09:00:00Z", "2h"), user: "butler", status: 200,
				contains: []string{`"2025-10-09T10:00:00+08:00"`}},
			{name: "add local time", method: "GET", path: add("cn-workday", "2026-02-14T17:00", "PT2H"), user: "butler", status: 200,
				contains: []string{`"2026-02-24T10:00:00+08:00"`}}, // Spring Festival 2026: Saturday 14 Feb worked, 15–23 Feb off
			{name: "unescaped plus", method: "GET", path: "/api/v1/calendars/24x7/add?from=2025-09-30T16:00:00+08:00&duration=30m", user: "butler", status: 200,
				contains: []string{`"2025-09-30T16:30:00+08:00"`}},
			{name: "add without from", method: "GET", path: "/api/v1/calendars/cn-workday/add?duration=8h", user: "butler", status: 422, contains: []string{`"from"`}, notContains: []string{`"duration"`}},
			{name: "add bad from", method: "GET", path: add("cn-workday", "yesterday", "8h"), user: "butler", status: 422, contains: []string{`"from"`}},
			{name: "add bad duration", method: "GET", path: add("cn-workday", "2025-09-30T16:00:00+08:00", "eight hours"), user: "butler", status: 422, contains: []string{`"duration"`}, notContains: []string{`"from"`}},
			{name: "add negative", method: "GET", path: add("cn-workday", "2025-09-30T16:00:00+08:00", "-1h"), user: "butler", status: 422, contains: []string{`"duration"`}},
			{name: "add years", method: "GET", path: add("cn-workday", "2025-09-30T16:00:00+08:00", "P1Y"), user: "butler", status: 422, contains: []string{`"duration"`}},
			{name: "add out of range", method: "GET", path: add("cn-workday", "2199-12-30T00:00:00Z", "P10W"), user: "butler", status: 422, contains: []string{`"duration"`}},
			{name: "between", method: "GET", path: "/api/v1/calendars/cn-workday/between?from=" + url.QueryEscape("2025-09-30T16:00:00+08:00") + "&to=" + url.QueryEscape("2025-10-09T16:30:00+08:00"), user: "butler", status: 200,
				contains: []string{`"seconds":28800`, `"duration":"PT8H"`}},
			{name: "between reversed", method: "GET", path: "/api/v1/calendars/cn-workday/between?from=2025-10-09T16:30&to=2025-09-30T16:00", user: "butler", status: 200,
				contains: []string{`"duration":"-PT8H"`}},
			{name: "between bad to", method: "GET", path: "/api/v1/calendars/cn-workday/between?from=2025-10-09T16:30&to=soon", user: "butler", status: 422, contains: []string{`"to"`}},
			{name: "create needs manage", method: "POST", path: "/api/v1/calendars", user: "butler", body: officeHours, status: 403},
			{name: "create", method: "POST", path: "/api/v1/calendars", user: "admin", body: officeHours, status: 201, contains: []string{`"key":"night-desk"`, `"builtin":false`}},
			{name: "create taken key", method: "POST", path: "/api/v1/calendars", user: "admin", body: officeHours, status: 422, contains: []string{`"key"`}},
			{name: "create overlapping", method: "POST", path: "/api/v1/calendars", user: "admin", status: 422, contains: []string{`"week.mon[1]"`},
				body: map[string]any{"key": "bad", "week": map[string]any{"mon": []string{"09:00-12:00", "11:00-13:00"}}}},
			{name: "create unknown field", method: "POST", path: "/api/v1/calendars", user: "admin", status: 422, contains: []string{`"zone"`},
				body: map[string]any{"key": "bad", "zone": "Asia/Shanghai", "week": map[string]any{"mon": []string{"09:00-12:00"}}}},
			{name: "create bad zone", method: "POST", path: "/api/v1/calendars", user: "admin", status: 422, contains: []string{`"timeZone"`},
				body: map[string]any{"key": "bad", "timeZone": "Mars/Olympus", "week": map[string]any{"mon": []string{"09:00-12:00"}}}},
			{name: "night shift across midnight", method: "GET", path: add("night-desk", "2025-06-02T23:00", "2h"), user: "butler", status: 200,
				contains: []string{`"2025-06-03T23:00:00+08:00"`}}, // Monday 23–24, then Tuesday 22–23
			{name: "put changes key", method: "PUT", path: "/api/v1/calendars/night-desk", user: "admin", status: 422, contains: []string{`"key"`},
				body: map[string]any{"key": "other", "week": map[string]any{"mon": []string{"09:00-12:00"}}}},
			{name: "put", method: "PUT", path: "/api/v1/calendars/night-desk", user: "admin", status: 200, contains: []string{`"version":2`, `"sat":["10:00-14:00"]`},
				body: map[string]any{"name": "夜班前台", "week": map[string]any{"sat": []string{"10:00-14:00"}}}},
			{name: "import malformed", method: "POST", path: "/api/v1/calendars/cn-workday/import", user: "admin", body: `{"year":2027,"days":[{"date":"2027-13-01","isOffDay":true}]}`, status: 422,
				contains: []string{`"code":"invalid"`, `"field":"days[0].date"`}},
			{name: "import needs manage", method: "POST", path: "/api/v1/calendars/cn-workday/import", user: "butler", body: holidayCN2027, status: 403},
			{name: "import json", method: "POST", path: "/api/v1/calendars/cn-workday/import", user: "admin", body: holidayCN2027, status: 200,
				contains: []string{`"year":2027`, `"format":"holiday-cn json"`, `"holidays":3`, `"workdays":1`}},
			{name: "import ics", method: "POST", path: "/api/v1/calendars/cn-workday/import", user: "admin", body: ics2027, status: 200,
				contains: []string{`"format":"ics"`, `"replaced":true`}},
			{name: "imported year counts", method: "GET", path: add("cn-workday", "2027-02-12T17:00", "2h"), user: "butler", status: 200,
				contains: []string{`"2027-02-13T10:00:00+08:00"`}}, // Friday 17–18, then Saturday 13 Feb, a make-up day from the ics
			{name: "delete year", method: "DELETE", path: "/api/v1/calendars/cn-workday/years/2027", user: "admin", status: 200, notContains: []string{`"year":2027`}},
			{name: "delete missing year", method: "DELETE", path: "/api/v1/calendars/cn-workday/years/2027", user: "admin", status: 404},
		} {
			sc.run(t, e)
		}
	})
}

func TestReadyzFlagsMissingYear(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		e.App.Calendars.Now = func() time.Time { return time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC) }
		var out struct {
			Status  string
			Details map[string]json.RawMessage
		}
		get := func() {
			t.Helper()
			res, err := http.Get(e.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			out.Details = nil
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 || out.Status != "ok" {
				t.Fatalf("readyz: %d %v %+v", res.StatusCode, err, out)
			}
		}
		get()
		if got := string(out.Details["calendar_missing_years"]); got != `{"cn-workday":[2027]}` {
			t.Fatalf("missing years: %q", got)
		}
		if res := e.Do("POST", "/api/v1/calendars/cn-workday/import", e.Login("admin"), holidayCN2027, nil); res.StatusCode != 200 {
			t.Fatalf("import: %d %s", res.StatusCode, res.Body)
		}
		get()
		if _, flagged := out.Details["calendar_missing_years"]; flagged {
			t.Fatalf("still flagged: %s", out.Details["calendar_missing_years"])
		}
		// Before 2027 begins nothing is flagged.
		e.App.Calendars.Now = func() time.Time { return time.Date(2026, 12, 31, 9, 0, 0, 0, time.UTC) }
		if _, err := e.App.Calendars.DeleteYear(admin(t.Context()), "cn-workday", 2027); err != nil {
			t.Fatal(err)
		}
		get()
		if _, flagged := out.Details["calendar_missing_years"]; flagged {
			t.Fatal("flagged before the year began")
		}
	})
}

func TestCalendarPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		b := e.SignIn("admin")
		page := b.Get("/calendars")
		if page.StatusCode != 200 || !strings.Contains(string(page.Body), "中国工作日") || !strings.Contains(string(page.Body), `href="/calendars/24x7"`) {
			t.Fatalf("list: %d %s", page.StatusCode, page.Body)
		}
		csrf := between(string(page.Body), `name="csrf-token" content="`, `"`)
		page = b.Get("/calendars/cn-workday?year=2025&from=2025-09-30T16:00&duration=8h")
		body := string(page.Body)
		for _, want := range []string{`id="try-result">2025-10-09 16:30`, `class="off" title="国庆节、中秋节"`, `class="work"`, "2025-10-01..2025-10-08 off"} {
			if !strings.Contains(body, want) {
				t.Errorf("editor lacks %q", want)
			}
		}
		page = b.Get("/calendars/cn-workday?from=2025-09-30T16:00&duration=soon")
		if page.StatusCode != 200 || !strings.Contains(string(page.Body), "时长格式不对") {
			t.Errorf("try-it error not shown: %d", page.StatusCode)
		}
		// A bad interval is refused with the weekday marked, and nothing changes.
		form := map[string][]string{"csrf_token": {csrf}, "name": {"中国工作日"}, "time_zone": {"Asia/Shanghai"}, "make_up_weekday": {"mon"},
			"week_mon": {"09:00-12:00 11:00-18:00"}, "week_tue": {"09:00-12:00"}}
		res := b.PostForm("/calendars/cn-workday", form, nil)
		if res.StatusCode != 422 || !strings.Contains(string(res.Body), "时段相互重叠") {
			t.Fatalf("overlap: %d", res.StatusCode)
		}
		form["week_mon"] = []string{"08:30-12:00，13:30-17:30"}
		if res := b.PostForm("/calendars/cn-workday", form, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("save settings: %d %s", res.StatusCode, res.Body)
		}
		var rec struct {
			Spec struct {
				Week  map[string][]string
				Years []struct{ Year int }
			}
		}
		e.Do("GET", "/api/v1/calendars/cn-workday", e.Login("admin"), nil, &rec)
		if strings.Join(rec.Spec.Week["mon"], " ") != "08:30-12:00 13:30-17:30" || len(rec.Spec.Years) < 3 {
			t.Fatalf("after save: %+v", rec.Spec)
		}
		// One year typed in the text format.
		res = b.PostForm("/calendars/cn-workday/years", map[string][]string{"csrf_token": {csrf}, "year": {"2027"},
			"text": {"2027-01-01 off 元旦\n2027-02-06..2027-02-12 off 春节\n2027-02-13 work 春节调休\n"}}, nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("year form: %d %s", res.StatusCode, res.Body)
		}
		page = b.Get("/calendars/cn-workday?year=2027")
		if !strings.Contains(string(page.Body), "2027-02-06..2027-02-12 off 春节") {
			t.Fatal("year text not shown back")
		}
		res = b.PostForm("/calendars/cn-workday/years", map[string][]string{"csrf_token": {csrf}, "year": {"2027"}, "text": {"2027-02-30 off 春节\n"}}, nil)
		if res.StatusCode != 422 {
			t.Fatalf("bad year text: %d", res.StatusCode)
		}
		// Import through the form.
		res = b.PostForm("/calendars/cn-workday/import", map[string][]string{"csrf_token": {csrf}, "text": {holidayCN2027}}, nil)
		if res.StatusCode != 200 || !strings.Contains(string(res.Body), "已导入 2027 年") {
			t.Fatalf("import form: %d %s", res.StatusCode, res.Body)
		}
		res = b.PostForm("/calendars/cn-workday/import", map[string][]string{"csrf_token": {csrf}, "text": {"{\"year\":"}}, nil)
		if res.StatusCode != 422 || !strings.Contains(string(res.Body), "导入内容有误") {
			t.Fatalf("bad import form: %d %s", res.StatusCode, res.Body)
		}
		// Create a copy.
		res = b.PostForm("/calendars", map[string][]string{"csrf_token": {csrf}, "key": {"shanghai-office"}, "name": {"上海办公室"}, "copy_from": {"cn-workday"}}, nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("create form: %d %s", res.StatusCode, res.Body)
		}
		res = b.PostForm("/calendars", map[string][]string{"csrf_token": {csrf}, "key": {"Bad Key"}, "name": {"x"}, "copy_from": {"cn-workday"}}, nil)
		if res.StatusCode != 422 {
			t.Fatalf("bad key form: %d", res.StatusCode)
		}
		// A butler may look but not change.
		bb := e.SignIn("butler")
		if res := bb.Get("/calendars/cn-workday"); res.StatusCode != 200 || strings.Contains(string(res.Body), `action="/calendars/cn-workday/import"`) {
			t.Fatalf("butler view: %d", res.StatusCode)
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
