// Package testenv gives tests the real services they need: PostgreSQL, Redis
// and Chromium. Each helper reads an environment variable that
// scripts/test.sh exports, checks the service answers, and fails the test
// loudly when it does not. It never skips: a test that needs a service and
// cannot reach it is a broken test run, not a passing one.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// The environment variables that scripts/test.sh exports.
const (
	// EnvPostgres is a postgres:// URL of a database the tests may create
	// schemas in, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
	EnvPostgres = "CANCELDESK_TEST_POSTGRES"
	// EnvRedis is a redis:// URL of a Redis database the tests may write to,
	// e.g. redis://127.0.0.1:6379/15.
	EnvRedis = "CANCELDESK_TEST_REDIS"
	// EnvChromium is the path of the Chromium binary for browser tests.
	EnvChromium = "CANCELDESK_CHROMIUM"
)

// DefaultChromium is where Debian's chromium package puts the browser; it is
// used when EnvChromium is unset.
const DefaultChromium = "/usr/bin/chromium"

const pingTimeout = 5 * time.Second

const hint = "run the tests with `bash scripts/test.sh`, which installs and starts the services and exports the variables"

// PostgresURL returns the URL of the test PostgreSQL database from
// CANCELDESK_TEST_POSTGRES after checking, within 5s, that it answers. The
// test fails when the variable is unset or the database does not answer.
func PostgresURL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvPostgres)
	if dsn == "" {
		t.Fatalf("testenv: %s is not set; this test needs PostgreSQL: %s", EnvPostgres, hint)
	}
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		t.Fatalf("testenv: %s must be a postgres:// URL, got %q", EnvPostgres, dsn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(context.Background())
	}
	if err != nil {
		t.Fatalf("testenv: PostgreSQL at %s=%s does not answer: %v; %s", EnvPostgres, redactURL(dsn), err, hint)
	}
	return dsn
}

// PostgresSchema creates a fresh, uniquely named schema (test_<hex>) in the
// test database and returns a URL whose connections use it: the URL carries
// the runtime parameter search_path=<schema>,public, so unqualified tables
// land in the new schema while the pg_trgm operators (kept in public) still
// resolve. The schema is dropped with CASCADE when the test ends.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testenv: %s is not a URL: %v", EnvPostgres, err)
	}

	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("testenv: random schema name: %v", err)
	}
	schema := "test_" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("testenv: connect to PostgreSQL: %v; %s", err, hint)
	}
	defer conn.Close(context.Background())
	if err := ensureTrigram(ctx, conn); err != nil {
		t.Fatalf("testenv: pg_trgm in public: %v (Debian: the extension is in postgresql-contrib / the postgresql server package); %s", err, hint)
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("testenv: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("testenv: drop schema %s: connect: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		// Do not wait for ever on a connection the test left in a transaction.
		if _, err := conn.Exec(ctx, "SET lock_timeout = '20s'"); err != nil {
			t.Errorf("testenv: drop schema %s: %v", schema, err)
			return
		}
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("testenv: drop schema %s: %v", schema, err)
		}
	})

	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}

// ensureTrigram makes sure the pg_trgm extension exists in schema public.
// Test packages run in parallel processes, so an advisory lock serialises the
// check; an extension left in another schema is moved to public.
func ensureTrigram(ctx context.Context, conn *pgx.Conn) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(7243002)"); err != nil {
		return err
	}
	var schema string
	err = tx.QueryRow(ctx, "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'").Scan(&schema)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if _, err := tx.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"); err != nil {
			return err
		}
	case err != nil:
		return err
	case schema != "public":
		if _, err := tx.Exec(ctx, "ALTER EXTENSION pg_trgm SET SCHEMA public"); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// RedisURL returns the URL of the test Redis database from
// CANCELDESK_TEST_REDIS after checking, within 5s, that it answers PING. The
// test fails when the variable is unset or Redis does not answer. Test
// packages run in parallel and share that database, so tests must use keys
// of their own (e.g. a prefix with t.Name() or a random part).
func RedisURL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv(EnvRedis)
	if raw == "" {
		t.Fatalf("testenv: %s is not set; this test needs Redis: %s", EnvRedis, hint)
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatalf("testenv: %s=%s is not a Redis URL: %v", EnvRedis, redactURL(raw), err)
	}
	opt.DialTimeout = pingTimeout
	opt.MaxRetries = -1
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("testenv: Redis at %s=%s does not answer: %v; %s", EnvRedis, redactURL(raw), err, hint)
	}
	return raw
}

// ChromiumPath returns the Chromium binary for browser tests: the path in
// CANCELDESK_CHROMIUM, else /usr/bin/chromium, else chromium on PATH. The
// test fails when none is an executable file.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	p := os.Getenv(EnvChromium)
	from := EnvChromium
	if p == "" {
		p, from = DefaultChromium, "default"
		if _, err := os.Stat(p); err != nil {
			if lp, err := exec.LookPath("chromium"); err == nil {
				p, from = lp, "PATH"
			}
		}
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatalf("testenv: Chromium not found at %s (%s): %v; %s", p, from, err, hint)
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		t.Fatalf("testenv: Chromium at %s (%s) is not an executable file; %s", p, from, hint)
	}
	return p
}

// redactURL hides a password in a URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
