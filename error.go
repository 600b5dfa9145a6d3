package usercenter

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Code classifies a domain error. Every facade maps these codes, together
// with Error.Resource, to its own wire format in exactly one table.
type Code string

const (
	EInvalid         Code = "invalid"         // a field failed validation; Error.Field names it
	ENotFound        Code = "not_found"       // Error.Resource names what is missing
	EConflict        Code = "conflict"        // a uniqueness rule; Error.Field names the field
	EForbidden       Code = "forbidden"       // the caller may not act on that app or lacks a permission
	EUnauthenticated Code = "unauthenticated" // no valid credentials
	ERateLimited     Code = "rate_limited"    // the app's per-action limit is used up
	EDisabled        Code = "disabled"        // the user or app is disabled
	EInternal        Code = "internal"        // anything unexpected; never carries details to the caller
	EUnavailable     Code = "unavailable"     // the store is shutting down or overloaded
	// EStale means a write was made conditional on the version the caller
	// had read (SCIM's If-Match), and the resource has changed since.
	EStale Code = "stale"
)

// Codes lists every Code, for the facades' table tests.
var Codes = []Code{EInvalid, ENotFound, EConflict, EForbidden, EUnauthenticated, ERateLimited, EDisabled, EInternal, EUnavailable, EStale}

// Resources named by ENotFound errors (and, where it helps a facade pick
// its code, by other errors about that resource).
const (
	ResourceUser = "user"
	ResourceApp  = "app"
	ResourceKey  = "key"
	// ResourceToken is a login token or an enterprise access token.
	ResourceToken = "token"
	// ResourceCode is a super-app temporary code that is wrong, used,
	// expired, issued for another user or value, or locked by too many
	// failures.
	ResourceCode = "code"
	// ResourceValue is a profile value the user does not have, or a kind
	// of value the super-app API does not hand out.
	ResourceValue = "value"
	// ResourceMeta is a stored meta value.
	ResourceMeta = "meta"
	// ResourceConsoleAccount is an account of the web console.
	ResourceConsoleAccount = "console_account"
	// ResourceWebhook is a webhook endpoint.
	ResourceWebhook = "webhook"
)

// Error is the one error type of the domain. Message is safe to show to the
// caller: it never contains a secret or personal data.
//
// An EInvalid or EConflict error about a Field has a Message that is a rule
// completing a sentence about the field ("must be at most 128 bytes"):
// each facade names the field in its own vocabulary and puts the rule
// after it (Describe). Every other Message is a whole sentence.
type Error struct {
	Code     Code
	Resource string
	Field    Field
	// Item is 1 + the position of the batch item the error is about (a
	// registration or an import of several users), 0 when it is about no
	// one item. ItemIndex reads it.
	Item    int
	Message string
	Err     error // the cause, for logs only
}

// ItemIndex reports the position, from 0, of the batch item the error is
// about.
func (e *Error) ItemIndex() (int, bool) { return e.Item - 1, e.Item > 0 }

// Describe is the error's message for a caller that spells fields as s
// does: the field's name, then the rule it broke. A field s does not know
// reads "the value", never a name of another facade.
func (e *Error) Describe(s Spelling) string {
	if e.Field == "" || e.Code != EInvalid && e.Code != EConflict {
		return e.Message
	}
	name, ok := s.Spell(e.Field)
	if !ok {
		name = "the value"
	}
	return name + " " + e.Message
}

// AtItem places err, when it is a domain error about a field, at item i
// (from 0) of a batch; other errors come back as they are.
func AtItem(i int, err error) error {
	var e *Error
	if !errors.As(err, &e) || e.Code != EInvalid && e.Code != EConflict {
		return err
	}
	out := *e
	out.Item = i + 1
	out.Err = err
	return &out
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorOf returns the domain error inside err, or an EInternal one wrapping it.
// A passed deadline (serve --request-timeout) is EUnavailable: a store that
// hands back the bare context error, as SQLite does, then answers in every
// facade as one that maps it itself, as PostgreSQL does.
func ErrorOf(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: EUnavailable, Message: "the request took too long; retry later", Err: err}
	}
	return &Error{Code: EInternal, Message: "internal error", Err: err}
}

// Canceled reports whether err is no more than the end of its caller's
// context: the client went away (context.Canceled) and nothing in the
// service failed. Engines hand that back bare (SQLite) or as an EInternal
// (PostgreSQL); an error the domain classified otherwise is not a
// cancellation, whatever ended it: above all an EUnavailable commit whose
// outcome is unknown, which callers must be told to check.
func Canceled(err error) bool {
	return errors.Is(err, context.Canceled) && ErrorOf(err).Code == EInternal
}

// ErrorCode returns the Code of err, or "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	return ErrorOf(err).Code
}

// Invalid reports that a field's value breaks a rule. The rule completes
// a sentence that starts with the field's name: "must be at most %d bytes".
func Invalid(field Field, rule string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(rule, args...)}
}

// Conflict reports that field's value is already another's; rule
// completes a sentence that starts with the field's name.
func Conflict(field Field, rule string, args ...any) *Error {
	return &Error{Code: EConflict, Field: field, Message: fmt.Sprintf(rule, args...)}
}

// NotFound reports a missing resource.
func NotFound(resource string) *Error {
	return &Error{Code: ENotFound, Resource: resource, Message: resource + " not found"}
}

// Forbidden reports that the caller may not do what it asked.
func Forbidden(format string, args ...any) *Error {
	return &Error{Code: EForbidden, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected error; its cause goes to logs only.
func Internal(err error) *Error {
	return &Error{Code: EInternal, Message: "internal error", Err: err}
}

// ClipName shortens a caller-supplied name to at most max bytes, cut on a
// rune boundary, followed by "…", so that a message can echo it back. A
// name of at most max bytes is returned as it is. It does not repair
// invalid UTF-8: callers that need valid text repair it first.
func ClipName(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
