package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/e2e"
	"github.com/guanjia/guanjia/internal/i18n"
)

// deskFixture makes sure unit 1-0101 of 示例花园 has a household whose
// butler is the demo butler (the households demo gives it one; without
// it the rows are made here), and returns the site and the unit.
func deskFixture(t *testing.T, env *apptest.Env) (site, unit int64) {
	t.Helper()
	ctx := context.Background()
	site = env.SiteID("示例花园")
	butler := env.StaffID("butler")
	err := env.DB.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if err := env.App.Cases.SeedCategories(ctx, site); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `SELECT id FROM units WHERE site_id = ? AND number = '1-0101'`, site).Scan(&unit)
		if db.IsNoRows(err) {
			var path string
			if err := tx.QueryRowContext(ctx, `SELECT path FROM org_nodes WHERE id = ?`, site).Scan(&path); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `INSERT INTO units (site_id, node_path, number, building, floor, created_at, updated_at) VALUES (?, ?, '1-0101', '1', 1, 0, 0) RETURNING id`,
				site, path).Scan(&unit); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO households (unit_id, site_id, node_path, butler_id, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0)`,
				unit, site, path, butler)
			return err
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE households SET butler_id = ? WHERE unit_id = ? AND status = 'current'`, butler, unit)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return site, unit
}

// photo writes a small real PNG (a tap dripping on tiles, more or less)
// and returns its path.
func photo(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 96, 72))
	for y := 0; y < 72; y++ {
		for x := 0; x < 96; x++ {
			c := color.RGBA{R: 200, G: 210, B: 220, A: 255}
			if (x/12+y/12)%2 == 0 {
				c = color.RGBA{R: 230, G: 235, B: 240, A: 255}
			}
			if x > 40 && x < 56 && y < 30 {
				c = color.RGBA{R: 120, G: 130, B: 140, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "leak.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sign draws a signature on the pad inside scope with pointer events, as a
// finger would.
func sign(p *e2e.Page, scope string) {
	p.T.Helper()
	js := fmt.Sprintf(`(function() {
		const c = document.querySelector(%q);
		c.scrollIntoView({block: 'center'});
		const r = c.getBoundingClientRect();
		const at = (fx, fy) => ({clientX: r.left + fx * r.width, clientY: r.top + fy * r.height, pointerId: 7, pointerType: 'touch', isPrimary: true, bubbles: true});
		const pts = [[.12,.65],[.18,.35],[.24,.7],[.3,.3],[.38,.62],[.46,.4],[.55,.58],[.63,.36],[.72,.6],[.8,.42],[.88,.55]];
		c.dispatchEvent(new PointerEvent('pointerdown', at(...pts[0])));
		for (const p of pts.slice(1)) c.dispatchEvent(new PointerEvent('pointermove', at(...p)));
		c.dispatchEvent(new PointerEvent('pointerup', at(...pts[pts.length-1])));
		return c.closest('[data-sig]').classList.contains('inked');
	})()`, scope+" canvas.sig-pad")
	if !e2e.Eval[bool](p, js) {
		p.Fatalf("the signature pad took no ink")
	}
}

// write types into a textarea as a person would (the harness's Fill
// clears a field through its text node, which an empty textarea lacks).
func write(p *e2e.Page, sel, v string) {
	p.T.Helper()
	p.WaitVisible(sel)
	p.Click(sel)
	p.Do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), v))
	if got := e2e.Eval[string](p, fmt.Sprintf(`document.querySelector(%q).value`, sel)); got != v {
		p.Fatalf("type into %s: %q", sel, got)
	}
}

// settled waits for htmx to finish swapping and processing new content
// (links in it answer clicks once processed, after the settle delay).
func settled(p *e2e.Page) {
	p.T.Helper()
	p.WaitGone(".htmx-request, .htmx-swapping, .htmx-settling")
	time.Sleep(100 * time.Millisecond)
}

// waitLive waits until the page's event stream is open.
func waitLive(p *e2e.Page) {
	p.T.Helper()
	p.WaitVisible(`html[data-live="open"] body`)
}

// A butler takes a call in zh-CN: finds 1-0101 in the one search box,
// sees the household's open cases, fills in the request and submits;
// their workbench, open in another window, shows the new case without a
// reload, and the bell counts it.
func TestCaseIntakeShowsLiveInInbox(t *testing.T) {
	b := e2e.Start(t)
	env := apptest.Start(t, dbtest.Open(t, db.SQLite))
	deskFixture(t, env)
	keys := i18n.MustLoad().Keys(i18n.Default)

	inbox := b.NewPage(t, env.URL, e2e.Desktop)
	inbox.LoginAs("butler")
	inbox.GoOK("/inbox")
	inbox.WaitVisible("#inbox-groups")
	waitLive(inbox)
	e2e.Eval[bool](inbox, `(window.__sameDocument = true)`)
	before := e2e.Eval[string](inbox, `(document.querySelector('#bell .bell-count') || {innerText: '0'}).innerText`)

	desk := b.NewPage(t, env.URL, e2e.Desktop)
	desk.LoginAs("butler")
	desk.GoOK("/cases/new")
	if desk.Lang() != "zh-CN" {
		t.Fatalf("lang %q", desk.Lang())
	}
	desk.Fill("#f-q", "1-0101")
	desk.WaitVisible(`.res-hit[data-unit="1-0101"]`)
	settled(desk)
	desk.Screenshot("cases-intake-search")
	desk.Click(`.res-hit[data-unit="1-0101"]`)
	desk.WaitVisible("#res-card")
	settled(desk)
	if desk.Path() != "/cases/new" {
		t.Errorf("picking the unit left the page: %s", desk.Path())
	}
	if got := desk.Text("#res-card"); !strings.Contains(got, "1-0101") || !strings.Contains(got, "赵管家") {
		t.Errorf("picked unit: %q", got)
	}
	desk.Select("#f-category", "水电")
	write(desk, "#f-description", "厨房水槽下水管漏水，地面有积水")
	desk.Fill("#f-contact_name", "张先生")
	desk.Fill("#f-contact_phone", "13800000001")
	desk.Fill("#f-preferred_time", "今天 14:00 以后")
	desk.Do("attach a photo", chromedp.SetUploadFiles(chromedp.CSS("#f-photos"), []string{photo(t)}))
	desk.Screenshot("cases-intake")
	if k := desk.UntranslatedKeys(keys); len(k) > 0 {
		t.Errorf("intake: untranslated keys %v", k)
	}
	if st := desk.Submit("#intake-submit"); st != 200 {
		t.Fatalf("submit: status %d: %q", st, desk.Texts(".flash-error, .field-error"))
	}
	if path := desk.Path(); !strings.HasPrefix(path, "/cases/") || !strings.Contains(path, "ok=created") {
		t.Fatalf("after submit at %s: %q", path, desk.Texts(".flash-error, .field-error"))
	}
	number := desk.Text("h1.num")
	if got := desk.Text("#case-state"); !strings.Contains(got, "待受理") {
		t.Errorf("new case state: %q", got)
	}
	if got := desk.Text(".flash-ok"); got != "工单已登记，已通知管家。" {
		t.Errorf("flash: %q", got)
	}
	desk.WaitVisible("#files .thumbs img")
	desk.Screenshot("cases-case-new")
	if k := desk.UntranslatedKeys(keys); len(k) > 0 {
		t.Errorf("case page: untranslated keys %v", k)
	}

	// The workbench, never reloaded, shows it among the new cases.
	inbox.WaitVisible(`#g-new tr[data-number="` + number + `"]`)
	if !e2e.Eval[bool](inbox, `window.__sameDocument === true`) {
		t.Fatal("the workbench reloaded")
	}
	inbox.WaitVisible(`#bell .bell-count`)
	after := inbox.Text("#bell .bell-count")
	if after == before {
		t.Errorf("the bell did not count the new case: %s → %s", before, after)
	}
	inbox.Screenshot("cases-inbox")
	if k := inbox.UntranslatedKeys(keys); len(k) > 0 {
		t.Errorf("inbox: untranslated keys %v", k)
	}

	// One tap acknowledges from the workbench.
	if st := inbox.Submit(`#g-new tr[data-number="` + number + `"] button.tap`); st != 200 {
		t.Fatalf("acknowledge: status %d", st)
	}
	if got := inbox.Text(".flash-ok"); got != "已受理。" {
		t.Errorf("after acknowledge: %q", got)
	}

	// The list and the bell's page, desktop and phone.
	inbox.GoOK("/cases?state=open")
	inbox.WaitVisible(`#case-table tr`)
	inbox.Screenshot("cases-list")
	inbox.GoOK("/notifications")
	inbox.WaitVisible("#notifications")
	inbox.Screenshot("cases-notifications")
	phone := b.NewPage(t, env.URL, e2e.Phone)
	phone.LoginAs("butler")
	for _, s := range []struct{ name, path, sel string }{
		{"cases-inbox", "/inbox", "#inbox-groups"},
		{"cases-intake", "/cases/new?q=1-0101", ".res-hit"},
		{"cases-list", "/cases?state=open", "#case-table"},
		{"cases-case-new", strings.SplitN(desk.Path(), "?", 2)[0], "#timeline"},
		{"cases-notifications", "/notifications", "#notifications"},
	} {
		phone.GoOK(s.path)
		phone.WaitVisible(s.sel)
		phone.AssertNoHorizontalScroll()
		if small := phone.SmallTapTargets(44); len(small) > 0 {
			t.Errorf("%s: controls smaller than 44px: %v", s.name, small)
		}
		phone.Screenshot(s.name)
	}
}

// A technician on a phone (375×812) opens their jobs, accepts one, marks
// arrival and reports it done with a photo from the camera input and the
// resident's signature drawn on the pad; the case then shows 已完工 with
// both files.
func TestTechnicianCompletesOnPhone(t *testing.T) {
	b := e2e.Start(t)
	env := apptest.Start(t, dbtest.Open(t, db.SQLite))
	site, unit := deskFixture(t, env)
	butler := env.Login("butler")
	var cat struct{ Items []cases.Category }
	env.Do("GET", fmt.Sprintf("/api/v1/case-categories?site_id=%d", site), butler, nil, &cat)
	var water int64
	for _, c := range cat.Items {
		if c.Code == "water_power" {
			water = c.ID
		}
	}
	var created cases.Created
	if res := env.Do("POST", "/api/v1/cases", butler, map[string]any{"type": "repair", "category_id": water, "site_id": site, "unit_id": unit,
		"description": "卫生间角阀滴水", "priority": "urgent", "contact_phone": "13800000001", "preferred_time": "今天下午"}, &created); res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	id := created.Case.ID
	if res := env.Do("POST", fmt.Sprintf("/api/v1/cases/%d/dispatch", id), butler, map[string]any{"assignee_id": env.StaffID("technician")}, nil); res.StatusCode != 200 {
		t.Fatalf("dispatch: %d %s", res.StatusCode, res.Body)
	}

	// The butler has the case open on a desktop meanwhile.
	desk := b.NewPage(t, env.URL, e2e.Desktop)
	desk.LoginAs("butler")
	desk.GoOK(fmt.Sprintf("/cases/%d", id))
	waitLive(desk)

	tech := b.NewPage(t, env.URL, e2e.Phone)
	tech.LoginAs("technician")
	tech.GoOK("/jobs")
	card := fmt.Sprintf(`article.job[data-case="%d"]`, id)
	tech.WaitVisible(card)
	if got := tech.Text(card); !strings.Contains(got, "1-0101") || !strings.Contains(got, "卫生间角阀滴水") || !strings.Contains(got, "紧急") || !strings.Contains(got, "水电") {
		t.Errorf("job card: %q", got)
	}
	tech.AssertNoHorizontalScroll()
	tech.AssertTapTargets(44)
	tech.Screenshot("cases-jobs")

	step := func(button, flash string) {
		t.Helper()
		if st := tech.Submit(card + " " + button); st != 200 {
			tech.Fatalf("%s: status %d", button, st)
		}
		if got := tech.Text(".flash-ok"); got != flash {
			t.Errorf("after %s: %q", button, got)
		}
	}
	step(".do-claim", "已接单。")
	step(".do-arrive", "已登记到场。")

	form := card + " .complete-form"
	tech.WaitVisible(form)
	tech.Do("take a photo", chromedp.SetUploadFiles(chromedp.CSS(form+` input[name="photos"]`), []string{photo(t)}))
	tech.Fill(form+` input[name="materials"]`, "角阀×1，生料带")
	tech.Fill(form+` input[name="labour_minutes"]`, "35")
	write(tech, form+` textarea[name="note"]`, "更换角阀，试水无渗漏")
	sign(tech, form)
	e2e.Eval[bool](tech, `(window.scrollTo(0, 0), true)`)
	tech.AssertNoHorizontalScroll()
	tech.Screenshot("cases-jobs-complete")
	if st := tech.Submit(form + ` button[type="submit"]`); st != 200 {
		tech.Fatalf("complete: status %d", st)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.HasPrefix(tech.Path(), "/jobs?ok=complete") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := tech.Text(".flash-ok"); got != "已完工，等待管家回访。" {
		t.Fatalf("after complete at %s: %q %q", tech.Path(), got, tech.Texts(".flash-error, .field-error"))
	}
	if tech.Has(card) {
		t.Error("the completed job is still among my jobs")
	}

	tech.GoOK(fmt.Sprintf("/cases/%d", id))
	if got := tech.Text("#case-state"); !strings.Contains(got, "已完工") {
		t.Errorf("case state: %q", got)
	}
	files := strings.Join(tech.Texts("#files .thumbs li"), " ")
	if !strings.Contains(files, "完工照片") || !strings.Contains(files, "业主签字") {
		t.Errorf("files: %q", files)
	}
	timeline := strings.Join(tech.Texts("#timeline li"), "\n")
	for _, want := range []string{"派工", "接单", "到场", "完工回单", "工时 35 分钟", "角阀×1", "业主已签字", "钱师傅"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q:\n%s", want, timeline)
		}
	}
	tech.AssertNoHorizontalScroll()
	tech.Screenshot("cases-case-completed")

	// The butler's page of the case says it changed; reloaded, the visit
	// form is open.
	desk.WaitVisible("#case-updated")
	desk.GoOK(fmt.Sprintf("/cases/%d", id))
	desk.WaitVisible("#act-visit[open]")
	desk.Screenshot("cases-case-completed")
	desk.GoOK("/inbox")
	desk.WaitVisible(fmt.Sprintf(`#g-visit tr[data-case="%d"]`, id))

	// A supervisor's jobs page and 强制回单 wording on another job.
	if res := env.Do("POST", "/api/v1/cases", butler, map[string]any{"type": "repair", "category_id": water, "site_id": site, "unit_id": unit,
		"description": "阳台地漏堵塞"}, &created); res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", res.StatusCode)
	}
	env.Do("POST", fmt.Sprintf("/api/v1/cases/%d/dispatch", created.Case.ID), butler, map[string]any{"assignee_id": env.StaffID("technician")}, nil)
	env.Do("POST", fmt.Sprintf("/api/v1/cases/%d/claim", created.Case.ID), env.Login("technician"), nil, nil)
	sup := b.NewPage(t, env.URL, e2e.Desktop)
	sup.LoginAs("supervisor")
	sup.GoOK(fmt.Sprintf("/cases/%d", created.Case.ID))
	if got := sup.Text("#act-complete summary"); got != "强制回单（代师傅回单）" {
		t.Errorf("supervisor's completion: %q", got)
	}
	tech.GoOK("/jobs")
	tech.WaitVisible(fmt.Sprintf(`article.job[data-case="%d"]`, created.Case.ID))
	tech.Screenshot("cases-jobs")
	techDesk := b.NewPage(t, env.URL, e2e.Desktop)
	techDesk.LoginAs("technician")
	techDesk.GoOK("/jobs")
	techDesk.WaitVisible(fmt.Sprintf(`article.job[data-case="%d"]`, created.Case.ID))
	techDesk.Screenshot("cases-jobs")
}
