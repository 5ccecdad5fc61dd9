package handlers

import (
	"bytes"
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
	// maxUploadBody bounds the body of the CSV upload, and of any request
	// at all: the server reads no more than this before a handler runs.
	maxUploadBody = MaxUploadBytes + uploadOverhead
	// MaxFormBytes bounds the body of every request but the CSV upload.
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

// bodyLimit is the most a request to path may carry.
func bodyLimit(path string) int {
	if isUploadPath(path) {
		return maxUploadBody
	}
	return MaxFormBytes
}

// limitBody answers 413 with the "too large" page when the request's body
// is over its route's limit, before anything reads a field of it (the
// CSRF check is the first to). fasthttp has read the body by now, exactly
// its declared Content-Length (and never more than maxUploadBody: a
// bigger one does not get here, see drainRefusedBody), so that is its
// size; a chunked body declares none, and its size is what was read.
func (s *Server) limitBody(c *fiber.Ctx) error {
	limit := bodyLimit(c.Path())
	n := c.Request().Header.ContentLength()
	if n < 0 { // chunked: the length is what was read
		n = len(c.Request().Body())
	}
	if n > limit {
		key := "error.too_large.form"
		if limit == maxUploadBody {
			key = "error.too_large.body"
		}
		return errTooLarge(key)
	}
	return c.Next()
}

// errTooLarge is a body over its limit: 413, with the catalogue key of
// what to do about it.
func errTooLarge(key string) error {
	return errors.Join(fiber.ErrRequestEntityTooLarge,
		&canceldesk.Error{Code: canceldesk.EINVALID, Key: key, Message: "The request is too large."})
}

// errNotText is a field that is not text: invalid UTF-8 or a NUL byte.
var errNotText = &canceldesk.Error{Code: canceldesk.EINVALID, Key: "error.not_text", Message: "The form holds something that is not text."}

// requireText answers 400 when a form field (name or value; not an
// uploaded file) is not text: invalid UTF-8 or a NUL byte (readableAddress
// checks the query's). Browsers never send either; PostgreSQL refuses to
// store both, so letting one through would fail deep inside a handler
// (500) instead of here.
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
// that fasthttp refused as bigger than maxUploadBody, before the 413 page
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
