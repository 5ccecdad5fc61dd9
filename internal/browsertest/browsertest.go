// Package browsertest drives headless Chromium from tests with chromedp.
//
// New starts a browser for one test and returns its chromedp context; the
// browser is closed when the test ends. Everything the page reports as an
// error (uncaught exceptions, console.error, and browser log entries at level
// error such as CSP violations or failed resource loads) is collected and can
// be read with ConsoleErrors or checked with NoConsoleErrors. Screenshot saves
// a full-page PNG for a person to look at.
//
// Start the server under test before New and close it with t.Cleanup, so the
// browser (whose cleanup is registered later, and so runs first) is gone
// before the server stops:
//
//	srv := httptest.NewServer(handler)
//	t.Cleanup(srv.Close)
//	ctx := browsertest.New(t)
//	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil { ... }
//	browsertest.Screenshot(t, ctx, "orders")
//	browsertest.NoConsoleErrors(t, ctx)
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/canceldesk/canceldesk/internal/testenv"
)

// Desktop and mobile viewport sizes.
const (
	Width        = 1280
	Height       = 900
	MobileWidth  = 390
	MobileHeight = 844
)

// Timeout bounds the whole life of a browser started by New: every action on
// its context fails after it, and the browser is stopped.
const Timeout = 60 * time.Second

// EnvScreenshots names a folder for screenshots, instead of
// <module root>/testdata/screenshots.
const EnvScreenshots = "CANCELDESK_SCREENSHOTS"

// New starts headless Chromium with a 1280x900 viewport and returns a
// chromedp context for its tab. See NewSized.
func New(t testing.TB) context.Context {
	t.Helper()
	return NewSized(t, Width, Height)
}

// NewSized starts headless Chromium (testenv.ChromiumPath) with a fresh
// temporary profile and a viewport of width x height CSS pixels at device
// scale 1 (use MobileWidth, MobileHeight for the phone layout), and returns a
// chromedp context for its tab. The context ends after Timeout; the browser
// is stopped and its profile removed when the test ends. The test fails at
// once when the browser cannot start.
func NewSized(t testing.TB, width, height int) context.Context {
	t.Helper()
	return NewSizedFor(t, width, height, Timeout)
}

// NewSizedFor is NewSized for a browser that lives up to timeout instead
// of Timeout: for a test that visits many pages.
func NewSizedFor(t testing.TB, width, height int, timeout time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(testenv.ChromiumPath(t)),
		// No UserDataDir: chromedp makes a fresh temporary profile for each
		// browser and removes it after the browser has stopped.
		chromedp.Headless,
		chromedp.NoSandbox, // Chromium refuses to run as root with the sandbox
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		// Without these Chromium stalls on a machine with no network.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("force-device-scale-factor", "1"),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(width, height),
	)

	tctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(tctx, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()   // closes the tab and, being the first context, the browser
		cancelAlloc() // waits for the process to exit and removes the profile
		cancelTimeout()
	})

	c := &collector{}
	// Listen starts the browser and opens the tab. It sees events in order,
	// before the command that follows them returns, so ConsoleErrors is
	// current as soon as an action returns.
	if err := chromedp.Listen(ctx, c.event); err != nil {
		t.Fatalf("browsertest: start Chromium: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("browsertest: set viewport %dx%d: %v", width, height, err)
	}
	return context.WithValue(ctx, collectorKey{}, c)
}

type collectorKey struct{}

// collector keeps the error messages of one tab.
type collector struct {
	mu   sync.Mutex
	errs []string
}

func (c *collector) add(s string) {
	c.mu.Lock()
	c.errs = append(c.errs, s)
	c.mu.Unlock()
}

// event runs on chromedp's reader goroutine: it must be quick and must not
// call the browser.
func (c *collector) event(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		c.add("uncaught exception: " + exceptionText(ev.ExceptionDetails))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			c.add("console." + string(ev.Type) + ": " + argsText(ev.Args) + where(ev.StackTrace))
		}
	case *log.EventEntryAdded:
		if e := ev.Entry; e != nil && e.Level == log.EntryLevelError {
			s := "browser log (" + string(e.Source) + "): " + e.Text
			if e.URL != "" {
				s += " [" + e.URL + "]"
			}
			c.add(s)
		}
	}
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "(no details)"
	}
	s := d.Text
	if d.Exception != nil {
		desc := d.Exception.Description
		if desc == "" {
			desc = valueText(d.Exception)
		}
		desc, _, _ = strings.Cut(desc, "\n")
		s = strings.TrimSpace(s + " " + desc)
	}
	if d.URL != "" {
		return fmt.Sprintf("%s at %s:%d:%d", s, d.URL, d.LineNumber+1, d.ColumnNumber+1)
	}
	return s + where(d.StackTrace)
}

func where(st *runtime.StackTrace) string {
	if st == nil || len(st.CallFrames) == 0 {
		return ""
	}
	f := st.CallFrames[0]
	return fmt.Sprintf(" at %s:%d:%d", f.URL, f.LineNumber+1, f.ColumnNumber+1)
}

func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		parts = append(parts, valueText(a))
	}
	return strings.Join(parts, " ")
}

func valueText(o *runtime.RemoteObject) string {
	if o == nil {
		return "null"
	}
	if o.Type == runtime.RemoteObjectTypeString {
		var s string
		if json.Unmarshal([]byte(o.Value), &s) == nil {
			return s
		}
	}
	switch {
	case o.UnserializableValue != "":
		return string(o.UnserializableValue)
	case o.Description != "":
		return o.Description
	case len(o.Value) > 0:
		return string(o.Value)
	}
	return string(o.Type)
}

// ConsoleErrors returns the errors the page of ctx (a context from New or
// NewSized) has reported so far: uncaught exceptions and unhandled promise
// rejections, console.error and failed console.assert calls, and browser log
// entries at level error (CSP violations, failed resource loads, ...). It
// returns nil for a context that did not come from this package.
func ConsoleErrors(ctx context.Context) []string {
	c, _ := ctx.Value(collectorKey{}).(*collector)
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) == 0 {
		return nil
	}
	return append([]string(nil), c.errs...)
}

// NoConsoleErrors fails the test (without stopping it) for each error in
// ConsoleErrors(ctx).
func NoConsoleErrors(t testing.TB, ctx context.Context) {
	t.Helper()
	for _, e := range ConsoleErrors(ctx) {
		t.Errorf("browser reported an error: %s", e)
	}
}

// Screenshot saves a full-page PNG of the tab of ctx as <name>.png in the
// screenshot folder ($CANCELDESK_SCREENSHOTS, else
// <module root>/testdata/screenshots), logs its path and returns it. Name
// characters other than letters, digits, '.', '-' and '_' become '_'.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	dir, err := ScreenshotDir()
	if err != nil {
		t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	// A page that is still loading (a frame, a redirect) can measure 0
	// wide, and Chromium then refuses the screenshot: wait until it is laid out.
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === 'complete' &&
			document.documentElement.scrollWidth > 0 && document.documentElement.scrollHeight > 0`))
		if err == nil && ok {
			break
		}
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 = PNG
	if err != nil {
		t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, fileName(name))
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

func fileName(name string) string {
	name = strings.TrimSuffix(name, ".png")
	name = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, name)
	if strings.Trim(name, "._") == "" {
		name = "screenshot"
	}
	return name + ".png"
}

// ScreenshotDir returns where Screenshot writes: $CANCELDESK_SCREENSHOTS if
// set, else testdata/screenshots under the module root (the nearest folder at
// or above the working directory that holds go.mod).
func ScreenshotDir() (string, error) {
	if d := os.Getenv(EnvScreenshots); d != "" {
		return filepath.Abs(d)
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "testdata", "screenshots"), nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory; set " + EnvScreenshots)
		}
		dir = parent
	}
}
