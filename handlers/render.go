package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/i18n"
	"github.com/canceldesk/canceldesk/static"
)

// Page is what every full page and fragment needs; page view structs embed it.
type Page struct {
	L       *i18n.Localizer
	Account *canceldesk.Account // nil when signed out
	Title   string
	Nav     string // active navigation entry
	CSRF    string
	Demo    bool
	// Backlog is the number of cancelled orders still owed a refund, for
	// the navigation.
	Backlog int
	// Requests is the number of customer requests waiting, for the
	// navigation.
	Requests int
	// LangLinks switch the language while staying on the same page.
	LangLinks []LangLink
}

// LangLink is one entry of the language switch.
type LangLink struct {
	Lang, Label, URL string
	Current          bool
}

// page builds the common part of a page for this request.
func (s *Server) page(c *fiber.Ctx, title, nav string) Page {
	l := localizer(c)
	p := Page{L: l, Account: currentAccount(c), Title: title, Nav: nav, Demo: s.Demo}
	if p.Account != nil && s.Refunds != nil {
		p.Backlog = s.backlog.get(c.UserContext(), s.Now(), func(ctx context.Context) (int, error) {
			_, n, err := s.Refunds.RefundBacklog(ctx, 0)
			return n, err
		})
		p.Requests = s.requests.get(c.UserContext(), s.Now(), func(ctx context.Context) (int, error) {
			_, n, err := s.Requests.PendingRequests(ctx, 0)
			return n, err
		})
	}
	if tok, ok := c.Locals(csrfLocal).(string); ok {
		p.CSRF = tok
	}
	p.LangLinks = s.langLinks(c, l.Lang())
	return p
}

// langLinks are this page's address in each language. An address that
// cannot be read (readableAddress refuses it, but its error page is made
// here too) switches language on the home page instead.
func (s *Server) langLinks(c *fiber.Ctx, current string) []LangLink {
	var links []LangLink
	for _, lang := range s.I18n.Languages() {
		u, err := url.Parse(c.OriginalURL())
		if err != nil {
			u = &url.URL{Path: "/"}
		}
		q := u.Query()
		q.Set("lang", lang.Tag)
		u.RawQuery = q.Encode()
		links = append(links, LangLink{Lang: lang.Tag, Label: lang.Name, URL: u.RequestURI(), Current: lang.Tag == current})
	}
	return links
}

// isFragment reports whether the request wants only the fragment: an HTMX
// request that is neither a boosted navigation nor a history restore (which
// swaps the whole body after Back on a page htmx has not cached).
func isFragment(c *fiber.Ctx) bool {
	return c.Get("HX-Request") == "true" && c.Get("HX-Boosted") != "true" &&
		c.Get("HX-History-Restore-Request") != "true"
}

// keepURL tells htmx not to push the address of this answer into the
// history: an answer that refuses a choice leaves the address at the last
// good one.
func keepURL(c *fiber.Ctx) {
	if isFragment(c) {
		c.Set("HX-Push-Url", "false")
	}
}

// view is what every page's data provides: the common Page (promoted from
// the embedded field).
type view interface{ base() Page }

func (p Page) base() Page { return p }

// layoutData is what the main layout renders around a page.
type layoutData struct {
	Page
	Content template.HTML // the page, already rendered and escaped
}

// render answers with the full page (template page inside the main layout),
// or with just the fragment template when HTMX asks for it. Every response
// varies on HX-Request so caches keep the two apart. The page is rendered
// into a buffer first, so a template error becomes a 500 instead of text
// inside a 200 page.
func (s *Server) render(c *fiber.Ctx, status int, page, fragment string, data view) error {
	c.Vary("HX-Request")
	var body bytes.Buffer
	if fragment != "" && isFragment(c) {
		if err := s.views.Render(&body, fragment, data); err != nil {
			return err
		}
	} else {
		var content bytes.Buffer
		if err := s.views.Render(&content, page, data); err != nil {
			return err
		}
		ld := layoutData{Page: data.base(), Content: template.HTML(content.String())}
		if err := s.views.Render(&body, "layouts/main", ld); err != nil {
			return err
		}
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(body.Bytes())
}

// errorPage is the view of an error.
type errorPage struct {
	Page
	Status  int
	Heading string
	Message string
	// Back is the page the reader came from on this site, for a link back
	// ("" when unknown).
	Back string
}

// forbiddenRoleKey is the message of a page the reader's role can't open.
const forbiddenRoleKey = "error.forbidden.role"

// sameSiteReferer is the path (and query) of the Referer when it is a
// page of this site other than the current one, else "".
func sameSiteReferer(c *fiber.Ctx) string {
	u, err := url.Parse(c.Get(fiber.HeaderReferer))
	if err != nil || u.Host != c.Hostname() || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return ""
	}
	if u.Path == c.Path() || u.Path == "/login" { // after signing in, "back" is not the sign-in form
		return ""
	}
	return u.RequestURI()
}

// errorStatus maps a domain error code to an HTTP status: the one place.
func errorStatus(code string) int {
	switch code {
	case canceldesk.EINVALID:
		return fiber.StatusBadRequest
	case canceldesk.ENOTFOUND:
		return fiber.StatusNotFound
	case canceldesk.ECONFLICT:
		return fiber.StatusConflict
	case canceldesk.EFORBIDDEN:
		return fiber.StatusForbidden
	case canceldesk.EUNAVAILABLE:
		return fiber.StatusServiceUnavailable
	}
	return fiber.StatusInternalServerError
}

// databaseDown reports errors that say the database could not be reached
// or dropped the connection: refused or reset connections, and
// PostgreSQL's connection exceptions (class 08) and shutdowns (57P01–03).
func databaseDown(err error) bool {
	var ne net.Error
	var pg interface{ SQLState() string }
	switch {
	case errors.As(err, &ne), errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return true
	case errors.As(err, &pg):
		code := pg.SQLState()
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03"
	}
	return false
}

// errorHandler renders every error as a page in the user's language. Only
// internal errors are logged with detail; their detail is never shown.
// It runs outside the recover middleware, so a panic while making the
// page would end the process: it becomes a plain 500 and one log line.
func (s *Server) errorHandler(c *fiber.Ctx, err error) (answered error) {
	defer func() {
		if r := recover(); r != nil {
			s.Logger.Error("making the error page panicked", "method", c.Method(), "path", c.Path(), "err", err, "panic", r)
			s.setSecurityHeaders(c)
			c.Response().Header.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
			answered = c.Status(fiber.StatusInternalServerError).SendString(http.StatusText(fiber.StatusInternalServerError))
		}
	}()
	return s.errorPage(c, err)
}

// errorPage answers err with its page.
func (s *Server) errorPage(c *fiber.Ctx, err error) error {
	status := errorStatus(canceldesk.ErrorCode(err))
	var fe *fiber.Error
	if errors.As(err, &fe) {
		status = fe.Code
	}
	if status == fiber.StatusInternalServerError && databaseDown(err) {
		// A restart or an outage, not a bug: "try again shortly", and the
		// pool reconnects by itself.
		s.Logger.Warn("database unreachable", "method", c.Method(), "path", c.Path(), "err", err)
		status = fiber.StatusServiceUnavailable
	}
	if c.Locals(localizerLocal) == nil {
		// Refused before the middleware ran (a body over every limit).
		s.setSecurityHeaders(c)
		c.Locals(localizerLocal, s.I18n.Localizer(s.I18n.Match(c.Get("Accept-Language"), c.Cookies(langCookie)), s.Location))
	}
	p := errorPage{Page: s.page(c, "", ""), Status: status}
	l := p.L
	var de *canceldesk.Error
	keyed := errors.As(err, &de) && de.Key != ""
	switch {
	case status == fiber.StatusNotFound:
		p.Heading, p.Message = l.T("error.not_found.title"), l.T("error.not_found.body")
	case status == fiber.StatusForbidden:
		p.Heading, p.Message = l.T("error.forbidden.title"), l.T("error.forbidden.body")
		switch {
		case keyed && de.Key == forbiddenRoleKey && p.Account != nil:
			p.Heading = l.T("error.forbidden.role_title")
			p.Message = l.T(forbiddenRoleKey, "Role", l.T("role."+string(p.Account.Role)))
			p.Back = sameSiteReferer(c)
		case keyed:
			p.Message = l.T(de.Key)
		}
	case status == fiber.StatusServiceUnavailable:
		p.Heading, p.Message = l.T("error.unavailable.title"), l.T("error.unavailable.body")
		if keyed {
			p.Heading = l.T(de.Key)
		}
	case status == fiber.StatusRequestEntityTooLarge:
		p.Heading, p.Message = l.T("error.too_large.title"), l.T(tooLargeKey(c.Path()))
		if keyed {
			p.Message = l.T(de.Key)
		}
	case status >= 500:
		s.Logger.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
		p.Heading, p.Message = l.T("error.internal.title"), l.T("error.internal.body")
	default:
		p.Heading = l.T("error.bad_request.title")
		switch {
		case keyed:
			p.Message = l.T(de.Key)
		case fe != nil:
			// The server's reason for a request it could not read
			// quotes that request, cookies and all: never shown.
			p.Message = l.T("error.unreadable_request")
		default:
			p.Message = canceldesk.ErrorMessage(err)
		}
	}
	p.Title = p.Heading
	if s.publicError(c, p) {
		return nil
	}
	if rerr := s.render(c, status, "errors/error", "errors/_error", p); rerr != nil {
		s.Logger.Error("rendering error page", "err", rerr)
		return c.Status(status).SendString(p.Heading)
	}
	return nil
}

// notFound answers every unknown route.
func (s *Server) notFound(c *fiber.Ctx) error { return fiber.ErrNotFound }

// assetVersions maps a static path to a content hash, so asset URLs change
// when their content does and can be cached for a year.
type assetVersions map[string]string

func hashAssets() (assetVersions, error) {
	v := assetVersions{}
	err := fs.WalkDir(static.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static.FS, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		v[path] = hex.EncodeToString(sum[:6])
		return nil
	})
	return v, err
}

// url is the template function "asset": "css/app.css" → "/static/css/app.css?v=…".
func (a assetVersions) url(path string) string {
	return "/static/" + path + "?v=" + a[path]
}
