package handlers

import (
	"context"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/i18n"
)

const (
	localizerLocal = "localizer"
	csrfLocal      = "csrf"
	langCookie     = "lang"
)

// language picks the reader's language: ?lang= (remembered in a cookie),
// then the cookie, then Accept-Language.
func (s *Server) language(c *fiber.Ctx) error {
	preferred := c.Cookies(langCookie)
	if q := c.Query("lang"); q != "" && c.Method() == fiber.MethodGet {
		if lang := s.I18n.Match("", q); strings.EqualFold(lang, q) {
			preferred = lang
			c.Cookie(&fiber.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
				HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
		}
	}
	c.Locals(localizerLocal, s.I18n.Localizer(s.I18n.Match(c.Get("Accept-Language"), preferred), s.Location))
	return c.Next()
}

// readableAddress answers 400 when the request's path or query cannot be
// decoded: a percent sign not followed by two hex digits, a control
// character, a path that decodes to one (no page has one in its address:
// `/r/%01` names no request, it is not one), or a path or query field
// that decodes to something that is not text (invalid UTF-8, NUL). A
// query field may decode to a newline or a tab: the cancel dialog's
// no-JavaScript refresh carries its note in the query. It runs before
// anything reads the address (routing parameters, ?lang=, ?next=, the
// language switch), so none of them meets one.
func (s *Server) readableAddress(c *fiber.Ctx) error {
	path, query, _ := strings.Cut(c.OriginalURL(), "?")
	decoded, err := url.PathUnescape(path)
	if err != nil || !isText(decoded) || strings.ContainsFunc(decoded, isControl) ||
		!escapesValid(query) || strings.ContainsFunc(query, isControl) {
		return &canceldesk.Error{Code: canceldesk.EINVALID, Key: "error.bad_address", Message: "The address of this page cannot be read."}
	}
	if !argsAreText(c.Request().URI().QueryArgs()) {
		return errNotText
	}
	return c.Next()
}

// escapesValid reports whether every % in s starts an escape: two hex digits.
func escapesValid(s string) bool {
	for i := strings.IndexByte(s, '%'); i >= 0; i = strings.IndexByte(s, '%') {
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return false
		}
		s = s[i+3:]
	}
	return true
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func localizer(c *fiber.Ctx) *i18n.Localizer {
	l, _ := c.Locals(localizerLocal).(*i18n.Localizer)
	return l
}

// securityHeaders sets the headers every response carries. Scripts and
// styles come only from this origin; no inline script anywhere.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	s.setSecurityHeaders(c)
	return c.Next()
}

// contentSecurityPolicy is the policy of every page; imgOrigin ("" for
// none) is one more origin images may come from (the store's logo).
func contentSecurityPolicy(imgOrigin string) string {
	img := "'self' data:"
	if imgOrigin != "" {
		img += " " + imgOrigin
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src " + img + "; " +
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
}

func (s *Server) setSecurityHeaders(c *fiber.Ctx) {
	c.Set("Content-Security-Policy", contentSecurityPolicy(""))
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("X-Frame-Options", "DENY")
	if s.SecureCookies { // served over TLS: browsers are to come back over TLS only
		c.Set(fiber.HeaderStrictTransportSecurity, "max-age=63072000; includeSubDomains")
	}
}

// noStore keeps the answer out of every cache (browser, proxy): for
// signed-in pages, and for pages whose address is a secret.
func noStore(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// healthz answers 200 when the database answers, else 503.
func (s *Server) healthz(c *fiber.Ctx) error {
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			return c.Status(fiber.StatusServiceUnavailable).SendString("database unavailable")
		}
	}
	return c.SendString("ok")
}

// home sends people to the orders page.
func (s *Server) home(c *fiber.Ctx) error { return c.Redirect("/orders", fiber.StatusSeeOther) }

// logPanic logs a handler's panic with its stack; the recover middleware
// then answers it with the 500 page.
func (s *Server) logPanic(c *fiber.Ctx, panicked any) {
	s.Logger.Error("handler panicked", "method", c.Method(), "path", c.Path(), "panic", panicked, "stack", string(debug.Stack()))
}
