//go:build e2e

package ui_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// browser is one headless Chromium tab, recording every request that left the dashboard,
// every failed request or error response, and every script error or error logged.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	foreign  []string // requests to anything but the dashboard
	failed   []string // requests that failed or answered >= 400
	errors   []string // exceptions, console.error, error log entries
	expected map[string]bool
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(testenv.Chromium(t)),
		chromedp.NoSandbox, // root in CI
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Env("TMPDIR="+testenv.ChromiumTempDir(t)),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	b := &browser{t: t, ctx: bctx, expected: map[string]bool{}}
	if err := chromedp.Listen(bctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if u := e.Request.URL; !strings.HasPrefix(u, baseURL+"/") && !strings.HasPrefix(u, "data:") {
				b.foreign = append(b.foreign, u)
			}
		case *network.EventLoadingFailed:
			b.failed = append(b.failed, fmt.Sprintf("request %s failed: %s", e.RequestID, e.ErrorText))
		case *network.EventResponseReceived:
			if e.Response.Status >= 400 && !b.expected[e.Response.URL] {
				b.failed = append(b.failed, fmt.Sprintf("%s: HTTP %d", e.Response.URL, e.Response.Status))
			}
		case *runtime.EventExceptionThrown:
			b.errors = append(b.errors, "exception: "+e.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				b.errors = append(b.errors, "console."+string(e.Type))
			}
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError && !b.expected[e.Entry.URL] {
				b.errors = append(b.errors, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		}
	}); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return b
}

// expect marks a URL whose error response the test provokes on purpose.
func (b *browser) expect(url string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expected[url] = true
}

func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("chromium: %s: %v", what, err)
	}
}

// open navigates to path and waits until the page's main content is there.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(baseURL+path), chromedp.WaitVisible(chromedp.CSS("main")))
}

func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("chromium: evaluating %s: %v", js, err)
	}
	return v
}

// attrs is the value of attr on every element that has it, in page order.
func (b *browser) attrs(attr string) []string {
	b.t.Helper()
	return eval[[]string](b, fmt.Sprintf(`Array.from(document.querySelectorAll('[%s]')).map(e => e.getAttribute('%s'))`, attr, attr))
}

// screenshot saves the whole page as name.png in the test's artifact directory (go test
// -artifacts -outputdir DIR keeps it; `make test` keeps them under _artifacts/) and, with
// SOC2_UPDATE_SCREENSHOTS=1, as docs/images/dashboard-name.png for the README.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("chromium: screenshot: %v", err)
	}
	if len(png) < 10_000 {
		b.t.Errorf("screenshot %s is %d bytes: nothing rendered?", name, len(png))
	}
	path := filepath.Join(b.t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	if os.Getenv("SOC2_UPDATE_SCREENSHOTS") != "" {
		doc := filepath.Join(testenv.RepoRoot(), "docs", "images", "dashboard-"+name+".png")
		if err := os.WriteFile(doc, png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

// lowContrast lists the page's text whose contrast with its background is under WCAG AA (4.5:1,
// 3:1 for large text: 24px, or 18.66px bold), outside the charts. The background is the first
// opaque one among the element and its ancestors.
const lowContrast = `(() => {
  const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = c => { const [r,g,b] = c.slice(0,3).map(v => { v /= 255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); }); return 0.2126*r + 0.7152*g + 0.0722*b; };
  const bg = el => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.length >= 3 && (c.length < 4 || c[3] > 0.99)) return c; } return [255,255,255]; };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg') || el.closest('.skip')) continue;
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || st.display === 'none') continue;
    const a = lum(rgb(st.color)), b = lum(bg(el));
    const ratio = (Math.max(a,b) + 0.05) / (Math.min(a,b) + 0.05);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    if (ratio < need) out.push(el.tagName + '.' + el.className + ' "' + el.textContent.trim().slice(0,30) + '" ' + ratio.toFixed(2));
  }
  return out;
})()`

// accessible fails the test when the page has text of too little contrast.
func (b *browser) accessible(page string) {
	b.t.Helper()
	if bad := eval[[]string](b, lowContrast); len(bad) > 0 {
		b.t.Errorf("%s: text under WCAG AA contrast: %v", page, bad)
	}
}

// signIn signs in through the login form, as a person pasting a token would.
func (b *browser) signIn(token string) {
	b.t.Helper()
	b.open("/")
	if loc := eval[string](b, `location.pathname`); loc != "/login" {
		b.t.Fatalf("a browser without a token is at %s, want the login form", loc)
	}
	b.accessible("login")
	b.do("sign in",
		chromedp.SetValue(chromedp.CSS("#token"), token),
		chromedp.Click(chromedp.CSS(`form.login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#user")),
	)
}

// clean fails the test on any foreign request, failed request or error so far.
func (b *browser) clean() {
	b.t.Helper()
	// Let late events (a failed request, an error logged after load) arrive.
	_ = chromedp.Do(b.ctx, chromedp.Sleep(300*time.Millisecond))
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.foreign) > 0 {
		b.t.Errorf("the pages requested other hosts: %v", b.foreign)
	}
	if len(b.failed) > 0 {
		b.t.Errorf("requests failed: %v", b.failed)
	}
	if len(b.errors) > 0 {
		b.t.Errorf("the pages logged errors: %v", b.errors)
	}
}

// TestTheDashboardInABrowser signs in to the dashboard in headless Chromium as the auditor
// and as the shop developer, walks every page, and checks what they show, that a fix shows up
// on reload, that the keyboard reaches the content, and that nothing failed or was fetched from
// elsewhere. Screenshots are kept as test artifacts.
func TestTheDashboardInABrowser(t *testing.T) {
	b := newBrowser(t)
	b.signIn(auditorToken)
	if user := eval[string](b, `document.getElementById('user').textContent`); user != "system:serviceaccount:"+usersNamespace+":auditor" {
		t.Errorf("signed in as %q", user)
	}

	// Overview: the demo's three namespaces, legacy first (not compliant).
	b.open("/")
	if got := b.attrs("data-namespace"); len(got) < 3 || got[0] != "legacy" || !slices.Contains(got, "payments") || !slices.Contains(got, "shop") {
		t.Errorf("the overview lists %v, want legacy first, then payments and shop", got)
	}
	// Keyboard: the first Tab reaches the skip link, shown with a focus outline; Enter jumps to
	// the main content.
	b.do("tab", chromedp.KeyEvent(kb.Tab))
	if got := eval[string](b, `document.activeElement.className + '|' + getComputedStyle(document.activeElement).outlineStyle + '|' + document.activeElement.getBoundingClientRect().left`); !strings.HasPrefix(got, "skip|solid|") || strings.HasSuffix(got, "|-10000") {
		t.Errorf("the first Tab focuses %q, want the visible skip link with an outline", got)
	}
	b.do("enter", chromedp.KeyEvent(kb.Enter))
	if got := eval[string](b, `location.hash + '|' + (document.activeElement && document.activeElement.id)`); got != "#main|main" {
		t.Errorf("the skip link leads to %q, want #main focused", got)
	}
	b.accessible("overview")
	b.screenshot("overview")

	// Namespace pages: legacy's findings with the checks' explanations; payments' exception.
	findings := len(reportFor(t, "legacy").Status.Findings)
	b.open("/namespaces/legacy")
	if got := b.attrs("data-check"); len(got) != findings || !slices.Contains(got, "wl-privileged") {
		t.Errorf("legacy's page lists %d findings (%v), the report %d with wl-privileged", len(got), got, findings)
	}
	b.do("open an explanation", chromedp.Click(chromedp.CSS("#explain-wl-privileged summary")))
	if open := eval[bool](b, `document.getElementById('explain-wl-privileged').open`); !open {
		t.Errorf("the wl-privileged explanation did not open")
	}
	b.accessible("namespace")
	b.screenshot("namespace")
	b.open("/namespaces/payments")
	row := eval[string](b, `document.querySelector('[data-exception="legacy-gateway-writable-rootfs"]').innerText`)
	for _, want := range []string{"Active", requester, testenv.ApproverName, "payments-team@example.com"} {
		if !strings.Contains(row, want) {
			t.Errorf("payments' exception row %q lacks %q", row, want)
		}
	}
	b.accessible("exceptions")
	b.screenshot("exceptions")

	// A check page lists the resources failing it.
	b.open("/checks/wl-privileged")
	if got := b.attrs("data-resource"); !slices.Contains(got, "Deployment/monolith") {
		t.Errorf("wl-privileged's page lists %v, want Deployment/monolith", got)
	}
	b.accessible("check")
	b.screenshot("check")
	b.open("/trends?days=7")
	if n := eval[int](b, `document.querySelectorAll('svg.chart rect').length`); n == 0 {
		t.Errorf("the trends page drew no shapes")
	}
	b.accessible("trends")
	b.screenshot("trends")

	// A fix shows up on reload.
	ns := fmt.Sprintf("ui-browser-fix-%d", fixSeq.Add(1))
	dep := createPrivileged(t, ns)
	// Until its report is written the namespace page is a 404: wait for it outside the browser.
	waitFor(t, "the privileged Deployment's finding on the namespace page", func() bool {
		_, body, _ := get(t, auditorToken, "/namespaces/"+ns)
		return contains(rows(body, "data-check"), "wl-privileged")
	})
	b.open("/namespaces/" + ns)
	if !slices.Contains(b.attrs("data-check"), "wl-privileged") {
		t.Fatalf("the browser does not show %s's privileged Deployment", ns)
	}
	fix(t, dep)
	waitFor(t, "the fix after a reload", func() bool {
		b.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main")))
		return !slices.Contains(b.attrs("data-check"), "wl-privileged")
	})
	b.clean()

	// The shop developer, in a browser of their own, sees only shop.
	dev := newBrowser(t)
	dev.signIn(shopDevToken)
	dev.open("/")
	if got := dev.attrs("data-namespace"); len(got) != 1 || got[0] != "shop" {
		t.Errorf("shop-dev's overview lists %v, want only shop", got)
	}
	dev.accessible("overview-shop-dev")
	dev.screenshot("overview-shop-dev")
	dev.open("/checks/wl-privileged")
	if got := dev.attrs("data-namespace"); len(got) != 0 {
		t.Errorf("shop-dev's wl-privileged page lists %v", got)
	}
	dev.expect(baseURL + "/namespaces/legacy")
	dev.open("/namespaces/legacy")
	if text := eval[string](dev, `document.querySelector('main').innerText`); strings.Contains(text, "monolith") || !strings.Contains(text, "No reports in namespace legacy that you may read") {
		t.Errorf("shop-dev's legacy page says %q", text)
	}
	dev.clean()
}
