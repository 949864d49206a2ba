package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/chromedp/chromedp"
)

// ArtifactsDir returns the folder for test artifacts: $GUANJIA_ARTIFACTS, or
// "artifacts" at the module root (git-ignored), created if need be.
func ArtifactsDir() (string, error) {
	dir := os.Getenv(EnvArtifacts)
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("e2e: artifacts: %w", err)
	}
	return dir, nil
}

// moduleRoot walks up from the working directory (a test's package folder)
// to the folder holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return dir, nil
		}
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot saves a full-page PNG as
// screenshots/<package>/<name>-<viewport>.png in the artifacts folder and
// returns its path; <package> is the folder of the test's package (e2e,
// portal, ...), so packages never overwrite each other's pictures.
func (p *Page) Screenshot(name string) string {
	p.T.Helper()
	path, err := p.saveScreenshot(name)
	if err != nil {
		p.T.Fatalf("e2e: screenshot %s: %v", name, err)
	}
	return path
}

func (p *Page) saveScreenshot(name string) (string, error) {
	dir, err := ArtifactsDir()
	if err != nil {
		return "", err
	}
	pkg := "e2e"
	if wd, err := os.Getwd(); err == nil {
		pkg = filepath.Base(wd)
	}
	dir = filepath.Join(dir, "screenshots", pkg)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.Timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", err
	}
	// A full-page capture can leave the emulated size changed; put it back
	// so the next measurement sees the viewport under test.
	if err := chromedp.Do(ctx, p.emulate()); err != nil {
		return "", err
	}
	file := filepath.Join(dir, strings.Trim(unsafeName.ReplaceAllString(name, "_"), "_")+"-"+p.Viewport.Name+".png")
	return file, os.WriteFile(file, png, 0o644)
}

// overflowJS lists, when the page is wider than the window, the elements
// that stick out to the right, outermost first: what to fix.
const overflowJS = `(function() {
	const w = window.innerWidth, doc = document.documentElement;
	if (doc.scrollWidth <= w) return [];
	const out = [];
	for (const e of document.body.querySelectorAll('*')) {
		const r = e.getBoundingClientRect();
		if (r.width === 0 || r.right <= w + 0.5) continue;
		if (e.parentElement && e.parentElement.getBoundingClientRect().right > w + 0.5) continue;
		let name = e.tagName.toLowerCase();
		if (e.id) name += '#' + e.id;
		if (e.classList.length) name += '.' + Array.from(e.classList).join('.');
		out.push(name + ' right=' + Math.round(r.right) + ' "' + (e.innerText || '').trim().slice(0, 30) + '"');
		if (out.length >= 8) break;
	}
	return ['scrollWidth ' + doc.scrollWidth + ' > innerWidth ' + w].concat(out);
})()`

// AssertNoHorizontalScroll fails the test when the page scrolls sideways
// (document.documentElement.scrollWidth > window.innerWidth), naming the
// elements that stick out.
func (p *Page) AssertNoHorizontalScroll() {
	p.T.Helper()
	if out := Eval[[]string](p, overflowJS); len(out) > 0 {
		p.Fatalf("the page scrolls sideways at %dpx: %s", p.Viewport.Width, strings.Join(out, "; "))
	}
}

// tapJS lists the visible controls smaller than min CSS pixels in height
// or width. Links inside running text are exempt, as WCAG 2.5.8 allows.
const tapJS = `(function(min) {
	const out = [];
	const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
	for (const e of document.querySelectorAll(sel)) {
		const r = e.getBoundingClientRect();
		if (r.width === 0 || r.height === 0) continue;
		const st = getComputedStyle(e);
		if (st.visibility === 'hidden') continue;
		if (e.tagName === 'A' && st.display === 'inline') {
			const p = e.parentElement;
			if (p && p.innerText.trim() !== e.innerText.trim()) continue;
		}
		if (e.type === 'checkbox' || e.type === 'radio') {
			const l = e.closest('label');
			if (l) { const lr = l.getBoundingClientRect(); if (lr.height >= min) continue; }
		}
		if (r.height >= min && r.width >= min) continue;
		let name = e.tagName.toLowerCase();
		if (e.id) name += '#' + e.id;
		if (e.classList.length) name += '.' + Array.from(e.classList).join('.');
		out.push(name + ' ' + Math.round(r.width) + 'x' + Math.round(r.height) + ' "' + (e.innerText || e.value || '').trim().slice(0, 20) + '"');
	}
	return out;
})(%d)`

// SmallTapTargets returns the visible controls (links, buttons, fields)
// smaller than min CSS pixels either way, skipping links inside running
// text. Use it at a phone viewport with min 44.
func (p *Page) SmallTapTargets(min int) []string {
	p.T.Helper()
	return Eval[[]string](p, fmt.Sprintf(tapJS, min))
}

// AssertTapTargets fails the test when SmallTapTargets(min) finds any.
func (p *Page) AssertTapTargets(min int) {
	p.T.Helper()
	if out := p.SmallTapTargets(min); len(out) > 0 {
		p.Fatalf("%d controls smaller than %dpx: %s", len(out), min, strings.Join(out, "; "))
	}
}

// UntranslatedKeys returns the catalog keys that show on the page as they
// are: the catalogs fall back to the key itself when a translation is
// missing.
func (p *Page) UntranslatedKeys(keys []string) []string {
	p.T.Helper()
	text := Eval[string](p, `document.title + "\n" + document.body.innerText + "\n" +
		Array.from(document.querySelectorAll('[placeholder],[aria-label],[title]'),
			e => [e.getAttribute('placeholder'), e.getAttribute('aria-label'), e.getAttribute('title')].join(' ')).join(' ')`)
	var out []string
	for _, k := range keys {
		if strings.Contains(text, k) {
			out = append(out, k)
		}
	}
	return out
}
