package handlers

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/canceldesk/canceldesk"
)

// Request body limits.
const (
	// MaxUploadBytes bounds the CSV file of an import.
	MaxUploadBytes = 32 << 20
	// uploadOverhead is room beside the file in the upload's body: the
	// multipart framing and the form's other fields.
	uploadOverhead = 1 << 20
	// maxUploadBody bounds the body of the CSV upload, sent by a member
	// whose role may import: the most any request carries (bodyLimits).
	maxUploadBody = MaxUploadBytes + uploadOverhead
	// MaxFormBytes bounds the body of every other request: forms, and
	// uploads from anyone else (a visitor, a member of a lesser role).
	// The largest legitimate form is the message-template editor: a
	// subject of 200 and a body of 10,000 characters, which a browser
	// sends UTF-8 and percent-encoded, so up to 12 bytes a character
	// (4 bytes, 3 characters each): about 123 KB for a body written in
	// emoji, 92 KB in Chinese. A bulk cancel of 100 orders is about 3 KB,
	// a customer request or a decline at most 12 KB. 256 KiB fits the
	// editor at its limits twice over; 64 KiB would refuse a Chinese
	// template longer than about 7,200 characters.
	MaxFormBytes = 256 << 10
	// maxHeaderBytes bounds the request line and headers together (and is
	// the size of each connection's read buffer). The longest legitimate
	// URL is the no-JavaScript refresh of the cancel dialog, a GET with
	// its note (255 characters) and offer (100): up to 4.3 KB
	// percent-encoded, 3.2 KB in Chinese; a second refresh sends it twice
	// (the Referer is the first), beside about 1 KB of a browser's other
	// headers and cookies. fasthttp's default, 4 KiB, refused a Chinese
	// refresh with 431; 16 KiB fits the longest one with room to spare.
	maxHeaderBytes = 16 << 10
)

// uploadPaths are the routes that take a file, and so MaxUploadBytes.
var uploadPaths = []string{"/import"}

// isUploadPath reports whether path takes a file. Routing ignores case
// and a trailing slash: so does this.
func isUploadPath(path string) bool {
	path = strings.TrimSuffix(strings.ToLower(path), "/")
	for _, p := range uploadPaths {
		if path == p {
			return true
		}
	}
	return false
}

// bodyLimits bounds each request's body by who sends it, once its header
// is read and before any of its body is (fasthttp's HeaderReceived): the
// upload's limit for a POST to an upload route from a member whose role
// may upload, MaxFormBytes for everything else. A body over its limit is
// refused unread, with the 413 page (see drainRefusedBody); so nobody
// else gets an upload's worth of memory, however they ask.
func (s *Server) bodyLimits(app *fiber.App) func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
	return func(h *fasthttp.RequestHeader) (conf fasthttp.RequestConfig) {
		conf.MaxRequestBodySize = MaxFormBytes
		// This runs outside the recover middleware: a panic here would end
		// the process, so it only keeps the form limit.
		defer func() {
			if r := recover(); r != nil {
				s.Logger.Error("choosing a body limit panicked", "panic", r)
				conf.MaxRequestBodySize = MaxFormBytes
			}
		}()
		if h.IsPost() && s.mayUpload(app, h) {
			conf.MaxRequestBodySize = maxUploadBody
		} else if h.IsPost() && isWebhookPath(requestPath(h)) {
			conf.MaxRequestBodySize = maxWebhookBody // checked against its signature, not a session
		}
		return conf
	}
}

// requestPath is the path of the request line, without its query.
func requestPath(h *fasthttp.RequestHeader) string {
	path, _, _ := strings.Cut(string(h.RequestURI()), "?")
	return path
}

// mayUpload reports whether a request, by its header alone, is a POST to
// an upload route from a signed-in member whose role that route allows.
// It reads the path and the session as the app will (a context of its
// own around the header), and the account as require will.
func (s *Server) mayUpload(app *fiber.App, h *fasthttp.RequestHeader) bool {
	var rc fasthttp.RequestCtx
	h.CopyTo(&rc.Request.Header)
	c := app.AcquireCtx(&rc)
	defer app.ReleaseCtx(c)
	role, ok := s.uploadRole(c.Path())
	if !ok {
		return false
	}
	sess, err := s.storedSession(c)
	if err != nil || sess == nil {
		return false
	}
	id, _ := sess.Get(sessAccount).(int64)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	acct, err := s.Accounts.Account(ctx, id)
	return err == nil && acct.Active() && acct.Role.AtLeast(role)
}

// uploadRole is the least role the upload route at path allows, from the
// route table; ok is false when path takes no upload.
func (s *Server) uploadRole(path string) (role canceldesk.Role, ok bool) {
	if !isUploadPath(path) {
		return "", false
	}
	for _, r := range s.routeTable() {
		if r.method == post && isUploadPath(r.path) {
			return r.role, r.role != public
		}
	}
	return "", false
}

// tooLargeKey is the catalogue key of what to do about a body refused as
// too large at path.
func tooLargeKey(path string) string {
	if isUploadPath(path) {
		return "error.too_large.body"
	}
	return "error.too_large.form"
}

// errNotText is a field that is not text: invalid UTF-8 or a NUL byte.
var errNotText = &canceldesk.Error{Code: canceldesk.EINVALID, Key: "error.not_text", Message: "The form holds something that is not text."}

// requireText answers 400 when a form field (name or value; not an
// uploaded file) is not text: invalid UTF-8 or a NUL byte (readableAddress
// checks the query's). Browsers never send either; PostgreSQL refuses to
// store both, so letting one through would fail deep inside a handler
// (500) instead of here. It runs after the route's role check: a
// multipart body is parsed for nobody else.
func (s *Server) requireText(c *fiber.Ctx) error {
	ok := true
	ct := c.Request().Header.ContentType()
	switch {
	case bytes.HasPrefix(ct, []byte(fiber.MIMEApplicationForm)):
		ok = argsAreText(c.Request().PostArgs())
	case bytes.HasPrefix(ct, []byte(fiber.MIMEMultipartForm)):
		if form, err := c.Request().MultipartForm(); err == nil {
			for name, values := range form.Value {
				ok = ok && isText(name)
				for _, v := range values {
					ok = ok && isText(v)
				}
			}
		}
	}
	if !ok {
		return errNotText
	}
	return c.Next()
}

func argsAreText(args *fasthttp.Args) bool {
	ok := true
	args.VisitAll(func(k, v []byte) {
		ok = ok && utf8.Valid(k) && utf8.Valid(v) && bytes.IndexByte(k, 0) < 0 && bytes.IndexByte(v, 0) < 0
	})
	return ok
}

func isText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// Draining a refused body: at most this much, for at most this long,
// and only while the client keeps sending.
const (
	drainMaxBytes = 2 * maxUploadBody
	drainMaxTime  = 10 * time.Second
	drainIdle     = 500 * time.Millisecond
)

// drainRefusedBody reads and throws away what is left of a request body
// that fasthttp refused as bigger than its limit, before the 413 page
// is written. fasthttp answers such a request without reading its body
// and closes the connection; closing a socket with unread data makes the
// kernel reset the connection, and the reset throws the answer away
// before most clients (browsers, Go's) read it: the user would see
// "connection reset" instead of the page. Reading the rest first lets the
// page arrive. It gives up (and the reset happens) past drainMaxBytes or
// drainMaxTime.
func drainRefusedBody(ctx *fasthttp.RequestCtx) {
	conn := ctx.Conn()
	if conn == nil {
		return
	}
	left := ctx.Request.Header.ContentLength() // < 0 when chunked: read until the client waits
	deadline := time.Now().Add(drainMaxTime)
	buf := make([]byte, 64<<10)
	for read := 0; read < drainMaxBytes && (left < 0 || read < left); {
		wait := time.Now().Add(drainIdle)
		if wait.After(deadline) {
			wait = deadline
		}
		if err := conn.SetReadDeadline(wait); err != nil {
			return
		}
		n, err := conn.Read(buf)
		read += n
		if err != nil {
			return
		}
	}
}

// refuseOversizeBodies makes the server drain a body it refuses as too
// large before answering, then answer as usual (the app's error handler
// renders the 413 page).
func refuseOversizeBodies(srv *fasthttp.Server) {
	answer := srv.ErrorHandler
	srv.ErrorHandler = func(ctx *fasthttp.RequestCtx, err error) {
		if errors.Is(err, fasthttp.ErrBodyTooLarge) {
			drainRefusedBody(ctx)
		}
		answer(ctx, err)
	}
}
