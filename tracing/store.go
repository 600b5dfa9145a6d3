package tracing

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"usercenter"
	"usercenter/core"
	"usercenter/storecache"
)

// Store is a core.Store that makes a span of every call to the store it
// wraps: each read, each Update, and each call on an Update's Tx (as a
// child of the Update's span). A span is named after the method
// ("store.User", "tx.InsertUser") and carries only that name
// (db.operation.name) and, for a failure, the domain error code: never an
// argument or a result. A lookup that finds nothing is no failure.
type Store struct {
	reader
	s core.Store
}

var _ core.Store = (*Store)(nil)

// NewStore traces the calls to s with tp's tracer.
func NewStore(s core.Store, tp trace.TracerProvider) *Store {
	t := Tracer(tp)
	return &Store{s: s, reader: reader{r: s, t: t, kind: "store."}}
}

// Update traces the Update and, inside it, every call on its Tx.
func (s *Store) Update(ctx context.Context, fn func(core.Tx) error) error {
	ctx, span := s.t.Start(ctx, "store.Update", trace.WithAttributes(attribute.String(methodKey, "Update")))
	err := s.s.Update(ctx, func(tx core.Tx) error {
		return fn(&txn{reader: reader{r: tx, t: s.t, kind: "tx.", parent: span}, tx: tx})
	})
	end(span, err)
	return err
}

// Ping traces the check.
func (s *Store) Ping(ctx context.Context) error {
	ctx, span := s.start(ctx, "store.Ping", "Ping")
	err := s.s.Ping(ctx)
	end(span, err)
	return err
}

// Close closes the wrapped store.
func (s *Store) Close() error { return s.s.Close() }

const methodKey = "db.operation.name"

// reader traces the reads of r.
type reader struct {
	r    core.Reader
	t    trace.Tracer
	kind string // the span name's prefix: "store." or "tx."
	// parent is the Update a Tx's spans belong to: core hands a Tx the
	// request's context, not the one Update was called with.
	parent trace.Span
}

func (r reader) start(ctx context.Context, name, method string) (context.Context, trace.Span) {
	if r.parent != nil {
		ctx = trace.ContextWithSpan(ctx, r.parent)
	}
	return r.t.Start(ctx, name, trace.WithAttributes(attribute.String(methodKey, method)))
}

// end ends span, marking it failed by the error's domain code only: an
// error's text may quote a value.
func end(span trace.Span, err error) {
	if err != nil {
		if code := usercenter.ErrorCode(err); code != usercenter.ENotFound {
			span.SetStatus(codes.Error, string(code))
		}
	}
	span.End()
}

// traced runs one call of method in a span.
func traced[T any](r reader, ctx context.Context, method string, call func(context.Context) (T, error)) (T, error) {
	ctx, span := r.start(ctx, r.kind+method, method)
	v, err := call(ctx)
	end(span, err)
	return v, err
}

// traced2 is traced for calls with two results.
func traced2[T, U any](r reader, ctx context.Context, method string, call func(context.Context) (T, U, error)) (T, U, error) {
	ctx, span := r.start(ctx, r.kind+method, method)
	v, w, err := call(ctx)
	end(span, err)
	return v, w, err
}

// tracedErr is traced for calls with no result but the error.
func tracedErr(r reader, ctx context.Context, method string, call func(context.Context) error) error {
	ctx, span := r.start(ctx, r.kind+method, method)
	err := call(ctx)
	end(span, err)
	return err
}

func (r reader) App(ctx context.Context, sdkAppID uint64) (*core.AppRecord, error) {
	return traced(r, ctx, "App", func(ctx context.Context) (*core.AppRecord, error) { return r.r.App(ctx, sdkAppID) })
}

func (r reader) Apps(ctx context.Context) ([]core.AppRecord, error) {
	return traced(r, ctx, "Apps", r.r.Apps)
}

func (r reader) Key(ctx context.Context, secretID string) (*core.KeyRecord, error) {
	return traced(r, ctx, "Key", func(ctx context.Context) (*core.KeyRecord, error) { return r.r.Key(ctx, secretID) })
}

func (r reader) Keys(ctx context.Context) ([]core.KeyRecord, error) {
	return traced(r, ctx, "Keys", r.r.Keys)
}

func (r reader) User(ctx context.Context, userID string) (*core.UserRecord, error) {
	return traced(r, ctx, "User", func(ctx context.Context) (*core.UserRecord, error) { return r.r.User(ctx, userID) })
}

func (r reader) UserCard(ctx context.Context, userID string) (*core.UserCard, error) {
	return traced(r, ctx, "UserCard", func(ctx context.Context) (*core.UserCard, error) { return r.r.UserCard(ctx, userID) })
}

func (r reader) UserCardInApp(ctx context.Context, sdkAppID uint64, userID string) (*core.UserCard, error) {
	return traced(r, ctx, "UserCardInApp", func(ctx context.Context) (*core.UserCard, error) {
		return r.r.UserCardInApp(ctx, sdkAppID, userID)
	})
}

func (r reader) UserCardsByOrigin(ctx context.Context, apps []uint64, originID string) ([]core.UserCard, error) {
	return traced(r, ctx, "UserCardsByOrigin", func(ctx context.Context) ([]core.UserCard, error) {
		return r.r.UserCardsByOrigin(ctx, apps, originID)
	})
}

func (r reader) UserByOrigin(ctx context.Context, sdkAppID uint64, originID string) (*core.UserRecord, error) {
	return traced(r, ctx, "UserByOrigin", func(ctx context.Context) (*core.UserRecord, error) {
		return r.r.UserByOrigin(ctx, sdkAppID, originID)
	})
}

func (r reader) UsersByOrigin(ctx context.Context, apps []uint64, originID string) ([]core.UserRecord, error) {
	return traced(r, ctx, "UsersByOrigin", func(ctx context.Context) ([]core.UserRecord, error) {
		return r.r.UsersByOrigin(ctx, apps, originID)
	})
}

func (r reader) UsersByIndex(ctx context.Context, sdkAppID uint64, field usercenter.PIIField, index []byte) ([]core.UserRecord, error) {
	return traced(r, ctx, "UsersByIndex", func(ctx context.Context) ([]core.UserRecord, error) {
		return r.r.UsersByIndex(ctx, sdkAppID, field, index)
	})
}

func (r reader) UserByExternalID(ctx context.Context, sdkAppID uint64, externalID string) (*core.UserRecord, error) {
	return traced(r, ctx, "UserByExternalID", func(ctx context.Context) (*core.UserRecord, error) {
		return r.r.UserByExternalID(ctx, sdkAppID, externalID)
	})
}

func (r reader) UserByLink(ctx context.Context, sdkAppID uint64, provider usercenter.Provider, providerUserID string) (*core.UserRecord, error) {
	return traced(r, ctx, "UserByLink", func(ctx context.Context) (*core.UserRecord, error) {
		return r.r.UserByLink(ctx, sdkAppID, provider, providerUserID)
	})
}

func (r reader) ListUsers(ctx context.Context, sdkAppID uint64, offset, limit int) ([]core.UserRecord, int, error) {
	return traced2(r, ctx, "ListUsers", func(ctx context.Context) ([]core.UserRecord, int, error) {
		return r.r.ListUsers(ctx, sdkAppID, offset, limit)
	})
}

func (r reader) UsersAfter(ctx context.Context, sdkAppID uint64, afterUserID string, limit int) ([]core.UserRecord, error) {
	return traced(r, ctx, "UsersAfter", func(ctx context.Context) ([]core.UserRecord, error) {
		return r.r.UsersAfter(ctx, sdkAppID, afterUserID, limit)
	})
}

func (r reader) UsersBefore(ctx context.Context, sdkAppID uint64, beforeUserID string, limit int) ([]core.UserRecord, error) {
	return traced(r, ctx, "UsersBefore", func(ctx context.Context) ([]core.UserRecord, error) {
		return r.r.UsersBefore(ctx, sdkAppID, beforeUserID, limit)
	})
}

func (r reader) UsersModifiedAfter(ctx context.Context, sdkAppID uint64, after time.Time, afterUserID string, until time.Time, limit int) ([]core.UserRecord, error) {
	return traced(r, ctx, "UsersModifiedAfter", func(ctx context.Context) ([]core.UserRecord, error) {
		return r.r.UsersModifiedAfter(ctx, sdkAppID, after, afterUserID, until, limit)
	})
}

func (r reader) Token(ctx context.Context, hash []byte) (*core.Token, error) {
	return traced(r, ctx, "Token", func(ctx context.Context) (*core.Token, error) { return r.r.Token(ctx, hash) })
}

func (r reader) LiveTokens(ctx context.Context, userID string, now time.Time) (int, error) {
	return traced(r, ctx, "LiveTokens", func(ctx context.Context) (int, error) { return r.r.LiveTokens(ctx, userID, now) })
}

func (r reader) UserStats(ctx context.Context, sdkAppID uint64, since time.Time) (*core.UserStats, error) {
	return traced(r, ctx, "UserStats", func(ctx context.Context) (*core.UserStats, error) { return r.r.UserStats(ctx, sdkAppID, since) })
}

func (r reader) Meta(ctx context.Context, name string) ([]byte, error) {
	return traced(r, ctx, "Meta", func(ctx context.Context) ([]byte, error) { return r.r.Meta(ctx, name) })
}

func (r reader) AuditEvents(ctx context.Context, f usercenter.AuditFilter) ([]usercenter.AuditEvent, error) {
	return traced(r, ctx, "AuditEvents", func(ctx context.Context) ([]usercenter.AuditEvent, error) { return r.r.AuditEvents(ctx, f) })
}

func (r reader) Events(ctx context.Context, f usercenter.EventFilter) ([]usercenter.Event, error) {
	return traced(r, ctx, "Events", func(ctx context.Context) ([]usercenter.Event, error) { return r.r.Events(ctx, f) })
}

func (r reader) LastEventID(ctx context.Context) (int64, error) {
	return traced(r, ctx, "LastEventID", func(ctx context.Context) (int64, error) { return r.r.LastEventID(ctx) })
}

func (r reader) EmailIndexes(ctx context.Context, afterUserID string, limit int) ([]core.IndexedEmail, error) {
	return traced(r, ctx, "EmailIndexes", func(ctx context.Context) ([]core.IndexedEmail, error) {
		return r.r.EmailIndexes(ctx, afterUserID, limit)
	})
}

func (r reader) EventsAfter(ctx context.Context, sdkAppID uint64, afterID int64, limit int) ([]usercenter.Event, error) {
	return traced(r, ctx, "EventsAfter", func(ctx context.Context) ([]usercenter.Event, error) {
		return r.r.EventsAfter(ctx, sdkAppID, afterID, limit)
	})
}

func (r reader) SealedValues(ctx context.Context, kind core.SealedKind, after string, limit int) ([]core.SealedValue, error) {
	return traced(r, ctx, "SealedValues", func(ctx context.Context) ([]core.SealedValue, error) {
		return r.r.SealedValues(ctx, kind, after, limit)
	})
}

func (r reader) AppByDomain(ctx context.Context, userDomain string) (*core.AppRecord, error) {
	return traced(r, ctx, "AppByDomain", func(ctx context.Context) (*core.AppRecord, error) { return r.r.AppByDomain(ctx, userDomain) })
}

func (r reader) EnterpriseToken(ctx context.Context, hash []byte) (*core.EnterpriseToken, error) {
	return traced(r, ctx, "EnterpriseToken", func(ctx context.Context) (*core.EnterpriseToken, error) {
		return r.r.EnterpriseToken(ctx, hash)
	})
}

// txn traces the calls on an Update's Tx.
type txn struct {
	reader
	tx core.Tx
}

var _ core.Tx = (*txn)(nil)

func (t *txn) InsertApp(ctx context.Context, app *core.AppRecord) error {
	return tracedErr(t.reader, ctx, "InsertApp", func(ctx context.Context) error { return t.tx.InsertApp(ctx, app) })
}

func (t *txn) InsertKey(ctx context.Context, key *core.KeyRecord) error {
	return tracedErr(t.reader, ctx, "InsertKey", func(ctx context.Context) error { return t.tx.InsertKey(ctx, key) })
}

func (t *txn) RevokeKey(ctx context.Context, secretID string, at time.Time) error {
	return tracedErr(t.reader, ctx, "RevokeKey", func(ctx context.Context) error { return t.tx.RevokeKey(ctx, secretID, at) })
}

func (t *txn) InsertUser(ctx context.Context, u *core.UserRecord) error {
	return tracedErr(t.reader, ctx, "InsertUser", func(ctx context.Context) error { return t.tx.InsertUser(ctx, u) })
}

func (t *txn) InsertUsers(ctx context.Context, users []*core.UserRecord) error {
	return tracedErr(t.reader, ctx, "InsertUsers", func(ctx context.Context) error { return t.tx.InsertUsers(ctx, users) })
}

func (t *txn) UpdateUser(ctx context.Context, u *core.UserRecord) error {
	return tracedErr(t.reader, ctx, "UpdateUser", func(ctx context.Context) error { return t.tx.UpdateUser(ctx, u) })
}

func (t *txn) DeleteUser(ctx context.Context, userID string) error {
	return tracedErr(t.reader, ctx, "DeleteUser", func(ctx context.Context) error { return t.tx.DeleteUser(ctx, userID) })
}

func (t *txn) InsertToken(ctx context.Context, tok *core.Token) error {
	return tracedErr(t.reader, ctx, "InsertToken", func(ctx context.Context) error { return t.tx.InsertToken(ctx, tok) })
}

func (t *txn) DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error) {
	return traced(t.reader, ctx, "DeleteExpiredTokens", func(ctx context.Context) (int, error) { return t.tx.DeleteExpiredTokens(ctx, now) })
}

func (t *txn) DeleteUserTokens(ctx context.Context, userID string) (int, error) {
	return traced(t.reader, ctx, "DeleteUserTokens", func(ctx context.Context) (int, error) { return t.tx.DeleteUserTokens(ctx, userID) })
}

func (t *txn) DeleteOldEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	return traced(t.reader, ctx, "DeleteOldEvents", func(ctx context.Context) (int, error) { return t.tx.DeleteOldEvents(ctx, before, limit) })
}

func (t *txn) SetEmailIndex(ctx context.Context, userID string, index []byte) error {
	return tracedErr(t.reader, ctx, "SetEmailIndex", func(ctx context.Context) error { return t.tx.SetEmailIndex(ctx, userID, index) })
}

func (t *txn) SetMeta(ctx context.Context, name string, value []byte) error {
	return tracedErr(t.reader, ctx, "SetMeta", func(ctx context.Context) error { return t.tx.SetMeta(ctx, name, value) })
}

func (t *txn) InsertAudit(ctx context.Context, e *usercenter.AuditEvent) error {
	return tracedErr(t.reader, ctx, "InsertAudit", func(ctx context.Context) error { return t.tx.InsertAudit(ctx, e) })
}

func (t *txn) EraseAuditUser(ctx context.Context, userID string) (int, error) {
	return traced(t.reader, ctx, "EraseAuditUser", func(ctx context.Context) (int, error) { return t.tx.EraseAuditUser(ctx, userID) })
}

func (t *txn) InsertAudits(ctx context.Context, events []*usercenter.AuditEvent) error {
	return tracedErr(t.reader, ctx, "InsertAudits", func(ctx context.Context) error { return t.tx.InsertAudits(ctx, events) })
}

func (t *txn) InsertEvents(ctx context.Context, events []*usercenter.Event) error {
	return tracedErr(t.reader, ctx, "InsertEvents", func(ctx context.Context) error { return t.tx.InsertEvents(ctx, events) })
}

func (t *txn) EraseEventsUser(ctx context.Context, sdkAppID uint64, userID string) (int, error) {
	return traced(t.reader, ctx, "EraseEventsUser", func(ctx context.Context) (int, error) { return t.tx.EraseEventsUser(ctx, sdkAppID, userID) })
}

func (t *txn) UpdateSealed(ctx context.Context, v core.SealedValue) error {
	return tracedErr(t.reader, ctx, "UpdateSealed", func(ctx context.Context) error { return t.tx.UpdateSealed(ctx, v) })
}

func (t *txn) UpdateApp(ctx context.Context, app *core.AppRecord) error {
	return tracedErr(t.reader, ctx, "UpdateApp", func(ctx context.Context) error { return t.tx.UpdateApp(ctx, app) })
}

func (t *txn) InsertCode(ctx context.Context, c *core.Code) error {
	return tracedErr(t.reader, ctx, "InsertCode", func(ctx context.Context) error { return t.tx.InsertCode(ctx, c) })
}

func (t *txn) TakeCode(ctx context.Context, hash []byte, at time.Time) (*core.Code, error) {
	return traced(t.reader, ctx, "TakeCode", func(ctx context.Context) (*core.Code, error) { return t.tx.TakeCode(ctx, hash, at) })
}

func (t *txn) CodeAttempts(ctx context.Context, sdkAppID uint64, userID string) (int, time.Time, error) {
	return traced2(t.reader, ctx, "CodeAttempts", func(ctx context.Context) (int, time.Time, error) {
		return t.tx.CodeAttempts(ctx, sdkAppID, userID)
	})
}

func (t *txn) SetCodeAttempts(ctx context.Context, sdkAppID uint64, userID string, n int, since time.Time) error {
	return tracedErr(t.reader, ctx, "SetCodeAttempts", func(ctx context.Context) error {
		return t.tx.SetCodeAttempts(ctx, sdkAppID, userID, n, since)
	})
}

func (t *txn) DeleteExpiredCodes(ctx context.Context, now time.Time) (int, error) {
	return traced(t.reader, ctx, "DeleteExpiredCodes", func(ctx context.Context) (int, error) { return t.tx.DeleteExpiredCodes(ctx, now) })
}

func (t *txn) InsertEnterpriseToken(ctx context.Context, tok *core.EnterpriseToken) error {
	return tracedErr(t.reader, ctx, "InsertEnterpriseToken", func(ctx context.Context) error { return t.tx.InsertEnterpriseToken(ctx, tok) })
}

func (t *txn) DeleteExpiredEnterpriseTokens(ctx context.Context, now time.Time) (int, error) {
	return traced(t.reader, ctx, "DeleteExpiredEnterpriseTokens", func(ctx context.Context) (int, error) {
		return t.tx.DeleteExpiredEnterpriseTokens(ctx, now)
	})
}

func (t *txn) TrimEnterpriseTokens(ctx context.Context, secretID string, keep int) (int, error) {
	return traced(t.reader, ctx, "TrimEnterpriseTokens", func(ctx context.Context) (int, error) {
		return t.tx.TrimEnterpriseTokens(ctx, secretID, keep)
	})
}

func (r reader) ConsoleAccount(ctx context.Context, id string) (*core.ConsoleAccountRecord, error) {
	return traced(r, ctx, "ConsoleAccount", func(ctx context.Context) (*core.ConsoleAccountRecord, error) { return r.r.ConsoleAccount(ctx, id) })
}

func (r reader) ConsoleAccountByEmail(ctx context.Context, email string) (*core.ConsoleAccountRecord, error) {
	return traced(r, ctx, "ConsoleAccountByEmail", func(ctx context.Context) (*core.ConsoleAccountRecord, error) {
		return r.r.ConsoleAccountByEmail(ctx, email)
	})
}

func (r reader) ConsoleAccounts(ctx context.Context) ([]core.ConsoleAccountRecord, error) {
	return traced(r, ctx, "ConsoleAccounts", func(ctx context.Context) ([]core.ConsoleAccountRecord, error) { return r.r.ConsoleAccounts(ctx) })
}

func (r reader) ConsoleLink(ctx context.Context, hash []byte) (*core.ConsoleLink, error) {
	return traced(r, ctx, "ConsoleLink", func(ctx context.Context) (*core.ConsoleLink, error) { return r.r.ConsoleLink(ctx, hash) })
}

func (r reader) ConsoleSession(ctx context.Context, hash []byte) (*core.ConsoleSession, error) {
	return traced(r, ctx, "ConsoleSession", func(ctx context.Context) (*core.ConsoleSession, error) { return r.r.ConsoleSession(ctx, hash) })
}

func (r reader) ConsoleAttempts(ctx context.Context, key string) (int, time.Time, error) {
	return traced2(r, ctx, "ConsoleAttempts", func(ctx context.Context) (int, time.Time, error) { return r.r.ConsoleAttempts(ctx, key) })
}

func (t *txn) InsertConsoleAccount(ctx context.Context, a *core.ConsoleAccountRecord) error {
	return tracedErr(t.reader, ctx, "InsertConsoleAccount", func(ctx context.Context) error { return t.tx.InsertConsoleAccount(ctx, a) })
}

func (t *txn) UpdateConsoleAccount(ctx context.Context, a *core.ConsoleAccountRecord) error {
	return tracedErr(t.reader, ctx, "UpdateConsoleAccount", func(ctx context.Context) error { return t.tx.UpdateConsoleAccount(ctx, a) })
}

func (t *txn) InsertConsoleLink(ctx context.Context, l *core.ConsoleLink) error {
	return tracedErr(t.reader, ctx, "InsertConsoleLink", func(ctx context.Context) error { return t.tx.InsertConsoleLink(ctx, l) })
}

func (t *txn) TakeConsoleLink(ctx context.Context, hash []byte, at time.Time) (*core.ConsoleLink, error) {
	return traced(t.reader, ctx, "TakeConsoleLink", func(ctx context.Context) (*core.ConsoleLink, error) { return t.tx.TakeConsoleLink(ctx, hash, at) })
}

func (t *txn) InsertConsoleSession(ctx context.Context, s *core.ConsoleSession) error {
	return tracedErr(t.reader, ctx, "InsertConsoleSession", func(ctx context.Context) error { return t.tx.InsertConsoleSession(ctx, s) })
}

func (t *txn) TouchConsoleSession(ctx context.Context, hash []byte, at time.Time) error {
	return tracedErr(t.reader, ctx, "TouchConsoleSession", func(ctx context.Context) error { return t.tx.TouchConsoleSession(ctx, hash, at) })
}

func (t *txn) DeleteConsoleSession(ctx context.Context, hash []byte) error {
	return tracedErr(t.reader, ctx, "DeleteConsoleSession", func(ctx context.Context) error { return t.tx.DeleteConsoleSession(ctx, hash) })
}

func (t *txn) DeleteConsoleSessions(ctx context.Context, accountID string) (int, error) {
	return traced(t.reader, ctx, "DeleteConsoleSessions", func(ctx context.Context) (int, error) { return t.tx.DeleteConsoleSessions(ctx, accountID) })
}

func (t *txn) SetConsoleAttempts(ctx context.Context, key string, n int, since time.Time) error {
	return tracedErr(t.reader, ctx, "SetConsoleAttempts", func(ctx context.Context) error { return t.tx.SetConsoleAttempts(ctx, key, n, since) })
}

func (t *txn) DeleteExpiredConsole(ctx context.Context, now time.Time) (int, error) {
	return traced(t.reader, ctx, "DeleteExpiredConsole", func(ctx context.Context) (int, error) { return t.tx.DeleteExpiredConsole(ctx, now) })
}

func (r reader) Webhook(ctx context.Context, id string) (*core.WebhookRecord, error) {
	return traced(r, ctx, "Webhook", func(ctx context.Context) (*core.WebhookRecord, error) { return r.r.Webhook(ctx, id) })
}

func (r reader) Webhooks(ctx context.Context, sdkAppID uint64) ([]core.WebhookRecord, error) {
	return traced(r, ctx, "Webhooks", func(ctx context.Context) ([]core.WebhookRecord, error) { return r.r.Webhooks(ctx, sdkAppID) })
}

func (r reader) WebhookDeliveries(ctx context.Context, webhookID string, limit int) ([]usercenter.WebhookDelivery, error) {
	return traced(r, ctx, "WebhookDeliveries", func(ctx context.Context) ([]usercenter.WebhookDelivery, error) {
		return r.r.WebhookDeliveries(ctx, webhookID, limit)
	})
}

func (r reader) FirstEventSince(ctx context.Context, sdkAppID uint64, since time.Time) (int64, error) {
	return traced(r, ctx, "FirstEventSince", func(ctx context.Context) (int64, error) { return r.r.FirstEventSince(ctx, sdkAppID, since) })
}

func (r reader) EventBacklog(ctx context.Context, sdkAppID uint64, afterID int64) (int, time.Time, error) {
	return traced2(r, ctx, "EventBacklog", func(ctx context.Context) (int, time.Time, error) { return r.r.EventBacklog(ctx, sdkAppID, afterID) })
}

func (t *txn) InsertWebhook(ctx context.Context, w *core.WebhookRecord) error {
	return tracedErr(t.reader, ctx, "InsertWebhook", func(ctx context.Context) error { return t.tx.InsertWebhook(ctx, w) })
}

func (t *txn) UpdateWebhook(ctx context.Context, w *core.WebhookRecord) error {
	return tracedErr(t.reader, ctx, "UpdateWebhook", func(ctx context.Context) error { return t.tx.UpdateWebhook(ctx, w) })
}

func (t *txn) DeleteWebhook(ctx context.Context, id string) error {
	return tracedErr(t.reader, ctx, "DeleteWebhook", func(ctx context.Context) error { return t.tx.DeleteWebhook(ctx, id) })
}

func (t *txn) ClaimWebhook(ctx context.Context, id string, owner string, now time.Time, until time.Time) (*core.WebhookRecord, error) {
	return traced(t.reader, ctx, "ClaimWebhook", func(ctx context.Context) (*core.WebhookRecord, error) {
		return t.tx.ClaimWebhook(ctx, id, owner, now, until)
	})
}

func (t *txn) SaveWebhookState(ctx context.Context, id string, owner string, prevCursor int64, state usercenter.WebhookState, leaseUntil time.Time) (bool, error) {
	return traced(t.reader, ctx, "SaveWebhookState", func(ctx context.Context) (bool, error) {
		return t.tx.SaveWebhookState(ctx, id, owner, prevCursor, state, leaseUntil)
	})
}

func (t *txn) InsertWebhookDeliveries(ctx context.Context, webhookID string, ds []*usercenter.WebhookDelivery, keep int) error {
	return tracedErr(t.reader, ctx, "InsertWebhookDeliveries", func(ctx context.Context) error { return t.tx.InsertWebhookDeliveries(ctx, webhookID, ds, keep) })
}

func (r reader) SCIMToken(ctx context.Context, hash []byte) (*core.SCIMTokenRecord, error) {
	return traced(r, ctx, "SCIMToken", func(ctx context.Context) (*core.SCIMTokenRecord, error) { return r.r.SCIMToken(ctx, hash) })
}

func (r reader) SCIMTokenByID(ctx context.Context, id string) (*core.SCIMTokenRecord, error) {
	return traced(r, ctx, "SCIMTokenByID", func(ctx context.Context) (*core.SCIMTokenRecord, error) { return r.r.SCIMTokenByID(ctx, id) })
}

func (r reader) SCIMTokens(ctx context.Context, sdkAppID uint64) ([]core.SCIMTokenRecord, error) {
	return traced(r, ctx, "SCIMTokens", func(ctx context.Context) ([]core.SCIMTokenRecord, error) { return r.r.SCIMTokens(ctx, sdkAppID) })
}

func (t *txn) InsertSCIMToken(ctx context.Context, tok *core.SCIMTokenRecord) error {
	return tracedErr(t.reader, ctx, "InsertSCIMToken", func(ctx context.Context) error { return t.tx.InsertSCIMToken(ctx, tok) })
}

func (t *txn) RevokeSCIMToken(ctx context.Context, id string, at time.Time) error {
	return tracedErr(t.reader, ctx, "RevokeSCIMToken", func(ctx context.Context) error { return t.tx.RevokeSCIMToken(ctx, id, at) })
}

var _ storecache.TxPublisher = (*txn)(nil)

// PublishOnCommit passes the caches' invalidation message to the traced
// Tx, if it can send one with its transaction.
func (t *txn) PublishOnCommit(ctx context.Context, msg []byte) (bool, error) {
	p, ok := t.tx.(storecache.TxPublisher)
	if !ok {
		return false, nil
	}
	return p.PublishOnCommit(ctx, msg)
}
