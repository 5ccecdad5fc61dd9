package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"

	"github.com/canceldesk/canceldesk"
)

// Session limits: a signed-in session ends after 30 minutes without a
// request, and 12 hours after sign-in whatever happens.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
)

// Session keys.
const (
	sessCSRF    = "csrf"
	sessAccount = "account"
	sessCreated = "created" // unix seconds of sign-in
	sessSeen    = "seen"    // unix seconds of the last request
)

const (
	sessionLocal     = "session"
	sessionDestroyed = "session_destroyed"
)

// newSessionStore keeps sessions in cfg.Sessions (Redis) or in process.
// The cookie is HttpOnly and SameSite=Lax; over TLS it is Secure with the
// __Host- prefix, which pins it to this host and path /.
func newSessionStore(cfg Config) *session.Store {
	name := "canceldesk_session"
	if cfg.SecureCookies {
		name = "__Host-canceldesk_session"
	}
	return session.New(session.Config{
		Storage:           cfg.Sessions,
		Expiration:        IdleTimeout,
		KeyLookup:         "cookie:" + name,
		CookiePath:        "/",
		CookieHTTPOnly:    true,
		CookieSameSite:    fiber.CookieSameSiteLaxMode,
		CookieSecure:      cfg.SecureCookies,
		CookieSessionOnly: true,
		KeyGenerator:      randomToken,
	})
}

// randomToken returns 32 random bytes, URL-safe. crypto/rand never fails
// on supported platforms; if it did, panicking (and so failing the request)
// is the closed way to fail.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("canceldesk: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessions loads the session, then checks the CSRF token of every
// state-changing request against the one kept in it: a form sends it as
// _csrf, htmx as the X-CSRF-Token header (app.js adds it). Without a
// session store (Redis down) the answer is the "sign-in service
// unavailable" page. The session is saved after the handler when it changed.
func (s *Server) sessions(c *fiber.Ctx) error {
	sess, err := s.sessionStore.Get(c)
	if err != nil {
		s.Logger.Warn("session store unavailable", "err", err)
		return &canceldesk.Error{Code: canceldesk.EUNAVAILABLE, Key: "error.sessions_unavailable", Message: "The sign-in service is unavailable."}
	}
	tok, _ := sess.Get(sessCSRF).(string)
	if tok == "" {
		tok = randomToken()
		sess.Set(sessCSRF, tok)
	}
	c.Locals(sessionLocal, sess)
	c.Locals(csrfLocal, tok)
	if !safeMethod(c.Method()) && subtle.ConstantTimeCompare([]byte(sentToken(c)), []byte(tok)) != 1 {
		return &canceldesk.Error{Code: canceldesk.EFORBIDDEN, Key: "error.csrf", Message: "This form has expired. Reload the page and try again."}
	}
	if err := c.Next(); err != nil {
		return err
	}
	if c.Locals(sessionDestroyed) != nil { // signed out: nothing to keep
		return nil
	}
	if err := sess.Save(); err != nil {
		s.Logger.Warn("saving the session failed", "err", err)
	}
	return nil
}

// sentToken is the CSRF token a request carries: the X-CSRF-Token header
// (htmx), else the _csrf field of a form body, urlencoded or, where a file
// is uploaded, multipart. Never the query string: a token there would be
// kept in logs and history and sent on in Referer headers.
func sentToken(c *fiber.Ctx) string {
	if tok := c.Get("X-CSRF-Token"); tok != "" {
		return tok
	}
	if tok := c.Request().PostArgs().Peek("_csrf"); len(tok) > 0 { // empty unless the body is urlencoded
		return string(tok)
	}
	if isUploadPath(c.Path()) {
		if form, err := c.Request().MultipartForm(); err == nil && len(form.Value["_csrf"]) > 0 {
			return form.Value["_csrf"][0]
		}
	}
	return ""
}

func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}

func currentSession(c *fiber.Ctx) *session.Session {
	sess, _ := c.Locals(sessionLocal).(*session.Session)
	return sess
}

// endSession deletes the session from the store and expires its cookie.
func endSession(c *fiber.Ctx) error {
	c.Locals(sessionDestroyed, true)
	if sess := currentSession(c); sess != nil {
		return sess.Destroy()
	}
	return nil
}
