package handlers

import (
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// inviteValidity is how long an invitation link works.
const inviteValidity = 7 * 24 * time.Hour

// staffPage is the owner's view of the staff accounts.
type staffPage struct {
	Page
	Accounts   []canceldesk.Account
	Roles      []canceldesk.Role
	Form       staffForm
	Errors     map[string]string
	InviteLink string // shown once, right after an invitation
	Message    string
}

type staffForm struct{ Name, Email, Role string }

func (s *Server) staffView(c *fiber.Ctx) (staffPage, error) {
	l := localizer(c)
	accts, err := s.Accounts.Accounts(c.UserContext())
	return staffPage{Page: s.page(c, l.T("staff.title"), "staff"), Accounts: accts, Roles: canceldesk.Roles,
		Form: staffForm{Role: string(canceldesk.RoleStaff)}}, err
}

// staffList shows every account with its role and state.
func (s *Server) staffList(c *fiber.Ctx) error {
	p, err := s.staffView(c)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "staff/index", "", p)
}

// staffInvite creates an account without a password and shows the owner a
// one-time link with which the new member sets theirs.
func (s *Server) staffInvite(c *fiber.Ctx) error {
	ctx := c.UserContext()
	l := localizer(c)
	form := staffForm{Name: c.FormValue("name"), Email: c.FormValue("email"), Role: c.FormValue("role")}
	acct := &canceldesk.Account{Name: form.Name, Email: canceldesk.NormalizeEmail(form.Email), Role: canceldesk.Role(form.Role)}
	err := canceldesk.ValidateAccount(acct)
	if err == nil {
		err = s.Accounts.CreateAccount(ctx, acct)
	}
	var link string
	if err == nil {
		link, err = s.inviteLink(c, acct.ID)
	}
	p, lerr := s.staffView(c)
	if lerr != nil {
		return lerr
	}
	if de, ok := err.(*canceldesk.Error); ok && de.Field != "" {
		p.Form, p.Errors = form, map[string]string{de.Field: l.T(de.Key)}
		return s.render(c, errorStatus(de.Code), "staff/index", "", p)
	} else if err != nil {
		return err
	}
	p.InviteLink = link
	p.Message = l.T("staff.invited", "Email", acct.Email)
	return s.render(c, fiber.StatusOK, "staff/index", "", p)
}

// inviteLink makes a one-time link with which the account sets its
// password; it replaces any earlier link of the account.
func (s *Server) inviteLink(c *fiber.Ctx, accountID int64) (string, error) {
	token, hash, err := canceldesk.NewToken()
	if err != nil {
		return "", err
	}
	if err := s.Accounts.CreateInvite(c.UserContext(), accountID, hash, s.Now().Add(inviteValidity)); err != nil {
		return "", err
	}
	return s.publicLink("/invite/" + token), nil
}

// staffUpdate changes an account's role, disables or enables it, or makes a
// new invitation link for a member who has not set a password yet (the
// first was lost or expired). An account disabled or given a lower role
// is signed out everywhere at once.
func (s *Server) staffUpdate(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return fiber.ErrNotFound
	}
	ctx := c.UserContext()
	acct, err := s.Accounts.Account(ctx, id)
	if err != nil {
		return err
	}
	role, disabled := acct.Role, acct.DisabledAt != nil
	switch c.FormValue("action") {
	case "role":
		role = canceldesk.Role(c.FormValue("role"))
		if !role.Valid() {
			return &canceldesk.Error{Code: canceldesk.EINVALID, Key: "validation.role", Message: "Choose a role."}
		}
	case "disable":
		disabled = true
	case "enable":
		disabled = false
	case "reinvite":
		if !acct.Invited() {
			return &canceldesk.Error{Code: canceldesk.ECONFLICT, Key: "staff.reinvite_active", Message: "This member has set a password already."}
		}
		link, err := s.inviteLink(c, acct.ID)
		if err != nil {
			return err
		}
		p, err := s.staffView(c)
		if err != nil {
			return err
		}
		p.InviteLink = link
		p.Message = localizer(c).T("staff.invited", "Email", acct.Email)
		return s.render(c, fiber.StatusOK, "staff/index", "", p)
	default:
		return &canceldesk.Error{Code: canceldesk.EINVALID, Key: "error.bad_request.title", Message: "Unknown action."}
	}
	if _, err := s.Accounts.UpdateAccount(ctx, id, role, disabled); err != nil {
		if de, ok := err.(*canceldesk.Error); ok && de.Code == canceldesk.ECONFLICT {
			p, lerr := s.staffView(c)
			if lerr != nil {
				return lerr
			}
			p.Errors = map[string]string{"account": localizer(c).T(de.Key)}
			return s.render(c, fiber.StatusConflict, "staff/index", "", p)
		}
		return err
	}
	if disabled || !role.AtLeast(acct.Role) {
		if err := s.endAccountSessions(c, id); err != nil {
			return err
		}
	}
	return redirect(c, "/staff")
}

// invitePage is the view of the set-your-password form.
type invitePage struct {
	Page
	Token string
	Error string
}

// inviteForm asks an invited member for a password.
func (s *Server) inviteForm(c *fiber.Ctx) error {
	l := localizer(c)
	return s.render(c, fiber.StatusOK, "auth/invite", "", invitePage{Page: s.page(c, l.T("invite.title"), ""), Token: c.Params("token")})
}

// inviteAccept sets the password with a valid invitation, then sends the
// member to sign in.
func (s *Server) inviteAccept(c *fiber.Ctx) error {
	l := localizer(c)
	p := invitePage{Page: s.page(c, l.T("invite.title"), ""), Token: c.Params("token")}
	password := c.FormValue("password")
	var de *canceldesk.Error
	if err := canceldesk.ValidatePassword(password); errors.As(err, &de) {
		p.Error = l.T(de.Key)
		return s.render(c, fiber.StatusBadRequest, "auth/invite", "", p)
	}
	if password != c.FormValue("confirm") {
		p.Error = l.T("validation.password_mismatch")
		return s.render(c, fiber.StatusBadRequest, "auth/invite", "", p)
	}
	hash, err := s.hashPassword(password)
	if errors.Is(err, errPasswordBusy) {
		p.Error = l.T("login.busy")
		return s.render(c, fiber.StatusTooManyRequests, "auth/invite", "", p)
	} else if err != nil {
		return err
	}
	if _, err := s.Accounts.AcceptInvite(c.UserContext(), canceldesk.HashToken(p.Token), hash, s.Now()); err != nil {
		if canceldesk.ErrorCode(err) == canceldesk.ENOTFOUND {
			p.Error = l.T("invite.invalid")
			return s.render(c, fiber.StatusNotFound, "auth/invite", "", p)
		}
		return err
	}
	return redirect(c, "/login?invited=1")
}

// accountPage is the signed-in member's own settings.
type accountPage struct {
	Page
	Saved bool
	// PasswordChanged: the password was just changed.
	PasswordChanged bool
	Errors          map[string]string // field → message, of the password form
}

// accountForm shows the member's settings: their language.
func (s *Server) accountForm(c *fiber.Ctx) error {
	l := localizer(c)
	return s.render(c, fiber.StatusOK, "account/index", "", accountPage{Page: s.page(c, l.T("account.title"), "account"),
		Saved: c.Query("saved") != "", PasswordChanged: c.Query("password") != ""})
}

// accountSave stores the member's language ("" follows the browser).
func (s *Server) accountSave(c *fiber.Ctx) error {
	lang := c.FormValue("language")
	if lang != "" {
		if lang = s.I18n.Match("", lang); lang != c.FormValue("language") {
			return &canceldesk.Error{Code: canceldesk.EINVALID, Key: "error.bad_request.title", Message: "Unknown language."}
		}
	}
	if err := s.Accounts.SetLanguage(c.UserContext(), currentAccount(c).ID, lang); err != nil {
		return err
	}
	c.ClearCookie(langCookie)
	return redirect(c, "/account?saved=1")
}
