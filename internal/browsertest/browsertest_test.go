package browsertest_test

import (
	"bytes"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/canceldesk/canceldesk/internal/browsertest"
)

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>browsertest</title>
<script src="/app.js" defer></script>
</head>
<body>
<h1>Harness check</h1>
<label for="name">Name</label> <input id="name" autocomplete="off">
<button id="greet" type="button">Greet</button>
<p id="out">waiting</p>
</body>
</html>`

const script = `document.getElementById("greet").addEventListener("click", function () {
  document.getElementById("out").textContent = "Hello, " + document.getElementById("name").value + "!";
});`

// server serves the page with a strict CSP, as the app does: scripts only
// from the same origin, no inline code.
func server(t *testing.T, extra map[string]string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(page))
	})
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write([]byte(script))
	})
	for path, body := range extra {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'self'")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(body))
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close) // registered before the browser, so it runs after it
	return srv
}

func TestHarness(t *testing.T) {
	srv := server(t, nil)
	ctx := browsertest.New(t)

	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL),
		chromedp.WaitVisible(chromedp.CSS("#greet")),
		chromedp.SendKeys(chromedp.CSS("#name"), "Mei 美"),
		chromedp.Click(chromedp.CSS("#greet")),
	)
	if err != nil {
		t.Fatal(err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatal(err)
	}
	if heading != "Harness check" {
		t.Errorf("h1 = %q", heading)
	}
	out, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#out")))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Hello, Mei 美!"; out != want {
		t.Errorf("#out = %q, want %q", out, want)
	}
	browsertest.NoConsoleErrors(t, ctx)

	path := browsertest.Screenshot(t, ctx, "browsertest/harness")
	if !strings.HasSuffix(path, "browsertest_harness.png") {
		t.Errorf("screenshot path %s: name not sanitised", path)
	}
	checkPNG(t, path, browsertest.Width)
}

func TestMobile(t *testing.T) {
	srv := server(t, nil)
	ctx := browsertest.NewSized(t, browsertest.MobileWidth, browsertest.MobileHeight)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.innerWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if w != browsertest.MobileWidth {
		t.Errorf("window.innerWidth = %d, want %d", w, browsertest.MobileWidth)
	}
	checkPNG(t, browsertest.Screenshot(t, ctx, "browsertest-mobile"), browsertest.MobileWidth)
	browsertest.NoConsoleErrors(t, ctx)
}

// TestConsoleErrors proves the harness notices what a test must not let
// pass: an uncaught exception, console.error, a rejected promise, a CSP
// violation and a missing resource.
func TestConsoleErrors(t *testing.T) {
	srv := server(t, map[string]string{
		"/broken": `<!doctype html><html><head><link rel="icon" href="data:,">
<script src="/broken.js"></script>
<script src="/missing.js"></script>
<script>document.title = "inline ran";</script>
</head><body><p>broken</p></body></html>`,
		"/broken.js": `console.error("boom from console");
Promise.reject(new Error("rejected promise"));
throw new TypeError("thrown at load");`,
	})
	ctx := browsertest.New(t)
	if got := browsertest.ConsoleErrors(ctx); len(got) != 0 {
		t.Fatalf("errors before any page: %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/broken"), chromedp.WaitVisible(chromedp.CSS("p"))); err != nil {
		t.Fatal(err)
	}
	// The inline script was refused, so the CSP held.
	if title, err := chromedp.Run(ctx, chromedp.Title()); err != nil || title == "inline ran" {
		t.Errorf("title = %q, %v: the inline script ran despite the CSP", title, err)
	}
	// The rejection is reported asynchronously; wait for it with a
	// round-trip through the page.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`new Promise(r => setTimeout(() => r(true), 50))`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(browsertest.ConsoleErrors(ctx), "\n")
	t.Logf("collected:\n%s", got)
	for _, want := range []string{
		"console.error: boom from console",
		"TypeError: thrown at load",
		"rejected promise",
		"Content Security Policy",
		"404",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("ConsoleErrors lacks %q", want)
		}
	}
}

func TestScreenshotDir(t *testing.T) {
	t.Setenv(browsertest.EnvScreenshots, "")
	dir, err := browsertest.ScreenshotDir()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(dir, "/testdata/screenshots") {
		t.Fatalf("ScreenshotDir = %s", dir)
	}
	root := strings.TrimSuffix(dir, "/testdata/screenshots")
	if _, err := os.Stat(root + "/go.mod"); err != nil {
		t.Errorf("%s is not the module root: %v", root, err)
	}
}

func checkPNG(t *testing.T, path string, width int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("screenshot not written: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", path, err)
	}
	if got := img.Bounds().Dx(); got != width {
		t.Errorf("screenshot %s is %d px wide, want %d", path, got, width)
	}
	if img.Bounds().Dy() < 100 {
		t.Errorf("screenshot %s is only %d px high", path, img.Bounds().Dy())
	}
}

// TestAxe: axe-core, vendored and injected despite the page's strict CSP,
// passes the harness page and reports the broken rules of a broken one,
// with their elements; a navigation drops it and it is injected again.
func TestAxe(t *testing.T) {
	srv := server(t, map[string]string{
		"/broken": `<!doctype html><html lang="en"><head><title>broken</title></head>
<body><main><h1>Broken</h1>
<button id="icon-only"><svg width="10" height="10"></svg></button>
<input id="unlabelled" type="text">
<ul><div id="bad-list">not a list item</div></ul>
</main></body></html>`,
	})
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	vs, err := browsertest.Axe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Severe() {
			t.Errorf("harness page: %s", v)
		}
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/broken")); err != nil {
		t.Fatal(err)
	}
	vs, err = browsertest.Axe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, v := range vs {
		if v.Severe() {
			found[v.ID] = v.String()
		}
	}
	for id, target := range map[string]string{"button-name": "#icon-only", "label": "#unlabelled", "list": "ul"} {
		if s, ok := found[id]; !ok || !strings.Contains(s, target) {
			t.Errorf("axe-core did not report %s on %s; got %q", id, target, found)
		}
	}
}
