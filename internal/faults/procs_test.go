package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// The binary under test, built once per package run into a directory that
// TestMain removes.
var (
	buildOnce sync.Once
	buildDir  string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary returns the path of the canceldesk binary, building it on first
// use with `go build -o <tmp>/canceldesk ./cmd/canceldesk` from the module
// root. A failed build fails every test that needs it, with the compiler's
// output.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, err = os.MkdirTemp("", "canceldesk-faults-bin-"); err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(buildDir, "canceldesk")
		cmd := exec.Command(goTool(), "build", "-o", binPath, "./cmd/canceldesk")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/canceldesk in %s: %v\n%s", root, err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building the binary: %v", buildErr)
	}
	return binPath
}

// goTool is the go command of the toolchain running the tests, else the
// one on PATH.
func goTool() string {
	if root := runtime.GOROOT(); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// moduleRoot walks up from the package directory to the go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proc is a child process with its output in a file and its end observed.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited and been reaped
	state   *os.ProcessState
	waitErr error
}

// startProc starts bin with args, its output going to a log file in dir.
func startProc(t *testing.T, name, dir string, env []string, bin string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("%s: log file: %v", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("%s: start %s: %v", name, bin, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		p.state = cmd.ProcessState
		logf.Close()
		close(p.done)
	}()
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to this process (by its own pid) unless it has ended.
func (p *proc) signal(sig syscall.Signal) {
	if !p.exited() {
		_ = p.cmd.Process.Signal(sig)
	}
}

// kill ends the process with SIGKILL and waits until it is reaped.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	p.signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s (pid %d) did not end 20s after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

// waitExit waits up to d for the process to end on its own.
func (p *proc) waitExit(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// logTail is the end of the process's output, for failure messages.
func (p *proc) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	const max = 6000
	if len(b) > max {
		b = append([]byte("…"), b[len(b)-max:]...)
	}
	return string(b)
}

func (p *proc) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// app is a running canceldesk serve.
type app struct {
	*proc
	base string // http://127.0.0.1:port
	port int
}

// appConfig is how to run the server.
type appConfig struct {
	DB    string // SQLite path or postgres:// URL
	Redis string // redis:// URL; "" keeps sessions in process
	Demo  bool
}

// appEnv is the environment without any of the server's own settings, so
// the developer's shell cannot change what a test runs.
func appEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "LISTEN_ADDR", k == "PUBLIC_URL", k == "TRUSTED_PROXIES", k == "DATABASE_URL", k == "REDIS_URL",
			k == "STORE_TIMEZONE", k == "STORE_CURRENCY", k == "SECURE_COOKIES",
			strings.HasPrefix(k, "SMTP_"), strings.HasPrefix(k, "STRIPE_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// startApp runs `canceldesk serve` on a free loopback port and waits until
// /healthz answers 200 (seeding the demo store takes a few seconds on a
// busy machine). The process is killed when the test ends; if the test
// failed, its log is shown.
func startApp(t *testing.T, cfg appConfig) *app {
	t.Helper()
	bin := binary(t)
	port := freePort(t)
	args := []string{"serve", "--db", cfg.DB, "--addr", "127.0.0.1:" + strconv.Itoa(port)}
	if cfg.Demo {
		args = append(args, "--demo")
	}
	var extra []string
	if cfg.Redis != "" {
		extra = append(extra, "REDIS_URL="+cfg.Redis)
	}
	dir := t.TempDir()
	a := &app{proc: startProc(t, "canceldesk", dir, appEnv(extra...), bin, args...),
		base: "http://127.0.0.1:" + strconv.Itoa(port), port: port}
	t.Cleanup(func() {
		a.signal(syscall.SIGKILL)
		<-a.done
		if t.Failed() {
			t.Logf("canceldesk log (%s):\n%s", a.logPath, a.logTail())
		}
	})
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for {
		if a.exited() {
			t.Fatalf("canceldesk exited while starting (%v):\n%s", a.waitErr, a.logTail())
		}
		res, err := hc.Get(a.base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("canceldesk did not answer /healthz with 200 within 90s (last: %v):\n%s", err, a.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// redisServer is a private redis-server on a loopback port of its own.
type redisServer struct {
	*proc
	port int
	dir  string
}

// startRedis runs redis-server (from PATH) on port, keeping nothing on
// disk, and waits until it answers PING. The test fails loudly when
// redis-server is not installed.
func startRedis(t *testing.T, port int) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not on PATH: this test runs a private Redis (Debian: apt-get install redis-server, or run scripts/test.sh)")
	}
	dir := t.TempDir()
	r := &redisServer{port: port, dir: dir,
		proc: startProc(t, "redis-"+strconv.Itoa(port), dir, os.Environ(), bin,
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)}
	t.Cleanup(func() {
		r.signal(syscall.SIGKILL)
		<-r.done
	})
	rdb := redis.NewClient(&redis.Options{Addr: r.addr(), DialTimeout: time.Second, MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return r
		}
		if r.exited() || time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d does not answer PING: %v\n%s", port, err, r.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }
func (r *redisServer) url() string  { return "redis://" + r.addr() + "/0" }

// pgServer is a private PostgreSQL cluster in a temp directory, listening on
// a loopback port of its own (and a socket in its directory), trust auth.
type pgServer struct {
	bin, dir, data string
	port           int
	asPostgres     bool // run the tools as the postgres user (the tests run as root)
}

// startPostgres creates and starts a private PostgreSQL cluster with a
// database "canceldesk" that has pg_trgm, and stops it when the test ends.
// It never touches the shared server on 5432. The test fails loudly when
// PostgreSQL's server binaries are missing.
func startPostgres(t *testing.T) *pgServer {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Fatalf("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb): this test runs a private PostgreSQL (Debian: apt-get install postgresql postgresql-contrib, or run scripts/test.sh)")
	}
	sort.Slice(bins, func(i, j int) bool { return pgVersion(bins[i]) < pgVersion(bins[j]) })
	s := &pgServer{bin: filepath.Dir(bins[len(bins)-1]), asPostgres: os.Getuid() == 0}
	if s.asPostgres {
		if _, err := exec.LookPath("runuser"); err != nil {
			t.Fatalf("running as root, initdb must run as the postgres user, but runuser is not on PATH")
		}
		if _, err := user.Lookup("postgres"); err != nil {
			t.Fatalf("running as root, initdb must run as the postgres user, which does not exist: %v", err)
		}
	}
	s.dir = s.makeDir(t)
	s.data = filepath.Join(s.dir, "data")
	s.port = freePort(t)
	t.Cleanup(func() {
		if out, err := s.pgCtl("stop", "-m", "immediate"); err != nil && !strings.Contains(out, "PID file") {
			t.Logf("stopping the private PostgreSQL: %v\n%s", err, out)
		}
		os.RemoveAll(s.dir)
	})
	if out, err := s.run("initdb", "-D", s.data, "--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	s.start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.url("postgres"))
	if err != nil {
		t.Fatalf("private PostgreSQL: %v", err)
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE canceldesk")
	conn.Close(context.Background())
	if err != nil {
		t.Fatalf("private PostgreSQL: create database: %v", err)
	}
	conn, err = pgx.Connect(ctx, s.url("canceldesk"))
	if err != nil {
		t.Fatalf("private PostgreSQL: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_trgm"); err != nil {
		t.Fatalf("private PostgreSQL: pg_trgm (Debian: postgresql-contrib): %v", err)
	}
	return s
}

func pgVersion(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

// makeDir makes the cluster's directory under the temp dir, owned by the
// postgres user when the tests run as root; the temp dir must let postgres
// through (falls back to /tmp when it does not).
func (s *pgServer) makeDir(t *testing.T) string {
	t.Helper()
	for _, parent := range []string{os.TempDir(), "/tmp"} {
		dir, err := os.MkdirTemp(parent, "cdpg-")
		if err != nil {
			continue
		}
		if !s.asPostgres {
			return dir
		}
		if out, err := exec.Command("chown", "postgres:postgres", dir).CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			t.Fatalf("chown postgres %s: %v\n%s", dir, err, out)
		}
		if err := exec.Command("runuser", "-u", "postgres", "--", "test", "-w", dir).Run(); err == nil {
			return dir
		}
		os.RemoveAll(dir) // postgres cannot get there (e.g. TMPDIR under /root)
	}
	t.Fatalf("no temp directory the postgres user can write to (tried %s and /tmp)", os.TempDir())
	return ""
}

func (s *pgServer) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// run runs one of PostgreSQL's tools, as postgres when the tests run as root.
func (s *pgServer) run(tool string, args ...string) (string, error) {
	path := filepath.Join(s.bin, tool)
	var cmd *exec.Cmd
	if s.asPostgres {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (s *pgServer) pgCtl(action string, args ...string) (string, error) {
	return s.run("pg_ctl", append([]string{action, "-D", s.data, "-w", "-t", "60"}, args...)...)
}

// start starts the cluster and waits until it accepts connections.
func (s *pgServer) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", s.port, s.dir)
	if out, err := s.pgCtl("start", "-l", filepath.Join(s.dir, "server.log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// stop stops the cluster the fast way: sessions are cut, nothing is lost.
func (s *pgServer) stop(t *testing.T) {
	t.Helper()
	if out, err := s.pgCtl("stop", "-m", "fast"); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}
