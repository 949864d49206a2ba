package e2e_test

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/guanjia/guanjia/internal/app"
	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/e2e"
	"github.com/guanjia/guanjia/internal/flow"
	"github.com/guanjia/guanjia/internal/sms"
)

// Kiosk is a portrait lobby touch screen.
var Kiosk = e2e.Viewport{Name: "kiosk", Width: 1080, Height: 1920, Scale: 1, Mobile: true}

// portalEnv is the application with the console SMS provider writing into
// a buffer the test reads, as a person reads their phone.
type portalEnv struct {
	*apptest.Env
	sms *apptest.SyncBuffer
}

func startPortal(t *testing.T) *portalEnv {
	t.Helper()
	buf := &apptest.SyncBuffer{}
	env := apptest.StartWith(t, dbtest.Open(t, db.SQLite), func(c *app.Config) { c.SMSProvider = &sms.Console{W: buf} })
	return &portalEnv{Env: env, sms: buf}
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// code delivers the queued messages and returns the last code sent to phone.
func (e *portalEnv) code(t *testing.T, phone string) string {
	t.Helper()
	e.DeliverSMS()
	code := ""
	for _, line := range strings.Split(e.sms.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "SMS to "+phone+":"); ok {
			code = sixDigits.FindString(rest)
		}
	}
	if code == "" {
		t.Fatalf("no code for %s in %q", phone, e.sms.String())
	}
	return code
}

// account binds a utility account to a phone and starts a 居民新装 for it.
func (e *portalEnv) account(t *testing.T, number, phone string) {
	t.Helper()
	err := e.DB.WithTx(t.Context(), func(ctx context.Context, tx *db.Tx) error {
		enc, err := e.App.Vault.Seal("portal.phone", phone)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO portal_accounts (number, name, phone_enc, phone_idx, created_at) VALUES (?, '', ?, ?, 0)`,
			number, enc, e.App.Vault.Index("phone", phone))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	site := e.SiteID("示例供电营业厅")
	if _, err := e.App.Flow.StartSystem(t.Context(), flow.StartInput{DefinitionKey: "jumin", BusinessKey: "YK-2026-0008", SiteID: &site, CustomerRef: number}); err != nil {
		t.Fatal(err)
	}
}

// photoFile writes a small real PNG (a photo a phone would send).
func photoFile(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 48, 32))
	for x := 0; x < 48; x++ {
		for y := 0; y < 32; y++ {
			img.Set(x, y, color.RGBA{uint8(40 + 4*x), uint8(90 + 3*y), 160, 255})
		}
	}
	path := filepath.Join(t.TempDir(), "leak.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

// portalTexts is every portal key that could show; none may show raw.
var portalKeys = []string{"portal.", "error.portal.", "nav.verifications"}

func assertPortalPage(t *testing.T, p *e2e.Page, shot string) {
	t.Helper()
	p.AssertNoHorizontalScroll()
	var small []string
	for _, c := range p.SmallTapTargets(44) {
		// bpmn-js's licence keeps its small bpmn.io mark on the diagram (the
		// kiosk's fence refuses the way out it would be).
		if !strings.HasPrefix(c, "a.bjs-powered-by") {
			small = append(small, c)
		}
	}
	if len(small) > 0 {
		p.Fatalf("%d controls smaller than 44px: %s", len(small), strings.Join(small, "; "))
	}
	if raw := p.UntranslatedKeys(portalKeys); len(raw) > 0 {
		p.Fatalf("untranslated: %v", raw)
	}
	if p.Has(".topbar") || p.Has(".mainnav") {
		p.Fatalf("the staff navigation shows on a portal page")
	}
	p.Screenshot(shot)
}

// A resident on a phone, in Chinese: signs in with the code from the text
// message, sees the butler, reports a leak with a photo, finds it in the
// list with its progress, and later rates the finished work.
func TestPortalOnPhone(t *testing.T) {
	b := e2e.Start(t)
	e := startPortal(t)
	const phone = "13911112222"
	hh := e.Resident("9-0901", "李四", phone)
	e.account(t, "0101234567", phone)
	p := b.NewPage(t, e.URL, e2e.Phone)

	p.GoOK("/portal")
	if p.Lang() != "zh-CN" {
		t.Fatalf("lang %q", p.Lang())
	}
	assertPortalPage(t, p, "portal-signin")
	p.Fill("#f-phone", phone)
	if st := p.Submit(`form[action="/portal/code"] button[type=submit]`); st != 200 {
		p.Fatalf("code request: %d", st)
	}
	if got := p.Text("#code-sent"); !strings.Contains(got, "139****2222") || strings.Contains(got, phone) {
		p.Fatalf("code sent to %q", got)
	}
	assertPortalPage(t, p, "portal-code")
	p.Fill("#f-code", e.code(t, phone))
	if st := p.Submit(`form[action="/portal/sign-in"] button[type=submit]`); st != 200 || p.Path() != "/portal/home" {
		p.Fatalf("sign-in: %d at %s", st, p.Path())
	}
	if got := p.Text(".butler-name"); got != "赵管家" {
		p.Fatalf("butler %q", got)
	}
	if href := e2e.Eval[string](p, `document.querySelector("a.call").getAttribute("href")`); !strings.HasPrefix(href, "tel:") {
		p.Fatalf("call link %q", href)
	}
	assertPortalPage(t, p, "portal-home")

	// Report a leak with a photo.
	p.Submit(`.portal-tabs a[href="/portal/report"]`)
	p.Do("describe", chromedp.SendKeys(chromedp.CSS("#f-description"), "厨房水槽下面漏水，地上有积水"))
	p.Do("attach a photo", chromedp.SetUploadFiles(chromedp.CSS("#f-photos"), []string{photoFile(t)}))
	p.Click(`.pick input[value="weekday_evening"] + span`)
	assertPortalPage(t, p, "portal-report")
	if st := p.Submit(`#report-form button[type=submit]`); st != 200 || !strings.HasPrefix(p.Path(), "/portal/cases/") {
		p.Fatalf("report: %d at %s", st, p.Path())
	}
	if got := p.Text("#flash"); !strings.Contains(got, "已提交") {
		p.Fatalf("flash %q", got)
	}
	p.WaitVisible("#photos .photo-grid img")
	if w := e2e.Eval[int](p, `document.querySelector("#photos .photo-grid img").naturalWidth`); w != 48 {
		p.Fatalf("the photo does not show (width %d)", w)
	}
	if got := p.Texts("ol.progress li.now"); len(got) != 1 || got[0] != "已受理" {
		p.Fatalf("progress now %q", got)
	}
	assertPortalPage(t, p, "portal-case")

	// The list shows it.
	p.Submit(`.portal-tabs a[href="/portal/cases"]`)
	if got := p.Text("#case-list"); !strings.Contains(got, "厨房水槽下面漏水") {
		p.Fatalf("list: %q", got)
	}
	assertPortalPage(t, p, "portal-cases")

	// Done and rated: the work is finished by the technician.
	var id int64
	if err := e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT id FROM cases WHERE household_id = ? ORDER BY id DESC LIMIT 1`, hh).Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, st := range []struct {
		act string
		in  cases.ActionInput
	}{
		{cases.ActAcknowledge, cases.ActionInput{Note: "已联系"}},
		{cases.ActDispatch, cases.ActionInput{AssigneeID: e.StaffID("technician")}},
		{cases.ActClaim, cases.ActionInput{}},
		{cases.ActComplete, cases.ActionInput{Note: "已更换密封圈", OnBehalf: true}},
	} {
		if _, err := e.App.Cases.Do(context.Background(), id, st.act, st.in); err != nil {
			t.Fatalf("%s: %v", st.act, err)
		}
	}
	p.Submit(`a.pc-case[data-case]`)
	p.WaitVisible("#rate")
	assertPortalPage(t, p, "portal-rate")
	for _, sel := range []string{"#r-speed-5", "#r-quality-4", "#r-attitude-5"} {
		p.Click(`label.star:has(` + sel + `)`)
	}
	p.Do("comment", chromedp.SendKeys(chromedp.CSS("#f-comment"), "师傅很耐心"))
	if st := p.Submit(`#rate button[type=submit]`); st != 200 {
		p.Fatalf("rate: %d", st)
	}
	if got := p.Text("#rated"); !strings.Contains(got, "★★★★★") {
		p.Fatalf("rated %q", got)
	}

	// The utility application with its diagram.
	p.Submit(`.portal-tabs a[href="/portal/applications"]`)
	p.Submit(`a.app-card`)
	p.WaitVisible(`#diagram[data-ready="1"]`)
	if got := p.Text("#next"); !strings.Contains(got, "户主身份证") {
		p.Fatalf("materials %q", got)
	}
	if n := e2e.Eval[int](p, `document.querySelectorAll("#diagram .gj-active").length`); n == 0 {
		p.Fatalf("no active step marked on the diagram")
	}
	assertPortalPage(t, p, "portal-application")

	p.Submit(`.portal-tabs a[href="/portal/notices"]`)
	assertPortalPage(t, p, "portal-notices")

	// Asking to be verified, signed out.
	p.Submit(`#sign-out button`)
	p.GoOK("/portal/join")
	assertPortalPage(t, p, "portal-join")
}

// A lobby kiosk: keypad sign-in, only masked values, nothing leads out,
// and after the idle time it signs out by itself and shows the start.
func TestPortalKiosk(t *testing.T) {
	b := e2e.Start(t)
	e := startPortal(t)
	const phone = "13933334444"
	e.Resident("9-0902", "王五", phone)
	e.account(t, "0107654321", phone)
	var butlerPhone string
	e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT phone FROM staff WHERE username = 'butler'`).Scan(&butlerPhone)
	p := b.NewPage(t, e.URL, Kiosk)

	// Set up with a short idle time for the test (honoured within 2–60 s).
	p.GoOK("/portal?kiosk=1&idle=3")
	if p.Path() != "/portal" || !p.Has(`body.kiosk[data-idle="3"]`) {
		p.Fatalf("kiosk start at %s", p.Path())
	}
	if p.Has(`a[href="/portal/join"]`) {
		p.Fatalf("the kiosk offers the verification request")
	}
	p.Screenshot("kiosk-signin")
	for _, d := range phone {
		p.Click(`.keypad button[data-key="` + string(d) + `"]`)
	}
	if got := e2e.Eval[string](p, `document.querySelector("#f-phone").value`); got != phone {
		p.Fatalf("keypad typed %q", got)
	}
	p.Submit(`form[action="/portal/code"] button[type=submit]`)
	for _, d := range e.code(t, phone) {
		p.Click(`.keypad button[data-key="` + string(d) + `"]`)
	}
	p.Screenshot("kiosk-code")
	if st := p.Submit(`form[action="/portal/sign-in"] button[type=submit]`); st != 200 || p.Path() != "/portal/home" {
		p.Fatalf("kiosk sign-in: %d at %s", st, p.Path())
	}
	// Only masked values; no way out.
	text := e2e.Eval[string](p, `document.body.innerText`)
	for _, clear := range []string{phone, butlerPhone, "0107654321", "YK-2026-0008"} {
		if strings.Contains(text, clear) {
			p.Fatalf("the kiosk shows %s", clear)
		}
	}
	for _, masked := range []string{"139****4444", "01****4321", "YK******0008", "受理用电申请"} {
		if !strings.Contains(text, masked) {
			p.Fatalf("the kiosk lacks %q: %q", masked, text)
		}
	}
	out := e2e.Eval[[]string](p, `Array.from(document.querySelectorAll("a[href]"), a => a.getAttribute("href")).filter(h => !h.startsWith("/portal"))`)
	if len(out) > 0 || p.Has(`a[href^="tel:"]`) {
		p.Fatalf("links out of the portal: %v", out)
	}
	p.Screenshot("kiosk-home")

	// Nobody touches it: after the idle time it signs out and starts over.
	start := time.Now()
	p.WaitVisible("[data-kiosk-start]")
	if waited := time.Since(start); waited > 10*time.Second {
		p.Fatalf("signed out after %s", waited)
	}
	if p.Path() != "/portal" {
		p.Fatalf("after the idle sign-out: %s", p.Path())
	}
	if n := e.Count("portal_sessions"); n != 0 {
		p.Fatalf("%d portal sessions left after the idle sign-out", n)
	}
	if st := p.Go("/portal/home"); st != 200 || p.Path() != "/portal" {
		p.Fatalf("home after sign-out: %d at %s", st, p.Path())
	}
}

// A newcomer asks to be verified on their phone, with a photo of the
// lease; the butler reviews it at a desk and approves; the newcomer signs
// in and sees the household.
func TestPortalVerification(t *testing.T) {
	b := e2e.Start(t)
	e := startPortal(t)
	e.Resident("9-0903", "陈业主", "13955550000")
	const phone = "13700004444"
	p := b.NewPage(t, e.URL, e2e.Phone)
	p.GoOK("/portal")
	p.Submit(`a[href="/portal/join"]`)
	p.Fill("#f-phone", phone)
	p.Submit(`form[action="/portal/join/code"] button[type=submit]`)
	p.Fill("#f-code", e.code(t, phone))
	p.Fill("#f-unit", "9-0903")
	p.Click(`.pick input[value="tenant"] + span`)
	p.Fill("#f-name", "林租客")
	p.Do("attach the lease", chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{photoFile(t)}))
	assertPortalPage(t, p, "portal-join-form")
	if st := p.Submit(`#join-form button[type=submit]`); st != 201 {
		p.Fatalf("request: %d", st)
	}
	p.WaitVisible("#join-sent")
	assertPortalPage(t, p, "portal-join-sent")

	desk := b.NewPage(t, e.URL, e2e.Desktop)
	desk.LoginAs("butler")
	desk.GoOK("/verifications")
	if got := desk.Text("#verifications tbody"); !strings.Contains(got, "林租客") || !strings.Contains(got, "137****4444") || strings.Contains(got, phone) {
		desk.Fatalf("review list: %q", got)
	}
	desk.WaitVisible("#verifications img.proof-thumb")
	if w := e2e.Eval[int](desk, `document.querySelector("#verifications img.proof-thumb").naturalWidth`); w != 48 {
		desk.Fatalf("proof not shown (width %d)", w)
	}
	desk.Screenshot("verifications-review")
	if st := desk.Submit(`#verifications form[action$="/approve"] button`); st != 200 || !strings.Contains(desk.Text(".flash"), "已通过") {
		desk.Fatalf("approve: %d", st)
	}

	p.GoOK("/portal")
	p.Fill("#f-phone", phone)
	p.Submit(`form[action="/portal/code"] button[type=submit]`)
	p.Fill("#f-code", e.code(t, phone))
	p.Submit(`form[action="/portal/sign-in"] button[type=submit]`)
	if got := p.Text(".home-card .home-unit"); !strings.Contains(got, "9-0903") {
		p.Fatalf("home after approval: %q", got)
	}
}
