//go:build e2e

package evidence

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// chart is what the browser laid out for one SVG chart.
type chart struct {
	Class  string  `json:"cls"`
	Width  float64 `json:"w"`
	Height float64 `json:"h"`
	Shapes int     `json:"shapes"`
	Drawn  int     `json:"drawn"` // rects with a non-zero laid-out size
}

// pageVisit is what opening a page showed: its charts, a screenshot, every request that left
// the file, and every script error or error logged.
type pageVisit struct {
	charts   []chart
	png      []byte
	requests []string
	errors   []string
}

// openInChromium opens a local HTML file in headless Chromium and records what happened.
func openInChromium(t *testing.T, page string) pageVisit {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(testenv.Chromium(t)),
		chromedp.NoSandbox, // root in CI
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Env("TMPDIR="+testenv.ChromiumTempDir(t)),
		chromedp.WindowSize(1280, 1000),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()

	var mu sync.Mutex
	var v pageVisit
	self := "file://" + page
	if err := chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if u := e.Request.URL; u != self && !strings.HasPrefix(u, "data:") {
				v.requests = append(v.requests, u)
			}
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			v.errors = append(v.errors, "exception: "+msg)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				v.errors = append(v.errors, "console."+string(e.Type))
			}
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				v.errors = append(v.errors, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		}
	}); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	const measure = `Array.from(document.querySelectorAll('svg.chart')).map(s => {
		const r = s.getBoundingClientRect();
		const shapes = s.querySelectorAll('rect');
		let drawn = 0;
		shapes.forEach(x => { const b = x.getBoundingClientRect(); if (b.width > 0 && b.height > 0) drawn++; });
		return {cls: s.getAttribute('class'), w: r.width, h: r.height, shapes: shapes.length, drawn: drawn};
	})`
	err := chromedp.Do(bctx,
		// chromedp enables the runtime, log and network domains of the tab itself.
		chromedp.Navigate(self),
		chromedp.WaitReady(chromedp.CSS("body")),
	)
	if err == nil {
		v.charts, err = chromedp.Run(bctx, chromedp.Evaluate[[]chart](measure))
	}
	if err == nil {
		v.png, err = chromedp.Run(bctx, chromedp.FullScreenshot(100)) // 100: lossless PNG
	}
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	// Let late events (a failed request, an error logged after load) arrive.
	_ = chromedp.Do(bctx, chromedp.Sleep(300*time.Millisecond))
	mu.Lock()
	defer mu.Unlock()
	return v
}

// TestThePackRendersInABrowser opens the pack's index.html in headless Chromium: every chart is
// laid out with a size and shapes, nothing is requested from the network and no script error
// or error is logged. The screenshot is kept in the test's artifact directory
// (go test -artifacts -outputdir DIR keeps it; `make test` keeps it under _artifacts/).
func TestThePackRendersInABrowser(t *testing.T) {
	cfg := quarter()
	_, store, _ := simulate(t, cfg)
	out := t.TempDir()
	if _, err := Build(context.Background(), store, Options{From: cfg.Start, To: cfg.Start.AddDate(0, 0, cfg.Days), Clusters: []string{"prod"}, Dir: out}); err != nil {
		t.Fatal(err)
	}
	v := openInChromium(t, filepath.Join(out, "index.html"))
	shot := filepath.Join(t.ArtifactDir(), "evidence-pack.png")
	if err := os.WriteFile(shot, v.png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(v.png))
	if len(v.requests) > 0 {
		t.Errorf("the page requested the network: %v", v.requests)
	}
	if len(v.errors) > 0 {
		t.Errorf("the page logged errors: %v", v.errors)
	}
	kinds := map[string]int{}
	for _, c := range v.charts {
		kinds[c.Class]++
		if c.Width <= 0 || c.Height <= 0 || c.Shapes == 0 || c.Drawn == 0 {
			t.Errorf("chart %q laid out %.0fx%.0f with %d shapes, %d drawn", c.Class, c.Width, c.Height, c.Shapes, c.Drawn)
		}
	}
	for _, k := range []string{"chart criterion", "chart deviations", "chart remediation", "chart coverage"} {
		if kinds[k] == 0 {
			t.Errorf("no %q chart rendered (got %v)", k, kinds)
		}
	}
	if len(v.png) < 10_000 {
		t.Errorf("the screenshot is %d bytes: nothing rendered?", len(v.png))
	}
}

// TestTheBrowserCheckCatchesNetworkUseAndScriptErrors shows the checks above can fail: a page
// that loads an image from a server and throws in a script is caught on both counts.
func TestTheBrowserCheckCatchesNetworkUseAndScriptErrors(t *testing.T) {
	page := filepath.Join(t.TempDir(), "bad.html")
	html := `<!DOCTYPE html><html><body><svg class="chart x" width="10" height="10"><rect width="5" height="5"/></svg>
<img src="http://127.0.0.1:9/pixel.png"><script>throw new Error("boom")</script></body></html>`
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	v := openInChromium(t, page)
	if len(v.requests) == 0 || !strings.Contains(strings.Join(v.requests, " "), "127.0.0.1:9") {
		t.Errorf("the image request was not caught: %v", v.requests)
	}
	if !strings.Contains(strings.Join(v.errors, " "), "boom") {
		t.Errorf("the script error was not caught: %v", v.errors)
	}
}
