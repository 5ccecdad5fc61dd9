package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
)

const newPassword = "a brand new passphrase 42"

// A member changes their own password on the account page: the current
// one is required, the new one checked as invitations check it, beside
// the field; a change signs out every other session and renews this one.
func TestAccountChangePassword(t *testing.T) {
	a := newTestApp(t)
	me := a.signedIn(t, canceldesk.RoleStaff)
	elsewhere := a.signedIn(t, canceldesk.RoleStaff)
	for _, tc := range []struct {
		name, current, next, confirm, field string
	}{
		{"WrongCurrent", "not my password at all", newPassword, newPassword, "current_password"},
		{"TooShort", testPassword, "short", "short", "new_password"},
		{"Mismatch", testPassword, newPassword, newPassword + "!", "confirm_password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			me.get(t, "/account")
			res, doc := me.post(t, "/account/password", url.Values{"current_password": {tc.current},
				"new_password": {tc.next}, "confirm_password": {tc.confirm}})
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d", res.StatusCode)
			}
			if msg := strings.TrimSpace(doc.Find("#" + tc.field + "-error").Text()); msg == "" {
				t.Errorf("no message beside %s", tc.field)
			}
		})
	}
	if res, _ := a.anonymous().login(t, testEmails[canceldesk.RoleStaff], testPassword); res.StatusCode != http.StatusSeeOther {
		t.Fatal("a refused change changed the password")
	}

	t.Run("WithoutCSRFChangesNothing", func(t *testing.T) {
		me.get(t, "/account")
		res, _ := me.post(t, "/account/password", url.Values{"_csrf": {"forged"}, "current_password": {testPassword},
			"new_password": {newPassword}, "confirm_password": {newPassword}})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d", res.StatusCode)
		}
	})

	t.Run("ChangesAndSignsOutElsewhere", func(t *testing.T) {
		before := me.sessionID()
		me.get(t, "/account")
		res, _ := me.post(t, "/account/password", url.Values{"current_password": {testPassword},
			"new_password": {newPassword}, "confirm_password": {newPassword}})
		if res.StatusCode != http.StatusSeeOther || location(res) != "/account?password=1" {
			t.Fatalf("status %d, location %q", res.StatusCode, location(res))
		}
		if after := me.sessionID(); after == "" || after == before {
			t.Errorf("session id %q → %q, want a new one", before, after)
		}
		if res, doc := me.get(t, "/account?password=1"); res.StatusCode != http.StatusOK || doc.Find(".banner-info").Length() == 0 {
			t.Errorf("this session after the change: %d", res.StatusCode)
		}
		if res, _ := elsewhere.get(t, "/orders"); !toLogin(res) {
			t.Errorf("the other session after the change: %d %s, want /login", res.StatusCode, location(res))
		}
		if res, _ := a.anonymous().login(t, testEmails[canceldesk.RoleStaff], testPassword); res.StatusCode == http.StatusSeeOther {
			t.Error("the old password still signs in")
		}
		if res, _ := a.anonymous().login(t, testEmails[canceldesk.RoleStaff], newPassword); res.StatusCode != http.StatusSeeOther {
			t.Errorf("the new password does not sign in: %d", res.StatusCode)
		}
	})
}

// Guessing the current password is cut like sign-in is: counted before the
// password is checked, so the sixth try in a row is refused unchecked.
func TestAccountPasswordIsRateLimited(t *testing.T) {
	a := newTestApp(t)
	me := a.signedIn(t, canceldesk.RoleManager)
	var checks atomic.Int32
	handlers.OnPasswordCheck(t, func() { checks.Add(1) })
	try := func(current string) int {
		me.get(t, "/account")
		res, _ := me.post(t, "/account/password", url.Values{"current_password": {current},
			"new_password": {newPassword}, "confirm_password": {newPassword}})
		return res.StatusCode
	}
	for i := range 5 {
		if got := try("a wrong guess " + string(rune('a'+i))); got != http.StatusBadRequest {
			t.Fatalf("guess %d: %d", i+1, got)
		}
	}
	n := checks.Load()
	if got := try(testPassword); got != http.StatusTooManyRequests {
		t.Fatalf("sixth try: %d, want 429", got)
	}
	if checks.Load() != n {
		t.Error("the refused try was checked")
	}
}
