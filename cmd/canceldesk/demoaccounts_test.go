package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	redisstorage "github.com/gofiber/storage/redis/v3"
	"github.com/redis/go-redis/v9"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/internal/testenv"
	"github.com/canceldesk/canceldesk/store"
)

// lockedBuffer is a log the server writes from its goroutine while the
// test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeWithoutDemoDisablesDemoAccounts: a database seeded by --demo,
// served again without it, no longer lets the demo accounts (whose
// password the demo shows to anyone) sign in, and one log line names them.
// The store's real owner stays as they were.
func TestServeWithoutDemoDisablesDemoAccounts(t *testing.T) {
	for _, k := range []string{"PUBLIC_URL", "LISTEN_ADDR", "TRUSTED_PROXIES", "REDIS_URL", "SMTP_HOST", "STRIPE_SECRET_KEY", "DATABASE_URL"} {
		t.Setenv(k, "")
	}
	path := filepath.Join(t.TempDir(), "cd.db")
	ctx := context.Background()
	db := openDB(t, path)
	if err := seedDemoAccounts(ctx, db); err != nil {
		t.Fatal(err)
	}
	hash, _ := canceldesk.HashPassword(ownerPassword)
	real := canceldesk.Account{Name: "Real Owner", Email: "owner@shop.test", Role: canceldesk.RoleOwner, PasswordHash: hash}
	if err := db.CreateAccount(ctx, &real); err != nil {
		t.Fatal(err)
	}
	db.Close()

	var log lockedBuffer
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(sctx, []string{"serve", "--db", path, "--addr", "127.0.0.1:0"}, &log, &log) }()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(log.String(), "Cancel Desk is running") {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("serve did not start; log:\n%s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	var line string
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.Contains(l, "demo accounts disabled") {
			line = l
		}
	}
	for _, a := range demoAccounts {
		if !strings.Contains(line, a.Email) {
			t.Errorf("the log line %q does not name %s", line, a.Email)
		}
	}

	db = openDB(t, path)
	for _, a := range demoAccounts {
		got, err := db.AccountByEmail(ctx, a.Email)
		if err != nil {
			t.Fatal(err)
		}
		if got.Active() {
			t.Errorf("%s is still active", a.Email)
		}
	}
	if got, err := db.AccountByEmail(ctx, real.Email); err != nil || !got.Active() {
		t.Errorf("the real owner: %+v, %v; want active", got, err)
	}
}

// TestRetireDemoAccountsOnlyOwner: when the demo owner is the store's only
// owner it cannot be disabled (the store needs an owner), but its public
// password stops working; its sessions end either way, and a second start
// finds nothing to do.
func TestRetireDemoAccountsOnlyOwner(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "cd.db"))
	if err := seedDemoAccounts(ctx, db); err != nil {
		t.Fatal(err)
	}
	var ended []int64
	end := func(_ context.Context, id int64) error { ended = append(ended, id); return nil }
	var buf bytes.Buffer
	if err := retireDemoAccounts(ctx, db, end, slog.New(slog.NewTextHandler(&buf, nil))); err != nil {
		t.Fatal(err)
	}
	if len(ended) != len(demoAccounts) {
		t.Errorf("sessions ended for %v, want all %d demo accounts", ended, len(demoAccounts))
	}
	owner, err := db.AccountByEmail(ctx, demoAccounts[0].Email)
	if err != nil {
		t.Fatal(err)
	}
	if canceldesk.CheckPassword(owner.PasswordHash, demoPassword) {
		t.Error("the demo owner still signs in with the demo password")
	}
	for _, a := range demoAccounts[1:] {
		if got, _ := db.AccountByEmail(ctx, a.Email); got == nil || got.Active() {
			t.Errorf("%s: %+v, want disabled", a.Email, got)
		}
	}
	if !strings.Contains(buf.String(), "only owner") || !strings.Contains(buf.String(), demoAccounts[0].Email) {
		t.Errorf("log = %q, want a line naming the demo owner", buf.String())
	}
	buf.Reset()
	ended = nil
	if err := retireDemoAccounts(ctx, db, end, slog.New(slog.NewTextHandler(&buf, nil))); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "demo accounts disabled") || len(ended) != 1 {
		// the owner is still active (password changed): its sessions end again
		t.Errorf("second start: log %q, sessions ended %v", buf.String(), ended)
	}
}

// TestRedisSessionEnder: the sessions of an account kept in Redis are
// deleted, and the index forgets them; another account's stay.
func TestRedisSessionEnder(t *testing.T) {
	opt, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	sessions := redisstorage.NewFromConnection(rdb)
	idx := store.NewRedisSessionIndex(rdb, handlers.AbsoluteTimeout)
	ctx := context.Background()
	mine, other := "retire-test-"+rand16(), "retire-test-"+rand16()
	const acct, otherAcct = 900001, 900002
	for _, s := range []struct {
		id   string
		acct int64
	}{{mine, acct}, {other, otherAcct}} {
		if err := sessions.Set(s.id, []byte("x"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := idx.Add(ctx, s.acct, s.id, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = sessions.Delete(other); _ = idx.Remove(ctx, otherAcct, other) })
	if err := redisSessionEnder(rdb, sessions)(ctx, acct); err != nil {
		t.Fatal(err)
	}
	if b, _ := sessions.Get(mine); b != nil {
		t.Error("the account's session is still stored")
	}
	if ids, _ := idx.IDs(ctx, acct); len(ids) != 0 {
		t.Errorf("index still lists %v", ids)
	}
	if b, _ := sessions.Get(other); b == nil {
		t.Error("another account's session was ended")
	}
}

func rand16() string { return randomPassword()[:16] }
