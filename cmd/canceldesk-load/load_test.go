package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLoad runs the whole command against a small temporary SQLite store:
// it builds and starts the real server, signs users in and drives the mix.
// Every route must have been requested and none may have failed — a cancel
// that does not succeed, a lost session or a 500 fails the test — and the
// server's peak memory must have been read.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server: not in -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"-db", "sqlite", "-orders", "2000", "-vus", "4", "-duration", "3s", "-max-errors", "0"}, &stdout, &stderr)
	out := stdout.String()
	t.Logf("stdout:\n%s\nstderr:\n%s", out, stderr.String())
	if err != nil {
		t.Fatalf("run: %v", err)
	}

	rows := map[string][]string{}
	for line := range strings.SplitSeq(out, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "*")
		}
		rows[cells[0]] = cells[1:]
	}
	for _, name := range append(routeNames[:], "total") {
		cells, ok := rows[name]
		if !ok {
			t.Errorf("no row %q in the table", name)
			continue
		}
		if len(cells) != 6 {
			t.Errorf("row %q has %d cells after the name, want 6: %q", name, len(cells), cells)
			continue
		}
		if n, err := strconv.Atoi(cells[0]); err != nil || n == 0 {
			t.Errorf("%s: %q requests, want some", name, cells[0])
		}
		if cells[1] != "0" {
			t.Errorf("%s: %s errors, want 0", name, cells[1])
		}
		for i, col := range []string{"req/s", "p50", "p95", "p99"} {
			if v, err := strconv.ParseFloat(cells[2+i], 64); err != nil || v <= 0 {
				t.Errorf("%s: %s %q, want a positive number", name, col, cells[2+i])
			}
		}
	}
	if !strings.Contains(out, "**PASS**") {
		t.Error("the report has no PASS verdict")
	}
	if runtime.GOOS == "linux" {
		m := regexp.MustCompile(`server peak RSS: \*\*([0-9.]+) MB\*\*`).FindStringSubmatch(out)
		if m == nil {
			t.Fatal("no server peak RSS in the report")
		}
		if mb, _ := strconv.ParseFloat(m[1], 64); mb < 5 || mb > 4096 {
			t.Errorf("server peak RSS %s MB: not a plausible reading", m[1])
		}
	}
}

// TestMixFlag reads weights and refuses what is not one.
func TestMixFlag(t *testing.T) {
	var m mix
	if err := m.Set("list=1,cancel=3"); err != nil {
		t.Fatal(err)
	}
	if m != (mix{opList: 1, opCancel: 3}) {
		t.Errorf("got %v", m)
	}
	for _, bad := range []string{"list", "list=-1", "nope=3", "list=0"} {
		if err := m.Set(bad); err == nil {
			t.Errorf("Set(%q): no error", bad)
		}
	}
}

// TestPercentile is the nearest rank.
func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for p, want := range map[float64]time.Duration{50: 50, 95: 95, 99: 99, 100: 100} {
		if got := percentile(d, p); got != want {
			t.Errorf("p%v = %d, want %d", p, got, want)
		}
	}
	if got := percentile(d[:1], 99); got != 1 {
		t.Errorf("p99 of one = %d", got)
	}
}

// TestLogProblems groups the server's warnings by message.
func TestLogProblems(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server.log")
	log := `time=1 level=INFO msg="Cancel Desk is running"
time=2 level=WARN msg="order cache unavailable; reading the database" err="context deadline exceeded"
time=3 level=ERROR msg=boom err=x
time=4 level=WARN msg="order cache unavailable; reading the database" err="i/o timeout"
`
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	got, n := logProblems(path, 3)
	if n != 3 || len(got) != 2 {
		t.Fatalf("got %d lines in %d groups, want 3 in 2: %+v", n, len(got), got)
	}
	if got[0].count != 2 || got[0].msg != `"order cache unavailable; reading the database"` || !strings.Contains(got[0].first, "time=2") {
		t.Errorf("first group %+v", got[0])
	}
	if got[1].count != 1 || got[1].msg != "boom" {
		t.Errorf("second group %+v", got[1])
	}
}
