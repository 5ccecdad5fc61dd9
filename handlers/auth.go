package handlers

import (
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

const accountLocal = "account"

// currentAccount is the signed-in account, nil on public pages.
func currentAccount(c *fiber.Ctx) *canceldesk.Account {
	a, _ := c.Locals(accountLocal).(*canceldesk.Account)
	return a
}

// require lets the request through only for an active account with at
// least the role min. Signed-out visitors (and expired sessions) are sent
// to the sign-in page; a signed-in account without the role gets 403. The
// account is read on every request, so disabling it takes effect at once,
// and the session must be one its account's index holds (see
// endAccountSessions).
func (s *Server) require(min canceldesk.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		sess := currentSession(c)
		if sess == nil {
			return s.toLogin(c, false)
		}
		id, _ := sess.Get(sessAccount).(int64)
		if id == 0 {
			return s.toLogin(c, false)
		}
		now := s.Now()
		created, _ := sess.Get(sessCreated).(int64)
		seen, _ := sess.Get(sessSeen).(int64)
		if now.Sub(time.Unix(seen, 0)) > IdleTimeout || now.Sub(time.Unix(created, 0)) > AbsoluteTimeout {
			if err := endSession(c); err != nil {
				return err
			}
			return s.toLogin(c, true)
		}
		if ok, err := s.sessionRecorded(c, id); err != nil {
			return err
		} else if !ok { // ended by a change to its account
			if err := endSession(c); err != nil {
				return err
			}
			return s.toLogin(c, false)
		}
		acct, err := s.Accounts.Account(c.UserContext(), id)
		if canceldesk.ErrorCode(err) == canceldesk.ENOTFOUND || (err == nil && !acct.Active()) {
			if err := endSession(c); err != nil {
				return err
			}
			return s.toLogin(c, false)
		} else if err != nil {
			return err
		}
		sess.Set(sessSeen, now.Unix())
		c.Locals(accountLocal, acct)
		if acct.Language != "" && c.Query("lang") == "" && c.Cookies(langCookie) == "" {
			c.Locals(localizerLocal, s.I18n.Localizer(acct.Language, s.Location))
		}
		if !acct.Role.AtLeast(min) {
			// The account is known by now, so the 403 page keeps the
			// navigation and names the role that lacks access.
			return &canceldesk.Error{Code: canceldesk.EFORBIDDEN, Key: forbiddenRoleKey, Message: "Your role can't open this page."}
		}
		return c.Next()
	}
}

// toLogin sends the visitor to the sign-in page, remembering where they
// were going (GET only) and whether their session expired.
func (s *Server) toLogin(c *fiber.Ctx, expired bool) error {
	q := url.Values{}
	if c.Method() == fiber.MethodGet {
		q.Set("next", c.OriginalURL())
	}
	if expired {
		q.Set("expired", "1")
	}
	target := "/login"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	return redirect(c, target)
}

// redirect answers 303 See Other, or HX-Redirect for htmx so the whole
// page changes instead of a fragment.
func redirect(c *fiber.Ctx, target string) error {
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", target)
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}

// safeNext keeps a post-login target on this site: a path, never a scheme,
// host or protocol-relative URL. It reads the target as a browser would:
// browsers drop tabs and line breaks anywhere in a URL ("/\t/evil.example"
// is "//evil.example") and read a backslash as a slash, so a target with
// a control character is refused whole.
func safeNext(next string) string {
	path := strings.ReplaceAll(next, "\\", "/")
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "/orders"
	}
	return next
}

// loginPage is the view of the sign-in form.
type loginPage struct {
	Page
	Email  string
	Next   string
	Error  string
	Notice string
}

// loginForm shows the sign-in form.
func (s *Server) loginForm(c *fiber.Ctx) error {
	l := localizer(c)
	p := loginPage{Page: s.page(c, l.T("login.title"), ""), Next: safeNext(c.Query("next"))}
	switch {
	case c.Query("expired") != "":
		p.Notice = l.T("login.expired")
	case c.Query("invited") != "":
		p.Notice = l.T("login.invited")
	case c.Query("signed_out") != "":
		p.Notice = l.T("login.signed_out")
	}
	return s.render(c, fiber.StatusOK, "auth/login", "", p)
}

// login checks the credentials. Every failure gets the same message, and
// unknown emails cost the same password check, so the form never tells
// whether an account exists. The attempt is counted before the password is
// read (see loginLimits), and the checks running at once are bounded.
func (s *Server) login(c *fiber.Ctx) error {
	ctx := c.UserContext()
	l := localizer(c)
	email := canceldesk.NormalizeEmail(c.FormValue("email"))
	p := loginPage{Page: s.page(c, l.T("login.title"), ""), Email: email, Next: safeNext(c.FormValue("next"))}
	device := s.knownDevice(c, email)
	limits := loginLimits(email, s.clientIP(c), device)
	refusal, err := s.takeAttempt(ctx, limits)
	if err != nil {
		return errSignInUnavailable()
	}
	if refusal != "" {
		p.Error = l.T(refusal)
		return s.render(c, fiber.StatusTooManyRequests, "auth/login", "", p)
	}
	acct, err := s.Accounts.AccountByEmail(ctx, email)
	if err != nil && canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
		return err
	}
	hash := dummyHash
	if acct != nil && acct.Active() {
		hash = acct.PasswordHash
	}
	ok, err := s.checkPassword(hash, c.FormValue("password"))
	if err != nil {
		p.Error = l.T("login.busy")
		return s.render(c, fiber.StatusTooManyRequests, "auth/login", "", p)
	}
	if !ok || acct == nil || !acct.Active() {
		p.Error = l.T("login.failed")
		return s.render(c, fiber.StatusUnauthorized, "auth/login", "", p)
	}
	s.attemptSucceeded(ctx, limits)
	if err := s.rememberDevice(c, email, device); err != nil {
		return errSignInUnavailable()
	}
	// A fresh session id at sign-in: an id planted before cannot be used after.
	if err := s.signInSession(c, acct.ID); err != nil {
		return err
	}
	return redirect(c, p.Next)
}

// signInSession starts a session of its own, under a new id, for the
// account acct signed in with this request, and adds it to the account's
// index.
func (s *Server) signInSession(c *fiber.Ctx, acct int64) error {
	sess, err := s.startSession(c)
	if err != nil {
		return err
	}
	now := s.Now().Unix()
	sess.Set(sessAccount, acct)
	sess.Set(sessCreated, now)
	sess.Set(sessSeen, now)
	if err := s.recordSession(c, acct); err != nil {
		return errSignInUnavailable()
	}
	return nil
}

// logout ends the session on the server.
func (s *Server) logout(c *fiber.Ctx) error {
	_ = s.sessionIndex.Remove(c.UserContext(), currentAccount(c).ID, currentSession(c).ID())
	if err := endSession(c); err != nil {
		return err
	}
	return redirect(c, "/login?signed_out=1")
}

// dummyHash is checked for unknown accounts so they take as long as known ones.
var dummyHash = func() string {
	h, err := canceldesk.HashPassword("cancel-desk-timing-equaliser")
	if err != nil {
		panic(err)
	}
	return h
}()
