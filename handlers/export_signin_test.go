package handlers

import "testing"

// OnPasswordCheck makes every password check run f first, inside its
// slot, until the test ends: tests count the checks and hold them.
func OnPasswordCheck(t testing.TB, f func()) {
	passwordCheckHook.Store(&f)
	t.Cleanup(func() { passwordCheckHook.Store(nil) })
}

// PasswordSlots is how many password checks run at once.
func PasswordSlots() int { return passwordSlotCount }

// AccountLimitKey is the limiter key of an account's failures from
// anywhere, and AccountLimit its limit.
func AccountLimitKey(email string) string { return accountLimitKey(email) }

const AccountLimit = loginPerAccount
