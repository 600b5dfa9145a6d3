package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"

	"usercenter"
	"usercenter/core"
)

// WebhookColumns are the columns of webhooks, in the order of WebhookArgs
// and ScanWebhook.
const WebhookColumns = `id, sdk_app_id, url, events, secret, created_at, updated_at,
	cursor, attempts, retrying_since, next_attempt_at, failed_at, failed_event_id, lease_owner, lease_until`

// WebhookArgs returns the values of w's WebhookColumns.
func WebhookArgs(engine string, w *core.WebhookRecord) ([]any, error) {
	events, err := json.Marshal(w.Events)
	if err != nil {
		return nil, fmt.Errorf("%s: webhook events: %w", engine, err)
	}
	ts := rowTimes{engine: engine}
	return ts.row(w.ID, int64(w.SdkAppID), w.URL, string(events), w.SealedSecret,
		ts.at("webhooks.created_at", w.CreatedAt), ts.at("webhooks.updated_at", w.UpdatedAt),
		w.Cursor, int64(w.Attempts), ts.null("webhooks.retrying_since", w.RetryingSince),
		ts.null("webhooks.next_attempt_at", w.NextAttemptAt), ts.null("webhooks.failed_at", w.FailedAt),
		w.FailedEventID, w.LeaseOwner, ts.null("webhooks.lease_until", w.LeaseUntil))
}

// ScanWebhook reads a row of WebhookColumns.
func ScanWebhook(row Scanner) (core.WebhookRecord, error) {
	var (
		w                                  core.WebhookRecord
		app, created, updated, attempts    int64
		events                             string
		retrying, next, failed, leaseUntil *int64
	)
	err := row.Scan(&w.ID, &app, &w.URL, &events, &w.SealedSecret, &created, &updated,
		&w.Cursor, &attempts, &retrying, &next, &failed, &w.FailedEventID, &w.LeaseOwner, &leaseUntil)
	if err != nil {
		return w, err
	}
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return w, fmt.Errorf("webhook %s: events: %w", w.ID, err)
	}
	w.SdkAppID = uint64(app)
	w.CreatedAt, w.UpdatedAt = DecodeTime(created), DecodeTime(updated)
	w.Attempts = int(attempts)
	w.RetryingSince, w.NextAttemptAt, w.FailedAt = DecodeNullTime(retrying), DecodeNullTime(next), DecodeNullTime(failed)
	w.LeaseUntil = DecodeNullTime(leaseUntil)
	return w, nil
}

// InsertWebhook is the statement of Tx.InsertWebhook.
func InsertWebhook(p Placeholder) string {
	return `INSERT INTO webhooks (` + WebhookColumns + `) VALUES (` + p.List(1, 15) + `)`
}

// UpdateWebhook is the statement of Tx.UpdateWebhook: its parameters are
// WebhookArgs but the ID, the app, created_at and the lease, then the ID.
func UpdateWebhook(p Placeholder) string {
	return `UPDATE webhooks SET url = ` + p.Nth(1) + `, events = ` + p.Nth(2) + `, secret = ` + p.Nth(3) +
		`, updated_at = ` + p.Nth(4) + `, ` + stateSet(p, 5) + ` WHERE id = ` + p.Nth(11)
}

// UpdateWebhookArgs are UpdateWebhook's parameters for w.
func UpdateWebhookArgs(engine string, w *core.WebhookRecord) ([]any, error) {
	a, err := WebhookArgs(engine, w)
	if err != nil {
		return nil, err
	}
	return []any{a[2], a[3], a[4], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[0]}, nil
}

// stateSet assigns a WebhookState's six columns from parameters from on.
func stateSet(p Placeholder, from int) string {
	return `cursor = ` + p.Nth(from) + `, attempts = ` + p.Nth(from+1) + `, retrying_since = ` + p.Nth(from+2) +
		`, next_attempt_at = ` + p.Nth(from+3) + `, failed_at = ` + p.Nth(from+4) + `, failed_event_id = ` + p.Nth(from+5)
}

// SaveWebhookState is the statement of Tx.SaveWebhookState: its parameters
// are SaveWebhookStateArgs'.
func SaveWebhookState(p Placeholder) string {
	return `UPDATE webhooks SET ` + stateSet(p, 1) + `, lease_until = ` + p.Nth(7) +
		` WHERE id = ` + p.Nth(8) + ` AND lease_owner = ` + p.Nth(9) + ` AND cursor = ` + p.Nth(10)
}

// SaveWebhookStateArgs are SaveWebhookState's parameters.
func SaveWebhookStateArgs(engine, id, owner string, prevCursor int64, s usercenter.WebhookState, leaseUntil time.Time) ([]any, error) {
	ts := rowTimes{engine: engine}
	return ts.row(s.Cursor, int64(s.Attempts), ts.null("webhooks.retrying_since", s.RetryingSince),
		ts.null("webhooks.next_attempt_at", s.NextAttemptAt), ts.null("webhooks.failed_at", s.FailedAt), s.FailedEventID,
		ts.null("webhooks.lease_until", leaseUntil), id, owner, prevCursor)
}

// ClaimWebhook is the statement of Tx.ClaimWebhook, which returns the
// claimed row: its parameters are ClaimWebhookArgs', one per place, as
// SQLite binds them in order.
func ClaimWebhook(p Placeholder) string {
	return `UPDATE webhooks SET lease_owner = ` + p.Nth(1) + `, lease_until = ` + p.Nth(2) +
		` WHERE id = ` + p.Nth(3) + ` AND (lease_until IS NULL OR lease_until <= ` + p.Nth(4) + ` OR lease_owner = ` + p.Nth(5) + `)` +
		` AND (next_attempt_at IS NULL OR next_attempt_at <= ` + p.Nth(6) + `) RETURNING ` + WebhookColumns
}

// ClaimWebhookArgs are ClaimWebhook's parameters.
func ClaimWebhookArgs(engine, id, owner string, now, until time.Time) ([]any, error) {
	ts := rowTimes{engine: engine}
	return ts.row(owner, ts.at("webhooks.lease_until", until), id, BoundTime(now), owner, BoundTime(now))
}

// WebhookDeliveryColumns are the columns of webhook_deliveries an insert
// writes, in the order of WebhookDeliveryArgs; the store assigns the ID.
const WebhookDeliveryColumns = `webhook_id, event_id, event_type, attempt, at, status_code, latency_ns, result, error`

// WebhookDeliveryArgs returns the values of d's WebhookDeliveryColumns.
func WebhookDeliveryArgs(engine string, webhookID string, d *usercenter.WebhookDelivery) ([]any, error) {
	ts := rowTimes{engine: engine}
	return ts.row(webhookID, d.EventID, string(d.EventType), int64(d.Attempt), ts.at("webhook_deliveries.at", d.At),
		int64(d.StatusCode), int64(d.Latency), string(d.Result), d.Error)
}

// ScanWebhookDelivery reads a row of id and WebhookDeliveryColumns.
func ScanWebhookDelivery(row Scanner) (usercenter.WebhookDelivery, error) {
	var (
		d                              usercenter.WebhookDelivery
		typ, result                    string
		attempt, at, status, latencyNS int64
	)
	if err := row.Scan(&d.ID, &d.WebhookID, &d.EventID, &typ, &attempt, &at, &status, &latencyNS, &result, &d.Error); err != nil {
		return d, err
	}
	d.EventType, d.Result = usercenter.EventType(typ), usercenter.DeliveryResult(result)
	d.Attempt, d.StatusCode, d.Latency = int(attempt), int(status), time.Duration(latencyNS)
	d.At = DecodeTime(at)
	return d, nil
}

// TrimWebhookDeliveries deletes an endpoint's oldest log entries but the
// newest keep; its parameters are TrimWebhookDeliveriesArgs'.
func TrimWebhookDeliveries(p Placeholder) string {
	return `DELETE FROM webhook_deliveries WHERE webhook_id = ` + p.Nth(1) + ` AND id < coalesce((
		SELECT id FROM webhook_deliveries WHERE webhook_id = ` + p.Nth(2) + ` ORDER BY id DESC LIMIT 1 OFFSET ` + p.Nth(3) + `), 0)`
}

// TrimWebhookDeliveriesArgs are TrimWebhookDeliveries' parameters.
func TrimWebhookDeliveriesArgs(webhookID string, keep int) []any {
	return []any{webhookID, webhookID, int64(keep - 1)}
}

// WebhookReads are the queries of the webhook reads, in p's style.
type WebhookReads struct {
	Webhook, WebhooksOfApp, AllWebhooks, Deliveries, FirstEventSince, EventBacklog string
}

// NewWebhookReads returns the queries in p's style.
func NewWebhookReads(p Placeholder) WebhookReads {
	return WebhookReads{
		Webhook:         `SELECT ` + WebhookColumns + ` FROM webhooks WHERE id = ` + p.Nth(1),
		WebhooksOfApp:   `SELECT ` + WebhookColumns + ` FROM webhooks WHERE sdk_app_id = ` + p.Nth(1) + ` ORDER BY id`,
		AllWebhooks:     `SELECT ` + WebhookColumns + ` FROM webhooks ORDER BY id`,
		Deliveries:      `SELECT id, ` + WebhookDeliveryColumns + ` FROM webhook_deliveries WHERE webhook_id = ` + p.Nth(1) + ` ORDER BY id DESC LIMIT ` + p.Nth(2),
		FirstEventSince: `SELECT coalesce(min(id), 0) FROM events WHERE sdk_app_id = ` + p.Nth(1) + ` AND at >= ` + p.Nth(2),
		EventBacklog:    `SELECT count(*), coalesce(min(at), 0) FROM events WHERE sdk_app_id = ` + p.Nth(1) + ` AND id > ` + p.Nth(2),
	}
}

// ErrWebhookNotFound is NotFound (webhook).
func ErrWebhookNotFound() error { return usercenter.NotFound(usercenter.ResourceWebhook) }

// CheckKeepDeliveries checks the keep of InsertWebhookDeliveries.
func CheckKeepDeliveries(keep int) error {
	if keep < 1 {
		return misuse("a delivery log must keep at least one entry, not %d", keep)
	}
	return nil
}
