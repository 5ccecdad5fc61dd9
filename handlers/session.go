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

// Cookie names, before hostCookie.
const (
	sessionCookie = "canceldesk_session"
	csrfCookie    = "canceldesk_csrf" // a visitor's CSRF token
)

// hostCookie is a cookie's name: over TLS with the __Host- prefix, which
// pins the cookie to this host and path / (a sibling subdomain cannot
// plant one) and makes browsers keep it only when Secure.
func hostCookie(secure bool, name string) string {
	if secure {
		return "__Host-" + name
	}
	return name
}

// newSessionStore keeps sessions in cfg.Sessions (Redis) or in process.
// The cookie is HttpOnly and SameSite=Lax, Secure over TLS.
func newSessionStore(cfg Config) *session.Store {
	return session.New(session.Config{
		Storage:           cfg.Sessions,
		Expiration:        IdleTimeout,
		KeyLookup:         "cookie:" + hostCookie(cfg.SecureCookies, sessionCookie),
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

// sessions loads the stored session the request names (signed-in
// members) and the CSRF token that checkCSRF expects. A member's token is
// kept in their session; a visitor's is in a cookie of its own
// (visitorToken), so visitors cost no storage: a session is stored only
// from sign-in on (startSession). Without a session store (Redis down) a
// member gets the "sign-in service unavailable" page. The session is
// saved after the handler.
func (s *Server) sessions(c *fiber.Ctx) error {
	sess, err := s.storedSession(c)
	if err != nil {
		s.Logger.Warn("session store unavailable", "err", err)
		return &canceldesk.Error{Code: canceldesk.EUNAVAILABLE, Key: "error.sessions_unavailable", Message: "The sign-in service is unavailable."}
	}
	var tok string
	if sess != nil { // a member's page: no cache keeps it
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Locals(sessionLocal, sess)
		tok, _ = sess.Get(sessCSRF).(string)
	}
	if tok == "" {
		tok = s.visitorToken(c)
	}
	c.Locals(csrfLocal, tok)
	if err := c.Next(); err != nil {
		return err
	}
	sess = currentSession(c) // sign-in starts one
	if sess == nil || c.Locals(sessionDestroyed) != nil {
		return nil
	}
	if err := sess.Save(); err != nil {
		s.Logger.Warn("saving the session failed", "err", err)
	}
	return nil
}

// storedSession is the signed-in session the request's cookie names; nil
// without a cookie, when the store no longer has it (expired, signed out),
// or when it holds no account (a visitor's, kept by an earlier version):
// nothing is stored for any of those.
func (s *Server) storedSession(c *fiber.Ctx) (*session.Session, error) {
	if c.Cookies(hostCookie(s.SecureCookies, sessionCookie)) == "" {
		return nil, nil
	}
	sess, err := s.sessionStore.Get(c)
	if err != nil || sess.Fresh() || sess.Get(sessAccount) == nil {
		return nil, err
	}
	return sess, nil
}

// startSession stores a new session for the request, at sign-in, with a
// new CSRF token. Its id is always new: an id planted before sign-in, or
// the session of whoever signed in before on this browser, is deleted and
// worth nothing after.
func (s *Server) startSession(c *fiber.Ctx) (*session.Session, error) {
	sess, err := s.sessionStore.Get(c)
	if err != nil {
		return nil, err
	}
	if err := sess.Reset(); err != nil {
		return nil, err
	}
	sess.Set(sessCSRF, randomToken())
	c.Locals(sessionLocal, sess)
	return sess, nil
}

// visitorToken is the CSRF token of a visitor without a session: a random
// token in its own cookie, which the page's forms send back (double
// submit). Another site can neither read that cookie nor set it
// (HttpOnly, SameSite=Lax, and __Host- over TLS), so it cannot send the
// matching token. A missing or malformed cookie gets a new token.
func (s *Server) visitorToken(c *fiber.Ctx) string {
	name := hostCookie(s.SecureCookies, csrfCookie)
	if tok := c.Cookies(name); isToken(tok) {
		return tok
	}
	tok := randomToken()
	c.Cookie(&fiber.Cookie{Name: name, Value: tok, Path: "/", HTTPOnly: true, Secure: s.SecureCookies,
		SameSite: fiber.CookieSameSiteLaxMode, SessionOnly: true})
	return tok
}

// isToken reports whether s looks like a randomToken: 43 URL-safe base64
// characters.
func isToken(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}

// checkCSRF refuses a state-changing request (403) unless it carries the
// CSRF token sessions expects: a form sends it as _csrf, htmx as the
// X-CSRF-Token header (app.js adds it). It runs after the route's role
// check, so an upload's body is parsed for its token only when its sender
// may upload, and before the handler uses anything it sent.
func (s *Server) checkCSRF(c *fiber.Ctx) error {
	tok, _ := c.Locals(csrfLocal).(string)
	if !safeMethod(c.Method()) && (tok == "" || subtle.ConstantTimeCompare([]byte(sentToken(c)), []byte(tok)) != 1) {
		return &canceldesk.Error{Code: canceldesk.EFORBIDDEN, Key: "error.csrf", Message: "This form has expired. Reload the page and try again."}
	}
	return c.Next()
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
