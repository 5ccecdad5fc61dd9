package mail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
)

// parsedPart is one decoded part of a received message.
type parsedPart struct {
	ContentType, Encoding, Body string
}

// parseMessage reads data with net/mail and decodes its parts; a test
// fails on anything a mail client would trip on.
func parseMessage(t *testing.T, data []byte) (*mail.Message, []parsedPart) {
	t.Helper()
	for i, line := range bytes.Split(data, []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Fatalf("line %d has a bare CR or LF: %q", i+1, line)
		}
		if len(line) > 78 {
			t.Errorf("line %d is %d bytes long: %q", i+1, len(line), line)
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("net/mail cannot read the message: %v\n%s", err, data)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	decode := func(enc string, r io.Reader) string {
		if enc != "quoted-printable" {
			t.Errorf("Content-Transfer-Encoding %q, want quoted-printable", enc)
		}
		b, err := io.ReadAll(quotedprintable.NewReader(r))
		if err != nil {
			t.Fatalf("quoted-printable: %v", err)
		}
		return string(b)
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		return msg, []parsedPart{{msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"),
			decode(msg.Header.Get("Content-Transfer-Encoding"), msg.Body)}}
	}
	if mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q, want multipart/alternative", mediaType)
	}
	var parts []parsedPart
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		// NextRawPart: NextPart would decode quoted-printable and hide
		// the header.
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		enc := p.Header.Get("Content-Transfer-Encoding")
		parts = append(parts, parsedPart{p.Header.Get("Content-Type"), enc, decode(enc, p)})
	}
	return msg, parts
}

// TestSendDelivers: Build + Send over a real SMTP server; what arrives
// is the envelope asked for and a message net/mail reads back to the
// inputs, non-ASCII subject and display name included.
func TestSendDelivers(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s := newTestSender(t, ts.Port, func(c *Config) { c.FromName = "Café Taipei 台北" })

	longLine := strings.Repeat("A long line that quoted-printable must wrap with soft breaks. ", 4)
	text := "Hello 王小明,\n\nYour order #1001 is cancelled.\n" + longLine + "\nLine = with equals.\n"
	html := "<p>Hello 王小明,</p>\n<p>You wrote: &lt;b&gt;fast&lt;/b&gt; &amp; more</p>\n<p>" + longLine + "</p>\n"
	date := time.Date(2026, 3, 1, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))
	m := Message{To: "customer@example.net", ReplyTo: "help@shop.example",
		Subject: "您的訂單 #1001 已取消", Text: text, HTML: html,
		MessageID: "<outbox-1.abc@shop.example>", Date: date}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := ts.Received()
	if len(got) != 1 {
		t.Fatalf("server got %d messages, want 1", len(got))
	}
	r := got[0]
	if r.From != "orders@shop.example" {
		t.Errorf("MAIL FROM %q, want orders@shop.example", r.From)
	}
	if len(r.To) != 1 || r.To[0] != "customer@example.net" {
		t.Errorf("RCPT TO %q, want [customer@example.net]", r.To)
	}

	msg, parts := parseMessage(t, r.Data)
	h := msg.Header
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("Subject %q decodes to %q (%v), want %q", h.Get("Subject"), subject, err, m.Subject)
	}
	if h.Get("Subject") == m.Subject {
		t.Error("a non-ASCII Subject went out raw, not RFC 2047-encoded")
	}
	if got := h.Get("Message-ID"); got != m.MessageID {
		t.Errorf("Message-ID %q, want %q", got, m.MessageID)
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Café Taipei 台北" || from[0].Address != "orders@shop.example" {
		t.Errorf("From %q parses to %v (%v)", h.Get("From"), from, err)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != m.To {
		t.Errorf("To %q parses to %v (%v)", h.Get("To"), to, err)
	}
	if rt, err := h.AddressList("Reply-To"); err != nil || len(rt) != 1 || rt[0].Address != m.ReplyTo {
		t.Errorf("Reply-To %q parses to %v (%v)", h.Get("Reply-To"), rt, err)
	}
	if d, err := h.Date(); err != nil || !d.Equal(date) {
		t.Errorf("Date %q parses to %v (%v), want %v", h.Get("Date"), d, err, date)
	}
	if h.Get("MIME-Version") != "1.0" {
		t.Errorf("MIME-Version %q", h.Get("MIME-Version"))
	}

	if len(parts) != 2 {
		t.Fatalf("%d parts, want text/plain and text/html", len(parts))
	}
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	for i, want := range []parsedPart{
		{"text/plain; charset=utf-8", "quoted-printable", crlf(text)},
		{"text/html; charset=utf-8", "quoted-printable", crlf(html)},
	} {
		p := parts[i]
		if mt, params, _ := mime.ParseMediaType(p.ContentType); mt+"; charset="+params["charset"] != want.ContentType {
			t.Errorf("part %d Content-Type %q, want %q", i, p.ContentType, want.ContentType)
		}
		if p.Body != want.Body {
			t.Errorf("part %d decodes to\n%q\nwant\n%q", i, p.Body, want.Body)
		}
	}
	if !strings.Contains(parts[1].Body, "&lt;b&gt;fast&lt;/b&gt;") {
		t.Error("the HTML part's escaped text was changed")
	}
}

// TestBuildRefusesHeaderInjection: a value with a line break in any header
// is refused, and Send refuses it for good without reaching the server.
func TestBuildRefusesHeaderInjection(t *testing.T) {
	ok := Message{From: "orders@shop.example", To: "customer@example.net", Subject: "Hi", Text: "x", HTML: "<p>x</p>"}
	if _, err := Build(ok); err != nil {
		t.Fatalf("the valid message: %v", err)
	}
	for name, mod := range map[string]func(*Message){
		"subject CRLF": func(m *Message) { m.Subject = "Hi\r\nBcc: victim@example.org" },
		"subject LF":   func(m *Message) { m.Subject = "Hi\nBcc: victim@example.org" },
		"to":           func(m *Message) { m.To = "customer@example.net\r\nBcc: victim@example.org" },
		"reply-to":     func(m *Message) { m.ReplyTo = "help@shop.example\r\nBcc: victim@example.org" },
		"from name":    func(m *Message) { m.FromName = "Shop\r\nBcc: victim@example.org" },
		"message-id":   func(m *Message) { m.MessageID = "<a@b>\r\nBcc: victim@example.org" },
	} {
		m := ok
		mod(&m)
		if data, err := Build(m); err == nil {
			t.Errorf("%s: Build accepted it:\n%s", name, data)
		}
	}

	ts := startServer(t, serverOptions{})
	s := newTestSender(t, ts.Port, nil)
	bad := ok
	bad.Subject = "Hi\r\nBcc: victim@example.org"
	err := s.Send(context.Background(), bad)
	var se *SendError
	if !errors.As(err, &se) || !se.Permanent {
		t.Errorf("Send: %v, want a permanent *SendError", err)
	}
	if sessions, _, _ := ts.counts(); sessions != 0 {
		t.Errorf("the server saw %d sessions, want none", sessions)
	}
}

// TestBuildSinglePartAndFolding: a text-only message is a single
// text/plain part (no blank HTML alternative), and a long ASCII subject is
// folded yet reads back whole.
func TestBuildSinglePartAndFolding(t *testing.T) {
	subject := strings.TrimSpace(strings.Repeat("Your order #1001 has been cancelled and refunded ", 4))
	data, err := Build(Message{From: "orders@shop.example", To: "c@example.net", Subject: subject, Text: "only text\n"})
	if err != nil {
		t.Fatal(err)
	}
	msg, parts := parseMessage(t, data)
	if got := msg.Header.Get("Subject"); got != subject {
		t.Errorf("Subject reads back %q, want %q", got, subject)
	}
	if !bytes.Contains(data, []byte("\r\n ")) {
		t.Error("the long Subject was not folded")
	}
	if len(parts) != 1 || !strings.HasPrefix(parts[0].ContentType, "text/plain") ||
		parts[0].Body != "only text\r\n" {
		t.Errorf("parts %+v, want one text/plain part", parts)
	}
	long := strings.Repeat("Boutique Café du Marché ", 4)
	data, err = Build(Message{From: "orders@shop.example", FromName: long, To: "c@example.net",
		Subject: strings.Repeat("訂單已取消 ", 12), HTML: "<p>only html</p>"})
	if err != nil {
		t.Fatal(err)
	}
	msg2, parts2 := parseMessage(t, data) // checks the line lengths
	if from, err := msg2.Header.AddressList("From"); err != nil || from[0].Name != long {
		t.Errorf("the long From name reads back as %v (%v), want %q", from, err, long)
	}
	if got, _ := new(mime.WordDecoder).DecodeHeader(msg2.Header.Get("Subject")); got != strings.Repeat("訂單已取消 ", 12) {
		t.Errorf("the long Subject decodes to %q", got)
	}
	if len(parts2) != 1 || !strings.HasPrefix(parts2[0].ContentType, "text/html") {
		t.Errorf("parts %+v, want one text/html part", parts2)
	}
	if msg.Header.Get("Message-ID") == "" {
		t.Error("no Message-ID was made for a message without one")
	}
}

// TestBuildContentLanguage: a message says its language in
// Content-Language; a value not shaped like a language tag (a header
// smuggled in) sends none.
func TestBuildContentLanguage(t *testing.T) {
	m := Message{From: "orders@shop.example", To: "customer@example.net", Subject: "您好", Text: "x", HTML: "<p>x</p>", Lang: "zh-TW"}
	data, err := Build(m)
	if err != nil || !strings.Contains(string(data), "\r\nContent-Language: zh-TW\r\n") {
		t.Fatalf("Build: %v\n%s", err, data)
	}
	for _, bad := range []string{"", "zh-TW\r\nBcc: victim@example.org", "zh TW", "english-language-of-the-store"} {
		m.Lang = bad
		data, err := Build(m)
		if err != nil || strings.Contains(string(data), "Content-Language") || strings.Contains(string(data), "victim") {
			t.Errorf("Lang %q: %v\n%s", bad, err, data)
		}
	}
}
