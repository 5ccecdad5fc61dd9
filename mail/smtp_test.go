package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

func testMessage() Message {
	return Message{To: "customer@example.net", Subject: "Your order #1001 has been cancelled",
		Text: "Hello\n", HTML: "<p>Hello</p>\n", MessageID: "<t-1@shop.example>"}
}

// sendError asserts err is a *SendError and returns it.
func sendError(t *testing.T, err error) *SendError {
	t.Helper()
	var se *SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T), want a *SendError", err, err)
	}
	return se
}

// TestSendPlainAuth: with a Username the Sender authenticates with PLAIN
// and the server sees the credentials; a refused password is a temporary
// error (our settings, not the message) that names the step.
func TestSendPlainAuth(t *testing.T) {
	ts := startServer(t, serverOptions{InsecureAuth: true})
	s := newTestSender(t, ts.Port, func(c *Config) { c.Username, c.Password = "shop", "s3cret" })
	if err := s.Send(context.Background(), testMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := ts.Received()
	if len(got) != 1 || got[0].User != "shop" {
		t.Fatalf("received %+v, want one message from the authenticated user", got)
	}
	ts.mu.Lock()
	creds := ts.creds
	ts.mu.Unlock()
	if len(creds) != 1 || creds[0] != [2]string{"shop", "s3cret"} {
		t.Errorf("the server saw credentials %q", creds)
	}

	bad := newTestSender(t, ts.Port, func(c *Config) { c.Username, c.Password = "shop", "wrong" })
	se := sendError(t, bad.Send(context.Background(), testMessage()))
	if se.Permanent || !strings.HasPrefix(se.Error(), "auth: 535") {
		t.Errorf("wrong password: %q permanent=%v, want a temporary \"auth: 535 ...\"", se.Error(), se.Permanent)
	}
	if n := len(ts.Received()); n != 1 {
		t.Errorf("the server has %d messages after the refused login, want 1", n)
	}
}

// TestSendStartTLS: Security "starttls" upgrades before AUTH and the
// message (the server refuses AUTH in clear, so the login proves the
// upgrade); a server without STARTTLS is refused, as is a certificate we do
// not trust. Both are temporary: they are about the server or our
// settings, and fixing them must not lose the mail (the worker's
// MaxAttempts bounds the retries).
func TestSendStartTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	ts := startServer(t, serverOptions{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	s := newTestSender(t, ts.Port, func(c *Config) {
		c.Security = SecurityStartTLS
		c.TLSConfig = &tls.Config{RootCAs: pool}
		c.Username, c.Password = "shop", "s3cret"
	})
	if err := s.Send(context.Background(), testMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := ts.Received()
	if len(got) != 1 || !got[0].TLS || got[0].User != "shop" {
		t.Fatalf("received %+v, want one message over TLS from the authenticated user", got)
	}

	t.Run("server without STARTTLS", func(t *testing.T) {
		plain := startServer(t, serverOptions{InsecureAuth: true})
		s := newTestSender(t, plain.Port, func(c *Config) { c.Security = SecurityStartTLS })
		se := sendError(t, s.Send(context.Background(), testMessage()))
		if se.Permanent || !strings.Contains(se.Error(), "STARTTLS") {
			t.Errorf("got %q permanent=%v, want a temporary error about STARTTLS", se.Error(), se.Permanent)
		}
		if _, rcpts, datas := plain.counts(); rcpts+datas != 0 {
			t.Errorf("the message went out in clear (%d RCPT, %d DATA)", rcpts, datas)
		}
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		s := newTestSender(t, ts.Port, func(c *Config) { c.Security = SecurityStartTLS })
		se := sendError(t, s.Send(context.Background(), testMessage()))
		if se.Permanent || !strings.Contains(se.Error(), "certificate") {
			t.Errorf("got %q permanent=%v, want a temporary certificate error", se.Error(), se.Permanent)
		}
		if n := len(ts.Received()); n != 1 {
			t.Errorf("the server has %d messages, want still 1", n)
		}
	})
}

// TestSendImplicitTLS: Security "tls" speaks TLS from the first byte
// (port 465 style).
func TestSendImplicitTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	ts := startServer(t, serverOptions{ImplicitTLS: true, TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	s := newTestSender(t, ts.Port, func(c *Config) {
		c.Security = SecurityTLS
		c.TLSConfig = &tls.Config{RootCAs: pool}
	})
	if err := s.Send(context.Background(), testMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := ts.Received(); len(got) != 1 || !got[0].TLS {
		t.Fatalf("received %+v, want one message over TLS", got)
	}
}

// TestSendClassifiesReplies: 5xx to MAIL, RCPT or DATA is permanent, 4xx
// temporary, and the stored text is the reply ("550 5.1.1 ...").
func TestSendClassifiesReplies(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s := newTestSender(t, ts.Port, nil)
	for _, c := range []struct {
		rcpt, data *smtp.SMTPError
		permanent  bool
		text       string
	}{
		{rcpt: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable"},
			permanent: true, text: "550 5.1.1 Mailbox unavailable"},
		{rcpt: &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full"},
			text: "452 4.2.2 Mailbox full"},
		{data: &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Message rejected as spam"},
			permanent: true, text: "554 5.7.1 Message rejected as spam"},
		{data: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Local error"},
			text: "451 4.3.0 Local error"},
	} {
		ts.mu.Lock()
		ts.rcptHook = func(int, string) error {
			if c.rcpt != nil {
				return c.rcpt
			}
			return nil
		}
		ts.dataHook = func(received) error {
			if c.data != nil {
				return c.data
			}
			return nil
		}
		ts.mu.Unlock()
		se := sendError(t, s.Send(context.Background(), testMessage()))
		if se.Permanent != c.permanent || se.Error() != c.text {
			t.Errorf("got %q permanent=%v, want %q permanent=%v", se.Error(), se.Permanent, c.text, c.permanent)
		}
	}
}

// TestSendRespectsContext: a server that stalls does not hold Send past
// its ctx, nor past Config.Timeout; both are temporary.
func TestSendRespectsContext(t *testing.T) {
	ts := startServer(t, serverOptions{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	ts.mu.Lock()
	ts.dataHook = func(received) error { <-release; return nil }
	ts.mu.Unlock()

	s := newTestSender(t, ts.Port, nil) // Timeout 5s
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	se := sendError(t, s.Send(ctx, testMessage()))
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send took %v past a 200ms ctx", d)
	}
	if se.Permanent || !strings.Contains(se.Error(), "timed out") {
		t.Errorf("got %q permanent=%v, want a temporary time-out", se.Error(), se.Permanent)
	}

	short := newTestSender(t, ts.Port, func(c *Config) { c.Timeout = 200 * time.Millisecond })
	start = time.Now()
	se = sendError(t, short.Send(context.Background(), testMessage()))
	if d := time.Since(start); d > 3*time.Second || se.Permanent {
		t.Errorf("Config.Timeout 200ms: took %v, %q permanent=%v", d, se.Error(), se.Permanent)
	}
}

// TestNewSenderChecksConfig: no host, no From, or an unknown security is
// refused at start rather than on every message.
func TestNewSenderChecksConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no host":          {From: "orders@shop.example"},
		"no from":          {Host: "smtp.example"},
		"bad from":         {Host: "smtp.example", From: "not an address"},
		"unknown security": {Host: "smtp.example", From: "orders@shop.example", Security: "ssl3"},
	} {
		if _, err := NewSender(cfg); err == nil {
			t.Errorf("%s: NewSender accepted %+v", name, cfg)
		}
	}
	if _, err := NewSender(Config{Host: "smtp.example", From: "orders@shop.example"}); err != nil {
		t.Errorf("a minimal config (starttls on 587 by default): %v", err)
	}
}
