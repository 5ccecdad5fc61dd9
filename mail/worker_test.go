package mail

import (
	"bytes"
	"context"
	"net"
	"net/mail"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/emersion/go-smtp"
)

func runOnce(t *testing.T, w *Worker, ctx context.Context) int {
	t.Helper()
	n, err := w.RunOnce(ctx)
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return n
}

func wantStatus(t *testing.T, m canceldesk.OutboxMessage, status string, attempts int) {
	t.Helper()
	if m.Status != status || m.Attempts != attempts {
		t.Fatalf("message %d: %s after %d attempts (last error %q), want %s after %d",
			m.ID, m.Status, m.Attempts, m.LastError, status, attempts)
	}
}

// TestWorkerRetriesTemporaryRefusal: RCPT answers 451 twice; the worker
// schedules each retry after a growing backoff (not before: a pass in
// between claims nothing) and delivers once on the third pass.
func TestWorkerRetriesTemporaryRefusal(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ts.mu.Lock()
	ts.rcptHook = func(n int, _ string) error {
		if n <= 2 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
		}
		return nil
	}
	ts.mu.Unlock()
	clk := newClock()
	ob := newOutbox(clk.Now)
	id := ob.Add("customer@example.net", "Your order #1001 has been cancelled")
	w := newTestWorker(ob, newTestSender(t, ts.Port, nil), clk)
	ctx := context.Background()

	var waits []time.Duration
	for try := 1; try <= 2; try++ {
		if n := runOnce(t, w, ctx); n != 0 {
			t.Fatalf("try %d: sent %d", try, n)
		}
		m := ob.Get(id)
		wantStatus(t, m, canceldesk.MessagePending, try)
		if m.LastError != "451 4.3.0 Try again later" {
			t.Errorf("try %d: last error %q", try, m.LastError)
		}
		wait := m.NextAttemptAt.Sub(clk.Now())
		waits = append(waits, wait)

		// Not due yet: a pass just before the retry time sends nothing.
		clk.Advance(wait - time.Second)
		if n := runOnce(t, w, ctx); n != 0 || ob.Get(id).Attempts != try {
			t.Fatalf("try %d: the message was tried again before its retry time", try)
		}
		clk.Advance(time.Second)
	}
	if waits[0] != time.Minute || waits[1] != 5*time.Minute {
		t.Errorf("backoffs %v, want [1m 5m]", waits)
	}

	if n := runOnce(t, w, ctx); n != 1 {
		t.Fatalf("third try sent %d, want 1", n)
	}
	wantStatus(t, ob.Get(id), canceldesk.MessageSent, 3)
	if _, rcpts, datas := ts.counts(); rcpts != 3 || datas != 1 {
		t.Errorf("server saw %d RCPT and %d DATA, want 3 and exactly 1", rcpts, datas)
	}
	clk.Advance(24 * time.Hour)
	if n := runOnce(t, w, ctx); n != 0 {
		t.Errorf("a sent message was sent again")
	}
}

// TestWorkerPermanentRefusal: a 550 fails the message for good after one
// try, with the reply as its error, and it is never tried again.
func TestWorkerPermanentRefusal(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ts.mu.Lock()
	ts.rcptHook = func(int, string) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable"}
	}
	ts.mu.Unlock()
	clk := newClock()
	ob := newOutbox(clk.Now)
	id := ob.Add("nobody@example.net", "Your order")
	w := newTestWorker(ob, newTestSender(t, ts.Port, nil), clk)

	runOnce(t, w, context.Background())
	m := ob.Get(id)
	wantStatus(t, m, canceldesk.MessageFailed, 1)
	if m.LastError != "550 5.1.1 Mailbox unavailable" {
		t.Errorf("last error %q", m.LastError)
	}
	clk.Advance(7 * 24 * time.Hour)
	runOnce(t, w, context.Background())
	if _, rcpts, datas := ts.counts(); rcpts != 1 || datas != 0 {
		t.Errorf("server saw %d RCPT and %d DATA, want 1 and 0", rcpts, datas)
	}
}

// TestWorkerServerDown: nothing listens on the port; the try is retried
// later, and once a server listens there the message goes out once.
func TestWorkerServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // now the port refuses connections

	clk := newClock()
	ob := newOutbox(clk.Now)
	id := ob.Add("customer@example.net", "Your order")
	w := newTestWorker(ob, newTestSender(t, port, nil), clk)

	runOnce(t, w, context.Background())
	m := ob.Get(id)
	wantStatus(t, m, canceldesk.MessagePending, 1)
	if !strings.Contains(m.LastError, "refused") || !m.NextAttemptAt.Equal(clk.Now().Add(time.Minute)) {
		t.Errorf("last error %q, next try %v; want refused, in 1m", m.LastError, m.NextAttemptAt)
	}

	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the port was taken meanwhile: %v", err)
	}
	ts := startServer(t, serverOptions{Listener: l})
	clk.Advance(time.Minute)
	if n := runOnce(t, w, context.Background()); n != 1 {
		t.Fatalf("sent %d once the server is up, want 1", n)
	}
	wantStatus(t, ob.Get(id), canceldesk.MessageSent, 2)
	if _, _, datas := ts.counts(); datas != 1 {
		t.Errorf("server got %d messages, want 1", datas)
	}
}

// TestWorkerStopsMidBatch: the worker is stopped while the first message
// of a batch is on the wire. That one is still marked sent (the server
// accepted it), the others are not tried and come back after the lease to
// a new worker; every message arrives exactly once.
func TestWorkerStopsMidBatch(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ts.mu.Lock()
	ts.dataHook = func(received) error { cancel(); return nil } // "killed" during the first DATA
	ts.mu.Unlock()

	clk := newClock()
	ob := newOutbox(clk.Now)
	var ids []int64
	for _, to := range []string{"a@example.net", "b@example.net", "c@example.net"} {
		ids = append(ids, ob.Add(to, "Your order"))
	}
	w := newTestWorker(ob, newTestSender(t, ts.Port, nil), clk)
	w.Lease = 2 * time.Minute
	if n := runOnce(t, w, ctx); n != 1 {
		t.Fatalf("sent %d before stopping, want 1", n)
	}
	wantStatus(t, ob.Get(ids[0]), canceldesk.MessageSent, 1)
	for _, id := range ids[1:] {
		m := ob.Get(id)
		wantStatus(t, m, canceldesk.MessagePending, 1) // claimed, not tried
		if m.LastError != "" {
			t.Errorf("message %d has error %q though it was not tried", id, m.LastError)
		}
	}

	ts.mu.Lock()
	ts.dataHook = nil
	ts.mu.Unlock()
	w2 := newTestWorker(ob, newTestSender(t, ts.Port, nil), clk)
	if n := runOnce(t, w2, context.Background()); n != 0 {
		t.Fatalf("a new worker took %d messages still leased", n)
	}
	clk.Advance(2 * time.Minute)
	if n := runOnce(t, w2, context.Background()); n != 2 {
		t.Fatalf("after the lease the new worker sent %d, want 2", n)
	}
	seen := map[string]int{}
	for _, r := range ts.Received() {
		msg, err := mail.ReadMessage(bytes.NewReader(r.Data))
		if err != nil {
			t.Fatal(err)
		}
		seen[r.To[0]+" "+msg.Header.Get("Message-ID")]++
	}
	for _, id := range ids {
		m := ob.Get(id)
		if m.Status != canceldesk.MessageSent || seen[m.Recipient+" "+m.MessageID] != 1 {
			t.Errorf("message %d: %s, received %d times; want sent, once", id, m.Status, seen[m.Recipient+" "+m.MessageID])
		}
	}
}

// TestWorkerMaxAttempts: a server that always answers 4xx; after
// MaxAttempts tries the message fails for good and is not tried again.
func TestWorkerMaxAttempts(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ts.mu.Lock()
	ts.rcptHook = func(int, string) error {
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 5}, Message: "Too busy"}
	}
	ts.mu.Unlock()
	clk := newClock()
	ob := newOutbox(clk.Now)
	id := ob.Add("customer@example.net", "Your order")
	w := newTestWorker(ob, newTestSender(t, ts.Port, nil), clk)
	w.MaxAttempts = 3
	w.Backoff = func(int) time.Duration { return time.Minute }

	for try := 1; try <= 3; try++ {
		runOnce(t, w, context.Background())
		clk.Advance(time.Minute)
	}
	m := ob.Get(id)
	wantStatus(t, m, canceldesk.MessageFailed, 3)
	if m.LastError != "421 4.4.5 Too busy" {
		t.Errorf("last error %q", m.LastError)
	}
	clk.Advance(24 * time.Hour)
	runOnce(t, w, context.Background())
	if _, rcpts, _ := ts.counts(); rcpts != 3 {
		t.Errorf("server saw %d tries, want 3", rcpts)
	}
}

// TestWorkerNoRecipient: a message without an address fails for good and
// nothing connects to the server.
func TestWorkerNoRecipient(t *testing.T) {
	ts := startServer(t, serverOptions{})
	clk := newClock()
	ob := newOutbox(clk.Now)
	id := ob.Add("  ", "Your order")
	w := newTestWorker(ob, nil, clk)
	cs := &countingSender{next: newTestSender(t, ts.Port, nil)}
	w.Sender = cs
	runOnce(t, w, context.Background())
	m := ob.Get(id)
	wantStatus(t, m, canceldesk.MessageFailed, 1)
	if m.LastError == "" {
		t.Error("no error recorded")
	}
	if n := cs.calls.Load(); n != 0 {
		t.Errorf("the worker called Send %d times, want none", n)
	}
	if sessions, _, _ := ts.counts(); sessions != 0 {
		t.Errorf("the server saw %d sessions, want none", sessions)
	}
}

// countingSender counts the sends it passes on.
type countingSender struct {
	calls atomic.Int32
	next  *Sender
}

func (c *countingSender) Send(ctx context.Context, m Message) error {
	c.calls.Add(1)
	return c.next.Send(ctx, m)
}

// TestWorkerSettings: the store's name and reply-to from Settings are the
// From name and Reply-To of the message; an empty one keeps the default.
func TestWorkerSettings(t *testing.T) {
	ts := startServer(t, serverOptions{})
	clk := newClock()
	ob := newOutbox(clk.Now)
	ob.Add("customer@example.net", "Your order")
	ob.Add("other@example.net", "Your order")
	w := newTestWorker(ob, newTestSender(t, ts.Port, nil), clk)
	w.ReplyTo = "default@shop.example"
	var calls atomic.Int32
	w.Settings = func(context.Context) (string, string) {
		if calls.Add(1) == 1 {
			return "茶屋 Tea House", "help@shop.example"
		}
		return "", ""
	}
	w.Batch = 1
	runOnce(t, w, context.Background())
	runOnce(t, w, context.Background())
	got := ts.Received()
	if len(got) != 2 {
		t.Fatalf("received %d, want 2", len(got))
	}
	for i, want := range []struct{ name, replyTo string }{
		{"茶屋 Tea House", "help@shop.example"}, {"Test Shop", "default@shop.example"},
	} {
		msg, err := mail.ReadMessage(bytes.NewReader(got[i].Data))
		if err != nil {
			t.Fatal(err)
		}
		from, _ := msg.Header.AddressList("From")
		rt, _ := msg.Header.AddressList("Reply-To")
		if len(from) != 1 || from[0].Name != want.name || from[0].Address != "orders@shop.example" ||
			len(rt) != 1 || rt[0].Address != want.replyTo {
			t.Errorf("message %d: From %v Reply-To %v, want %q and %q", i, from, rt, want.name, want.replyTo)
		}
	}
}

// TestWorkerRun: Run goes on at once while batches come back full (with
// a long idle it would otherwise send one batch only) and returns when
// ctx ends.
func TestWorkerRun(t *testing.T) {
	ts := startServer(t, serverOptions{})
	clk := newClock()
	ob := newOutbox(clk.Now)
	for range 5 {
		ob.Add("customer@example.net", "Your order")
	}
	w := newTestWorker(ob, newTestSender(t, ts.Port, nil), clk)
	w.Batch = 2
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx, time.Hour); close(done) }()

	deadline := time.Now().Add(10 * time.Second)
	for len(ts.Received()) < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after ctx ended")
	}
	if n := len(ts.Received()); n != 5 {
		t.Errorf("Run sent %d of 5 in batches of 2", n)
	}
}
