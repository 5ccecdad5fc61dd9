package handlers

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// passwordLimits are the counts a password change is made under, as a
// sign-in's are: per address, and per account (a stolen session guessing
// the current password is cut at five tries); counted before the
// password is checked.
func passwordLimits(acct int64, ip string) []loginLimit {
	return []loginLimit{
		{key: "login:ip:" + ip, max: loginPerIP, window: loginWindow, refuse: "login.too_many"},
		{key: "password:account:" + strconv.FormatInt(acct, 10), max: loginPerAccountIP, window: loginWindow,
			refuse: "account.password_too_many", clear: true},
	}
}

// accountPassword changes the signed-in member's own password: the current
// one is required, the new one is held to the invitation's rules. Every
// other session of the account ends, and this one goes on under a new id.
// A problem comes back beside its field; nothing changes then.
func (s *Server) accountPassword(c *fiber.Ctx) error {
	ctx, l, acct := c.UserContext(), localizer(c), currentAccount(c)
	p := accountPage{Page: s.page(c, l.T("account.title"), "account"), Errors: map[string]string{}}
	fail := func(status int, field, key string) error {
		p.Errors[field] = l.T(key)
		return s.render(c, status, "account/index", "", p)
	}
	limits := passwordLimits(acct.ID, s.clientIP(c))
	refusal, err := s.takeAttempt(ctx, limits)
	if err != nil {
		return errSignInUnavailable()
	}
	if refusal != "" {
		return fail(fiber.StatusTooManyRequests, "current_password", refusal)
	}
	ok, err := s.checkPassword(acct.PasswordHash, c.FormValue("current_password"))
	switch {
	case err != nil:
		return fail(fiber.StatusTooManyRequests, "current_password", "login.busy")
	case !ok:
		return fail(fiber.StatusBadRequest, "current_password", "account.password_wrong")
	}
	s.attemptSucceeded(ctx, limits)
	password := c.FormValue("new_password")
	var de *canceldesk.Error
	if err := canceldesk.ValidatePassword(password); errors.As(err, &de) {
		return fail(fiber.StatusBadRequest, "new_password", de.Key)
	}
	if password != c.FormValue("confirm_password") {
		return fail(fiber.StatusBadRequest, "confirm_password", "validation.password_mismatch")
	}
	hash, err := s.hashPassword(password)
	if errors.Is(err, errPasswordBusy) {
		return fail(fiber.StatusTooManyRequests, "new_password", "login.busy")
	} else if err != nil {
		return err
	}
	if err := s.Accounts.SetPassword(ctx, acct.ID, hash); err != nil {
		return err
	}
	// Sign out everywhere, then go on here under a new session id.
	if err := s.endAccountSessions(c, acct.ID); err != nil {
		return err
	}
	c.Locals(sessionDestroyed, nil)
	if err := s.signInSession(c, acct.ID); err != nil {
		return err
	}
	return redirect(c, "/account?password=1")
}
