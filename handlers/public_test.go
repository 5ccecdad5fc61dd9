package handlers_test

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	netmail "net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/emersion/go-smtp"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/mail"
	"github.com/canceldesk/canceldesk/store"
)

// onEachStore runs fn on an app whose orders, settings, requests and
// messages are in SQLite, then in PostgreSQL; db is that store.
func onEachStore(t *testing.T, fn func(t *testing.T, a *testApp, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		a := newTestApp(t)
		fn(t, a, a.db)
	})
	t.Run("postgres", func(t *testing.T) {
		opt, pg := onPostgres(t)
		fn(t, newTestApp(t, opt), pg)
	})
}

// brandForm is the Settings form with the store's face as given.
func brandForm(logo, accent, contact string) url.Values {
	return url.Values{"store_name": {"Hearth & <Clay>"}, "reply_to": {"reply@hearth.example"}, "restock_on_cancel": {"1"},
		"logo_url": {logo}, "accent_color": {accent}, "contact_email": {contact}, "default_language": {"en"}}
}

// TestPublicPagesBranded: the customer's pages show the store's name,
// logo, colour and contact from Settings in a layout of their own (no
// staff navigation); the logo's origin, and no other, may serve the image.
// Settings refuse a colour too light for white text (saying how much and
// offering a darker one) and a logo not at an https address, beside the
// field; staff cannot change them.
func TestPublicPagesBranded(t *testing.T) {
	onEachStore(t, func(t *testing.T, a *testApp, db *store.DB) {
		manager := a.signedIn(t, canceldesk.RoleManager)
		res, doc := manager.post(t, "/settings", brandForm("http://cdn.hearth.example/logo.png", "#ffcc00", "nope"))
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("bad brand: status %d", res.StatusCode)
		}
		if msg := doc.Find("#accent_color-error").Text(); !strings.Contains(msg, "4.5") || !strings.Contains(msg, "#") ||
			!strings.Contains(msg, "1.") {
			t.Errorf("accent error %q, want the contrast, the need and a darker colour", msg)
		}
		if logo, accent, contact := doc.Find("#logo_url").AttrOr("value", ""), doc.Find("#accent_color").AttrOr("value", ""),
			doc.Find("#contact_email").AttrOr("value", ""); logo != "http://cdn.hearth.example/logo.png" || accent != "#ffcc00" || contact != "nope" {
			t.Errorf("the refused form lost what was typed: logo %q, accent %q, contact %q", logo, accent, contact)
		}
		form := brandForm("", "", "")
		form.Set("default_language", "xx")
		res, doc = manager.post(t, "/settings", form)
		if res.StatusCode != http.StatusBadRequest || strings.TrimSpace(doc.Find("#default_language-error").Text()) == "" {
			t.Errorf("unknown language: status %d, error %q", res.StatusCode, doc.Find("#default_language-error").Text())
		}
		res, doc = manager.post(t, "/settings", brandForm("http://cdn.hearth.example/logo.png", "#1f5f4a", "help@hearth.example"))
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(doc.Find("#logo_url-error").Text(), "https://") {
			t.Errorf("http logo: status %d, error %q", res.StatusCode, doc.Find("#logo_url-error").Text())
		}
		staff := a.signedIn(t, canceldesk.RoleStaff)
		if res, _ := staff.post(t, "/settings", brandForm("", "#000000", "")); res.StatusCode != http.StatusForbidden {
			t.Errorf("staff saving settings: status %d", res.StatusCode)
		}
		if s, _ := db.Settings(context.Background()); s.AccentColor != "" || s.LogoURL != "" {
			t.Fatalf("refused settings were saved: %+v", s)
		}
		res, _ = manager.post(t, "/settings", brandForm("https://cdn.hearth.example/logo.png?v=2", "#1F5F4A", "help@hearth.example"))
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("saving the brand: status %d", res.StatusCode)
		}

		visitor := a.anonymous()
		for _, path := range []string{"/cancel", "/cancel/sent"} {
			res, doc := visitor.get(t, path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d", path, res.StatusCode)
			}
			if got := strings.TrimSpace(doc.Find(".public-head .public-store").Text()); got != "Hearth & <Clay>" {
				t.Errorf("%s: store name %q", path, got)
			}
			if src := doc.Find(".public-logo").AttrOr("src", ""); src != "https://cdn.hearth.example/logo.png?v=2" {
				t.Errorf("%s: logo %q", path, src)
			}
			if href := doc.Find(`link[href^="/brand.css"]`).AttrOr("href", ""); href != "/brand.css?c=1f5f4a" {
				t.Errorf("%s: brand stylesheet %q", path, href)
			}
			if got := doc.Find(".public-foot a").AttrOr("href", ""); got != "mailto:help@hearth.example" {
				t.Errorf("%s: contact %q", path, got)
			}
			if doc.Find(".sidebar, .nav-list").Length() != 0 || strings.Contains(doc.Find("title").Text(), "Cancel Desk") {
				t.Errorf("%s shows the staff dashboard's navigation or name", path)
			}
			csp := res.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "img-src 'self' data: https://cdn.hearth.example;") || !strings.Contains(csp, "style-src 'self';") {
				t.Errorf("%s: CSP %q", path, csp)
			}
		}
		res, css := visitor.getRaw(t, "/brand.css?c=1f5f4a")
		if res.StatusCode != http.StatusOK || string(css) != ".public { --accent: #1f5f4a; }\n" ||
			!strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
			t.Errorf("brand.css: %d %q %q", res.StatusCode, css, res.Header.Get("Content-Type"))
		}

		// Settings written some other way with unsafe values: left out.
		s, _ := db.Settings(context.Background())
		s.LogoURL, s.AccentColor = `javascript:alert(1)`, "red;}*{display:none"
		if err := db.SaveSettings(context.Background(), s, "x"); err == nil {
			t.Fatal("the store saved an unsafe logo and colour")
		}
		// Without a logo, colour or contact: no image, no stylesheet, the
		// reply-to as contact.
		res, _ = manager.post(t, "/settings", brandForm("", "", ""))
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("clearing the brand: status %d", res.StatusCode)
		}
		res, doc = visitor.get(t, "/cancel")
		if doc.Find(".public-logo").Length() != 0 || doc.Find(`link[href^="/brand.css"]`).Length() != 0 ||
			doc.Find(".public-foot a").AttrOr("href", "") != "mailto:reply@hearth.example" {
			t.Errorf("plain brand: logo %d, css %d, contact %q", doc.Find(".public-logo").Length(),
				doc.Find(`link[href^="/brand.css"]`).Length(), doc.Find(".public-foot a").AttrOr("href", ""))
		}
		if strings.Contains(res.Header.Get("Content-Security-Policy"), "cdn.hearth.example") {
			t.Error("the CSP still allows the old logo's origin")
		}
		res, css = visitor.getRaw(t, "/brand.css")
		if res.StatusCode != http.StatusOK || len(css) != 0 {
			t.Errorf("brand.css without a colour: %d %q", res.StatusCode, css)
		}
	})
}

// TestPublicPagesTranslated: in zh-TW every string of the customer's pages
// is Chinese, the honeypot's label too, and the page says its language.
func TestPublicPagesTranslated(t *testing.T) {
	a := newTestApp(t)
	visitor := a.anonymous()
	_, doc := visitor.get(t, "/cancel?lang=zh-TW")
	if lang := doc.Find("html").AttrOr("lang", ""); lang != "zh-TW" {
		t.Errorf("html lang %q", lang)
	}
	if got := doc.Find(`label[for="website"]`).Text(); got != "此欄請留空" {
		t.Errorf("honeypot label %q", got)
	}
	for _, path := range []string{"/cancel", "/cancel/sent"} {
		_, doc := visitor.get(t, path)
		doc.Find("script, style, .public-store, .public-lang, input, textarea").Remove()
		text := doc.Find("body").Text()
		for _, w := range strings.Fields(text) {
			if hasLatinWord(w) && !strings.HasPrefix(w, "#") && w != "English" {
				t.Errorf("%s in zh-TW shows %q", path, w)
			}
		}
	}
}

// TestPublicErrorPage: a status link that names no request answers 404
// in the store's own layout and the reader's language, with the way back
// to the form, not to the staff's orders.
func TestPublicErrorPage(t *testing.T) {
	a := newTestApp(t)
	res, doc := a.anonymous().get(t, "/r/no-such-request-token?lang=zh-TW")
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d", res.StatusCode)
	}
	if doc.Find(".public-head").Length() != 1 || doc.Find(".sidebar").Length() != 0 ||
		doc.Find(`a[href="/cancel"]`).Text() != "返回取消訂單申請表" || doc.Find(`a[href="/orders"]`).Length() != 0 {
		t.Errorf("error page: %s", doc.Find("body").Text())
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
	}
}

// hasLatinWord reports whether s holds three Latin letters in a row: an
// untranslated English word.
func hasLatinWord(s string) bool {
	run := 0
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			if run++; run >= 3 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// smtpSink is an in-process SMTP server that keeps what it is sent.
type smtpSink struct {
	mu   sync.Mutex
	msgs [][]byte
	port int
}

func startSMTPSink(t *testing.T) *smtpSink {
	t.Helper()
	sink := &smtpSink{}
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink.port = ln.Addr().(*net.TCPAddr).Port
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sink
}

func (s *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: s}, nil }

func (s *smtpSink) received() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.msgs...)
}

type sinkSession struct{ sink *smtpSink }

func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.sink.mu.Lock()
	s.sink.msgs = append(s.sink.msgs, b)
	s.sink.mu.Unlock()
	return err
}
func (s *sinkSession) Reset()        {}
func (s *sinkSession) Logout() error { return nil }

// readMail decodes a delivered message: its subject, its language header
// and its plain-text part.
func readMail(t *testing.T, raw []byte) (subject, text string) {
	t.Helper()
	m, err := netmail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, err := io.ReadAll(quotedprintable.NewReader(p))
			if err != nil {
				t.Fatal(err)
			}
			return subject, string(b)
		}
	}
}

// TestLanguageOfRequestEmails: a customer files a request on the form in
// zh-TW, for an order the import gave no language, in a store whose
// default is English: the request records zh-TW, the Messages page says
// so, and the email that reaches the SMTP server is in Chinese, as is the
// one when staff decline it. The same form in English gets English.
func TestLanguageOfRequestEmails(t *testing.T) {
	onEachStore(t, func(t *testing.T, a *testApp, db *store.DB) {
		ctx := context.Background()
		for _, o := range []*canceldesk.Order{langOrder(a, "#Z1"), langOrder(a, "#E1")} {
			if _, err := db.ImportOrders(ctx, []*canceldesk.Order{o}, "test"); err != nil {
				t.Fatal(err)
			}
		}
		file := func(lang, order string) {
			visitor := a.anonymous()
			visitor.get(t, "/cancel?lang="+lang)
			res, _ := visitor.post(t, "/cancel", url.Values{"order": {order}, "email": {"buyer@example.com"}, "reason": {"changed_mind"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("filing %s in %s: status %d", order, lang, res.StatusCode)
			}
		}
		file("zh-TW", "#Z1")
		file("en", "#E1")

		sink := startSMTPSink(t)
		sender, err := mail.NewSender(mail.Config{Host: "127.0.0.1", Port: sink.port, Security: mail.SecurityNone,
			From: "shop@hearth.example", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		w := &mail.Worker{Outbox: db, Sender: sender, From: "shop@hearth.example"}
		if n, err := w.RunOnce(ctx); err != nil || n != 2 {
			t.Fatalf("RunOnce: %d sent, %v", n, err)
		}
		got := map[string]string{}
		for _, raw := range sink.received() {
			subject, text := readMail(t, raw)
			got[subject] = text
			if want := map[bool]string{true: "zh-TW", false: "en"}[strings.Contains(subject, "#Z1")]; !strings.Contains(string(raw), "\r\nContent-Language: "+want+"\r\n") {
				t.Errorf("%q is not marked Content-Language %s", subject, want)
			}
		}
		zhText, ok := got["我們已收到您取消訂單 #Z1 的申請"]
		if !ok || !strings.Contains(zhText, "Kai 您好") || !strings.Contains(zhText, "/r/") {
			t.Errorf("no zh-TW email for #Z1: %q", got)
		}
		if _, ok := got["We received your cancellation request for #E1"]; !ok {
			t.Errorf("no English email for #E1: %q", got)
		}

		// The Messages page says which language.
		manager := a.signedIn(t, canceldesk.RoleManager)
		_, doc := manager.get(t, "/messages?lang=en")
		langs := map[string]string{}
		doc.Find("table.messages tbody tr").Each(func(_ int, tr *goquery.Selection) {
			langs[strings.TrimSpace(tr.Find("td a.strong").Text())] = strings.TrimSpace(tr.Find(".badge-lang").Text())
		})
		if langs["我們已收到您取消訂單 #Z1 的申請"] != "Traditional Chinese" || langs["We received your cancellation request for #E1"] != "English" {
			t.Errorf("languages on the Messages page: %v", langs)
		}

		// Declined by staff: the answer is in Chinese too.
		rs, _, err := db.PendingRequests(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.OrderName == "#Z1" {
				if r.Locale != "zh-TW" {
					t.Errorf("request locale %q", r.Locale)
				}
				if err := db.DeclineRequest(ctx, r.ID, "已經出貨了。", "staff@example.com"); err != nil {
					t.Fatal(err)
				}
			}
		}
		if n, err := w.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("RunOnce: %d sent, %v", n, err)
		}
		all := sink.received()
		subject, text := readMail(t, all[len(all)-1])
		if subject != "關於您取消訂單 #Z1 的申請" || !strings.Contains(text, "我們無法取消訂單 #Z1") || !strings.Contains(text, "已經出貨了。") {
			t.Errorf("declined email: %q\n%s", subject, text)
		}
	})
}

// langOrder is an open, paid order for buyer@example.com with no language.
func langOrder(a *testApp, name string) *canceldesk.Order {
	return &canceldesk.Order{Name: name, Email: "buyer@example.com", Currency: "USD", Subtotal: 2000, Total: 2000,
		FinancialStatus: canceldesk.FinancialPaid, PaymentMethod: "manual", FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
		Risk: canceldesk.RiskLow, CreatedAt: a.clock.Now().Add(-10 * time.Minute), BillingAddress: canceldesk.Address{Name: "Kai"},
		LineItems: []canceldesk.LineItem{{Name: "Lamp", SKU: "LAMP", Quantity: 1, Price: 2000}}}
}

// TestTemplatesPerLanguage: managers see every template in each language
// and edit the Chinese one without touching the English one; a language
// customers are not written in names no template.
func TestTemplatesPerLanguage(t *testing.T) {
	a := newTestApp(t)
	a.seed(t, 2)
	manager := a.signedIn(t, canceldesk.RoleManager)
	_, list := manager.get(t, "/settings/messages?lang=en")
	zhLink := `a[href="/settings/messages/order_cancelled.inventory?in=zh-TW"]`
	if list.Find(zhLink).Length() != 1 || list.Find(`a[href="/settings/messages/order_cancelled.inventory"]`).Length() != 1 {
		t.Fatal("the out-of-stock message is not listed in both languages")
	}
	if got := list.Find("h2").Text(); !strings.Contains(got, "In English") || !strings.Contains(got, "In Traditional Chinese") {
		t.Errorf("language headings %q", got)
	}
	_, doc := manager.get(t, "/settings/messages/order_cancelled.inventory?in=zh-TW")
	if subject := doc.Find("#subject").AttrOr("value", ""); subject != "很抱歉：您的訂單 {order_number} 商品缺貨" {
		t.Errorf("zh-TW subject %q", subject)
	}
	if pv := doc.Find("#template-preview .mail-text").Text(); !strings.Contains(pv, "您好") || !strings.Contains(pv, "已售完") {
		t.Errorf("zh-TW preview %q", pv)
	}
	form := url.Values{"subject": {"缺貨：{order_number}"}, "body": {"{customer_name} 您好，{reason}。"}}
	res, _ := manager.post(t, "/settings/messages/order_cancelled.inventory?in=zh-TW", form)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/settings/messages/order_cancelled.inventory?in=zh-TW&saved=1" {
		t.Fatalf("saving: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	ts, err := a.db.Templates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	zh := canceldesk.PickTemplate(ts, "zh-TW", "order_cancelled", "inventory")
	en := canceldesk.PickTemplate(ts, "en", "order_cancelled", "inventory")
	if zh.Subject != "缺貨：{order_number}" || zh.UpdatedBy != testEmails[canceldesk.RoleManager] || en.UpdatedBy != "" {
		t.Errorf("after saving the zh-TW template: zh %+v, en %+v", zh, en)
	}
	if res, _ := manager.get(t, "/settings/messages/order_cancelled?in=fr"); res.StatusCode != http.StatusNotFound {
		t.Errorf("a template in French: status %d", res.StatusCode)
	}
	staff := a.signedIn(t, canceldesk.RoleStaff)
	if res, _ := staff.post(t, "/settings/messages/order_cancelled?in=zh-TW", form); res.StatusCode != http.StatusForbidden {
		t.Errorf("staff saving a template: status %d", res.StatusCode)
	}
}
