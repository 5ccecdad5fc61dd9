package handlers_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/store"
)

// TestApprovalWithOrderCache: with Redis caching orders, as serve wires
// it, an order page read right after its request is approved (by staff, or
// by the auto-approval rule) shows it cancelled, and the navigation counts
// the request as decided at once.
func TestApprovalWithOrderCache(t *testing.T) {
	rdb := privateRedis(t)
	a := newTestApp(t, inRedis(rdb), func(c *handlers.Config) {
		cache := store.NewCache(c.Store, rdb, slog.New(slog.NewTextHandler(io.Discard, nil)))
		c.AfterCommit.Add(cache.Forget)
		c.Store = cache
	})
	a.location(t, "Main Warehouse")
	staff := a.signedIn(t, canceldesk.RoleStaff)
	struck := func(t *testing.T, o *canceldesk.Order) bool {
		t.Helper()
		_, doc := staff.get(t, "/orders/"+strconv.FormatInt(o.ID, 10))
		return doc.Find("h1.struck").Length() == 1
	}

	t.Run("ApprovedByStaff", func(t *testing.T) {
		o := a.requestOrder(t, "#C1")
		fileRequest(t, a, "10.6.0.1", requestForm("#C1", "buyer@example.com"))
		if struck(t, o) { // and now the order is cached
			t.Fatal("cancelled before the approval")
		}
		_, queue := staff.get(t, "/requests")
		if n := strings.TrimSpace(queue.Find(`a[href="/requests"] .nav-count`).Text()); n != "1" {
			t.Errorf("navigation count before = %q, want 1", n)
		}
		approve, _ := queue.Find(".queue-row a.btn-primary").Attr("href")
		_, dialog := staff.get(t, approve)
		res, _ := staff.post(t, dialog.Find("form.cancel-form").AttrOr("action", ""), formOf(dialog, "form.cancel-form"))
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("approve: %d", res.StatusCode)
		}
		if !struck(t, o) {
			t.Error("the order page shows the approved order uncancelled")
		}
		_, queue = staff.get(t, "/requests")
		if n := strings.TrimSpace(queue.Find(`a[href="/requests"] .nav-count`).Text()); n != "" && n != "0" {
			t.Errorf("navigation count after = %q, want none", n)
		}
	})

	t.Run("ApprovedByRule", func(t *testing.T) {
		a.autoApprove(t)
		o := a.requestOrder(t, "#C2")
		if struck(t, o) {
			t.Fatal("cancelled before the request")
		}
		fileRequest(t, a, "10.6.0.2", requestForm("#C2", "buyer@example.com"))
		if !struck(t, o) {
			t.Error("the order page shows the auto-approved order uncancelled")
		}
	})
}

// TestHandlersNeverForget: the kept counts and alert are forgotten by the
// server's part of the after-commit hook only, never by a handler after a
// write (one that forgets would leave the others stale).
func TestHandlersNeverForget(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil || fn.Name.Name == "committed" {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "forget" {
						t.Errorf("%s: %s calls forget; let the after-commit hook do it", fset.Position(call.Pos()), fn.Name.Name)
					}
				}
				return true
			})
		}
	}
}
