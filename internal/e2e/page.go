package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/guanjia/guanjia/internal/demo"
)

// Viewport is a screen size to test at.
type Viewport struct {
	Name          string // used in screenshot file names
	Width, Height int64
	Scale         float64 // device pixels per CSS pixel
	Mobile        bool    // mobile emulation: meta viewport, touch, taps
}

// The sizes the pages must work at.
var (
	Desktop = Viewport{Name: "desktop", Width: 1366, Height: 900, Scale: 1}
	Phone   = Viewport{Name: "phone", Width: 375, Height: 812, Scale: 2, Mobile: true}
)

// DefaultTimeout bounds every step of a Page: a wait that takes longer fails
// the test with a screenshot instead of hanging.
const DefaultTimeout = 15 * time.Second

// Page is one tab in a fresh browser context (its own cookies), pointed at
// one application. Its methods fail the test on error, after saving a
// screenshot of the page as it was.
type Page struct {
	T        testing.TB
	Base     string // the application's URL, e.g. apptest's e.URL
	Viewport Viewport
	Timeout  time.Duration // per step; DefaultTimeout unless changed

	ctx context.Context

	mu       sync.Mutex
	problems []string // uncaught exceptions and console errors
	dialogs  []string // messages of the confirm/alert dialogs accepted
}

// PageOption changes a page before it opens.
type PageOption func(*pageConfig)

type pageConfig struct{ lang string }

// WithLanguage sets the Accept-Language the page sends (default "zh-CN",
// the product's default locale).
func WithLanguage(lang string) PageOption { return func(c *pageConfig) { c.lang = lang } }

// NewPage opens a tab at the viewport's size in a new browser context. The
// tab closes when the test ends; uncaught JavaScript exceptions and console
// errors seen on it then fail the test. Dialogs (data-confirm) are accepted.
func (b *Browser) NewPage(tb testing.TB, base string, vp Viewport, opts ...PageOption) *Page {
	tb.Helper()
	cfg := pageConfig{lang: "zh-CN"}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	p := &Page{T: tb, Base: strings.TrimSuffix(base, "/"), Viewport: vp, Timeout: DefaultTimeout, ctx: ctx}

	// The first Run opens the tab and ties it to ctx, so it runs without a
	// timeout of its own; the watchdog cancels the tab if it hangs.
	setup := []chromedp.Action[chromedp.Void]{
		// The language the person's browser asks for, and their locale and
		// time zone for scripts (Intl, Date). Native date inputs follow the
		// browser's UI locale instead, which is en-US unless chromium-l10n
		// is installed.
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride,
				emulation.SetUserAgentOverrideParams{UserAgent: b.userAgent, AcceptLanguage: cfg.lang}); err != nil {
				return err
			}
			if _, err := chromedp.Call(ctx, emulation.SetLocaleOverride,
				emulation.SetLocaleOverrideParams{Locale: strings.ReplaceAll(cfg.lang, "-", "_")}); err != nil {
				return err
			}
			_, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Shanghai"})
			return err
		}),
		p.emulate(),
	}
	watchdog := time.AfterFunc(startTimeout, cancel)
	err := chromedp.Do(ctx, setup...)
	if !watchdog.Stop() {
		err = fmt.Errorf("the tab did not open within %s", startTimeout)
	}
	if err != nil {
		cancel()
		tb.Fatalf("e2e: new page: %v", err)
	}
	p.watchConsole()
	p.acceptDialogs()
	tb.Cleanup(func() {
		cancel()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, msg := range p.problems {
			tb.Errorf("e2e: browser console: %s", msg)
		}
	})
	return p
}

func (p *Page) emulate() chromedp.Action[chromedp.Void] {
	vp := p.Viewport
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(vp.Scale), chromedp.EmulatePortrait}
	if vp.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	return chromedp.EmulateViewport(vp.Width, vp.Height, opts...)
}

// watchConsole records uncaught exceptions and console errors. Of the
// failed loads it keeps only the static assets: a document answered 4xx
// (a wrong password, a rejected form) is expected and checked by the test,
// and the favicon is the browser's own idea.
func (p *Page) watchConsole() {
	msgs := chromedp.Console(p.ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleException && m.Type != chromedp.ConsoleError {
				continue
			}
			if m.Source == "network" && !strings.Contains(m.URL, "/static/") {
				continue
			}
			msg := fmt.Sprintf("%s: %s (%s)", m.Type, m.Text, m.URL)
			if strings.Contains(m.URL, "/static/vendor/") {
				msg += "; run make assets"
			}
			p.mu.Lock()
			p.problems = append(p.problems, msg)
			p.mu.Unlock()
		}
	}()
}

// acceptDialogs answers every confirm and alert with OK, as a person who
// means it would, and remembers the messages.
func (p *Page) acceptDialogs() {
	evs := chromedp.Events(p.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range evs {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.dialogs = append(p.dialogs, ev.Message)
			p.mu.Unlock()
			_, _ = chromedp.Call(p.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
}

// Dialogs returns the messages of the dialogs accepted so far.
func (p *Page) Dialogs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.dialogs...)
}

// Context returns the tab's context, for chromedp actions the helpers do
// not cover. Bound it with a timeout before use.
func (p *Page) Context() context.Context { return p.ctx }

// Do runs chromedp actions on the page within the step timeout.
func (p *Page) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.Fatalf("%s: %v", what, err)
	}
}

// Run runs one chromedp action on the page within the step timeout and
// returns its value.
func Run[T any](p *Page, what string, a chromedp.Action[T]) T {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.Fatalf("%s: %v", what, err)
	}
	return v
}

// Eval evaluates a JavaScript expression in the page and returns its value.
func Eval[T any](p *Page, js string) T {
	p.T.Helper()
	return Run(p, "eval "+short(js), chromedp.Evaluate[T](js))
}

// Fatalf saves a screenshot of the page as it is (FAIL-<test>-<viewport>.png),
// then fails the test with the message and the page's address.
func (p *Page) Fatalf(format string, args ...any) {
	p.T.Helper()
	msg := fmt.Sprintf(format, args...)
	where := p.location()
	if path, err := p.saveScreenshot("FAIL-" + p.T.Name()); err == nil {
		msg += "\n\tscreenshot: " + path
	}
	p.T.Fatalf("e2e: %s\n\tat: %s", msg, where)
}

func (p *Page) location() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return loc
}

// URL returns the application URL of path.
func (p *Page) URL(path string) string { return p.Base + path }

// Go opens path (e.g. "/staff?q=x") and returns the HTTP status of the
// document.
func (p *Page) Go(path string) int {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.Timeout)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(p.URL(path)))
	if err != nil {
		p.Fatalf("open %s: %v", path, err)
	}
	if res == nil {
		return 0
	}
	return int(res.Status)
}

// GoOK opens path and fails the test unless the answer is 200.
func (p *Page) GoOK(path string) {
	p.T.Helper()
	if st := p.Go(path); st != 200 {
		p.Fatalf("open %s: status %d", path, st)
	}
}

// Path returns the current path and query, e.g. "/staff/12?saved=1".
func (p *Page) Path() string {
	p.T.Helper()
	return Eval[string](p, `location.pathname + location.search`)
}

// press clicks with the mouse on a desktop and taps on a phone.
func (p *Page) press(sel string) chromedp.Action[chromedp.Void] {
	if p.Viewport.Mobile {
		return chromedp.Tap(chromedp.CSS(sel), chromedp.NodeVisible)
	}
	return chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)
}

// Click clicks (taps on a phone) the first visible element matching the CSS
// selector, without waiting for anything to follow.
func (p *Page) Click(sel string) {
	p.T.Helper()
	p.Do("click "+sel, p.press(sel))
}

// Submit clicks (taps) the element, typically a submit button or a link,
// waits for the page it leads to and returns that page's HTTP status.
func (p *Page) Submit(sel string) int {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.Timeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, p.press(sel))
	if err != nil {
		p.Fatalf("submit %s: %v", sel, err)
	}
	if res == nil {
		return 0
	}
	return int(res.Status)
}

// Fill types value into the input or textarea matching the CSS selector,
// replacing what was there.
func (p *Page) Fill(sel, value string) {
	p.T.Helper()
	p.Do("fill "+sel,
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Clear(chromedp.CSS(sel)),
		chromedp.SendKeys(chromedp.CSS(sel), value),
	)
	if got := Run(p, "read "+sel, chromedp.Value(chromedp.CSS(sel))); got != value {
		p.Fatalf("fill %s: the field holds %q, want %q", sel, got, value)
	}
}

// Select picks, in the select matching the CSS selector, the option whose
// visible label (trimmed of the tree indent) is label, as a person choosing
// from the list would. It fails listing the labels when none matches.
func (p *Page) Select(sel, label string) {
	p.T.Helper()
	p.WaitVisible(sel)
	js := fmt.Sprintf(`(function(sel, label) {
		const s = document.querySelector(sel);
		const opts = Array.from(s.options);
		const o = opts.find(o => o.label.replace(/^[\s\u00a0\u3000·└├│─]+/, '').trim() === label);
		if (!o) return 'no option ' + JSON.stringify(label) + ' among ' + JSON.stringify(opts.map(o => o.label.trim()));
		s.value = o.value;
		s.dispatchEvent(new Event('input', {bubbles: true}));
		s.dispatchEvent(new Event('change', {bubbles: true}));
		return '';
	})(%q, %q)`, sel, label)
	if msg := Eval[string](p, js); msg != "" {
		p.Fatalf("select %s: %s", sel, msg)
	}
}

// WaitVisible waits until an element matching the CSS selector is visible.
func (p *Page) WaitVisible(sel string) {
	p.T.Helper()
	p.Do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// WaitGone waits until no element matches the CSS selector.
func (p *Page) WaitGone(sel string) {
	p.T.Helper()
	p.Do("wait for "+sel+" to go", chromedp.WaitNotPresent(chromedp.CSS(sel)))
}

// Has reports whether an element matches the CSS selector now, without
// waiting.
func (p *Page) Has(sel string) bool {
	p.T.Helper()
	return Eval[bool](p, fmt.Sprintf(`document.querySelector(%q) !== null`, sel))
}

// Text waits for the element matching the CSS selector to be visible and
// returns its visible text, trimmed.
func (p *Page) Text(sel string) string {
	p.T.Helper()
	p.WaitVisible(sel)
	return strings.TrimSpace(Run(p, "text of "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// Texts returns the trimmed visible texts of all elements matching the CSS
// selector (none is fine).
func (p *Page) Texts(sel string) []string {
	p.T.Helper()
	return Eval[[]string](p, fmt.Sprintf(`Array.from(document.querySelectorAll(%q), e => e.innerText.trim())`, sel))
}

// Lang returns the page's <html lang>.
func (p *Page) Lang() string {
	p.T.Helper()
	return Eval[string](p, `document.documentElement.lang`)
}

// Title returns the document title.
func (p *Page) Title() string {
	p.T.Helper()
	return Eval[string](p, `document.title`)
}

// Login signs in through the login form and returns the HTTP status of the
// page the form leads to (the login page again, with an error, on a wrong
// password).
func (p *Page) Login(username, password string) int {
	p.T.Helper()
	if !strings.HasPrefix(p.Path(), "/login") {
		p.GoOK("/login")
	}
	p.Fill("#f-username", username)
	p.Fill("#f-password", password)
	return p.Submit(`form[action="/login"] button[type=submit]`)
}

// LoginAs signs in as a demo user and fails unless it lands on a signed-in
// page.
func (p *Page) LoginAs(username string) {
	p.T.Helper()
	p.GoOK("/login")
	if st := p.Login(username, demo.Password); st != 200 {
		p.Fatalf("login as %s: status %d", username, st)
	}
	if !p.Has(".topbar") {
		p.Fatalf("login as %s: no signed-in page after the form", username)
	}
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
