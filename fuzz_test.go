package canceldesk_test

import (
	"errors"
	"math"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"

	"github.com/canceldesk/canceldesk"
)

// hostile are values every text seed list includes: markup, formulas,
// invalid UTF-8, NUL, control characters, right-to-left marks, huge and
// negative numbers, separators and whitespace of every kind.
var hostile = []string{
	"", " ", "<script>alert(1)</script>", `"><img src=x onerror=alert(1)>`, "=HYPERLINK(\"http://x\")",
	"+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\xff\xfe", "a\x00b", "\x00", "\r\n\tX-Header: 1",
	"\u202eevil", "字", "😀", "99999999999999999999", "-1", "1e9", "0x10", "١٢٣", "NaN", "{order_number}",
	"{unknown}", strings.Repeat("x", 300),
}

// fieldErrorOf checks err is an EINVALID *Error naming one of fields with a
// catalogue key, and returns it.
func fieldErrorOf(t *testing.T, err error, fields ...string) *canceldesk.Error {
	t.Helper()
	var de *canceldesk.Error
	if !errors.As(err, &de) || de.Code != canceldesk.EINVALID || !slices.Contains(fields, de.Field) || de.Key == "" {
		t.Fatalf("error %#v is not an EINVALID field error on one of %v with a key", err, fields)
	}
	return de
}

var canonicalAmount = map[int]*regexp.Regexp{
	0: regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`),
	2: regexp.MustCompile(`^-?(0|[1-9][0-9]*)\.[0-9]{2}$`),
}

// FuzzParseAmount: a typed amount either parses into minor units that
// write back (Money.Decimal) to a string parsing to the same units, or
// fails with an error; and every amount, to the last int64, writes as a
// canonical decimal that parses back to itself.
func FuzzParseAmount(f *testing.F) {
	for _, s := range append([]string{"12.80", "1,280.50", "-3.5", "+0.01", ".5", "1,50", "12.345", "1.2.3",
		"9223372036854775807", "92233720368547758.07", "-92233720368547758.08", "92233720368547758.08",
		"0.00", "-0", "  7.00 ", "00012", "1,000,000.999"}, hostile...) {
		for _, cur := range []string{"USD", "JPY", "usd", ""} {
			f.Add(s, cur, int64(len(s)))
		}
	}
	f.Add("1", "TWD", int64(math.MinInt64))
	f.Add("1", "JPY", int64(math.MaxInt64))
	f.Add("1", "USD", int64(-5))
	f.Fuzz(func(t *testing.T, s, cur string, amount int64) {
		digits := canceldesk.MinorDigits(cur)
		if n, err := canceldesk.ParseAmount(s, cur); err == nil {
			back := canceldesk.Money{Amount: n, Currency: cur}.Decimal()
			if again, err := canceldesk.ParseAmount(back, cur); err != nil || again != n {
				t.Fatalf("ParseAmount(%q) = %d, written %q, read back %d, %v", s, n, back, again, err)
			}
			if trimmed := strings.TrimSpace(s); n < 0 != strings.HasPrefix(trimmed, "-") && n != 0 {
				t.Fatalf("ParseAmount(%q) = %d: the sign changed", s, n)
			}
		} else if !utf8.ValidString(err.Error()) {
			t.Fatalf("error %q is not text", err)
		}

		d := canceldesk.Money{Amount: amount, Currency: cur}.Decimal()
		if !canonicalAmount[digits].MatchString(d) {
			t.Fatalf("Decimal(%d %s) = %q, not a canonical amount", amount, cur, d)
		}
		if back, err := canceldesk.ParseAmount(d, cur); err != nil || back != amount {
			t.Fatalf("Decimal(%d %s) = %q, parses to %d, %v", amount, cur, d, back, err)
		}
	})
}

// FuzzParseCursor: a page cursor either fails as a field error on "after"
// or is a positive id and a time that write back (Cursor.String) to the
// same cursor.
func FuzzParseCursor(f *testing.F) {
	for _, s := range append([]string{"abc.1", "zzzzzzzzzzzzz.zzzzzzzzzzzzz", "-1y2p0ij32e8e7.1", "0.0", ".", "1.", ".1",
		"+1.+1", "1.-5", "ABC.1", "1_0.1", "3w5e11264sgsg.1y2p0ij32e8e7"}, hostile...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := canceldesk.ParseCursor(s)
		if err != nil {
			fieldErrorOf(t, err, "after")
			return
		}
		if c.ID <= 0 || c.CreatedAt.Location().String() != "UTC" {
			t.Fatalf("ParseCursor(%q) = %+v", s, c)
		}
		again, err := canceldesk.ParseCursor(c.String())
		if err != nil || !again.CreatedAt.Equal(c.CreatedAt) || again.ID != c.ID {
			t.Fatalf("ParseCursor(%q) = %+v, written %q, read back %+v, %v", s, c, c.String(), again, err)
		}
	})
}

// FuzzRequestForm: the public cancellation form normalizes to a fixed
// point, and is either refused with a field error or holds an order
// number, an address that reads back as itself, a listed reason and a
// comment within its limits.
func FuzzRequestForm(f *testing.F) {
	f.Add("1001", "ann@example.com", "changed_mind", "Please cancel, I ordered twice.")
	f.Add(" #1001 ", " Ann <ann@example.com>", "other", "")
	f.Add("#", "ann@", "better_price", strings.Repeat("字", canceldesk.MaxRequestCommentLen+1))
	for _, s := range hostile {
		f.Add(s, s+"@example.com", s, s)
		f.Add("#1001"+s, "a@b.co", "other", s)
	}
	f.Fuzz(func(t *testing.T, order, email, reason, comment string) {
		form := canceldesk.RequestForm{OrderNumber: order, Email: email, Reason: reason, Comment: comment}.Normalize()
		if again := form.Normalize(); again != form {
			t.Fatalf("Normalize is not a fixed point: %+v then %+v", form, again)
		}
		if err := form.Validate(); err != nil {
			fieldErrorOf(t, err, "order", "email", "reason", "comment")
			return
		}
		if n := utf8.RuneCountInString(form.OrderNumber); !strings.HasPrefix(form.OrderNumber, "#") || n < 2 || n > canceldesk.MaxRequestOrderLen {
			t.Fatalf("order number %q accepted", form.OrderNumber)
		}
		if a, err := mail.ParseAddress(form.Email); err != nil || a.Address != form.Email || len(form.Email) > 254 {
			t.Fatalf("email %q accepted", form.Email)
		}
		if !slices.Contains(canceldesk.CustomerReasons, form.Reason) || utf8.RuneCountInString(form.Comment) > canceldesk.MaxRequestCommentLen {
			t.Fatalf("reason %q or comment of %d characters accepted", form.Reason, utf8.RuneCountInString(form.Comment))
		}
	})
}

// FuzzTemplate: a template key parses only to a kind (and variant) that
// write back to it; a subject and body are refused naming the field (and
// the unknown placeholder), or render into a one-line subject and an HTML
// part with no markup but the message's own, whatever the values.
func FuzzTemplate(f *testing.F) {
	for _, d := range canceldesk.DefaultTemplates() {
		f.Add(d.Key(), d.Subject, d.Body, "Ann <b>Lee</b>")
	}
	f.Add("order_cancelled.fraud", "Order {order_number}\r\nBcc: x@example.com", "Hi {customer_name}\n\n{offer}\n\n<script>x</script>", "</p><script>alert(1)</script>")
	f.Add("order_cancelled.nope", "{nope}", "{ order_number }", "{items}")
	for _, s := range hostile {
		f.Add(s, s, s+"\n\n{items}", s)
	}
	f.Fuzz(func(t *testing.T, key, subject, body, value string) {
		if kind, variant, ok := canceldesk.ParseTemplateKey(key); ok {
			if got := (canceldesk.Template{Kind: kind, Variant: variant}).Key(); got != key {
				t.Fatalf("key %q parses to %q, %q, which is %q", key, kind, variant, got)
			}
		} else if kind != "" || variant != "" {
			t.Fatalf("refused key %q still gave %q, %q", key, kind, variant)
		}

		tpl := canceldesk.Template{Kind: canceldesk.MessageOrderCancelled, Subject: subject, Body: body}
		if err := tpl.Validate(); err != nil {
			var pe *canceldesk.PlaceholderError
			if errors.As(err, &pe) {
				if slices.Contains(canceldesk.Placeholders, pe.Name) || !strings.Contains(map[string]string{"subject": subject, "body": body}[pe.Field], "{"+pe.Name+"}") {
					t.Fatalf("placeholder error %+v for subject %q, body %q", pe, subject, body)
				}
				return
			}
			fieldErrorOf(t, err, "subject", "body")
			return
		}
		d := canceldesk.MessageData{StoreName: value, CustomerName: value, OrderNumber: value, Items: value + "\n" + value,
			Reason: value, Refund: value, RefundAmount: value, RefundMethod: value, Credit: value, CreditCode: value,
			CreditExpires: value, Offer: value, StatusLink: value, StoreMessage: value}
		m := tpl.Render(d)
		if strings.ContainsAny(m.Subject, "\r\n") {
			t.Fatalf("subject %q spans lines", m.Subject)
		}
		if !strings.HasSuffix(m.Text, "\n") {
			t.Fatalf("text part %q does not end a line", m.Text)
		}
		checkMessageHTML(t, m.HTML)
	})
}

// messageMarkup is every element and attribute the HTML part of a
// message has of its own.
var messageMarkup = map[string][]string{
	"html": nil, "head": nil, "meta": {"charset"}, "title": nil, "body": {"style"}, "div": {"style"},
	"p": {"style"}, "br": nil,
}

// checkMessageHTML fails when the HTML part holds an element or attribute
// the message does not make itself: markup that came from the template or
// a value.
func checkMessageHTML(t *testing.T, page string) {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		n := s.Nodes[0]
		allowed, ok := messageMarkup[n.Data]
		if !ok {
			t.Fatalf("HTML part holds a <%s> element:\n%s", n.Data, page)
		}
		for _, a := range n.Attr {
			if !slices.Contains(allowed, a.Key) {
				t.Fatalf("HTML part holds <%s %s=%q>:\n%s", n.Data, a.Key, a.Val, page)
			}
		}
	})
}

// FuzzValidateAccount: the staff invitation's name, email and role are
// refused with a field error, or come out trimmed, normalized and within
// their limits; a password is refused exactly when it is shorter than 12
// characters or longer than 256 bytes.
func FuzzValidateAccount(f *testing.F) {
	f.Add("Ann Lee", "Ann@Example.com ", "staff", "correct horse battery staple")
	f.Add("  ", "ann@example.com", "owner", "short")
	f.Add(strings.Repeat("字", 101), "a@b", "admin", strings.Repeat("😀", 65))
	for _, s := range hostile {
		f.Add(s, s+"@example.com", s, s+"padding-to-twelve")
	}
	f.Fuzz(func(t *testing.T, name, email, role, password string) {
		a := &canceldesk.Account{Name: name, Email: email, Role: canceldesk.Role(role)}
		if err := canceldesk.ValidateAccount(a); err != nil {
			fieldErrorOf(t, err, "name", "email", "role")
		} else {
			if a.Name != strings.TrimSpace(name) || a.Name == "" || utf8.RuneCountInString(a.Name) > canceldesk.MaxNameLen {
				t.Fatalf("name %q accepted as %q", name, a.Name)
			}
			if a.Email != canceldesk.NormalizeEmail(email) || a.Email == "" || utf8.RuneCountInString(a.Email) > canceldesk.MaxEmailLen || !a.Role.Valid() {
				t.Fatalf("email %q, role %q accepted as %q, %q", email, role, a.Email, a.Role)
			}
		}
		tooShort := utf8.RuneCountInString(password) < canceldesk.MinPasswordLen
		tooLong := len(password) > canceldesk.MaxPasswordLen
		if err := canceldesk.ValidatePassword(password); err != nil {
			fieldErrorOf(t, err, "password")
			if !tooShort && !tooLong {
				t.Fatalf("password of %d bytes refused: %v", len(password), err)
			}
		} else if tooShort || tooLong {
			t.Fatalf("password of %d bytes accepted", len(password))
		}
	})
}
