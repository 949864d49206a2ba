package portal_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/flow"
)

// page is a response from a cookie-keeping client.
type page struct {
	*apptest.Response
	t *testing.T
}

func (p page) status(want int) page {
	p.t.Helper()
	if p.StatusCode != want {
		p.t.Fatalf("status %d, want %d: %.600s", p.StatusCode, want, p.Body)
	}
	return p
}

func (p page) has(s ...string) page {
	p.t.Helper()
	for _, x := range s {
		if !bytes.Contains(p.Body, []byte(x)) {
			p.t.Fatalf("page lacks %q: %.2000s", x, p.Body)
		}
	}
	return p
}

func (p page) lacks(s ...string) page {
	p.t.Helper()
	for _, x := range s {
		if bytes.Contains(p.Body, []byte(x)) {
			p.t.Fatalf("page shows %q", x)
		}
	}
	return p
}

func (p page) location() string { return p.Header.Get("Location") }

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (p page) csrf() string {
	p.t.Helper()
	m := csrfRe.FindSubmatch(p.Body)
	if m == nil {
		p.t.Fatalf("no csrf_token on the page: %.1000s", p.Body)
	}
	return string(m[1])
}

// visitor is a browser without JavaScript: cookies kept, redirects seen.
type visitor struct {
	*apptest.Browser
	t *testing.T
}

func (e *env) visitor(t *testing.T) *visitor { return &visitor{e.NewBrowser(), t} }

func (v *visitor) get(path string) page { return page{v.Get(path), v.t} }

func (v *visitor) post(path string, form url.Values) page {
	return page{v.PostForm(path, form, nil), v.t}
}

// multipart posts a form with files (field → contents) as a browser does.
func (v *visitor) multipart(path string, fields map[string]string, files map[string][][]byte) page {
	v.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, val := range fields {
		w.WriteField(k, val)
	}
	for k, list := range files {
		for i, content := range list {
			fw, _ := w.CreateFormFile(k, fmt.Sprintf("p%d.png", i))
			fw.Write(content)
		}
	}
	w.Close()
	req, _ := http.NewRequest("POST", v.E.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Origin", v.E.URL)
	res, err := v.Client.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return page{&apptest.Response{StatusCode: res.StatusCode, Header: res.Header, Body: b}, v.t}
}

// signIn signs in through the page forms and returns the home page.
func (e *env) pageSignIn(t *testing.T, v *visitor, phone string) page {
	t.Helper()
	v.post("/portal/code", url.Values{"phone": {phone}}).status(200).has(`action="/portal/sign-in"`, phone[:3]+"****"+phone[7:])
	res := v.post("/portal/sign-in", url.Values{"phone": {phone}, "code": {e.lastCode(t, phone)}}).status(http.StatusSeeOther)
	if res.location() != "/portal/home" {
		t.Fatalf("signed in to %q", res.location())
	}
	return v.get("/portal/home").status(200)
}

// The page flow: sign in by phone, see the household and the butler with
// a tap-to-call link, report with a photo, follow the case, rate it once
// done, sign out. No page shows the staff navigation, and a resident is
// never sent to the staff login.
func TestPortalPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		e.Resident("9-0301", "孙七", "13944445555")
		var butlerPhone string
		d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT phone FROM staff WHERE username = 'butler'`).Scan(&butlerPhone)
		v := e.visitor(t)

		if res := v.get("/portal/home"); res.StatusCode != http.StatusSeeOther || res.location() != "/portal" {
			t.Fatalf("signed-out home: %d to %q, want the portal's sign-in", res.StatusCode, res.location())
		}
		v.get("/portal").status(200).has(`action="/portal/code"`, "/portal/join").lacks("mainnav", "topbar", `href="/"`)
		// A wrong code keeps the person on the code step with the message.
		v.post("/portal/code", url.Values{"phone": {"13944445555"}}).status(200)
		v.post("/portal/sign-in", url.Values{"phone": {"13944445555"}, "code": {"000000"}}).status(http.StatusUnauthorized).has("验证码不正确或已过期", `name="code"`)
		e.now = e.now.Add(61e9)
		home := e.pageSignIn(t, v, "13944445555")
		home.has("赵管家", "9-0301", `href="tel:`+butlerPhone+`"`, "/portal/report", "/portal/sign-out").lacks("mainnav", "topbar", "13944445555")

		// Reporting: the form needs the session's CSRF token.
		form := v.get("/portal/report").status(200).has(`name="description"`, `name="photos"`, `value="repair"`)
		token := form.csrf()
		v.multipart("/portal/report", map[string]string{"type": "repair", "description": "厨房水槽下面漏水"}, nil).status(http.StatusForbidden)
		v.multipart("/portal/report", map[string]string{"csrf_token": token, "type": "repair", "description": " "}, nil).
			status(http.StatusUnprocessableEntity).has("必填")
		v.multipart("/portal/report", map[string]string{"csrf_token": token, "type": "repair", "description": "x"}, map[string][][]byte{"photos": {[]byte("not a photo")}}).
			status(http.StatusUnprocessableEntity)
		if n := e.Count("cases"); n == 0 {
			t.Log("no cases yet")
		}
		before := e.Count("cases")
		res := v.multipart("/portal/report", map[string]string{"csrf_token": token, "type": "repair", "description": "厨房水槽下面漏水", "slot": "weekend"},
			map[string][][]byte{"photos": {png}}).status(http.StatusSeeOther)
		if e.Count("cases") != before+1 {
			t.Fatalf("cases %d → %d", before, e.Count("cases"))
		}
		loc := res.location()
		if !strings.HasPrefix(loc, "/portal/cases/") || !strings.HasSuffix(loc, "?done=reported") {
			t.Fatalf("after reporting: %q", loc)
		}
		var id int64
		fmt.Sscanf(strings.TrimPrefix(loc, "/portal/cases/"), "%d", &id)
		var pref string
		d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT preferred_time FROM cases WHERE id = ?`, id).Scan(&pref)
		if pref != "周末" {
			t.Errorf("preferred time %q", pref)
		}
		// The expected completion is the resolution clock's, not the nearest
		// deadline (which is only when someone must answer); a repair has no
		// resolution target in the shipped policies, a complaint has.
		e.now = e.now.Add(61e9)
		tok := e.PortalToken("13944445555")
		var complaint struct{ Case struct{ ID int64 } }
		e.Do("POST", "/api/portal/v1/cases", tok, map[string]any{"type": "complaint", "description": "楼上装修太吵"}, &complaint)
		var resolution int64
		d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT due_at FROM sla_cycles WHERE subject = ? AND metric = 'resolution'`, fmt.Sprintf("case:%d", complaint.Case.ID)).Scan(&resolution)
		var view struct {
			ExpectedBy *time.Time `json:"expected_by"`
		}
		e.Do("GET", fmt.Sprintf("/api/portal/v1/cases/%d", complaint.Case.ID), tok, nil, &view)
		if resolution == 0 || view.ExpectedBy == nil || view.ExpectedBy.UnixMilli() != resolution {
			t.Errorf("expected by %v, resolution due %d", view.ExpectedBy, resolution)
		}
		var list struct {
			Items []struct {
				ID         int64
				ExpectedBy *time.Time `json:"expected_by"`
			}
		}
		e.Do("GET", "/api/portal/v1/cases", tok, nil, &list)
		for _, c := range list.Items {
			if (c.ID == complaint.Case.ID) != (c.ExpectedBy != nil) {
				t.Errorf("list: case %d expected by %v", c.ID, c.ExpectedBy)
			}
		}
		detail := v.get(loc).status(200).has("已提交", "厨房水槽下面漏水", `class="progress`, "已受理", "/api/portal/v1/cases/")
		img := regexp.MustCompile(`src="(/api/portal/v1/cases/\d+/photos/\d+)"`).FindSubmatch(detail.Body)
		if img == nil {
			t.Fatal("no photo on the case page")
		}
		if p := v.get(string(img[1])); p.StatusCode != 200 || p.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("photo: %d %s", p.StatusCode, p.Header.Get("Content-Type"))
		}
		v.get("/portal/cases").status(200).has("厨房水槽下面漏水", fmt.Sprintf(`href="/portal/cases/%d"`, id))
		// More photos later.
		v.multipart(fmt.Sprintf("/portal/cases/%d/photos", id), map[string]string{"csrf_token": token}, map[string][][]byte{"photos": {png, png}}).status(http.StatusSeeOther)
		if n := len(regexp.MustCompile(`<img src="/api/portal/v1/cases/`).FindAll(v.get(loc).Body, -1)); n != 3 {
			t.Errorf("%d photos, want 3", n)
		}
		// No rating before the work is done.
		v.get(loc).lacks(`action="/portal/cases/` + fmt.Sprint(id) + `/rate"`)
		v.post(fmt.Sprintf("/portal/cases/%d/rate", id), url.Values{"csrf_token": {token}, "speed": {"5"}, "quality": {"5"}, "attitude": {"5"}}).status(http.StatusConflict)

		ctx := context.Background()
		for _, st := range []struct {
			act string
			in  cases.ActionInput
		}{
			{cases.ActAcknowledge, cases.ActionInput{Note: "已联系"}},
			{cases.ActDispatch, cases.ActionInput{AssigneeID: e.StaffID("technician")}},
			{cases.ActClaim, cases.ActionInput{}},
			{cases.ActComplete, cases.ActionInput{Note: "已更换密封圈", OnBehalf: true}},
		} {
			if _, err := e.App.Cases.Do(ctx, id, st.act, st.in); err != nil {
				t.Fatalf("%s: %v", st.act, err)
			}
		}
		v.get(loc).has("已完成", "钱师傅", `id="r-speed-5"`, `name="attitude"`)
		v.post(fmt.Sprintf("/portal/cases/%d/rate", id), url.Values{"csrf_token": {token}, "speed": {"0"}, "quality": {"5"}, "attitude": {"5"}}).
			status(http.StatusUnprocessableEntity).has("请选择 1 到 5 颗星")
		rated := v.post(fmt.Sprintf("/portal/cases/%d/rate", id), url.Values{"csrf_token": {token}, "speed": {"5"}, "quality": {"4"}, "attitude": {"5"}, "comment": {"师傅很耐心"}})
		if rated.StatusCode != http.StatusSeeOther {
			t.Fatalf("rate: %d %.500s", rated.StatusCode, rated.Body)
		}
		v.get(rated.location()).status(200).has("谢谢您的评价", "您已评价", "已办结").lacks(`id="r-speed-5"`)
		var method, comment string
		d.Q(ctx).QueryRowContext(ctx, `SELECT method, comment FROM case_visits WHERE case_id = ?`, id).Scan(&method, &comment)
		if method != "portal" || comment != "师傅很耐心" {
			t.Errorf("visit: %q %q", method, comment)
		}

		v.get("/portal/notices").status(200)
		// Another resident's case is "not found", on the portal's own page.
		other := e.Resident("9-0302", "周八", "13955556666")
		created, err := e.App.Cases.Create(ctx, cases.CreateInput{Type: "repair", SiteID: e.SiteID("示例花园"), HouseholdID: &other, Description: "邻居的事", Source: "phone"})
		if err != nil {
			t.Fatal(err)
		}
		v.get(fmt.Sprintf("/portal/cases/%d", created.Case.ID)).status(http.StatusNotFound).lacks("邻居的事", "mainnav").has(`href="/portal/home"`)

		// Signing out ends the session; the pages send back to the portal.
		r := v.post("/portal/sign-out", url.Values{"csrf_token": {token}}).status(http.StatusSeeOther)
		if r.location() != "/portal?done=signed_out" {
			t.Fatalf("sign-out to %q", r.location())
		}
		if res := v.get(loc); res.StatusCode != http.StatusSeeOther || res.location() != "/portal" {
			t.Fatalf("after sign-out: %d %q", res.StatusCode, res.location())
		}
		// A cross-site sign-in post is refused.
		cross := e.NewBrowser()
		if r := cross.PostForm("/portal/code", map[string][]string{"phone": {"13944445555"}}, map[string]string{"Origin": "https://evil.example"}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site code request: %d", r.StatusCode)
		}
	})
}

// account binds a utility account number to a phone.
func (e *env) account(t *testing.T, number, phone string) {
	t.Helper()
	enc, err := e.App.Vault.Seal("portal.phone", phone)
	if err != nil {
		t.Fatal(err)
	}
	err = e.DB.WithTx(t.Context(), func(ctx context.Context, tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO portal_accounts (number, name, phone_enc, phone_idx, created_at) VALUES (?, '', ?, ?, 0)`,
			number, enc, e.App.Vault.Index("phone", phone))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// application starts a 居民新装 for an account.
func (e *env) application(t *testing.T, number, account string) int64 {
	t.Helper()
	site := e.SiteID("示例供电营业厅")
	st, err := e.App.Flow.StartSystem(context.Background(), flow.StartInput{DefinitionKey: "jumin", BusinessKey: number, SiteID: &site, CustomerRef: account})
	if err != nil {
		t.Fatal(err)
	}
	return st.ID
}

// A utility customer signs in with the account number (the code goes to
// the bound phone, shown masked), sees their applications with the
// current step's next steps and materials and the diagram, and nobody
// else's.
func TestPortalApplications(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		e.account(t, "0101234567", "13866667777")
		e.account(t, "0109999999", "13877778888")
		mine := e.application(t, "YK-2026-0001", "0101234567")
		theirs := e.application(t, "YK-2026-0002", "0109999999")
		v := e.visitor(t)
		v.get("/portal?by=account").status(200).has(`name="account"`)
		// An application number finds the account's phone too.
		v.post("/portal/code", url.Values{"by": {"account"}, "account": {"YK-2026-0001"}}).status(200).has("138****7777").lacks("13866667777")
		res := v.post("/portal/sign-in", url.Values{"account": {"YK-2026-0001"}, "code": {e.lastCode(t, "13866667777")}}).status(http.StatusSeeOther)
		if res.location() != "/portal/home" {
			t.Fatalf("signed in to %q", res.location())
		}
		v.get("/portal/home").status(200).has("居民新装", "YK-2026-0001", "0101234567", "/portal/applications").lacks("YK-2026-0002", "/portal/report")
		v.get("/portal/applications").status(200).has("居民新装", "受理用电申请").lacks("YK-2026-0002")
		v.get(fmt.Sprintf("/portal/applications/%d", mine)).status(200).
			has("您的用电申请已受理", "户主身份证", `id="diagram"`, fmt.Sprintf(`data-source="/api/portal/v1/applications/%d/diagram"`, mine), "bpmn-viewer.min.js")
		if p := v.get(fmt.Sprintf("/api/portal/v1/applications/%d/diagram", mine)); p.StatusCode != 200 || !bytes.Contains(p.Body, []byte("<bpmn:definitions")) && !bytes.Contains(p.Body, []byte("definitions")) {
			t.Fatalf("diagram: %d", p.StatusCode)
		}
		for _, path := range []string{"/portal/applications/%d", "/api/portal/v1/applications/%d", "/api/portal/v1/applications/%d/diagram"} {
			if p := v.get(fmt.Sprintf(path, theirs)); p.StatusCode != http.StatusNotFound || bytes.Contains(p.Body, []byte("YK-2026-0002")) {
				t.Errorf("%s of another customer: %d", fmt.Sprintf(path, theirs), p.StatusCode)
			}
		}
		var list struct {
			Items []struct {
				ID        int64
				Number    string
				Current   []string `json:"current_steps"`
				NextSteps string   `json:"next_steps"`
				Materials string
			}
		}
		e.DeliverSMS()
		tok := e.signInAccount(t, "0101234567", "13866667777")
		e.Do("GET", "/api/portal/v1/applications", tok, nil, &list)
		if len(list.Items) != 1 || list.Items[0].ID != mine || len(list.Items[0].Current) != 1 || list.Items[0].Materials == "" {
			t.Fatalf("applications: %+v", list.Items)
		}
	})
}

func (e *env) signInAccount(t *testing.T, account, phone string) string {
	t.Helper()
	e.now = e.now.Add(61e9)
	if res := e.Do("POST", "/api/portal/v1/auth/code", "", map[string]string{"account": account}, nil); res.StatusCode != http.StatusAccepted {
		t.Fatalf("code: %d %s", res.StatusCode, res.Body)
	}
	var s struct{ Token string }
	if res := e.Do("POST", "/api/portal/v1/auth/verify", "", map[string]string{"account": account, "code": e.lastCode(t, phone)}, &s); res.StatusCode != 200 {
		t.Fatalf("verify: %d %s", res.StatusCode, res.Body)
	}
	return s.Token
}

// Kiosk pages: the device is set up once with /portal?kiosk=1; its
// sessions are kiosk sessions (short, masked), and no page shows a full
// phone or account number or leads out of the portal.
func TestKioskPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		e.Resident("9-0401", "吴九", "13988889999")
		e.account(t, "0105555555", "13988889999")
		e.application(t, "YK-2026-0100", "0105555555")
		var butlerPhone string
		d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT phone FROM staff WHERE username = 'butler'`).Scan(&butlerPhone)
		v := e.visitor(t)
		if r := v.get("/portal?kiosk=1&idle=1"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("kiosk setup: %d", r.StatusCode)
		}
		// The idle time-out is clamped to [2, 60] seconds.
		v.get("/portal").status(200).has(`data-kiosk="1"`, `data-idle="2"`, `class="keypad"`, `inputmode="none"`).lacks("/portal/join")
		v.get("/portal?kiosk=1&idle=600")
		v.get("/portal").has(`data-idle="60"`)
		v.post("/portal/code", url.Values{"phone": {"13988889999"}}).status(200).has("139****9999", `class="keypad"`)
		v.post("/portal/sign-in", url.Values{"phone": {"13988889999"}, "code": {e.lastCode(t, "13988889999")}}).status(http.StatusSeeOther)
		var kiosk bool
		var created, expires int64
		d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT kiosk, created_at, expires_at FROM portal_sessions ORDER BY created_at DESC LIMIT 1`).Scan(&kiosk, &created, &expires)
		if !kiosk || expires-created != e.App.Portal.Config().KioskTTL.Milliseconds() {
			t.Fatalf("kiosk session: %v, %d ms", kiosk, expires-created)
		}
		ctx := context.Background()
		hh := e.householdOf(t, "9-0401")
		c, err := e.App.Cases.Create(ctx, cases.CreateInput{Type: "repair", SiteID: e.SiteID("示例花园"), HouseholdID: &hh, Description: "热水器坏了，请打 13988889999 联系", Source: "phone"})
		if err != nil {
			t.Fatal(err)
		}
		full := regexp.MustCompile(`1[3-9]\d{9}`)
		for _, path := range []string{"/portal/home", "/portal/cases", fmt.Sprintf("/portal/cases/%d", c.Case.ID), "/portal/report", "/portal/notices", "/portal/applications"} {
			p := v.get(path).status(200).has(`data-kiosk="1"`).lacks("tel:", "0105555555", "YK-2026-0100", butlerPhone, `href="/"`, `href="http`)
			// Phones appear only masked (the sign-out form's CSRF token and
			// such are not phone numbers: look at the text people see).
			text := regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAll(p.Body, nil)
			if m := full.Find(text); m != nil {
				t.Errorf("%s shows %s", path, m)
			}
		}
		// The API of a kiosk session masks the same values.
		e.now = e.now.Add(61e9)
		e.Do("POST", "/api/portal/v1/auth/code", "", map[string]string{"phone": "13988889999"}, nil)
		var s struct{ Token string }
		e.Do("POST", "/api/portal/v1/auth/verify", "", map[string]any{"phone": "13988889999", "code": e.lastCode(t, "13988889999"), "kiosk": true}, &s)
		for _, path := range []string{"/api/portal/v1/me", "/api/portal/v1/cases", "/api/portal/v1/applications", fmt.Sprintf("/api/portal/v1/cases/%d", c.Case.ID)} {
			res := e.Do("GET", path, s.Token, nil, nil)
			if res.StatusCode != 200 || full.Match(res.Body) || bytes.Contains(res.Body, []byte("0105555555")) || bytes.Contains(res.Body, []byte("YK-2026-0100")) {
				t.Errorf("kiosk %s: %d %s", path, res.StatusCode, res.Body)
			}
		}
	})
}

// householdOf finds the household at a unit the test made.
func (e *env) householdOf(t *testing.T, unit string) int64 {
	t.Helper()
	var id int64
	if err := e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT h.id FROM households h JOIN units u ON u.id = h.unit_id WHERE u.number = ?`, unit).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}
