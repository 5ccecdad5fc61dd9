package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/canceldesk/canceldesk/internal/seedstore"
)

// percentile is the nearest-rank p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

// report prints the markdown table and what it was measured on.
func (l *load) report(w io.Writer, res *results) {
	cfg := l.cfg
	fmt.Fprintf(w, "## Cancel Desk load test\n\n")
	fmt.Fprintf(w, "- database: %s; %s orders", l.dbDesc, seedstore.Thousands(l.data.orders))
	if l.seedNote != seedstore.SkippedNote {
		fmt.Fprintf(w, " (seeded now: %s)", l.seedNote)
	}
	if cfg.redis != "" {
		fmt.Fprintf(w, "\n- Redis: sessions, sign-in limits and the order cache (cold: cached orders dropped before the start)")
	} else {
		fmt.Fprintf(w, "\n- Redis: none (sessions in process, orders not cached)")
	}
	fmt.Fprintf(w, "\n- server: `canceldesk serve` built from this tree, on loopback; client and server share the machine\n")
	fmt.Fprintf(w, "- load: %d virtual users (VUs), closed loop without think time, each signed in as a manager with its own session, "+
		"CSRF token and keep-alive connection (gzip); mix %s\n", cfg.vus, cfg.mix.String())
	fmt.Fprintf(w, "- duration: %s measured", res.wall.Round(10*time.Millisecond))
	if cfg.duration > 0 {
		fmt.Fprintf(w, " (-duration %s", cfg.duration)
		if cfg.requests > 0 {
			fmt.Fprintf(w, ", -requests %d", cfg.requests)
		}
		fmt.Fprint(w, ")")
	} else {
		fmt.Fprintf(w, " (-requests %d)", cfg.requests)
	}
	fmt.Fprintf(w, "\n- Go: %s %s/%s, CPUs: %d\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	if la := loadAverage(); la != "" {
		fmt.Fprintf(w, "- load average (1, 5, 15 min) before the traffic: %s; after: %s — other work on the machine skews the figures\n", l.loadBefore, la)
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "| route | requests | errors | req/s | p50 ms | p95 ms | p99 ms |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	var all []time.Duration
	secs := res.wall.Seconds()
	if secs <= 0 {
		secs = 1
	}
	for r, s := range res.routes {
		lat := slices.Clone(s.lat)
		slices.Sort(lat)
		all = append(all, lat...)
		fmt.Fprintf(w, "| %s | %d | %d | %.1f | %s | %s | %s |\n", routeNames[r], s.n, s.errs, float64(s.n)/secs,
			ms(percentile(lat, 50)), ms(percentile(lat, 95)), ms(percentile(lat, 99)))
	}
	slices.Sort(all)
	n, errs := res.totals()
	fmt.Fprintf(w, "| **total** | **%d** | **%d** | **%.1f** | %s | %s | %s |\n\n", n, errs, float64(n)/secs,
		ms(percentile(all, 50)), ms(percentile(all, 95)), ms(percentile(all, 99)))

	m := &l.srv.mem
	k, mean, peak := m.rssStats()
	fmt.Fprintf(w, "- server peak RSS: **%s** (VmHWM: the process's peak since it started, sign-ins included); "+
		"RSS when it first answered %s, after the sign-ins %s, during the traffic mean %s and max %s (%d samples every %s)\n",
		mb(m.hwm), mb(l.srv.rssStart), mb(l.srv.rssSignedIn), mb(mean), mb(peak), k, sampleEvery)
	if cpu := l.srv.cpuEnd - l.srv.cpuStart; cpu > 0 {
		fmt.Fprintf(w, "- server CPU during the traffic: %.1f s user+system in %.1f s, %.2f of %d cores\n",
			cpu.Seconds(), res.wall.Seconds(), cpu.Seconds()/res.wall.Seconds(), runtime.NumCPU())
	}
	if len(res.signIn) > 0 {
		si := slices.Clone(res.signIn)
		slices.Sort(si)
		fmt.Fprintf(w, "- sign-in (GET /login, POST /login, GET /orders), one VU after another, not in the table: p50 %s ms, max %s ms\n",
			ms(percentile(si, 50)), ms(si[len(si)-1]))
	}
	fmt.Fprintf(w, "- cancels: %d orders cancelled (refund now, restock to %q, notify), each a different open order drawn at random",
		res.cancelled, l.data.location.Name)
	if res.poolOut {
		fmt.Fprintf(w, "; **all %d drawn orders were used: the mix went on without cancels**", res.poolSize)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "- error rate: %.2f%% (%d of %d), limit -max-errors %.2f%%: **%s**\n", 100*float64(errs)/float64(max(n, 1)), errs, n,
		100*cfg.maxErrors, map[bool]string{true: "PASS", false: "FAIL"}[res.verdict(cfg.maxErrors) == nil])
	for r, s := range res.routes {
		if s.firstErr != "" {
			fmt.Fprintf(w, "- first error of %s (%d in all), %s into the run: %s\n", routeNames[r], s.errs, s.firstAt.Round(time.Millisecond), s.firstErr)
		}
	}
	var slow []slowRequest
	for _, s := range res.routes {
		if s.slowest.took > 0 {
			slow = append(slow, s.slowest)
		}
	}
	slices.SortFunc(slow, func(a, b slowRequest) int { return cmp.Compare(b.took, a.took) })
	if len(slow) > 0 {
		var parts []string
		for _, s := range slow[:min(3, len(slow))] {
			parts = append(parts, fmt.Sprintf("%s ms `%s`", ms(s.took), strings.ReplaceAll(s.what, "`", "'")))
		}
		fmt.Fprintf(w, "- slowest requests: %s\n", strings.Join(parts, ", "))
	}
	if problems, n := logProblems(l.srv.logPath, 3); n > 0 {
		fmt.Fprintf(w, "- the server logged %d warnings or errors; by message, the most frequent first:\n", n)
		for _, p := range problems {
			fmt.Fprintf(w, "  - %d× `%s`\n", p.count, p.first)
		}
	}
}

// logProblem is one kind of WARN or ERROR line of the server's log.
type logProblem struct {
	msg   string // its msg= field
	first string // its first line
	count int
}

// logProblems groups the WARN and ERROR lines of the server's log by
// message: the k most frequent, and how many lines there were in all.
func logProblems(path string, k int) ([]logProblem, int) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0
	}
	var out []logProblem
	total := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		if !strings.Contains(line, "level=WARN") && !strings.Contains(line, "level=ERROR") {
			continue
		}
		total++
		msg := line
		if _, after, ok := strings.Cut(line, " msg="); ok {
			msg = after
			if strings.HasPrefix(msg, `"`) {
				if end := strings.Index(msg[1:], `"`); end >= 0 {
					msg = msg[:end+2]
				}
			} else if end := strings.IndexByte(msg, ' '); end >= 0 {
				msg = msg[:end]
			}
		}
		i := slices.IndexFunc(out, func(p logProblem) bool { return p.msg == msg })
		if i < 0 {
			if r := []rune(line); len(r) > 300 {
				line = string(r[:300]) + "…"
			}
			out = append(out, logProblem{msg: msg, first: strings.ReplaceAll(line, "`", "'")})
			i = len(out) - 1
		}
		out[i].count++
	}
	slices.SortStableFunc(out, func(a, b logProblem) int { return cmp.Compare(b.count, a.count) })
	return out[:min(k, len(out))], total
}

// loadAverage is the machine's load average from /proc/loadavg, or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], ", ")
}
