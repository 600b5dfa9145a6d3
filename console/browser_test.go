package console

// The browser harness of the console's tests: Debian's chromium, headless,
// driven through chromedp, and axe-core run in the page. Under CI (the
// variable CI set) a missing chromium fails the tests that need it;
// elsewhere they skip.

import (
	"context"
	_ "embed"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

//go:embed testdata/axe.min.js
var axeSource string

// chromiumPath finds the browser: Debian's chromium, or another Chrome.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// The two sizes every page is checked at: a desktop, the size of the
// screenshots in docs/console.md, and the narrowest phone the console
// serves.
const (
	desktopWidth, desktopHeight = 1280, 800
	narrowWidth, narrowHeight   = 360, 740
)

// newBrowser starts a headless chromium for the test, with a tab at a
// desktop size, and returns the tab's context; everything ends with the
// test. Each step the test runs has at most two minutes: generous, so
// that a loaded machine does not fail it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: .ci/run installs it (apt-get install chromium)")
		}
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests may run as root, where chromium's sandbox refuses to start
		chromedp.Flag("disable-gpu", true),
		chromedp.WindowSize(desktopWidth, desktopHeight),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// run runs browser steps and fails the test on the first error.
func run(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v (at %s)", err, location(ctx))
	}
}

func location(ctx context.Context) string {
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// text returns the text of the first element sel matches.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("browser: the text of %s: %v (at %s)", sel, err, location(ctx))
	}
	return strings.TrimSpace(s)
}

// waitHeading waits until the page's h1 reads heading, through any
// navigation, for up to a minute.
func waitHeading(t *testing.T, ctx context.Context, heading string) {
	t.Helper()
	js := `(() => { const h = document.querySelector("h1"); return document.readyState === "complete" && h ? h.textContent.trim() : "" })()`
	var got string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		h, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err == nil && h == heading {
			return
		}
		if err == nil {
			got = h
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("browser: waiting for the heading %q at %s; the page's is %q", heading, location(ctx), got)
}

// waitFor waits, for up to a minute, until an element matches sel.
func waitFor(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	js := `document.readyState === "complete" && document.querySelector(` + strconv.Quote(sel) + `) !== null`
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && ctx.Err() == nil; {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("browser: waiting for %s at %s", sel, location(ctx))
}

// axeViolation is what the tests keep of one axe-core violation.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkAccessibility runs axe-core on the page and fails the test on any
// violation of serious or critical impact.
func checkAccessibility(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource+";true")); err != nil {
		t.Fatalf("loading axe-core: %v", err)
	}
	const script = `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({
		id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))))`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running axe-core: %v", err)
	}
	var violations []axeViolation
	if err := json.Unmarshal([]byte(out), &violations); err != nil {
		t.Fatal(err)
	}
	for _, v := range violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("axe-core at %s: %s (%s): %s at %v", location(ctx), v.ID, v.Impact, v.Help, v.Nodes)
		}
	}
}

// checkNarrow shows the page 360 px wide and fails the test if anything
// but a scrolling table makes the page scroll sideways; it restores the
// desktop size after.
func checkNarrow(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, chromedp.EmulateViewport(narrowWidth, narrowHeight))
	defer run(t, ctx, chromedp.EmulateViewport(desktopWidth, desktopHeight))
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil {
		t.Fatal(err)
	}
	if wide {
		t.Errorf("%s is wider than 360 px", location(ctx))
	}
}

// checkNamed fails the test if a control of the page has no accessible
// name (unnamedControls).
func checkNamed(t *testing.T, ctx context.Context) {
	t.Helper()
	unnamed, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](unnamedControls))
	if err != nil {
		t.Fatal(err)
	}
	if len(unnamed) > 0 {
		t.Errorf("%s has controls without an accessible name: %q", location(ctx), unnamed)
	}
}

// checkPage runs the checks every page must pass: axe-core, a name on
// every control, and the 360 px layout. With USERCENTER_SCREENSHOTS set to a directory, it also
// saves the page there as name.png, for docs/console.md.
func checkPage(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	checkAccessibility(t, ctx)
	checkNamed(t, ctx)
	checkNarrow(t, ctx)
	screenshot(t, ctx, name)
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("USERCENTER_SCREENSHOTS")
	if dir == "" || name == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
