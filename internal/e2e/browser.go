// Package e2e drives the real application in a real browser (headless
// Chromium through chromedp): it signs in through the login form, fills and
// submits forms, checks what a person would see, and saves screenshots as
// test artifacts.
//
// One browser serves the whole test process; every Page opens in its own
// browser context, so cookies never leak from one page to the next and pages
// may run in parallel. A package with browser tests starts the browser
// lazily and stops it from TestMain:
//
//	func TestMain(m *testing.M) { dbtest.Main(e2e.Runner(m)) }
//
//	func TestSomething(t *testing.T) {
//		b := e2e.Start(t) // skips when no browser is installed
//		env := apptest.Start(t, dbtest.Open(t, db.SQLite))
//		p := b.NewPage(t, env.URL, e2e.Phone)
//		p.LoginAs("butler")
//		p.Go("/inbox")
//		p.AssertNoHorizontalScroll()
//		p.Screenshot("inbox")
//	}
//
// Without Chromium the tests skip, unless GUANJIA_REQUIRE_BROWSER=1 (as in
// CI), where a missing browser fails them.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// Environment variables the harness reads.
const (
	// EnvChromium names the browser binary to use, ahead of the usual places.
	EnvChromium = "GUANJIA_CHROMIUM"
	// EnvRequire, when "1", turns a missing or broken browser into a failure.
	EnvRequire = "GUANJIA_REQUIRE_BROWSER"
	// EnvArtifacts is the folder for screenshots (default ./artifacts at the
	// module root).
	EnvArtifacts = "GUANJIA_ARTIFACTS"
)

// candidates are tried in order after $GUANJIA_CHROMIUM.
var candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// startTimeout bounds the browser's start; a browser that hangs at start
// fails the test instead of eating the whole test timeout.
const startTimeout = 60 * time.Second

// Browser is one running headless Chromium shared by the tests of a process.
type Browser struct {
	ctx       context.Context // the first tab's context: holds the browser
	cancel    context.CancelFunc
	dataDir   string
	userAgent string
	Path      string // the binary
	Version   string // e.g. "Chrome/156.0.8078.108"
}

// shared is the process's browser. It is test-harness state, started on
// first use so that packages without browser tests pay nothing.
var shared struct {
	mu      sync.Mutex
	done    bool
	b       *Browser
	err     error
	outcome outcome
}

// outcome says how looking for and starting the browser went wrong.
type outcome int

const (
	started      outcome = iota
	notInstalled         // nothing found: skip, unless required
	misnamed             // $GUANJIA_CHROMIUM names nothing runnable: fail
	broken               // found but would not start: fail if required
)

// Start returns the process's browser, starting it on first use. With no
// browser installed it skips the test, or fails it when
// GUANJIA_REQUIRE_BROWSER=1. A $GUANJIA_CHROMIUM that names nothing
// runnable fails the test. A browser that is found but does not start fails
// the test when required and skips it otherwise. In -short mode the test is
// skipped unless the browser is required.
func Start(tb testing.TB) *Browser {
	tb.Helper()
	required := os.Getenv(EnvRequire) == "1"
	if testing.Short() && !required {
		tb.Skip("e2e: browser tests are skipped in -short mode")
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.done {
		shared.done = true
		shared.b, shared.outcome, shared.err = find()
	}
	switch {
	case shared.outcome == started:
		return shared.b
	case shared.outcome == misnamed:
		tb.Fatalf("e2e: %v", shared.err)
	case required:
		tb.Fatalf("e2e: %v (%s=1 makes the browser required)", shared.err, EnvRequire)
	case shared.outcome == notInstalled:
		tb.Skipf("e2e: %v; install chromium or set %s", shared.err, EnvChromium)
	default:
		tb.Skipf("e2e: %v", shared.err)
	}
	return nil
}

func find() (*Browser, outcome, error) {
	path, err := FindChromium()
	switch {
	case err != nil && os.Getenv(EnvChromium) != "":
		return nil, misnamed, err
	case err != nil:
		return nil, notInstalled, err
	}
	b, err := launch(path)
	if err != nil {
		return nil, broken, err
	}
	return b, started, nil
}

// FindChromium returns the browser binary: $GUANJIA_CHROMIUM when set, else
// the first of /usr/bin/chromium, chromium, chromium-browser, google-chrome
// found on the PATH. It fails when $GUANJIA_CHROMIUM names nothing runnable
// or when none is installed.
func FindChromium() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		found, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("%s=%q: %w", EnvChromium, p, err)
		}
		return found, nil
	}
	for _, c := range candidates {
		if found, err := exec.LookPath(c); err == nil {
			return found, nil
		}
	}
	return "", fmt.Errorf("no Chromium found (looked for %s)", strings.Join(candidates, ", "))
}

// launch starts a headless browser with a fresh profile. The flags keep it
// from reaching out to the network (this runs on closed CI machines) and
// from stalling on first-run screens.
func launch(path string) (*Browser, error) {
	dir, err := os.MkdirTemp("", "guanjia-e2e-chromium-")
	if err != nil {
		return nil, fmt.Errorf("e2e: profile dir: %w", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.WindowSize(int(Desktop.Width), int(Desktop.Height)),
	)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b := &Browser{ctx: ctx, dataDir: dir, Path: path}
	b.cancel = func() {
		cancel()
		allocCancel()
		os.RemoveAll(dir)
	}
	// The first Run starts the browser and ties it to ctx, so it must not
	// run under a timeout of its own; a watchdog bounds it instead.
	started := make(chan error, 1)
	go func() {
		v, err := chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) (browser.GetVersionResult, error) {
			return chromedp.CallBrowser(ctx, browser.GetVersion, cdp.Empty{})
		})
		if err == nil {
			b.userAgent, b.Version = v.UserAgent, v.Product
		}
		started <- err
	}()
	select {
	case err = <-started:
	case <-time.After(startTimeout):
		err = errors.New("did not answer within " + startTimeout.String())
	}
	if err != nil {
		b.cancel()
		return nil, fmt.Errorf("e2e: start %s: %w", path, err)
	}
	return b, nil
}

// Close stops the browser and removes its profile.
func (b *Browser) Close() { b.cancel() }

// Runner wraps the tests of a package so that the shared browser stops
// after them. Use it from TestMain, around dbtest.Main if the package uses
// dbtest:
//
//	func TestMain(m *testing.M) { dbtest.Main(e2e.Runner(m)) }
func Runner(m interface{ Run() int }) interface{ Run() int } { return runner{m} }

type runner struct{ m interface{ Run() int } }

func (r runner) Run() int {
	code := r.m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.b != nil {
		shared.b.Close()
		shared.b = nil
	}
	return code
}
