package handlers

import (
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

const accountLocal = "account"

// Login limits: failed attempts per account and per address in a window.
const (
	loginWindow     = 15 * time.Minute
	loginPerAccount = 5
	loginPerIP      = 20
)

// currentAccount is the signed-in account, nil on public pages.
func currentAccount(c *fiber.Ctx) *canceldesk.Account {
	a, _ := c.Locals(accountLocal).(*canceldesk.Account)
	return a
}

// require lets the request through only for an active account with at
// least the role min. Signed-out visitors (and expired sessions) are sent
// to the sign-in page; a signed-in account without the role gets 403. The
// account is read on every request, so disabling it takes effect at once.
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
		acct, err := s.Accounts.Account(c.UserContext(), id)
		if canceldesk.ErrorCode(err) == canceldesk.ENOTFOUND || (err == nil && !acct.Active()) {
			if err := endSession(c); err != nil {
				return err
			}
			return s.toLogin(c, false)
		} else if err != nil {
			return err
		}
		if !acct.Role.AtLeast(min) {
			return &canceldesk.Error{Code: canceldesk.EFORBIDDEN, Key: "error.forbidden.body", Message: "Your role does not allow this."}
		}
		sess.Set(sessSeen, now.Unix())
		c.Locals(accountLocal, acct)
		if acct.Language != "" && c.Query("lang") == "" && c.Cookies(langCookie) == "" {
			c.Locals(localizerLocal, s.I18n.Localizer(acct.Language, s.Location))
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
// whether an account exists. Attempts are limited per account and address.
func (s *Server) login(c *fiber.Ctx) error {
	ctx := c.UserContext()
	l := localizer(c)
	email := canceldesk.NormalizeEmail(c.FormValue("email"))
	p := loginPage{Page: s.page(c, l.T("login.title"), ""), Email: email, Next: safeNext(c.FormValue("next"))}
	acctKey, ipKey := "login:account:"+email, "login:ip:"+c.IP()
	nAcct, err1 := s.Limiter.Count(ctx, acctKey)
	nIP, err2 := s.Limiter.Count(ctx, ipKey)
	if err1 != nil || err2 != nil {
		return &canceldesk.Error{Code: canceldesk.EUNAVAILABLE, Key: "error.sessions_unavailable", Message: "The sign-in service is unavailable."}
	}
	if nAcct >= loginPerAccount || nIP >= loginPerIP {
		p.Error = l.T("login.too_many")
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
	if !canceldesk.CheckPassword(hash, c.FormValue("password")) || acct == nil || !acct.Active() {
		_, _ = s.Limiter.Hit(ctx, acctKey, loginWindow)
		_, _ = s.Limiter.Hit(ctx, ipKey, loginWindow)
		p.Error = l.T("login.failed")
		return s.render(c, fiber.StatusUnauthorized, "auth/login", "", p)
	}
	_ = s.Limiter.Reset(ctx, acctKey)
	// A fresh session id at sign-in: an id planted before cannot be used after.
	sess, err := s.startSession(c)
	if err != nil {
		return err
	}
	now := s.Now().Unix()
	sess.Set(sessAccount, acct.ID)
	sess.Set(sessCreated, now)
	sess.Set(sessSeen, now)
	return redirect(c, p.Next)
}

// logout ends the session on the server.
func (s *Server) logout(c *fiber.Ctx) error {
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
