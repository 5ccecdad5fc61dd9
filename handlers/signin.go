package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// Sign-in limits. Every attempt is counted before its password is
// checked, so a burst of parallel guesses is cut at the limit instead of
// being checked whole.
//
// The tight limit is per account AND address: a guesser elsewhere cannot
// lock the owner out by failing on their email. Against guessing one
// account from many addresses, the account has a slower limit of its own,
// from anywhere; that one would let a guesser lock the owner out, so it
// does not apply to a browser the account signed in from before (a "known
// device", OWASP's device-cookie scheme): a successful sign-in sets a
// random cookie, remembered beside the sessions for that account, and the
// attempts that carry it are limited on their own key instead.
const (
	loginWindow       = 15 * time.Minute
	loginPerAccountIP = 5  // failures per account from one address
	loginPerIP        = 20 // failures from one address, any accounts
	loginPerDevice    = 5  // failures from a known device of the account

	loginAccountWindow = time.Hour
	loginPerAccount    = 50 // failures per account from anywhere, but its known devices
)

// loginLimit is one count an attempt is made under.
type loginLimit struct {
	key    string
	max    int
	window time.Duration
	refuse string // catalogue key of the refusal
	// clear: a success forgets the key's failures; otherwise it takes
	// back only its own attempt, so that it counts failures alone.
	clear bool
}

// loginLimits are the counts an attempt on email from ip is made under;
// device is the hash of its known-device cookie, "" for none.
func loginLimits(email, ip, device string) []loginLimit {
	limits := []loginLimit{{key: "login:ip:" + ip, max: loginPerIP, window: loginWindow, refuse: "login.too_many"}}
	if device != "" {
		return append(limits, loginLimit{key: "login:device:" + device, max: loginPerDevice, window: loginWindow,
			refuse: "login.too_many", clear: true})
	}
	return append(limits,
		// An address never holds "/", so the key names one pair only.
		loginLimit{key: "login:account-ip:" + ip + "/" + email, max: loginPerAccountIP, window: loginWindow,
			refuse: "login.too_many", clear: true},
		loginLimit{key: accountLimitKey(email), max: loginPerAccount, window: loginAccountWindow,
			refuse: "login.account_locked"})
}

func accountLimitKey(email string) string { return "login:account:" + email }

// takeAttempt counts one attempt under every limit, atomically each, and
// returns the catalogue key of the refusal when any is over its limit, ""
// when the attempt may go on.
func (s *Server) takeAttempt(ctx context.Context, limits []loginLimit) (string, error) {
	refusal := ""
	for _, lim := range limits {
		n, err := s.Limiter.Hit(ctx, lim.key, lim.window)
		if err != nil {
			return "", err
		}
		if n > lim.max && refusal == "" {
			refusal = lim.refuse
		}
	}
	return refusal, nil
}

// attemptSucceeded takes a successful sign-in off the counts: it clears
// its own account's failures, and is not counted against the address or
// against the account from anywhere.
func (s *Server) attemptSucceeded(ctx context.Context, limits []loginLimit) {
	for _, lim := range limits {
		if lim.clear {
			_ = s.Limiter.Reset(ctx, lim.key)
		} else {
			_ = s.Limiter.Undo(ctx, lim.key)
		}
	}
}

func errSignInUnavailable() error {
	return &canceldesk.Error{Code: canceldesk.EUNAVAILABLE, Key: "error.sessions_unavailable", Message: "The sign-in service is unavailable."}
}

// passwordSlotCount bounds the password checks running at once. Each
// argon2id check holds 19 MiB and a core until it ends: unbounded, a
// flood of sign-ins took the server from 83 MB to 1.5 GB. A check waits at
// most passwordSlotWait for a slot; then the sign-in is refused with "try
// shortly".
var passwordSlotCount = min(max(runtime.NumCPU(), 1), 4)

const passwordSlotWait = 2 * time.Second

var errPasswordBusy = errors.New("handlers: every password check slot is taken")

// passwordCheckHook, when set, runs inside every password check's slot:
// tests count and hold the checks with it.
var passwordCheckHook atomic.Pointer[func()]

// checkPassword checks password against hash in one of the slots, or
// returns errPasswordBusy.
func (s *Server) checkPassword(hash, password string) (ok bool, err error) {
	err = s.inPasswordSlot(func() { ok = canceldesk.CheckPassword(hash, password) })
	return ok, err
}

// hashPassword hashes a new password (an invitation accepted) in one of
// the same slots: it costs what a check costs, and its form is public.
func (s *Server) hashPassword(password string) (hash string, err error) {
	if slotErr := s.inPasswordSlot(func() { hash, err = canceldesk.HashPassword(password) }); slotErr != nil {
		return "", slotErr
	}
	return hash, err
}

// inPasswordSlot runs work, an argon2id check or hash, in one of the
// password slots, or returns errPasswordBusy when none frees up in time.
func (s *Server) inPasswordSlot(work func()) error {
	wait := time.NewTimer(passwordSlotWait)
	defer wait.Stop()
	select {
	case s.passwordSlots <- struct{}{}:
	case <-wait.C:
		return errPasswordBusy
	}
	defer func() { <-s.passwordSlots }()
	if hook := passwordCheckHook.Load(); hook != nil {
		(*hook)()
	}
	work()
	return nil
}

// A known device is remembered for this long after the sign-in that made it.
const knownDeviceFor = 90 * 24 * time.Hour

const deviceStoragePrefix = "canceldesk:device:"

func (s *Server) deviceCookieName() string {
	if s.SecureCookies {
		return "__Host-canceldesk_device"
	}
	return "canceldesk_device"
}

// deviceID is the SHA-256 of a known-device cookie: the storage keeps
// that, never the cookie itself.
func deviceID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// knownDevice returns the id of the browser's known-device cookie when a
// sign-in to email set it, else "". The storage keeps only the SHA-256 of
// the cookie, which is the id, with the account's email.
func (s *Server) knownDevice(c *fiber.Ctx, email string) string {
	token := c.Cookies(s.deviceCookieName())
	if token == "" {
		return ""
	}
	id := deviceID(token)
	if known, err := s.sessionStore.Storage.Get(deviceStoragePrefix + id); err != nil || string(known) != email {
		return "" // unknown, or the storage is down: the stricter limits apply
	}
	return id
}

// rememberDevice marks the browser a known device of email after a
// successful sign-in, unless it is one already.
func (s *Server) rememberDevice(c *fiber.Ctx, email, device string) error {
	if device != "" {
		return nil
	}
	token := randomToken()
	if err := s.sessionStore.Storage.Set(deviceStoragePrefix+deviceID(token), []byte(email), knownDeviceFor); err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: s.deviceCookieName(), Value: token, Path: "/", MaxAge: int(knownDeviceFor.Seconds()),
		Secure: s.SecureCookies, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
	return nil
}
