package households_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/households"
)

// browser signs a cookie client in through the login form.
func browser(t *testing.T, e *apptest.Env, user string) *apptest.Browser {
	t.Helper()
	b := e.SignIn(user)
	return b
}

func csrfOf(page []byte) string {
	s := string(page)
	const a = `name="csrf-token" content="`
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	return s[:strings.Index(s, `"`)]
}

// demoIDs finds the households and people the walk visits.
type demoIDs struct {
	household, owner, child, elderly, unit, key, event, task, site int64
}

func lookup(t *testing.T, e *apptest.Env) demoIDs {
	t.Helper()
	var ids demoIDs
	q := func(dst *int64, sql string, args ...any) {
		t.Helper()
		if err := e.DB.Q(t.Context()).QueryRowContext(t.Context(), sql, args...).Scan(dst); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	q(&ids.household, `SELECT h.id FROM households h JOIN units u ON u.id = h.unit_id WHERE u.number = '1-0101' AND h.status = 'current'`)
	q(&ids.unit, `SELECT unit_id FROM households WHERE id = ?`, ids.household)
	q(&ids.owner, `SELECT id FROM household_people WHERE household_id = ? AND name = '张三'`, ids.household)
	q(&ids.child, `SELECT id FROM household_people WHERE household_id = ? AND name = '张小宝'`, ids.household)
	q(&ids.elderly, `SELECT MIN(id) FROM household_people WHERE elderly_alone`)
	q(&ids.key, `SELECT MIN(id) FROM household_keys`)
	q(&ids.event, `SELECT MIN(id) FROM household_events`)
	q(&ids.task, `SELECT MIN(id) FROM care_tasks WHERE status = 'open'`)
	ids.site = e.SiteID("示例花园")
	return ids
}

// clearValues unmasks (as the admin) every sealed value of some people and
// returns them: the walk must find none of them anywhere.
func clearValues(t *testing.T, e *apptest.Env, people ...int64) []string {
	t.Helper()
	var out []string
	tok := e.Login("admin")
	for _, id := range people {
		for _, f := range households.UnmaskFields {
			var u households.Unmasked
			res := e.Do("POST", fmt.Sprintf("/api/v1/people/%d/unmask", id), tok, map[string]string{"field": f, "reason": "测试脱敏巡检"}, &u)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("unmask %d %s: %d %s", id, f, res.StatusCode, res.Body)
			}
			for _, v := range u.Values {
				out = append(out, v)
				if f == "phone" && len(v) == 11 {
					out = append(out, v[3:]) // no longer clear run of digits either
				}
			}
		}
	}
	return out
}

func TestDemoFacts(t *testing.T) {
	e := apptest.Start(t, dbtest.Open(t, db.SQLite))
	ids := lookup(t, e)
	got := clearValues(t, e, ids.owner)
	if got[0] != households.DemoOwnerPhone {
		t.Errorf("张三's phone: %v", got)
	}
	if n := e.Count("households"); n != 240 {
		t.Errorf("%d households, want 3 × 20 × 4 = 240", n)
	}
	var butlerUnits, other int
	_ = e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT COUNT(*) FROM households h JOIN units u ON u.id = h.unit_id WHERE u.building = '1' AND h.butler_id = ?`, e.StaffID("butler")).Scan(&butlerUnits)
	_ = e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT COUNT(*) FROM households h JOIN units u ON u.id = h.unit_id WHERE u.building <> '1' AND h.butler_id = ?`, e.StaffID(households.DemoSecondButler)).Scan(&other)
	if butlerUnits != 80 || other != 160 {
		t.Errorf("butler owns %d of building 1, butler2 %d of buildings 2–3", butlerUnits, other)
	}
	var page households.HouseholdPage
	for _, q := range []string{"1-0101", "张三", "zs", "0001"} {
		res := e.Do("GET", "/api/v1/households?q="+q, e.Login("butler"), nil, &page)
		if res.StatusCode != http.StatusOK || len(page.Items) == 0 || page.Items[0].UnitNumber != "1-0101" {
			t.Errorf("search %q: %d %+v", q, res.StatusCode, page.Items)
		}
	}
	var tasks households.CareTaskList
	e.Do("GET", "/api/v1/care-tasks", e.Login("butler"), nil, &tasks)
	kinds := map[string]int{}
	for _, tk := range tasks.Items {
		kinds[tk.Kind]++
	}
	if kinds["elderly_visit"] == 0 || kinds["birthday"] == 0 {
		t.Errorf("the demo butler's care today: %v", kinds)
	}
}

// TestMaskedEverywhere walks every page and API answer that shows people
// and finds no clear phone, ID number or birthday in any of them.
func TestMaskedEverywhere(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		ids := lookup(t, e)
		secrets := clearValues(t, e, ids.owner, ids.child, ids.elderly)
		if len(secrets) < 5 {
			t.Fatalf("too few clear values to look for: %v", secrets)
		}
		check := func(what string, body []byte) {
			t.Helper()
			for _, s := range secrets {
				if bytes.Contains(body, []byte(s)) {
					t.Errorf("%s shows %q in clear", what, s)
				}
			}
		}
		fill := map[string]string{"/api/v1/units/{id}": fmt.Sprint(ids.unit), "/api/v1/households/{id}": fmt.Sprint(ids.household),
			"/api/v1/people/{id}": fmt.Sprint(ids.owner)}
		walked := 0
		for _, user := range []string{"admin", "butler", "supervisor"} {
			tok := e.Login(user)
			for _, r := range e.App.Server.Routes() {
				if r.Method != "GET" || !r.IsAPI() {
					continue
				}
				path := r.Path
				if strings.Contains(path, "{") {
					v, ok := fill[path]
					if !ok {
						continue
					}
					path = strings.ReplaceAll(path, "{id}", v)
				}
				if !strings.Contains(path, "/units") && !strings.Contains(path, "/households") && !strings.Contains(path, "/people") &&
					!strings.Contains(path, "care-tasks") && !strings.Contains(path, "/butlers") && !strings.Contains(path, "/pii/") {
					continue
				}
				for _, q := range []string{"", "?q=张三", "?q=0001", "?status=done", "?due=all"} {
					res := e.Do("GET", path+q, tok, nil, nil)
					if res.StatusCode >= 500 {
						t.Errorf("%s %s%s: %d", user, path, q, res.StatusCode)
					}
					check(user+" GET "+path+q, res.Body)
					walked++
				}
			}
			b := browser(t, e, user)
			for _, p := range []string{"/households", "/households?q=张三", "/households?q=zs", "/households?q=0001", "/households?flag=elderly_alone",
				fmt.Sprintf("/households/%d", ids.household), fmt.Sprintf("/people/%d", ids.owner), fmt.Sprintf("/people/%d", ids.child),
				fmt.Sprintf("/people/%d/edit", ids.owner), fmt.Sprintf("/people/%d/edit", ids.child), "/care", "/care?all=1&due=all", "/units",
				fmt.Sprintf("/units/%d", ids.unit), "/butlers", "/households/import", "/pii/access-log",
				fmt.Sprintf("/households/%d/people/new", ids.household)} {
				res := b.Get(p)
				if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusForbidden {
					t.Errorf("%s %s: %d %.300s", user, p, res.StatusCode, res.Body)
				}
				check(user+" page "+p, res.Body)
				walked++
			}
			// The masked export.
			res := b.Get(fmt.Sprintf("/households/export.xlsx?site_id=%d", ids.site))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("export: %d %.300s", res.StatusCode, res.Body)
			}
			f, err := excelize.OpenReader(bytes.NewReader(res.Body))
			if err != nil {
				t.Fatal(err)
			}
			rows, _ := f.GetRows(households.SheetName)
			var all []byte
			for _, r := range rows {
				all = append(all, strings.Join(r, "\t")...)
			}
			if len(rows) < 240 || !bytes.Contains(all, []byte("138****0001")) {
				t.Errorf("export: %d rows", len(rows))
			}
			check(user+" masked export", all)
			walked++
		}
		t.Logf("%d answers walked, %d clear values looked for", walked, len(secrets))
	})
}

// TestUnmaskThroughPages shows a clear value in place (htmx) and logs it.
func TestUnmaskThroughPages(t *testing.T) {
	e := apptest.Start(t, dbtest.Open(t, db.SQLite))
	ids := lookup(t, e)
	b := browser(t, e, "butler")
	page := b.Get(fmt.Sprintf("/households/%d", ids.household))
	tok := csrfOf(page.Body)
	before := e.Count("pii_access_log")
	res := b.PostForm(fmt.Sprintf("/people/%d/unmask", ids.owner), map[string][]string{"field": {"phone"}, "reason": {""}, "csrf_token": {tok}},
		map[string]string{"HX-Request": "true"})
	if strings.Contains(string(res.Body), households.DemoOwnerPhone) || e.Count("pii_access_log") != before {
		t.Fatal("unmasked without a reason")
	}
	res = b.PostForm(fmt.Sprintf("/people/%d/unmask", ids.owner), map[string][]string{"field": {"phone"}, "reason": {"回访报修"}, "csrf_token": {tok}},
		map[string]string{"HX-Request": "true"})
	if res.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), "tel:"+households.DemoOwnerPhone) || strings.Contains(string(res.Body), "<html") {
		t.Fatalf("htmx unmask: %d %.500s", res.StatusCode, res.Body)
	}
	if e.Count("pii_access_log") != before+1 {
		t.Fatal("not logged")
	}
	admin := browser(t, e, "admin")
	log := admin.Get("/pii/access-log")
	if !strings.Contains(string(log.Body), "回访报修") || !strings.Contains(string(log.Body), "赵管家") && !strings.Contains(string(log.Body), "butler") {
		t.Errorf("review page: %.2000s", log.Body)
	}
	if res := b.Get("/pii/access-log"); res.StatusCode != http.StatusForbidden {
		t.Errorf("butler on the review page: %d", res.StatusCode)
	}
}

// TestPersonExportPages downloads a person's export as XLSX and JSON
// through the person page (a reason is required) and finds it logged.
func TestPersonExportPages(t *testing.T) {
	e := apptest.Start(t, dbtest.Open(t, db.SQLite))
	ids := lookup(t, e)
	b := browser(t, e, "admin")
	page := b.Get(fmt.Sprintf("/people/%d", ids.owner))
	tok := csrfOf(page.Body)
	if res := b.PostForm(fmt.Sprintf("/people/%d/export", ids.owner), map[string][]string{"format": {"xlsx"}, "reason": {""}, "csrf_token": {tok}}, nil); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("no reason: %d", res.StatusCode)
	}
	res := b.PostForm(fmt.Sprintf("/people/%d/export", ids.owner), map[string][]string{"format": {"xlsx"}, "reason": {"本人申请查阅"}, "csrf_token": {tok}}, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("xlsx: %d %v", res.StatusCode, res.Header)
	}
	f, err := excelize.OpenReader(bytes.NewReader(res.Body))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, sh := range f.GetSheetList() {
		rows, _ := f.GetRows(sh)
		for _, r := range rows {
			text.WriteString(strings.Join(r, "\t") + "\n")
		}
	}
	for _, want := range []string{households.DemoOwnerName, households.DemoOwnerPhone, "粤B12345", "本人申请查阅"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the export lacks %q:\n%s", want, text.String())
		}
	}
	res = b.PostForm(fmt.Sprintf("/people/%d/export", ids.owner), map[string][]string{"format": {"json"}, "reason": {"本人申请复制"}, "csrf_token": {tok}}, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), `"number": "`+households.DemoOwnerPhone) {
		t.Fatalf("json: %d %.500s", res.StatusCode, res.Body)
	}
	var n int
	_ = e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT COUNT(*) FROM pii_access_log WHERE person_id = ? AND field = 'export'`, ids.owner).Scan(&n)
	if n != 2 {
		t.Errorf("%d exports logged, want 2", n)
	}
	// The butler cannot export.
	bb := browser(t, e, "butler")
	if res := bb.PostForm(fmt.Sprintf("/people/%d/export", ids.owner), map[string][]string{"format": {"json"}, "reason": {"看看"}, "csrf_token": {csrfOf(bb.Get("/households").Body)}}, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("butler export: %d", res.StatusCode)
	}
}
