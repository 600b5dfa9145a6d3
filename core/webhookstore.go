package core

import (
	"context"
	"time"

	"usercenter"
)

// WebhookRecord is a webhook endpoint as stored: its secret sealed by the
// vault, and the lease of the node delivering to it.
type WebhookRecord struct {
	usercenter.Webhook        // Secret is empty here
	SealedSecret       []byte // vault ciphertext
	// LeaseOwner is the dispatcher that delivers to the endpoint until
	// LeaseUntil; past it, any other may take over.
	LeaseOwner string
	LeaseUntil time.Time
}

// WebhookReader reads webhook endpoints, their delivery logs, and what of
// the outbox they need.
type WebhookReader interface {
	// Webhook finds an endpoint by ID (NotFound Resource "webhook").
	Webhook(ctx context.Context, id string) (*WebhookRecord, error)
	// Webhooks lists the endpoints of app sdkAppID, or of every app when
	// sdkAppID is 0, by ID.
	Webhooks(ctx context.Context, sdkAppID uint64) ([]WebhookRecord, error)
	// WebhookDeliveries returns up to limit entries of an endpoint's
	// delivery log, newest first.
	WebhookDeliveries(ctx context.Context, webhookID string, limit int) ([]usercenter.WebhookDelivery, error)
	// FirstEventSince returns the smallest ID of an event of the app's
	// outbox whose At is at or after since, and 0 when there is none.
	FirstEventSince(ctx context.Context, sdkAppID uint64, since time.Time) (int64, error)
	// EventBacklog counts the events of the app's outbox with an ID
	// greater than afterID, and tells the At of the first of them (zero
	// when there is none).
	EventBacklog(ctx context.Context, sdkAppID uint64, afterID int64) (int, time.Time, error)
}

// WebhookTx writes webhook endpoints and their delivery logs.
type WebhookTx interface {
	// InsertWebhook stores an endpoint, lease and all. It fails with
	// EConflict (Field "webhookId") on a duplicate ID, and with NotFound
	// (app) when its app does not exist.
	InsertWebhook(ctx context.Context, w *WebhookRecord) error
	// UpdateWebhook writes an endpoint's URL, Events, SealedSecret,
	// UpdatedAt and WebhookState; not its lease. NotFound when absent.
	UpdateWebhook(ctx context.Context, w *WebhookRecord) error
	// DeleteWebhook removes an endpoint and its delivery log. NotFound
	// when absent.
	DeleteWebhook(ctx context.Context, id string) error
	// ClaimWebhook leases an endpoint to owner until until, if its lease
	// is free, expired at now or owner's already, and its next attempt is
	// due at now; it returns the endpoint as leased, or nil when another
	// holds it or nothing is due. Of two transactions that claim the same
	// endpoint, at most one gets it. NotFound when absent.
	ClaimWebhook(ctx context.Context, id, owner string, now, until time.Time) (*WebhookRecord, error)
	// SaveWebhookState writes an endpoint's state and its lease's end
	// (zero releases it), if owner still holds the lease and its Cursor
	// is still prevCursor: a replay or a takeover in between leaves it
	// alone, and ok is false.
	SaveWebhookState(ctx context.Context, id, owner string, prevCursor int64, state usercenter.WebhookState, leaseUntil time.Time) (ok bool, err error)
	// InsertWebhookDeliveries appends to an endpoint's delivery log and
	// sets the entries' IDs, then deletes its oldest entries so that at
	// most keep remain. NotFound (webhook) when the endpoint is absent.
	InsertWebhookDeliveries(ctx context.Context, webhookID string, ds []*usercenter.WebhookDelivery, keep int) error
}

func aadWebhook(id string) string { return "webhook:" + id }
