package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Config is how to reach the SMTP server (from the environment in cmd).
type Config struct {
	Host               string // "" = not configured
	Port               int    // 587, 465, 25...; 0 = the usual port of Security
	Username, Password string // PLAIN auth when Username != ""
	// Security is "starttls" (require STARTTLS; the default when empty),
	// "tls" (implicit TLS, e.g. 465) or "none" (plain; for loopback and
	// tests: with it the password crosses the network in clear).
	Security  string
	From      string        // sender address, e.g. "orders@shop.example"
	FromName  string        // optional display name (e.g. the store's name)
	HelloName string        // EHLO name; "" = "localhost"
	Timeout   time.Duration // per connection; 0 = 20s
	TLSConfig *tls.Config   // optional (tests trust a test CA with it)
}

// Security modes.
const (
	SecurityStartTLS = "starttls"
	SecurityTLS      = "tls"
	SecurityNone     = "none"
)

const defaultTimeout = 20 * time.Second

// SendError says whether a failed send may succeed later.
//
// Permanent: the server refused the message for good, a 5xx reply to
// MAIL, RCPT or DATA (or the message itself is invalid). Everything else
// is temporary: 4xx replies, network errors, timeouts, TLS, a server
// without STARTTLS, refused authentication. Those are about the server or
// our settings rather than this message, and fixing them must not lose
// the mail; the worker's MaxAttempts still bounds the retries.
type SendError struct {
	Err       error
	Permanent bool
}

func (e *SendError) Error() string {
	if e.Err == nil {
		return "mail: send failed"
	}
	return e.Err.Error()
}

func (e *SendError) Unwrap() error { return e.Err }

// stepError names the step of the SMTP exchange that failed and gives a
// server reply as "550 5.1.1 text", which is what a manager reads.
type stepError struct {
	step string // "" for a reply to MAIL, RCPT or DATA: it says enough
	err  error
}

func (e *stepError) Error() string {
	msg := e.err.Error()
	var se *smtp.SMTPError
	var ne net.Error
	switch {
	case errors.Is(e.err, context.Canceled):
		msg = "canceled"
	case errors.Is(e.err, context.DeadlineExceeded), errors.As(e.err, &ne) && ne.Timeout():
		msg = "timed out"
	case errors.As(e.err, &se):
		msg = strconv.Itoa(se.Code)
		if c := se.EnhancedCode; c != smtp.EnhancedCodeNotSet && c != smtp.NoEnhancedCode {
			msg += fmt.Sprintf(" %d.%d.%d", c[0], c[1], c[2])
		}
		if text := strings.Join(strings.Fields(se.Message), " "); text != "" {
			msg += " " + text
		}
	}
	if e.step == "" {
		return msg
	}
	return e.step + ": " + msg
}

func (e *stepError) Unwrap() error { return e.err }

// Sender sends messages over SMTP, one connection per message: nothing to
// keep alive or to recover when the server drops an idle connection.
type Sender struct {
	cfg  Config
	addr string
	tls  *tls.Config
}

// NewSender checks cfg and returns a Sender for it.
func NewSender(cfg Config) (*Sender, error) {
	if strings.TrimSpace(cfg.Host) == "" {
		return nil, errors.New("mail: no SMTP host")
	}
	if strings.TrimSpace(cfg.From) == "" {
		return nil, errors.New("mail: no sender (From) address")
	}
	if _, err := parseAddress("From", cfg.From); err != nil {
		return nil, err
	}
	if cfg.Security == "" {
		cfg.Security = SecurityStartTLS
	}
	defPort := 0
	switch cfg.Security {
	case SecurityStartTLS:
		defPort = 587
	case SecurityTLS:
		defPort = 465
	case SecurityNone:
		defPort = 25
	default:
		return nil, fmt.Errorf("mail: unknown SMTP security %q (want starttls, tls or none)", cfg.Security)
	}
	if cfg.Port == 0 {
		cfg.Port = defPort
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("mail: SMTP port %d is not a port", cfg.Port)
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	// The certificate must name the host we dial; go-smtp only fills
	// ServerName when it dials itself.
	tc := &tls.Config{}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	return &Sender{cfg: cfg, addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), tls: tc}, nil
}

// Send delivers m: From and FromName default to the Config's. It returns
// a *SendError on failure. It gives up when ctx ends or after the Config's
// Timeout, whichever comes first.
//
// A connection lost after the message's final dot but before the server's
// reply is a temporary error although the server may have accepted it: a
// retry may then deliver it twice (SMTP cannot tell); the fixed Message-ID
// lets the receiver's client spot it.
func (s *Sender) Send(ctx context.Context, m Message) error {
	if m.From == "" {
		m.From = s.cfg.From
	}
	if m.FromName == "" {
		m.FromName = s.cfg.FromName
	}
	b, err := build(m)
	if err != nil {
		// The message itself is wrong: no try will make it right.
		return &SendError{Err: err, Permanent: true}
	}

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	err = s.send(ctx, b)
	if err == nil {
		return nil
	}
	var se *SendError
	if !errors.As(err, &se) {
		se = &SendError{Err: err}
	}
	var st *stepError
	if ctx.Err() != nil && !se.Permanent && errors.As(se.Err, &st) {
		// The connection was closed under the exchange: say so, rather
		// than "use of closed network connection".
		st.err = ctx.Err()
	}
	return se
}

func (s *Sender) send(ctx context.Context, b *built) error {
	conn, err := s.dial(ctx)
	if err != nil {
		return &SendError{Err: &stepError{step: "connect to " + s.addr, err: dialCause(err)}}
	}
	// go-smtp sets and clears its own deadlines on every command, so the
	// ctx is enforced by closing the connection under it.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	temporary := func(step string, err error) error {
		return &SendError{Err: &stepError{step: step, err: err}}
	}

	var c *smtp.Client
	if s.cfg.Security == SecurityStartTLS {
		// NewClientStartTLS says EHLO (as "localhost": go-smtp does not let
		// us name ourselves before the upgrade), then STARTTLS; it refuses a
		// server that does not offer it, so nothing goes out in clear.
		if c, err = smtp.NewClientStartTLS(conn, s.tls); err != nil {
			conn.Close()
			return temporary("starttls", err)
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	c.CommandTimeout = s.cfg.Timeout
	c.SubmissionTimeout = s.cfg.Timeout

	if err := c.Hello(s.cfg.HelloName); err != nil {
		return temporary("hello", err)
	}
	if s.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok || !c.SupportsAuth("PLAIN") {
			return temporary("auth", errors.New("the server does not offer AUTH PLAIN"))
		}
		if err := c.Auth(sasl.NewPlainClient("", s.cfg.Username, s.cfg.Password)); err != nil {
			return temporary("auth", err)
		}
	}

	// From here a 5xx reply is the server's verdict on this message.
	opts := &smtp.MailOptions{Size: int64(len(b.data))}
	if !isASCII(b.from) || !isASCII(b.to) {
		opts.UTF8 = true
	}
	if err := c.Mail(b.from, opts); err != nil {
		return transactionError("MAIL FROM", err)
	}
	if err := c.Rcpt(b.to, nil); err != nil {
		return transactionError("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return transactionError("DATA", err)
	}
	if _, err := w.Write(b.data); err != nil {
		return transactionError("DATA", err)
	}
	if err := w.Close(); err != nil {
		return transactionError("DATA", err)
	}
	// Accepted: a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

func (s *Sender) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{}
	if s.cfg.Security == SecurityTLS {
		return (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(ctx, "tcp", s.addr)
	}
	return d.DialContext(ctx, "tcp", s.addr)
}

// dialCause drops the "dial tcp addr:" the step already says, keeping
// "connection refused" or "lookup ...: no such host".
func dialCause(err error) error {
	var sys *os.SyscallError
	var op *net.OpError
	switch {
	case errors.As(err, &sys):
		return sys.Err
	case errors.As(err, &op) && op.Err != nil:
		return op.Err
	}
	return err
}

// transactionError classifies an error of MAIL, RCPT or DATA: a 5xx reply
// is permanent, anything else (4xx, network) temporary. A reply speaks for
// itself; another error gets the step's name.
func transactionError(step string, err error) error {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return &SendError{Err: &stepError{step: step, err: err}}
	}
	return &SendError{Err: &stepError{err: err}, Permanent: se.Code >= 500 && se.Code <= 599}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
