package canceldesk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"golang.org/x/crypto/argon2"
)

// Role is what a staff account may do. Roles are ordered: every role may do
// what the roles below it may.
type Role string

const (
	RoleStaff   Role = "staff"   // works orders and customer requests: search, cancel, refund, restock, within the staff refund limit
	RoleManager Role = "manager" // also refunds over the staff limit, reports and settings
	RoleOwner   Role = "owner"   // also staff accounts
)

// Roles lists every role, least first.
var Roles = []Role{RoleStaff, RoleManager, RoleOwner}

// rank is the position of r in Roles, -1 for an unknown role.
func (r Role) rank() int {
	for i, v := range Roles {
		if r == v {
			return i
		}
	}
	return -1
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.rank() >= 0 }

// AtLeast reports whether r is min or above it. An invalid role, on either
// side, is never enough.
func (r Role) AtLeast(min Role) bool {
	have, need := r.rank(), min.rank()
	return have >= 0 && need >= 0 && have >= need
}

// Account is a staff member who signs in to the dashboard.
type Account struct {
	ID    int64
	Name  string
	Email string // normalized: see NormalizeEmail
	Role  Role
	// Language is the member's choice of interface language: "" follows
	// the browser, else a catalogue tag such as "en" or "zh-TW".
	Language string
	// PasswordHash is an argon2id PHC string (see HashPassword); it is ""
	// while an invitation is pending.
	PasswordHash string
	DisabledAt   *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Active reports whether the account may sign in: it is not disabled and
// has a password.
func (a *Account) Active() bool { return a.DisabledAt == nil && a.PasswordHash != "" }

// Invited reports whether the account still waits for its member to set a
// password.
func (a *Account) Invited() bool { return a.PasswordHash == "" }

// NormalizeEmail is the form in which emails are stored and looked up:
// without surrounding space, lower-case.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Limits of account fields.
const (
	MinPasswordLen = 12  // characters
	MaxPasswordLen = 256 // bytes
	MaxNameLen     = 100 // characters
	MaxEmailLen    = 254 // characters
)

// fieldError is an error about one form field with its catalogue key.
func fieldError(code, field, key, message string) *Error {
	return &Error{Code: code, Field: field, Key: key, Message: message}
}

// ValidatePassword checks a new password's length: at least 12 characters
// and at most 256 bytes. Anything else is the member's choice.
func ValidatePassword(password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLen {
		return fieldError(EINVALID, "password", "validation.password_short", "Use at least 12 characters.")
	}
	if len(password) > MaxPasswordLen {
		return fieldError(EINVALID, "password", "validation.password_long", "That password is too long.")
	}
	return nil
}

// ValidateAccount trims the name and normalizes the email of a in place,
// then checks the name, email and role. The first problem is returned.
func ValidateAccount(a *Account) error {
	a.Name = strings.TrimSpace(a.Name)
	a.Email = NormalizeEmail(a.Email)
	err := validate.Struct(accountFields{Name: a.Name, Email: a.Email, Role: string(a.Role)})
	var fe validator.ValidationErrors
	if !errors.As(err, &fe) || len(fe) == 0 {
		return err
	}
	switch first := fe[0]; {
	case first.Field() == "Name" && first.Tag() == "required":
		return fieldError(EINVALID, "name", "validation.name_required", "Enter a name.")
	case first.Field() == "Name":
		return fieldError(EINVALID, "name", "validation.name_long", "The name is too long (at most 100 characters).")
	case first.Field() == "Email":
		return fieldError(EINVALID, "email", "validation.email", "Enter an email address like name@example.com.")
	default:
		return fieldError(EINVALID, "role", "validation.role", "Choose a role.")
	}
}

// validate checks the shape of input with struct tags
// (go-playground/validator); the rules of the domain stay in code.
var validate = validator.New(validator.WithRequiredStructEnabled())

// accountFields are the account fields a person types, with their rules.
// Errors come back in field order, so the first one is the first field.
type accountFields struct {
	Name  string `validate:"required,max=100"`
	Email string `validate:"required,max=254,email"`
	Role  string `validate:"oneof=staff manager owner"`
}

// Argon2id parameters for new hashes: OWASP's minimum (19 MiB, 2 passes,
// one lane), which keeps a sign-in around 20-50 ms on a small server.
// CheckPassword reads the parameters from each hash, so they can be raised
// later without invalidating stored passwords.
const (
	argonMemory  = 19456 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// HashPassword returns the argon2id hash of password with a random salt as
// a PHC string: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, both parts
// unpadded standard base64.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime,
		argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches hash, a string made by
// HashPassword (with any parameters). It is false for an empty or
// malformed hash, and compares in constant time.
func CheckPassword(hash, password string) bool {
	p, ok := parseArgon2id(hash)
	if !ok {
		return false
	}
	key := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1
}

type argonParams struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parseArgon2id reads a PHC argon2id string. Parameters are bounded so a
// tampered hash cannot make a check allocate gigabytes or run for minutes.
func parseArgon2id(s string) (argonParams, bool) {
	var p argonParams
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, false
	}
	params := map[string]uint64{}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return p, false
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, false
		}
		if _, dup := params[k]; dup {
			return p, false
		}
		params[k] = n
	}
	m, t, threads := params["m"], params["t"], params["p"]
	if len(params) != 3 || m < 8 || m > 1<<20 || t < 1 || t > 16 || threads < 1 || threads > 16 || m < 8*threads {
		return p, false
	}
	var err error
	if p.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return p, false
	}
	if p.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 128 {
		return p, false
	}
	p.memory, p.time, p.threads = uint32(m), uint32(t), uint8(threads)
	return p, true
}

// NewToken returns a one-time secret for a link (32 random bytes, unpadded
// URL-safe base64) and the hash to store in its place (HashToken).
func NewToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is the SHA-256 of a token string, as the store keeps it.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// AccountStore keeps the staff accounts and their invitations. Every
// method is one transaction. Errors are *Error values, not wrapped.
type AccountStore interface {
	// CreateAccount validates a (ValidateAccount, which normalizes it) and
	// inserts it, setting ID, CreatedAt and UpdatedAt. The email must be
	// unique (ECONFLICT, Field "email", Key "validation.email_taken").
	CreateAccount(ctx context.Context, a *Account) error
	// Account returns the account with that id, or ENOTFOUND.
	Account(ctx context.Context, id int64) (*Account, error)
	// AccountByEmail returns the account with that email, normalized
	// first, or ENOTFOUND.
	AccountByEmail(ctx context.Context, email string) (*Account, error)
	// Accounts lists every account by name (ignoring case), then id.
	Accounts(ctx context.Context) ([]Account, error)
	// CountAccounts returns how many accounts exist.
	CountAccounts(ctx context.Context) (int, error)
	// UpdateAccount sets the account's role and disabled state (disabling
	// an already disabled account keeps its DisabledAt) and returns it.
	// It refuses (ECONFLICT, Key "accounts.last_owner") to leave the store
	// without an active owner, also when two such changes race. Unknown id:
	// ENOTFOUND; invalid role: EINVALID (Field "role").
	UpdateAccount(ctx context.Context, id int64, role Role, disabled bool) (*Account, error)
	// SetPassword stores a new password hash (non-empty) and voids the
	// account's pending invitations. Unknown id: ENOTFOUND.
	SetPassword(ctx context.Context, id int64, hash string) error
	// SetLanguage stores the account's interface language: "" to follow
	// the browser, else a language tag. Unknown id: ENOTFOUND.
	SetLanguage(ctx context.Context, id int64, lang string) error
	// CreateInvite stores the SHA-256 of a one-time token that lets the
	// account set its password until expires. It replaces the account's
	// earlier unused invitations. Unknown account: ENOTFOUND.
	CreateInvite(ctx context.Context, accountID int64, tokenHash []byte, expires time.Time) error
	// AcceptInvite sets the password of the invited account and uses the
	// token up, in one transaction, and returns the account. An unknown,
	// used or expired token, or one of a disabled account, is ENOTFOUND
	// (Key "invite.invalid") and changes nothing.
	AcceptInvite(ctx context.Context, tokenHash []byte, passwordHash string, now time.Time) (*Account, error)
}
