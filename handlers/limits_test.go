package handlers_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
)

// The page of a refused body, as the English catalogue words it.
const (
	tooLargeTitle    = "That's too large"
	tooLargeForm     = "This form sent more than it accepts."
	tooLargeUpload   = "The upload is larger than allowed."
	notTextMessage   = "The form holds something that isn't text"
	importTooLargeEN = "The file is larger than 32 MB"
)

// serve runs the app on a loopback port for tests that need a real
// connection (chunked bodies, bodies the server refuses unread).
func (a *testApp) serve(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); a.app.Listener(ln) }()
	t.Cleanup(func() { a.app.Shutdown(); <-done })
	return "http://" + ln.Addr().String()
}

// cookieHeader is the client's cookies, for requests sent outside app.Test.
func (c *client) cookieHeader() string {
	var parts []string
	for _, ck := range c.jar {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// readPage reads an answer from a real connection.
func readPage(t *testing.T, res *http.Response) (string, *goquery.Document) {
	t.Helper()
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return string(body), doc
}

// assertTooLarge checks an answer is 413 with the rendered "too large" page
// saying message.
func assertTooLarge(t *testing.T, res *http.Response, doc *goquery.Document, message string) {
	t.Helper()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", res.StatusCode)
	}
	if got := doc.Find(".error-page h1").Text(); got != tooLargeTitle {
		t.Errorf("heading %q, want the too-large page", got)
	}
	if got := doc.Find(".error-page").Text(); !strings.Contains(got, message) {
		t.Errorf("page says %q, want %q", got, message)
	}
	if res.Header.Get("Content-Security-Policy") == "" {
		t.Error("the page lacks the security headers")
	}
}

func TestFormBodyLimit(t *testing.T) {
	a := newTestApp(t)
	base := a.serve(t) // for what app.Test cannot send: chunked bodies, raw requests

	t.Run("BigFormIs413BeforeTheFormIsRead", func(t *testing.T) {
		big := strings.Repeat("x", handlers.MaxFormBytes)
		for _, tc := range []struct {
			c    *client
			path string
		}{
			{a.anonymous(), "/login"},
			{a.anonymous(), "/cancel"},
			{a.client, "/settings"},
			{a.client, "/settings/messages/order_cancelled"},
			{a.client, "/orders/cancel"},
		} {
			tc.c.get(t, "/login") // a CSRF token for the anonymous ones
			res, doc := tc.c.post(t, tc.path, url.Values{"note": {big}})
			assertTooLarge(t, res, doc, tooLargeForm)
		}
		// Nothing was parsed: the CSRF check (which reads the form) did not run.
		res, doc := a.anonymous().post(t, "/login", url.Values{"_csrf": {"forged"}, "x": {big}})
		assertTooLarge(t, res, doc, tooLargeForm)
	})

	t.Run("PageIsInTheReadersLanguage", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(strings.Repeat("x=1&", handlers.MaxFormBytes/4+1)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", "zh-TW")
		res, doc := a.anonymous().do(t, req)
		if res.StatusCode != 413 || !strings.Contains(doc.Find(".error-page").Text(), "送出的內容超過此表單的上限") {
			t.Fatalf("status %d, page %q", res.StatusCode, doc.Find(".error-page").Text())
		}
	})

	t.Run("LargestTemplateStillSaves", func(t *testing.T) {
		// 10,000 characters is the editor's limit; percent-encoded, Chinese
		// is 9 bytes a character and an emoji 12: 90 and 120 KB.
		for _, ch := range []string{"字", "😀"} {
			a.get(t, "/settings/messages/order_cancelled")
			body := "{order_number} " + strings.Repeat(ch, canceldesk.MaxBodyLen-15)
			form := url.Values{"subject": {strings.Repeat(ch, canceldesk.MaxSubjectLen)}, "body": {body}}
			if n := len(form.Encode()); n <= 64<<10 {
				t.Fatalf("the form is %d bytes: not the case under test", n)
			}
			res, _ := a.post(t, "/settings/messages/order_cancelled", form)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: status %d, want the save's redirect", ch, res.StatusCode)
			}
		}
	})

	t.Run("LongestDialogRefreshFitsTheHeaders", func(t *testing.T) {
		// Without JavaScript, "update preview" sends the cancel dialog as
		// a GET: a Chinese note and offer of their longest, and the same
		// URL again as the Referer of a second refresh, beside a browser's
		// usual headers, are more than 4 KiB.
		o := a.seed(t, 1)[0]
		q := url.Values{"reason": {"other"}, "refund": {"now"}, "note": {strings.Repeat("貨", canceldesk.MaxStaffNoteLen)},
			"offer": {"product"}, "offer_text": {strings.Repeat("杯", canceldesk.MaxOfferLen)}, "key": {strings.Repeat("k", 43)}}
		target := fmt.Sprintf("/orders/%d/cancel?%s", o.ID, q.Encode())
		res, doc := a.get(t, target, "Referer", "https://desk.example"+target,
			"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8",
			"Accept-Language", "zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7")
		if res.StatusCode != 200 || doc.Find("form.cancel-form").Length() != 1 {
			t.Fatalf("status %d", res.StatusCode)
		}
	})

	t.Run("ChunkedBodyIsMeasuredToo", func(t *testing.T) {
		// No Content-Length: the limit applies to what arrives.
		anon := a.anonymous()
		anon.get(t, "/login")
		body := "_csrf=" + anon.csrf + "&note=" + strings.Repeat("x", handlers.MaxFormBytes)
		req, _ := http.NewRequest(http.MethodPost, base+"/login", io.MultiReader(strings.NewReader(body)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", anon.cookieHeader())
		res, err := http.DefaultClient.Do(req)
		switch {
		case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
			// The server answered 413 and closed while the client was still
			// sending: the kernel may then drop the answer with a reset.
			// Refused either way; nothing was read as a form.
		case err != nil:
			t.Fatal(err)
		default:
			if len(res.TransferEncoding) == 0 && req.ContentLength > 0 {
				t.Fatal("the request was not chunked")
			}
			_, doc := readPage(t, res)
			assertTooLarge(t, res, doc, tooLargeForm)
		}

		// A small chunked form is fine.
		form := url.Values{"_csrf": {anon.csrf}, "email": {testEmails[canceldesk.RoleStaff]}, "password": {testPassword}}
		req, _ = http.NewRequest(http.MethodPost, base+"/login", io.MultiReader(strings.NewReader(form.Encode())))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", anon.cookieHeader())
		res, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("small chunked sign-in: status %d", res.StatusCode)
		}
	})

	t.Run("DeclaredLengthOverTheLimit", func(t *testing.T) {
		// One byte over, declared in Content-Length and sent on a plain
		// connection: the page, on the connection.
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		n := handlers.MaxFormBytes + 1
		fmt.Fprintf(conn, "POST /orders/cancel HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", n, strings.Repeat("y", n))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, doc := readPage(t, res)
		assertTooLarge(t, res, doc, tooLargeForm)
	})
}

// multipartCSV streams an upload of a CSV of size bytes (a valid header
// row, then padding in a quoted note) without holding it in memory.
func multipartCSV(csrf string, size int) (io.Reader, string, int64) {
	var head, tail bytes.Buffer
	w := multipart.NewWriter(&head)
	w.WriteField("_csrf", csrf)
	w.CreateFormFile("file", "orders_export.csv")
	header := "Name,Email,Currency,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Notes\n" +
		"#7001,a@example.com,USD,1.00,2026-03-01 09:00:00,1,Cup,1.00,\""
	head.WriteString(header)
	pad := size - len(header) - 2
	tw := multipart.NewWriter(&tail)
	tw.SetBoundary(w.Boundary())
	tail.WriteString("\"\n")
	tw.Close()
	r := io.MultiReader(&head, io.LimitReader(repeatByte('n'), int64(pad)), &tail)
	return r, w.FormDataContentType(), int64(head.Len() + pad + tail.Len())
}

type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// postUpload uploads a CSV of size bytes to the server at base as c, with
// c's CSRF token.
func postUpload(t *testing.T, base string, c *client, size int) (*http.Response, string, *goquery.Document) {
	t.Helper()
	body, ct, n := multipartCSV(c.csrf, size)
	req, _ := http.NewRequest(http.MethodPost, base+"/import", body)
	req.ContentLength = n
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Cookie", c.cookieHeader())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("upload of %d bytes: %v (the client must get an answer, not a reset)", size, err)
	}
	text, doc := readPage(t, res)
	return res, text, doc
}

func TestUploadBodyLimit(t *testing.T) {
	a := newTestApp(t)
	base := a.serve(t)
	upload := func(t *testing.T, size int) (*http.Response, string, *goquery.Document) {
		t.Helper()
		a.get(t, "/import")
		return postUpload(t, base, a.client, size)
	}

	t.Run("AFileBiggerThanAFormIsImported", func(t *testing.T) {
		res, _, doc := upload(t, 4*handlers.MaxFormBytes)
		if res.StatusCode != 200 || doc.Find(".import-summary").Length() != 1 {
			t.Fatalf("status %d, error %q", res.StatusCode, doc.Find("#file-error").Text())
		}
	})

	t.Run("OverTheFileLimitIs413OnTheImportPage", func(t *testing.T) {
		res, _, doc := upload(t, handlers.MaxUploadBytes+1)
		if res.StatusCode != 413 || !strings.HasPrefix(doc.Find("#file-error").Text(), importTooLargeEN) {
			t.Fatalf("status %d, error %q", res.StatusCode, doc.Find("#file-error").Text())
		}
	})

	t.Run("OverEveryLimitIs413WithThePage", func(t *testing.T) {
		// The server refuses this one without reading it. A browser sends
		// the whole body, then reads the answer: the server must let it
		// (a connection closed under a body still arriving is reset, and
		// the page lost), then answer with the page.
		a.get(t, "/import")
		body, ct, n := multipartCSV(a.csrf, handlers.MaxUploadBytes+4<<20)
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /import HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\nCookie: %s\r\n\r\n", ct, n, a.cookieHeader())
		if sent, err := io.Copy(conn, body); err != nil {
			t.Fatalf("sending the body: %v after %d of %d bytes", err, sent, n)
		}
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, doc := readPage(t, res)
		assertTooLarge(t, res, doc, tooLargeUpload)
	})
}

func TestFieldsMustBeText(t *testing.T) {
	a := newTestApp(t)
	a.seed(t, 3)
	for _, tc := range []struct {
		name string
		send func(t *testing.T) (*http.Response, *goquery.Document)
	}{
		{"NULInSearch", func(t *testing.T) (*http.Response, *goquery.Document) { return a.get(t, "/orders?q=a%00b") }},
		{"InvalidUTF8InSearch", func(t *testing.T) (*http.Response, *goquery.Document) { return a.get(t, "/orders?q=%ff") }},
		{"NULInSignIn", func(t *testing.T) (*http.Response, *goquery.Document) {
			c := a.anonymous()
			c.get(t, "/login")
			return c.post(t, "/login", url.Values{"email": {"owner@example.com\x00"}, "password": {"x"}})
		}},
		{"InvalidUTF8InFieldName", func(t *testing.T) (*http.Response, *goquery.Document) {
			return a.post(t, "/settings", url.Values{"store_name\xfe": {"Shop"}})
		}},
		{"NULInMultipartField", func(t *testing.T) (*http.Response, *goquery.Document) {
			a.get(t, "/settings")
			var body bytes.Buffer
			w := multipart.NewWriter(&body)
			w.WriteField("_csrf", a.csrf)
			w.WriteField("store_name", "Shop\x00")
			w.Close()
			req := httptest.NewRequest(http.MethodPost, "/settings", &body)
			req.Header.Set("Content-Type", w.FormDataContentType())
			req.Header.Set("X-CSRF-Token", a.csrf) // a multipart field carries it only to an upload
			return a.do(t, req)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, doc := tc.send(t)
			if res.StatusCode != 400 || !strings.Contains(doc.Find(".error-page").Text(), notTextMessage) {
				t.Fatalf("status %d, page %q", res.StatusCode, doc.Find(".error-page").Text())
			}
		})
	}
	t.Run("TextIsFine", func(t *testing.T) {
		res, _ := a.get(t, "/orders?q="+url.QueryEscape("<script>字😀\t"))
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
}
