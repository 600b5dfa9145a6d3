package sqlstore

import (
	"fmt"
	"runtime/debug"
	"strings"

	"usercenter"
	"usercenter/core"
)

// The errors both engines return for the same thing, built in one place so
// that they say it alike.

// ErrClosed is what a store returns once Close has begun.
func ErrClosed() error {
	return &usercenter.Error{Code: usercenter.EUnavailable, Message: "the store is closed"}
}

// DiskFull is the EUnavailable of a write that found the database's disk
// full. It matches core.ErrStorage, as StorageFailed does: the store
// answers again by itself once space is freed, so callers retry later.
func DiskFull(err error) error {
	return &usercenter.Error{Code: usercenter.EUnavailable, Message: "the database's disk is full", Err: fmt.Errorf("%w: %w", core.ErrStorage, err)}
}

// StorageFailed is the EUnavailable of an I/O error of the database's
// storage, or the database server's report of one (or of running out of
// memory, files or other resources).
func StorageFailed(err error) error {
	return &usercenter.Error{Code: usercenter.EUnavailable, Message: "the database cannot use its storage", Err: fmt.Errorf("%w: %w", core.ErrStorage, err)}
}

// ErrTokenNotFound is the NotFound of a login or enterprise token.
func ErrTokenNotFound() error {
	return &usercenter.Error{Code: usercenter.ENotFound, Resource: usercenter.ResourceToken, Message: "token not found"}
}

// ErrCodeNotFound is the NotFound of a super-app temporary code.
func ErrCodeNotFound() error {
	return &usercenter.Error{Code: usercenter.ENotFound, Resource: usercenter.ResourceCode, Message: "code not found"}
}

// Conflict is the EConflict of a uniqueness violation on field. The
// message names only the field, never the value: both databases' own
// messages, kept in Err for logs, name it.
func Conflict(field usercenter.Field, err error) error {
	return &usercenter.Error{Code: usercenter.EConflict, Field: field, Message: "is already taken", Err: err}
}

// LinkConflict is the EConflict of a third-party link that belongs to
// another user of the app: a violation of LinkKey.
func LinkConflict(p usercenter.Provider, err error) error {
	return Conflict(usercenter.ThirdPartyField(p), err)
}

// Unique is a uniqueness constraint of the schema. The engines' errors
// name a violated one differently: PostgreSQL by Name, SQLite by its
// columns (Columns).
type Unique struct {
	Name  string           // PostgreSQL's name for it, in its migrations
	Table string           // the table it is of
	Cols  []string         // its columns, in order
	Field usercenter.Field // the domain field a violation is a conflict on
}

// Columns returns the constraint's columns as SQLite lists them in the
// message of a violation: "users.sdk_app_id, users.origin_id".
func (u Unique) Columns() string {
	return u.Table + "." + strings.Join(u.Cols, ", "+u.Table+".")
}

// Uniques are the uniqueness constraints a write may violate for a reason
// the caller can act on, each with the field it reports. LinkKey is apart:
// its field names the provider of the link.
var Uniques = []Unique{
	{Name: "apps_pkey", Table: "apps", Cols: []string{"sdk_app_id"}, Field: usercenter.FieldSdkAppID},
	{Name: "apps_user_domain_key", Table: "apps", Cols: []string{"user_domain"}, Field: usercenter.FieldUserDomain},
	{Name: "api_keys_pkey", Table: "api_keys", Cols: []string{"secret_id"}, Field: usercenter.FieldSecretID},
	{Name: "users_pkey", Table: "users", Cols: []string{"user_id"}, Field: usercenter.FieldUserID},
	{Name: "users_sdk_app_id_origin_id_key", Table: "users", Cols: []string{"sdk_app_id", "origin_id"}, Field: usercenter.FieldOriginID},
	{Name: "users_sdk_app_id_external_id_key", Table: "users", Cols: []string{"sdk_app_id", "external_id"}, Field: usercenter.FieldExternalID},
	{Name: "tokens_pkey", Table: "tokens", Cols: []string{"token_hash"}, Field: usercenter.FieldToken},
	{Name: "codes_pkey", Table: "codes", Cols: []string{"code_hash"}, Field: usercenter.FieldCode},
	{Name: "enterprise_tokens_pkey", Table: "enterprise_tokens", Cols: []string{"token_hash"}, Field: usercenter.FieldToken},
	{Name: "console_accounts_email_key", Table: "console_accounts", Cols: []string{"email"}, Field: usercenter.FieldEmail},
	{Name: "console_links_pkey", Table: "console_links", Cols: []string{"link_hash"}, Field: usercenter.FieldToken},
	{Name: "console_sessions_pkey", Table: "console_sessions", Cols: []string{"session_hash"}, Field: usercenter.FieldToken},
	{Name: "webhooks_pkey", Table: "webhooks", Cols: []string{"id"}, Field: usercenter.FieldWebhookID},
	{Name: "scim_tokens_pkey", Table: "scim_tokens", Cols: []string{"token_id"}, Field: usercenter.FieldToken},
	{Name: "scim_tokens_token_hash_key", Table: "scim_tokens", Cols: []string{"token_hash"}, Field: usercenter.FieldToken},
}

// LinkKey is the primary key of user_links: one user per app may hold a
// provider's account. A violation is LinkConflict.
var LinkKey = Unique{Name: "user_links_pkey", Table: "user_links", Cols: []string{"sdk_app_id", "provider", "provider_user_id"}}

// UniqueFields maps each of Uniques, as an engine names it (name), to its
// field.
func UniqueFields(name func(Unique) string) map[string]usercenter.Field {
	m := make(map[string]usercenter.Field, len(Uniques))
	for _, u := range Uniques {
		m[name(u)] = u.Field
	}
	return m
}

// Violation is the constraint a failed write broke, as far as the engine's
// error tells.
type Violation struct {
	Unique     string // the uniqueness constraint, as the engine names it; "" for none
	ForeignKey bool   // a foreign key; neither engine says which
}

// WriteError maps the constraint violation v that err, a write's error,
// reports: a uniqueness violation named in fields (see UniqueFields) is
// EConflict on the field behind it, and a foreign-key violation means the
// row refers to a parent that does not exist: NotFound (parent) when the
// caller names the parent's resource. It returns nil for anything else,
// which the engine maps its own way.
func WriteError(err error, v Violation, fields map[string]usercenter.Field, parent string) error {
	if field, ok := fields[v.Unique]; ok && v.Unique != "" {
		return Conflict(field, err)
	}
	if parent != "" && v.ForeignKey {
		return usercenter.NotFound(parent)
	}
	return nil
}

// Run calls an Update's fn with tx, turning a panic into an Internal
// error, with the stack for the log, so that the engine carries on: it
// rolls back fn's writes as for any error.
func Run(engine string, fn func(core.Tx) error, tx core.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = usercenter.Internal(fmt.Errorf("%s: panic in Update: %v\n%s", engine, p, debug.Stack()))
		}
	}()
	return fn(tx)
}

// misuse is the error of a store method called against its contract (a
// negative count, an unknown kind): only a bug in core can do that, so it
// is internal, never an invalid value a caller could fix.
func misuse(format string, args ...any) error {
	return usercenter.Internal(fmt.Errorf("sqlstore: "+format, args...))
}
