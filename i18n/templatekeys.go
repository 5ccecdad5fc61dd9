package i18n

import (
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var (
	// templateAction is one {{ … }} action of a Go template.
	templateAction = regexp.MustCompile(`(?s)\{\{(.*?)\}\}`)
	// messageCall is a call of T or N with a literal message id, whatever
	// the receiver: .T "id", .L.T "id", $.L.N "id", (.L.T "id").
	messageCall = regexp.MustCompile(`\.[TN]\s+("(?:[^"\\\n]|\\.)*"|` + "`[^`]*`)")
)

// TemplateKeys scans every *.html file of fsys for message ids passed as
// literals to T or N ({{.L.T "orders.title"}}, {{$.L.N "orders.count" .N}})
// and returns each id with the files, sorted, that use it. Ids computed at
// run time ({{.L.T (printf "reason.%s" .Reason)}}, .L.Status) cannot be seen
// and are not reported; template comments are skipped.
func TemplateKeys(fsys fs.FS) (map[string][]string, error) {
	files := map[string]map[string]bool{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".html" {
			return err
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		for _, id := range templateKeys(string(src)) {
			if files[id] == nil {
				files[id] = map[string]bool{}
			}
			files[id][p] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	keys := make(map[string][]string, len(files))
	for id, set := range files {
		list := make([]string, 0, len(set))
		for p := range set {
			list = append(list, p)
		}
		sort.Strings(list)
		keys[id] = list
	}
	return keys, nil
}

// templateKeys returns the literal message ids used in one template source.
func templateKeys(src string) []string {
	var ids []string
	for _, action := range templateAction.FindAllStringSubmatch(src, -1) {
		body := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(action[1]), "-"))
		if strings.HasPrefix(body, "/*") {
			continue
		}
		for _, call := range messageCall.FindAllStringSubmatch(body, -1) {
			if id, err := strconv.Unquote(call[1]); err == nil && id != "" {
				ids = append(ids, id)
			}
		}
	}
	return ids
}
