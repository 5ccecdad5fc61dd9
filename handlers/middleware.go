package handlers

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

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

func localizer(c *fiber.Ctx) *i18n.Localizer {
	l, _ := c.Locals(localizerLocal).(*i18n.Localizer)
	return l
}

// securityHeaders sets the headers every response carries. Scripts and
// styles come only from this origin; no inline script anywhere.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	setSecurityHeaders(c)
	return c.Next()
}

func setSecurityHeaders(c *fiber.Ctx) {
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("X-Frame-Options", "DENY")
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
