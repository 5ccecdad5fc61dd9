package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// server is the canceldesk process under load.
type server struct {
	cmd     *exec.Cmd
	pid     int
	base    string // http://127.0.0.1:port/
	logPath string
	done    chan struct{} // closed when the process has exited
	exitErr error

	mem memSampler
	// RSS when /healthz first answered, and after the sign-ins.
	rssStart, rssSignedIn int64
	// CPU time (user + system) of the process at the start and end of the
	// traffic, from /proc/<pid>/stat.
	cpuStart, cpuEnd time.Duration
	stopped          bool
}

// startServer builds the server (unless -bin), drops the Redis order cache
// of a previous run, and starts `canceldesk serve` on a free loopback port
// against the prepared database; it returns when /healthz answers.
func (l *load) startServer(ctx context.Context) error {
	if l.tempDir == "" {
		var err error
		if l.tempDir, err = os.MkdirTemp("", "canceldesk-load-"); err != nil {
			return err
		}
	}
	bin := l.cfg.bin
	if bin == "" {
		var err error
		if bin, err = l.build(ctx); err != nil {
			return err
		}
	}
	if l.cfg.redis != "" {
		if err := dropOrderCache(ctx, l.cfg.redis); err != nil {
			return err
		}
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	s := &server{base: "http://" + addr + "/", logPath: filepath.Join(l.tempDir, "server.log"), done: make(chan struct{})}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	s.cmd = exec.Command(bin, "serve")
	// The database and Redis go through the environment (not ps); Stripe
	// and SMTP are switched off whatever this shell says: the load's
	// refunds are recorded as manual and its messages stay in the outbox.
	s.cmd.Env = append(os.Environ(), "DATABASE_URL="+l.dsn, "REDIS_URL="+l.cfg.redis, "LISTEN_ADDR="+addr,
		"STRIPE_SECRET_KEY=", "SMTP_HOST=", "STORE_TIMEZONE=UTC")
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = procAttr()
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", bin, err)
	}
	s.pid = s.cmd.Process.Pid
	l.srv = s
	go func() { s.exitErr = s.cmd.Wait(); close(s.done) }()
	l.progress("started canceldesk serve (pid %d) on %s; its log: %s", s.pid, addr, s.logPath)

	deadline := time.Now().Add(90 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"healthz", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("the server exited before answering /healthz (%v); its log ends:\n%s", s.exitErr, tail(s.logPath, 20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("/healthz did not answer 200 within 90s; the server's log ends:\n%s", tail(s.logPath, 20))
		}
	}
	s.mem.start(s.pid)
	s.rssStart = s.mem.current()
	l.progress("server healthy: RSS %s", mb(s.rssStart))
	return nil
}

// build compiles ./cmd/canceldesk of the module this command belongs to
// (found with `go env GOMOD` from the working directory).
func (l *load) build(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the canceldesk module: run from the repository, or pass -bin")
	}
	bin := filepath.Join(l.tempDir, "canceldesk")
	l.progress("building ./cmd/canceldesk")
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/canceldesk")
	cmd.Dir = filepath.Dir(gomod)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/canceldesk: %w\n%s", err, stderr.String())
	}
	l.progress("built in %s", time.Since(start).Round(100*time.Millisecond))
	return bin, nil
}

// stopServer sends SIGTERM, waits up to 25s (the server finishes requests
// in flight for up to 20s), then kills it.
func (l *load) stopServer() {
	s := l.srv
	if s == nil || s.stopped {
		return
	}
	s.stopped = true
	s.mem.stop()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(25 * time.Second):
		l.progress("the server did not stop within 25s of SIGTERM: killing it")
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// freeLoopbackAddr asks the kernel for a free port on 127.0.0.1.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// dropOrderCache deletes the orders cached in that Redis database: they
// may come from another database (a reseeded schema, a fresh SQLite
// copy) and would show other orders' state. Sessions and limits stay.
func dropOrderCache(ctx context.Context, redisURL string) error {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	if host, _, err := net.SplitHostPort(opt.Addr); err != nil || !isLoopback(host) {
		return fmt.Errorf("-redis %s: the load test talks to loopback only", opt.Addr)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	n := 0
	iter := rdb.Scan(ctx, 0, "canceldesk:order:*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			if err := rdb.Del(ctx, batch...).Err(); err != nil {
				return err
			}
			n, batch = n+len(batch), batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("Redis at %s: %w", opt.Addr, err)
	}
	if len(batch) > 0 {
		if err := rdb.Del(ctx, batch...).Err(); err != nil {
			return err
		}
		n += len(batch)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tail is the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// memSampler reads VmRSS from /proc/<pid>/status every sampleEvery while
// the server runs, and VmHWM (the peak resident set since start) at stop.
type memSampler struct {
	pid     int
	quit    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	marked  bool    // sampling the traffic (after sign-in)
	samples []int64 // bytes, during the traffic
	hwm     int64   // bytes, VmHWM at stop
}

const sampleEvery = 100 * time.Millisecond

func (m *memSampler) start(pid int) {
	m.pid, m.quit = pid, make(chan struct{})
	m.wg.Go(func() {
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			select {
			case <-m.quit:
				return
			case <-t.C:
			}
			if rss := m.current(); rss > 0 {
				m.mu.Lock()
				if m.marked {
					m.samples = append(m.samples, rss)
				}
				m.mu.Unlock()
			}
		}
	})
}

// traffic starts or ends the samples that count as "during the traffic".
func (m *memSampler) traffic(on bool) {
	m.mu.Lock()
	m.marked = on
	m.mu.Unlock()
}

func (m *memSampler) stop() {
	if m.quit == nil {
		return
	}
	m.hwm = procStatus(m.pid, "VmHWM")
	close(m.quit)
	m.wg.Wait()
	m.quit = nil
}

func (m *memSampler) current() int64 { return procStatus(m.pid, "VmRSS") }

// rssStats are the RSS samples taken during the traffic.
func (m *memSampler) rssStats() (n int, mean, peak int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var sum int64
	for _, s := range m.samples {
		sum += s
		peak = max(peak, s)
	}
	if len(m.samples) > 0 {
		mean = sum / int64(len(m.samples))
	}
	return len(m.samples), mean, peak
}

// procStatus reads a "kB" field of /proc/<pid>/status in bytes; 0 where
// there is none (not Linux, or the process is gone).
func procStatus(pid int, field string) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != field {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 2 && fs[1] == "kB" {
			n, _ := strconv.ParseInt(fs[0], 10, 64)
			return n * 1024
		}
	}
	return 0
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every
// Linux architecture Go supports.
const clockTick = 100

// procCPU is the user + system CPU time of the process so far.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; fields after it are plain.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTick
}

func mb(b int64) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MB", float64(b)/(1<<20))
}
