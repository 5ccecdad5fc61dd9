package canceldesk

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestEventKindsListsEveryKind: every Event… string constant of the package
// is a timeline kind listed in EventKinds, so the renderer's tests iterate
// all of them.
func TestEventKindsListsEveryKind(t *testing.T) {
	pkgs, err := parser.ParseDir(token.NewFileSet(), ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					continue
				}
				for _, s := range g.Specs {
					vs := s.(*ast.ValueSpec)
					for i, name := range vs.Names {
						if !strings.HasPrefix(name.Name, "Event") || i >= len(vs.Values) {
							continue
						}
						lit, ok := vs.Values[i].(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING {
							continue
						}
						kind, _ := strconv.Unquote(lit.Value)
						n++
						if !slices.Contains(EventKinds, kind) {
							t.Errorf("%s (%q) is not in EventKinds", name.Name, kind)
						}
					}
				}
			}
		}
	}
	if n != len(EventKinds) {
		t.Errorf("%d Event constants, %d EventKinds", n, len(EventKinds))
	}
}
