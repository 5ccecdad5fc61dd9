package faults

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk/internal/testenv"
)

// TestMalformedRequests sends the real binary, on SQLite and on
// PostgreSQL, a flood of requests no browser sends, written byte by byte
// on raw TCP connections (Go's HTTP client refuses to send most of them):
// percent escapes that decode to nothing or to something that is not text,
// invalid UTF-8, NUL and control bytes raw in paths and queries, request
// lines and headers far over the server's 16 KiB, a huge Host, garbage
// Host, X-Forwarded-Host and X-Forwarded-For, bodies cut short by a
// closed connection, Content-Length negative, non-numeric or twice,
// chunked bodies with bad chunk sizes, and bodies far over every limit
// posted to /import and /cancel before signing in; each once, then the
// lot again 40 at a time.
//
// Verdict: each one gets its own answer, the same every time: the 4xx
// that says what is wrong with it (400 unreadable, 404 no such page, 413
// body too large, 431 header too large), never a 5xx and never a hang;
// the few that are only odd (a Host or X-Forwarded-* the server does not
// use) get the page, with no link to the host they name. Afterwards the
// same process answers the customers' cancel form and the health check
// with 200, and its log holds no panic.
func TestMalformedRequests(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		malformedRequests(t, filepath.Join(t.TempDir(), "canceldesk.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		malformedRequests(t, testenv.PostgresSchema(t))
	})
}

// malformed is one hand-written request and the status it must get.
type malformed struct {
	name string
	req  []byte
	// halfClose: after the request the client closes its side of the
	// connection (a body cut short), still reading the answer.
	halfClose bool
	want      int
	// burst: also sent 40 at a time.
	burst bool
}

// wire is the answer to a malformed request: its status and body, or the
// error of a connection that got no complete answer.
type wire struct {
	status int
	body   string
	err    error
}

func malformedRequests(t *testing.T, db string) {
	a := startApp(t, appConfig{DB: db})
	addr := "127.0.0.1:" + strconv.Itoa(a.port)
	cases := malformedCases()

	for _, mc := range cases {
		if msg := judgeMalformed(mc, sendRaw(addr, mc)); msg != "" {
			t.Error(msg)
		}
	}
	if a.exited() {
		t.Fatalf("the server exited during the malformed requests: %v", a.waitErr)
	}

	// The same again, 40 at once, round robin over the burst cases.
	var burst []malformed
	for _, mc := range cases {
		if mc.burst {
			burst = append(burst, mc)
		}
	}
	const parallel = 40
	var wg sync.WaitGroup
	msgs := make([]string, parallel)
	for i := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mc := burst[i%len(burst)]
			msgs[i] = judgeMalformed(mc, sendRaw(addr, mc))
		}()
	}
	wg.Wait()
	for _, msg := range msgs {
		if msg != "" {
			t.Error("40 at once: " + msg)
		}
	}

	if a.exited() {
		t.Fatalf("the server exited after the malformed requests: %v", a.waitErr)
	}
	visitor := newVisitor(a.base, 10*time.Second)
	for _, path := range []string{"/cancel", "/healthz"} {
		r, err := visitor.get(path)
		if err != nil || r.status != http.StatusOK {
			t.Errorf("after the malformed requests: GET %s: %v %v, want 200", path, r, err)
		}
	}
	if log := a.log(); strings.Contains(strings.ToLower(log), "panic") {
		t.Errorf("the server's log mentions a panic:\n%s", a.logTail())
	}
}

// judgeMalformed returns what is wrong with the answer to mc, or "".
func judgeMalformed(mc malformed, w wire) string {
	switch {
	case w.err != nil:
		return fmt.Sprintf("%s: no answer: %v", mc.name, w.err)
	case w.status != mc.want:
		return fmt.Sprintf("%s: status %d (%q), want %d", mc.name, w.status, heading(w.body), mc.want)
	case mc.want >= 400 && !isErrorPage(w.body):
		return fmt.Sprintf("%s: %d without the dashboard's error page:\n%.500s", mc.name, w.status, w.body)
	case strings.Contains(w.body, "evil.example"):
		return fmt.Sprintf("%s: the page names the host the request gave:\n%.2000s", mc.name, w.body)
	case strings.Contains(w.body, "HTTP/1.1"):
		return fmt.Sprintf("%s: the page quotes the request:\n%.2000s", mc.name, w.body)
	}
	return ""
}

// sendRaw writes mc on a connection of its own while reading the answer
// (the server may answer before the request is all sent, e.g. a header
// too large), and reads one complete response. A hang is an error after
// 60s: a bound for a busy machine, not a measure of speed.
func sendRaw(addr string, mc malformed) wire {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return wire{err: fmt.Errorf("dial %s: %w", addr, err)}
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	wrote := make(chan error, 1)
	go func() {
		_, err := c.Write(mc.req)
		if err == nil && mc.halfClose {
			err = c.(*net.TCPConn).CloseWrite()
		}
		wrote <- err
	}()
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	var w wire
	if err == nil {
		var b []byte
		b, err = io.ReadAll(res.Body)
		res.Body.Close()
		w = wire{status: res.StatusCode, body: string(b)}
	}
	c.Close() // a writer still sending stops
	if werr := <-wrote; err != nil {
		// The server may answer before the request is all sent and close
		// (a header or body too large): a write error matters only when
		// no answer came.
		w.err = errors.Join(err, werr)
	}
	return w
}

// rawGet is a GET request line and headers, with extra headers (each ending
// in CRLF).
func rawGet(target string, extra ...string) []byte {
	return []byte("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + strings.Join(extra, "") + "\r\n")
}

// rawPost is a POST of a form with the headers given (Content-Length or
// Transfer-Encoding among them) and body.
func rawPost(target, body string, headers ...string) []byte {
	return []byte("POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\n" + strings.Join(headers, "") + "\r\n" + body)
}

func malformedCases() []malformed {
	mib := strings.Repeat("a", 1<<20)
	cl := func(n int) string { return "Content-Length: " + strconv.Itoa(n) + "\r\n" }
	chunked := "Transfer-Encoding: chunked\r\n"
	var cases []malformed
	add := func(want int, burst bool, name string, req []byte) {
		cases = append(cases, malformed{name: name, req: req, want: want, burst: burst})
	}

	// Percent escapes that decode to nothing, or to something that is not
	// text, in the path and in the query.
	for _, target := range []string{"/%zz", "/orders%zz", "/cancel%zz", "/r/%zz", "/invite/%zz", "/%", "/orders%4",
		"/%c0%af", "/cancel%ff%fe", "/r/%c3%28", "/%00", "/cancel%00", "/cancel%01", "/r/%7f", "/invite/%0a",
		"/orders?q=%zz", "/cancel?x=%ff%fe", "/cancel?%", "/login?next=%zz", "/cancel?lang=%ff", "/cancel?x=%00", "/orders?%zz=1"} {
		add(http.StatusBadRequest, true, "GET "+target, rawGet(target))
	}
	// Invalid UTF-8, NUL and control bytes raw in the path and the query.
	for _, target := range []string{"/orders\xff\xfe", "/cancel\xc0\xaf", "/r/\xed\xa0\x80", "/cancel?x=\xff\xfe", "/orders?q=\xc3\x28",
		"/cancel\x00x", "/cancel?x=a\x00b", "/cancel\x01", "/cancel?x=\x7f", "/can\tcel", "/cancel?x=\x1b[31m"} {
		add(http.StatusBadRequest, true, fmt.Sprintf("GET %q", target), rawGet(target))
	}
	add(http.StatusBadRequest, true, "garbage request line", []byte("\xff\xfe\xfd\r\n\r\n"))
	add(http.StatusBadRequest, false, "NUL in the method", []byte("G\x00T /cancel HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
	add(http.StatusBadRequest, false, "a header line without a colon", rawGet("/cancel", "NoColonHere\r\n"))

	// Request lines and headers far over 16 KiB.
	add(http.StatusRequestHeaderFieldsTooLarge, false, "a 20 KB query", rawGet("/cancel?x="+strings.Repeat("a", 20<<10)))
	add(http.StatusRequestHeaderFieldsTooLarge, false, "a 1 MiB path", rawGet("/"+mib))
	add(http.StatusRequestHeaderFieldsTooLarge, true, "a 1 MiB header value", rawGet("/cancel", "X-Big: "+mib+"\r\n"))
	add(http.StatusRequestHeaderFieldsTooLarge, false, "3000 headers", rawGet("/cancel", strings.Repeat("X-H: v\r\n", 3000)))
	add(http.StatusRequestHeaderFieldsTooLarge, true, "a 64 KiB Host",
		[]byte("GET /cancel HTTP/1.1\r\nHost: "+strings.Repeat("h", 64<<10)+"\r\nConnection: close\r\n\r\n"))

	// Host, X-Forwarded-Host and X-Forwarded-For: garbage is refused; a
	// well-formed other host is not used (PUBLIC_URL is).
	add(http.StatusBadRequest, true, "no Host", []byte("GET /cancel HTTP/1.1\r\nConnection: close\r\n\r\n"))
	add(http.StatusBadRequest, true, "a Host of invalid UTF-8 and an escape",
		[]byte("GET /cancel HTTP/1.1\r\nHost: \xff\xfe%zz<>\r\nConnection: close\r\n\r\n"))
	add(http.StatusBadRequest, false, "a Host with a NUL",
		[]byte("GET /cancel HTTP/1.1\r\nHost: evil.example\x00.test\r\nConnection: close\r\n\r\n"))
	add(http.StatusOK, true, "a Host naming another site, with an impossible port",
		[]byte("GET /cancel HTTP/1.1\r\nHost: evil.example:99999999999\r\nConnection: close\r\n\r\n"))
	add(http.StatusBadRequest, true, "X-Forwarded-Host and X-Forwarded-For with a NUL and invalid UTF-8",
		rawGet("/cancel", "X-Forwarded-Host: \xff\x00evil.example\r\n", "X-Forwarded-For: not-an-ip, \xff, 999.1.1.1\r\n"))
	add(http.StatusOK, true, "X-Forwarded-Host of another site, X-Forwarded-For of garbage",
		rawGet("/cancel", "X-Forwarded-Host: evil.example\r\n", "X-Forwarded-For: ,,, not-an-ip, 999.1.1.1, ::::\r\n"))

	// Bodies cut short: Content-Length larger than what is sent, then the
	// connection closed.
	for _, path := range []string{"/cancel", "/login", "/import", "/r/abc"} {
		cases = append(cases, malformed{name: "POST " + path + " with its body cut short",
			req: rawPost(path, "email=a%40b.example&", cl(100000)), halfClose: true, want: http.StatusBadRequest, burst: true})
	}
	// Content-Length and chunked framing that cannot be read.
	add(http.StatusBadRequest, true, "Content-Length -5", rawPost("/cancel", "abc", "Content-Length: -5\r\n"))
	add(http.StatusBadRequest, false, "Content-Length abc", rawPost("/cancel", "abc", "Content-Length: abc\r\n"))
	add(http.StatusBadRequest, false, "Content-Length of 23 digits", rawPost("/cancel", "abc", "Content-Length: 99999999999999999999999\r\n"))
	add(http.StatusBadRequest, false, "Content-Length twice", rawPost("/cancel", "abc", cl(3), cl(5)))
	add(http.StatusBadRequest, true, "chunk size zz", rawPost("/cancel", "zz\r\nabc\r\n0\r\n\r\n", chunked))
	add(http.StatusBadRequest, false, "chunk size -5", rawPost("/cancel", "-5\r\nabc\r\n0\r\n\r\n", chunked))
	add(http.StatusBadRequest, false, "chunk size of 18 hex digits", rawPost("/cancel", "ffffffffffffffffff\r\nabc\r\n0\r\n\r\n", chunked))
	add(http.StatusBadRequest, false, "a chunk longer than its size", rawPost("/cancel", "3\r\nabcXX0\r\n\r\n", chunked))
	add(http.StatusBadRequest, false, "an unknown Transfer-Encoding", rawPost("/cancel", "abc", "Transfer-Encoding: gzip, foo\r\n"))

	// Bodies over every limit, before signing in: the upload's limit is a
	// signed-in manager's, everyone else has the form's 256 KiB.
	const uploadSize = 40 << 20
	part := "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"orders.csv\"\r\nContent-Type: text/csv\r\n\r\n"
	upload := "POST /import HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
		"Content-Type: multipart/form-data; boundary=XX\r\n" + cl(uploadSize) + "\r\n" +
		part + strings.Repeat("a", uploadSize-len(part))
	add(http.StatusRequestEntityTooLarge, false, "POST /import of 40 MiB before signing in", []byte(upload))
	add(http.StatusRequestEntityTooLarge, true, "POST /cancel of 4 MiB", rawPost("/cancel", strings.Repeat(mib, 4), cl(4<<20)))
	add(http.StatusRequestEntityTooLarge, false, "POST /cancel of 4 MiB, chunked",
		rawPost("/cancel", strings.Repeat(strconv.FormatInt(1<<20, 16)+"\r\n"+mib+"\r\n", 4)+"0\r\n\r\n", chunked))
	return cases
}
