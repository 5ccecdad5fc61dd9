// Package mail delivers the customer messages of the outbox: it builds
// MIME messages, sends them over SMTP and runs the worker that drains the
// outbox with retries.
package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"time"
)

// Message is one email to send.
type Message struct {
	From, FromName, ReplyTo, To string
	Subject                     string
	Text                        string // plain-text part
	HTML                        string // HTML part
	// MessageID is "<...>" as stored on the outbox row; the same on every
	// try, so a receiver can spot a duplicate. Empty makes a new one.
	MessageID string
	Date      time.Time // zero = now
	// Lang is the language the message is written in ("zh-TW"), sent as
	// Content-Language; "" or anything not shaped like a tag sends none.
	Lang string
}

// languageTag is what Content-Language may carry: a language tag.
var languageTag = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

// built is a message ready for the wire, with its envelope.
type built struct {
	from, to string // bare addresses for MAIL FROM and RCPT TO
	data     []byte
}

// Build returns the RFC 5322 message: headers (From with the encoded
// display name, To, Reply-To when set, Subject RFC 2047-encoded when not
// ASCII, Date, Message-ID, MIME-Version) and a multipart/alternative body
// with a text/plain then a text/html part, both UTF-8 and quoted-printable,
// with CRLF line endings. A header value holding CR or LF is refused: it
// could add headers of its own.
//
// With only one of Text and HTML the body is that single part (an empty
// alternative would show a blank message).
func Build(m Message) ([]byte, error) {
	b, err := build(m)
	if err != nil {
		return nil, err
	}
	return b.data, nil
}

func build(m Message) (*built, error) {
	for _, h := range []struct{ name, value string }{
		{"From", m.From}, {"From name", m.FromName}, {"Reply-To", m.ReplyTo}, {"To", m.To},
		{"Subject", m.Subject}, {"Message-ID", m.MessageID},
	} {
		if strings.ContainsAny(h.value, "\r\n") {
			return nil, fmt.Errorf("mail: the %s holds a line break", h.name)
		}
	}
	from, err := parseAddress("From", m.From)
	if err != nil {
		return nil, err
	}
	from.Name = m.FromName
	to, err := parseAddress("To", m.To)
	if err != nil {
		return nil, err
	}
	var replyTo *mail.Address
	if strings.TrimSpace(m.ReplyTo) != "" {
		if replyTo, err = parseAddress("Reply-To", m.ReplyTo); err != nil {
			return nil, err
		}
	}
	if m.Text == "" && m.HTML == "" {
		return nil, errors.New("mail: the message has no body")
	}
	id := strings.TrimSpace(m.MessageID)
	if id == "" {
		id = newMessageID(from.Address)
	} else if !strings.HasPrefix(id, "<") {
		id = "<" + id + ">"
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}

	var buf bytes.Buffer
	writeHeader(&buf, "From", formatAddress(from))
	writeHeader(&buf, "To", formatAddress(to))
	if replyTo != nil {
		writeHeader(&buf, "Reply-To", formatAddress(replyTo))
	}
	writeHeader(&buf, "Subject", encodeText(m.Subject))
	writeHeader(&buf, "Date", date.Format(time.RFC1123Z))
	writeHeader(&buf, "Message-ID", id)
	writeHeader(&buf, "MIME-Version", "1.0")
	if languageTag.MatchString(m.Lang) {
		writeHeader(&buf, "Content-Language", m.Lang)
	}

	switch {
	case m.Text == "" || m.HTML == "":
		ctype, body := "text/plain; charset=utf-8", m.Text
		if m.Text == "" {
			ctype, body = "text/html; charset=utf-8", m.HTML
		}
		writeHeader(&buf, "Content-Type", ctype)
		writeHeader(&buf, "Content-Transfer-Encoding", "quoted-printable")
		buf.WriteString("\r\n")
		if err := writeQP(&buf, body); err != nil {
			return nil, err
		}
	default:
		mw := multipart.NewWriter(&buf)
		writeHeader(&buf, "Content-Type", mime.FormatMediaType("multipart/alternative",
			map[string]string{"boundary": mw.Boundary()}))
		buf.WriteString("\r\n")
		// Clients show the last part they understand: plain text first.
		for _, p := range []struct{ ctype, body string }{
			{"text/plain; charset=utf-8", m.Text}, {"text/html; charset=utf-8", m.HTML},
		} {
			pw, err := mw.CreatePart(textproto.MIMEHeader{
				"Content-Type":              {p.ctype},
				"Content-Transfer-Encoding": {"quoted-printable"},
			})
			if err != nil {
				return nil, err
			}
			if err := writeQP(pw, p.body); err != nil {
				return nil, err
			}
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
	}
	return &built{from: from.Address, to: to.Address, data: buf.Bytes()}, nil
}

func parseAddress(field, s string) (*mail.Address, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("mail: no %s address", field)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("mail: the %s address %q is not valid", field, s)
	}
	return a, nil
}

// writeQP writes s quoted-printable; the writer turns every line break
// into CRLF, so "\r\n" becomes "\n" first to keep a single break.
func writeQP(w interface{ Write([]byte) (int, error) }, s string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(strings.ReplaceAll(s, "\r\n", "\n"))); err != nil {
		return err
	}
	// The CRLF before the next boundary belongs to the boundary: the part
	// ends exactly where its text does.
	return qp.Close()
}

// writeHeader writes "Name: value", folded at spaces so that lines stay
// near 78 characters (a long subject would otherwise break the 998 limit
// or be refused by strict servers).
func writeHeader(buf *bytes.Buffer, name, value string) {
	const width = 76
	line := len(name) + 2
	buf.WriteString(name + ": ")
	for i, word := range strings.Split(value, " ") {
		if i > 0 {
			if line+1+len(word) > width {
				buf.WriteString("\r\n")
				line = 0
			}
			buf.WriteByte(' ')
			line++
		}
		buf.WriteString(word)
		line += len(word)
	}
	buf.WriteString("\r\n")
}

// formatAddress is a.String() but with a non-ASCII name in short encoded
// words (see encodeText), so a long store name folds cleanly.
func formatAddress(a *mail.Address) string {
	if a.Name == "" || isASCII(a.Name) {
		return a.String()
	}
	return encodeText(a.Name) + " <" + a.Address + ">"
}

// encodeText returns s as is when it is printable ASCII, else as RFC 2047
// Q-encoded words (with only the characters allowed in a display name too) short enough that the folded header keeps lines under
// 76 characters (mime.QEncoding makes words up to 75 long, which with
// "Subject: " in front overflow the line).
func encodeText(s string) string {
	if mime.QEncoding.Encode("utf-8", s) == s {
		return s // nothing to encode
	}
	const prefix, suffix, maxWord = "=?utf-8?q?", "?=", 60
	var words []string
	var w strings.Builder
	for _, r := range s {
		var enc strings.Builder
		for _, c := range []byte(string(r)) {
			switch {
			case c == ' ':
				enc.WriteByte('_')
			case c < 0x80 && (c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("!*+-/", c) >= 0):
				enc.WriteByte(c)
			default:
				fmt.Fprintf(&enc, "=%02X", c)
			}
		}
		// A character's bytes stay in one word: decoders join words
		// before decoding UTF-8, but not every one does.
		if w.Len() > 0 && len(prefix)+w.Len()+enc.Len()+len(suffix) > maxWord {
			words = append(words, prefix+w.String()+suffix)
			w.Reset()
		}
		w.WriteString(enc.String())
	}
	words = append(words, prefix+w.String()+suffix)
	// Whitespace between encoded words is dropped when decoding, so the
	// folding spaces do not change the text.
	return strings.Join(words, " ")
}

// newMessageID makes a unique "<random@domain>" for a message that came
// without one.
func newMessageID(from string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	domain := "localhost"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		domain = from[i+1:]
	}
	return "<" + hex.EncodeToString(b[:]) + "@" + domain + ">"
}
