package core

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"time"

	"usercenter"
)

// Webhooks: an app's endpoints receive the events of its outbox that
// their filters select. The use cases here manage endpoints (authorized
// by webhooks.manage, audited, announced by webhook.* events) and give the
// dispatcher (package webhook) what it needs to claim an endpoint, read
// its events and record what it delivered, all through the Store.

// WebhookSender is what core needs of the network: the dispatcher's own
// checks and deliveries (package webhook).
type WebhookSender interface {
	// CheckURL refuses, as EInvalid (Field webhookUrl), a URL whose host
	// resolves to an address deliveries may not reach (loopback, private,
	// link-local), unless the sender allows them.
	CheckURL(ctx context.Context, u *url.URL) error
	// Send delivers one signed message and tells what happened.
	Send(ctx context.Context, m WebhookMessage) WebhookAttempt
}

// WebhookMessage is one delivery to make.
type WebhookMessage struct {
	URL     string
	Secret  string // whsec_…
	ID      string // webhook-id
	Payload []byte
}

// WebhookAttempt is what one delivery did: OK for a 2xx answer.
type WebhookAttempt struct {
	OK         bool
	StatusCode int // 0 when no answer came
	Latency    time.Duration
	Error      string // why it failed, in the sender's words; "" when OK
}

// WithWebhookSender sets the sender that checks endpoint URLs and sends
// test events. Without one, URLs are checked only for their form and
// `webhook test` fails.
func WithWebhookSender(ws WebhookSender) Option { return func(s *Service) { s.webhooks = ws } }

// DeliveryLogKeep is how many entries the delivery log of an endpoint
// keeps: the newest.
const DeliveryLogKeep = 100

// MaxWebhooksPerApp bounds an app's endpoints.
const MaxWebhooksPerApp = 20

// NewWebhook describes an endpoint to create.
type NewWebhook struct {
	SdkAppID uint64
	URL      string
	Events   []string // filters, checked by usercenter.CheckEventFilters
}

// CreateWebhook creates an endpoint of an app, which receives the events
// committed after it: its cursor is its own webhook.created event. The
// returned Webhook carries its secret, which is never shown again.
func (s *Service) CreateWebhook(ctx context.Context, actor *usercenter.Actor, in NewWebhook) (*usercenter.Webhook, error) {
	if err := actor.Authorize(in.SdkAppID, usercenter.PermWebhooksManage); err != nil {
		return nil, err
	}
	filters, err := usercenter.CheckEventFilters(in.Events)
	if err != nil {
		return nil, err
	}
	if err := s.checkWebhookURL(ctx, in.URL); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	w := usercenter.Webhook{
		ID: usercenter.NewWebhookID(), SdkAppID: in.SdkAppID, URL: in.URL, Events: filters,
		Secret: usercenter.NewWebhookSecret(), CreatedAt: now, UpdatedAt: now,
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		existing, err := tx.Webhooks(ctx, in.SdkAppID)
		if err != nil {
			return err
		}
		if len(existing) >= MaxWebhooksPerApp {
			return usercenter.Invalid(usercenter.FieldWebhookURL, "cannot be added: the app has %d endpoints, the most it may have", MaxWebhooksPerApp)
		}
		if _, err := tx.App(ctx, in.SdkAppID); err != nil {
			return err
		}
		events := []*usercenter.Event{newEvent(actor, usercenter.EventWebhookCreated, w.SdkAppID, now, usercenter.EventData{WebhookID: w.ID})}
		err = record(ctx, tx, []*usercenter.AuditEvent{adminAudit(ctx, actor, w.SdkAppID, now, usercenter.AuditWebhookCreate, w.ID, "")}, events)
		if err != nil {
			return err
		}
		rec := &WebhookRecord{Webhook: w, SealedSecret: s.vault.Seal([]byte(w.Secret), aadWebhook(w.ID))}
		rec.Secret = ""
		rec.Cursor = events[0].ID
		w.Cursor = rec.Cursor
		return tx.InsertWebhook(ctx, rec)
	})
	if err != nil {
		return nil, err
	}
	return &w, nil
}

// checkWebhookURL checks an endpoint's URL, its form and, through the
// sender, where it leads.
func (s *Service) checkWebhookURL(ctx context.Context, raw string) error {
	u, err := usercenter.CheckWebhookURL(raw)
	if err != nil {
		return err
	}
	if s.webhooks != nil {
		return s.webhooks.CheckURL(ctx, u)
	}
	return nil
}

// webhookFor reads an endpoint the actor may manage. One of an app out of
// the actor's scope, or of another app than sdkAppID (when not 0: the
// app of a REST path), is not found.
func (s *Service) webhookFor(ctx context.Context, r Reader, actor *usercenter.Actor, sdkAppID uint64, id string) (*WebhookRecord, error) {
	rec, err := r.Webhook(ctx, id)
	if err != nil {
		return nil, err
	}
	if !actor.Scoped(rec.SdkAppID) || sdkAppID != 0 && rec.SdkAppID != sdkAppID {
		return nil, usercenter.NotFound(usercenter.ResourceWebhook)
	}
	if err := actor.Require(usercenter.PermWebhooksManage); err != nil {
		return nil, err
	}
	return rec, nil
}

// Webhooks lists an app's endpoints, or, for an actor of every app and
// sdkAppID 0, every endpoint. Secrets are never listed.
func (s *Service) Webhooks(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64) ([]usercenter.Webhook, error) {
	if sdkAppID != 0 || !actor.AllApps {
		if err := actor.Authorize(sdkAppID, usercenter.PermWebhooksManage); err != nil {
			return nil, err
		}
	}
	recs, err := s.store.Webhooks(ctx, sdkAppID)
	if err != nil {
		return nil, err
	}
	out := make([]usercenter.Webhook, len(recs))
	for i, r := range recs {
		out[i] = r.Webhook
	}
	return out, nil
}

// Webhook returns one endpoint, without its secret (sdkAppID as in
// webhookFor).
func (s *Service) Webhook(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, id string) (*usercenter.Webhook, error) {
	rec, err := s.webhookFor(ctx, s.store, actor, sdkAppID, id)
	if err != nil {
		return nil, err
	}
	return &rec.Webhook, nil
}

// WebhookDeliveries returns the newest entries of an endpoint's delivery
// log, newest first.
func (s *Service) WebhookDeliveries(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, id string, limit int) ([]usercenter.WebhookDelivery, error) {
	if limit == 0 {
		limit = DefaultListLimit
	}
	if limit < 1 || limit > DeliveryLogKeep {
		return nil, usercenter.Invalid(usercenter.FieldPageSize, "must be between 1 and %d", DeliveryLogKeep)
	}
	if _, err := s.webhookFor(ctx, s.store, actor, sdkAppID, id); err != nil {
		return nil, err
	}
	return s.store.WebhookDeliveries(ctx, id, limit)
}

// WebhookPatch lists what to change of an endpoint; nil fields stay.
type WebhookPatch struct {
	URL    *string
	Events []string // nil: unchanged
}

// UpdateWebhook changes an endpoint's URL or filters. A change clears the
// endpoint's failure flag: the operator has seen to it. One audit event
// (webhook.update) and one webhook.updated event name what changed; a
// patch that changes nothing writes neither.
func (s *Service) UpdateWebhook(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, id string, p WebhookPatch) (*usercenter.Webhook, error) {
	var filters []string
	if p.Events != nil {
		var err error
		if filters, err = usercenter.CheckEventFilters(p.Events); err != nil {
			return nil, err
		}
	}
	if p.URL != nil {
		if err := s.checkWebhookURL(ctx, *p.URL); err != nil {
			return nil, err
		}
	}
	var out usercenter.Webhook
	err := s.store.Update(ctx, func(tx Tx) error {
		rec, err := s.webhookFor(ctx, tx, actor, sdkAppID, id)
		if err != nil {
			return err
		}
		var changed []string
		if p.URL != nil && *p.URL != rec.URL {
			rec.URL = *p.URL
			changed = append(changed, "url")
		}
		if filters != nil && !slices.Equal(filters, rec.Events) {
			rec.Events = filters
			changed = append(changed, "events")
		}
		out = rec.Webhook
		if len(changed) == 0 {
			return nil
		}
		now := s.now().UTC()
		rec.UpdatedAt = now
		rec.FailedAt, rec.FailedEventID = time.Time{}, 0
		out = rec.Webhook
		if err := tx.UpdateWebhook(ctx, rec); err != nil {
			return err
		}
		return s.auditWebhook(ctx, tx, actor, rec, now, usercenter.AuditWebhookUpdate, usercenter.EventWebhookUpdated, changed)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Service) auditWebhook(ctx context.Context, tx Tx, actor *usercenter.Actor, rec *WebhookRecord, now time.Time, action usercenter.AuditAction, typ usercenter.EventType, fields []string) error {
	return record(ctx, tx, []*usercenter.AuditEvent{adminAudit(ctx, actor, rec.SdkAppID, now, action, rec.ID, "")},
		[]*usercenter.Event{newEvent(actor, typ, rec.SdkAppID, now, usercenter.EventData{WebhookID: rec.ID, Fields: fields})})
}

// DeleteWebhook removes an endpoint and its delivery log.
func (s *Service) DeleteWebhook(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, id string) error {
	return s.store.Update(ctx, func(tx Tx) error {
		rec, err := s.webhookFor(ctx, tx, actor, sdkAppID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteWebhook(ctx, id); err != nil {
			return err
		}
		return s.auditWebhook(ctx, tx, actor, rec, s.now().UTC(), usercenter.AuditWebhookDelete, usercenter.EventWebhookDeleted, nil)
	})
}

// ReplayWebhook redelivers an endpoint's events from since on: it moves
// the endpoint's cursor back to just before the app's first event at or
// after since (never forward: events not yet delivered stay due), clears
// its retries and its failure flag. Only the events the outbox still
// holds can be redelivered. One audit event (webhook.replay) and one
// webhook.updated event (fields: cursor) record it.
func (s *Service) ReplayWebhook(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, id string, since time.Time) (*usercenter.Webhook, error) {
	if since.IsZero() {
		return nil, usercenter.Invalid(usercenter.FieldSince, "must be set")
	}
	var out usercenter.Webhook
	err := s.store.Update(ctx, func(tx Tx) error {
		rec, err := s.webhookFor(ctx, tx, actor, sdkAppID, id)
		if err != nil {
			return err
		}
		first, err := tx.FirstEventSince(ctx, rec.SdkAppID, since)
		if err != nil {
			return err
		}
		if first > 0 && first-1 < rec.Cursor {
			rec.Cursor = first - 1
		}
		now := s.now().UTC()
		rec.Attempts, rec.RetryingSince, rec.NextAttemptAt = 0, time.Time{}, time.Time{}
		rec.FailedAt, rec.FailedEventID = time.Time{}, 0
		rec.UpdatedAt = now
		out = rec.Webhook
		if err := tx.UpdateWebhook(ctx, rec); err != nil {
			return err
		}
		return s.auditWebhook(ctx, tx, actor, rec, now, usercenter.AuditWebhookReplay, usercenter.EventWebhookUpdated, []string{"cursor"})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// TestWebhook sends a webhook.test event to an endpoint now, signed as
// every delivery, and records the attempt in its log. It moves no cursor
// and is not audited: it changes nothing.
func (s *Service) TestWebhook(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, id string) (*usercenter.WebhookDelivery, error) {
	rec, err := s.webhookFor(ctx, s.store, actor, sdkAppID, id)
	if err != nil {
		return nil, err
	}
	if s.webhooks == nil {
		return nil, &usercenter.Error{Code: usercenter.EUnavailable, Message: "this process cannot send webhooks"}
	}
	secret, err := s.openWebhookSecret(rec)
	if err != nil {
		return nil, err
	}
	var nonce [8]byte
	rand.Read(nonce[:])
	now := s.now().UTC()
	payload, err := json.Marshal(usercenter.WebhookPayload{
		Type: usercenter.EventWebhookTest, SdkAppID: rec.SdkAppID, At: now, Actor: actor.Name,
		Data: usercenter.EventData{WebhookID: rec.ID},
	})
	if err != nil {
		return nil, usercenter.Internal(err)
	}
	a := s.webhooks.Send(ctx, WebhookMessage{URL: rec.URL, Secret: secret, ID: "test_" + hex.EncodeToString(nonce[:]), Payload: payload})
	d := &usercenter.WebhookDelivery{
		EventType: usercenter.EventWebhookTest, Attempt: 1, At: now, StatusCode: a.StatusCode,
		Latency: a.Latency, Result: usercenter.DeliveryTest, Error: a.Error,
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		return tx.InsertWebhookDeliveries(ctx, rec.ID, []*usercenter.WebhookDelivery{d}, DeliveryLogKeep)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Service) openWebhookSecret(rec *WebhookRecord) (string, error) {
	pt, err := s.vault.Open(rec.SealedSecret, aadWebhook(rec.ID))
	if err != nil {
		return "", usercenter.Internal(err)
	}
	return string(pt), nil
}

// What the dispatcher needs. It acts for no actor: it changes no data,
// only where delivery stands.

// WebhookQueue lists every endpoint, for the dispatcher to find the due
// ones, without secrets.
func (s *Service) WebhookQueue(ctx context.Context) ([]WebhookRecord, error) {
	recs, err := s.store.Webhooks(ctx, 0)
	for i := range recs {
		recs[i].SealedSecret = nil
	}
	return recs, err
}

// ClaimWebhook leases an endpoint to owner for lease from now, if it is
// free and due (see Tx.ClaimWebhook), and returns it with its secret
// opened; nil when another node holds it or nothing is due.
func (s *Service) ClaimWebhook(ctx context.Context, id, owner string, now time.Time, lease time.Duration) (*WebhookRecord, error) {
	var rec *WebhookRecord
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		rec, err = tx.ClaimWebhook(ctx, id, owner, now, now.Add(lease))
		return err
	})
	if err != nil || rec == nil {
		return nil, err
	}
	if rec.Secret, err = s.openWebhookSecret(rec); err != nil {
		return nil, err
	}
	rec.SealedSecret = nil
	return rec, nil
}

// PendingEvents returns up to limit events of an app's outbox after
// cursor, in ID order.
func (s *Service) PendingEvents(ctx context.Context, sdkAppID uint64, cursor int64, limit int) ([]usercenter.Event, error) {
	return s.store.EventsAfter(ctx, sdkAppID, cursor, limit)
}

// WebhookBacklog counts an endpoint's events not yet handled, and the At
// of the oldest.
func (s *Service) WebhookBacklog(ctx context.Context, sdkAppID uint64, cursor int64) (int, time.Time, error) {
	return s.store.EventBacklog(ctx, sdkAppID, cursor)
}

// SaveWebhookProgress records, in one transaction, where delivery to an
// endpoint stands and the attempts made since the last save, and extends
// (or, with a zero leaseUntil, releases) owner's lease. ok is false, and
// nothing is written, when owner lost the lease or the cursor moved from
// prevCursor (a replay, a deletion): the dispatcher must claim again.
func (s *Service) SaveWebhookProgress(ctx context.Context, id, owner string, prevCursor int64, state usercenter.WebhookState, leaseUntil time.Time, attempts []*usercenter.WebhookDelivery) (ok bool, err error) {
	err = s.store.Update(ctx, func(tx Tx) error {
		var err error
		if ok, err = tx.SaveWebhookState(ctx, id, owner, prevCursor, state, leaseUntil); err != nil || !ok || len(attempts) == 0 {
			return err
		}
		return tx.InsertWebhookDeliveries(ctx, id, attempts, DeliveryLogKeep)
	})
	return ok, err
}
