package mail

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one message the test server accepted (or was offered).
type received struct {
	From string
	To   []string
	Data []byte
	TLS  bool   // the session ran over TLS (implicit or STARTTLS)
	User string // who authenticated, "" for nobody
}

// testServer is a real go-smtp server on 127.0.0.1 that records what it
// gets. The hooks let a test refuse or observe a step.
type testServer struct {
	Addr string
	Port int

	mu        sync.Mutex
	sessions  int        // connections that reached EHLO
	rcpts     int        // RCPT commands seen
	datas     []received // messages accepted by DATA
	creds     [][2]string
	rcptHook  func(n int, to string) error // n counts RCPTs from 1
	dataHook  func(r received) error
	passwords map[string]string // user → password for PLAIN
}

type serverOptions struct {
	TLS          *tls.Config // offers STARTTLS with it
	ImplicitTLS  bool        // the listener itself is TLS (port 465 style)
	InsecureAuth bool        // AUTH over plain TCP
	Listener     net.Listener
}

func startServer(t *testing.T, o serverOptions) *testServer {
	t.Helper()
	ts := &testServer{passwords: map[string]string{"shop": "s3cret"}}
	srv := smtp.NewServer(ts)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = o.InsecureAuth
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l := o.Listener
	if l == nil {
		var err error
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	if o.ImplicitTLS {
		l = tls.NewListener(l, o.TLS)
	} else {
		srv.TLSConfig = o.TLS
	}
	ts.Addr = l.Addr().String()
	ts.Port = l.Addr().(*net.TCPAddr).Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return ts
}

func (ts *testServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	ts.mu.Lock()
	ts.sessions++
	ts.mu.Unlock()
	return &session{ts: ts, msg: received{TLS: isTLS}}, nil
}

// Received returns a copy of the accepted messages.
func (ts *testServer) Received() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return slices.Clone(ts.datas)
}

func (ts *testServer) counts() (sessions, rcpts, datas int) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.sessions, ts.rcpts, len(ts.datas)
}

type session struct {
	ts  *testServer
	msg received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		s.ts.mu.Lock()
		defer s.ts.mu.Unlock()
		s.ts.creds = append(s.ts.creds, [2]string{user, pass})
		if want, ok := s.ts.passwords[user]; !ok || want != pass {
			return smtp.ErrAuthFailed
		}
		s.msg.User = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.msg.From = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.ts.mu.Lock()
	s.ts.rcpts++
	n, hook := s.ts.rcpts, s.ts.rcptHook
	s.ts.mu.Unlock()
	if hook != nil {
		if err := hook(n, to); err != nil {
			return err
		}
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg := s.msg
	msg.To = slices.Clone(msg.To)
	msg.Data = data
	s.ts.mu.Lock()
	hook := s.ts.dataHook
	s.ts.mu.Unlock()
	if hook != nil {
		if err := hook(msg); err != nil {
			return err
		}
	}
	s.ts.mu.Lock()
	s.ts.datas = append(s.ts.datas, msg)
	s.ts.mu.Unlock()
	return nil
}

func (s *session) Reset() {
	user, isTLS := s.msg.User, s.msg.TLS
	s.msg = received{User: user, TLS: isTLS}
}

func (s *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost, and a pool
// that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "canceldesk test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// newTestSender is a Sender for ts over plain TCP.
func newTestSender(t *testing.T, port int, mod func(*Config)) *Sender {
	t.Helper()
	cfg := Config{Host: "127.0.0.1", Port: port, Security: SecurityNone,
		From: "orders@shop.example", Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clock is a fake time the worker and the outbox share.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// memOutbox follows the documented semantics of canceldesk.Outbox in
// memory: a claim leases due pending messages until now+lease and counts
// an attempt; MarkFailed with retryAt makes the message due then, without
// fails it for good.
type memOutbox struct {
	mu   sync.Mutex
	now  func() time.Time
	msgs []*canceldesk.OutboxMessage
}

func newOutbox(now func() time.Time) *memOutbox { return &memOutbox{now: now} }

// Add queues a pending message due now; it returns the id.
func (o *memOutbox) Add(to, subject string) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	id := int64(len(o.msgs) + 1)
	o.msgs = append(o.msgs, &canceldesk.OutboxMessage{
		ID: id, OrderID: 1000 + id, OrderName: "#" + strconv.FormatInt(1000+id, 10),
		Kind: canceldesk.MessageOrderCancelled, Recipient: to, Subject: subject,
		Text: "Hello,\nyour order is cancelled.\n", HTML: "<p>Hello,<br>\nyour order is cancelled.</p>\n",
		MessageID: "<outbox-" + strconv.FormatInt(id, 10) + "@shop.example>",
		Status:    canceldesk.MessagePending, NextAttemptAt: o.now(), CreatedAt: o.now(),
	})
	return id
}

// Get returns a copy of message id.
func (o *memOutbox) Get(id int64) canceldesk.OutboxMessage {
	o.mu.Lock()
	defer o.mu.Unlock()
	return *o.msgs[id-1]
}

func (o *memOutbox) ClaimMessages(_ context.Context, n int, lease time.Duration) ([]canceldesk.OutboxMessage, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	var due []*canceldesk.OutboxMessage
	for _, m := range o.msgs {
		if m.Status == canceldesk.MessagePending && !m.NextAttemptAt.After(now) {
			due = append(due, m)
		}
	}
	slices.SortStableFunc(due, func(a, b *canceldesk.OutboxMessage) int { return a.NextAttemptAt.Compare(b.NextAttemptAt) })
	var out []canceldesk.OutboxMessage
	for _, m := range due[:min(n, len(due))] {
		m.Attempts++
		m.NextAttemptAt = now.Add(lease) // the lease: nobody else gets it until then
		out = append(out, *m)
	}
	return out, nil
}

func (o *memOutbox) MarkSent(_ context.Context, id int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.msgs[id-1]
	now := o.now()
	m.Status, m.SentAt, m.LastError = canceldesk.MessageSent, &now, ""
	return nil
}

func (o *memOutbox) MarkFailed(_ context.Context, id int64, errMsg string, retryAt *time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.msgs[id-1]
	m.LastError = errMsg
	if retryAt != nil {
		m.Status, m.NextAttemptAt = canceldesk.MessagePending, *retryAt
	} else {
		m.Status = canceldesk.MessageFailed
	}
	return nil
}

// newTestWorker drains ob through s on the fake clock.
func newTestWorker(ob *memOutbox, s *Sender, c *clock) *Worker {
	return &Worker{Outbox: ob, Sender: s, From: "orders@shop.example", FromName: "Test Shop",
		Now: c.Now, Log: testLogger()}
}

func testLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
