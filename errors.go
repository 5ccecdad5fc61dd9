package canceldesk

import (
	"errors"
	"fmt"
)

// Error codes, mapped to HTTP statuses in one place (handlers.errorStatus).
const (
	ECONFLICT    = "conflict"
	EINTERNAL    = "internal"
	EINVALID     = "invalid"
	ENOTFOUND    = "not_found"
	EFORBIDDEN   = "forbidden"
	EUNAVAILABLE = "unavailable"
)

// Error is a domain error with a code and a message safe to show to a user.
type Error struct {
	Code    string
	Message string
	// Field names the form field the error is about, when there is one.
	Field string
	// Key identifies the message in the translation catalogues; Message is
	// its English text, used where no catalogue is at hand.
	Key string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf builds a domain error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of a domain error, EINTERNAL for anything else.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = &Error{Code: ENOTFOUND, Message: "Not found."}
