package browsertest

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, vendored (see testdata/README.md): the tests need
// no network, and the app never serves it.
//
//go:embed testdata/axe.min.js
var axeSource string

// AxeViolation is one rule axe-core found broken on a page, with the
// elements that break it.
type AxeViolation struct {
	ID      string    `json:"id"`
	Impact  string    `json:"impact"` // minor, moderate, serious or critical
	Help    string    `json:"help"`
	HelpURL string    `json:"helpUrl"`
	Nodes   []AxeNode `json:"nodes"`
}

// AxeNode is one element that breaks a rule.
type AxeNode struct {
	Target  []string `json:"target"` // CSS selectors, outermost frame first
	HTML    string   `json:"html"`
	Summary string   `json:"failureSummary"`
}

// Severe reports whether the violation is serious or critical: the ones a
// page must not have.
func (v AxeViolation) Severe() bool { return v.Impact == "serious" || v.Impact == "critical" }

func (v AxeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %s  %s", strings.Join(n.Target, " "), n.HTML)
		if s := strings.ReplaceAll(strings.TrimSpace(n.Summary), "\n", " "); s != "" {
			fmt.Fprintf(&b, "\n      %s", s)
		}
	}
	return b.String()
}

// axeRun runs every rule on the whole document and returns the
// violations. Nested selectors (shadow DOM, frames) are flattened to
// strings.
const axeRun = `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({
	id: v.id, impact: v.impact || '', help: v.help, helpUrl: v.helpUrl,
	nodes: v.nodes.map(n => ({target: n.target.map(String), html: n.html, failureSummary: n.failureSummary || ''})),
})))`

// Axe runs axe-core on the page of ctx as it is now and returns every
// violation, whatever its impact. It injects axe-core into the page first
// when the page has not got it (a navigation drops it).
func Axe(ctx context.Context) ([]AxeViolation, error) {
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === 'object'`))
	if err != nil {
		return nil, fmt.Errorf("axe: %w", err)
	}
	if !loaded {
		// Evaluated through DevTools, the script is not subject to the
		// page's Content-Security-Policy.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](axeSource+"\n;true")); err != nil {
			return nil, fmt.Errorf("axe: inject axe-core: %w", err)
		}
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]AxeViolation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("axe: run: %w", err)
	}
	return vs, nil
}

// NoAxeViolations runs axe-core on the page of ctx (see Axe) and fails the
// test, without stopping it, listing every serious or critical violation
// (rule, help, the elements) under the name of the page. It returns the
// violations it reported.
func NoAxeViolations(t testing.TB, ctx context.Context, page string) []AxeViolation {
	t.Helper()
	vs, err := Axe(ctx)
	if err != nil {
		t.Errorf("%s: %v", page, err)
		return nil
	}
	var severe []AxeViolation
	for _, v := range vs {
		if v.Severe() {
			severe = append(severe, v)
			t.Errorf("%s: axe-core: %s", page, v)
		}
	}
	return severe
}
