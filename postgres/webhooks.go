package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlstore"
)

var webhookReads = sqlstore.NewWebhookReads(sqlstore.Dollar)

var (
	qInsertWebhook         = sqlstore.InsertWebhook(sqlstore.Dollar)
	qUpdateWebhook         = sqlstore.UpdateWebhook(sqlstore.Dollar)
	qSaveWebhookState      = sqlstore.SaveWebhookState(sqlstore.Dollar)
	qClaimWebhook          = sqlstore.ClaimWebhook(sqlstore.Dollar)
	qTrimWebhookDeliveries = sqlstore.TrimWebhookDeliveries(sqlstore.Dollar)
	qInsertDelivery        = `INSERT INTO webhook_deliveries (` + sqlstore.WebhookDeliveryColumns + `) VALUES (` +
		sqlstore.Dollar.List(1, 9) + `) RETURNING id`
)

func (r *reader) Webhook(ctx context.Context, id string) (*core.WebhookRecord, error) {
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	w, err := sqlstore.ScanWebhook(r.queryRow(ctx, webhookReads.Webhook, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, sqlstore.ErrWebhookNotFound()
	}
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	return &w, nil
}

func (r *reader) Webhooks(ctx context.Context, sdkAppID uint64) ([]core.WebhookRecord, error) {
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	if sdkAppID == 0 {
		return sqlstore.All(ctx, (*readEngine)(r), sqlstore.ScanWebhook, webhookReads.AllWebhooks)
	}
	return sqlstore.All(ctx, (*readEngine)(r), sqlstore.ScanWebhook, webhookReads.WebhooksOfApp, int64(sdkAppID))
}

func (r *reader) WebhookDeliveries(ctx context.Context, webhookID string, limit int) ([]usercenter.WebhookDelivery, error) {
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	return sqlstore.All(ctx, (*readEngine)(r), sqlstore.ScanWebhookDelivery, webhookReads.Deliveries, webhookID, int64(limit))
}

func (r *reader) FirstEventSince(ctx context.Context, sdkAppID uint64, since time.Time) (int64, error) {
	if err := r.begin(ctx); err != nil {
		return 0, err
	}
	var id int64
	if err := r.queryRow(ctx, webhookReads.FirstEventSince, int64(sdkAppID), sqlstore.BoundTime(since)).Scan(&id); err != nil {
		return 0, r.fail(ctx, err)
	}
	return id, nil
}

func (r *reader) EventBacklog(ctx context.Context, sdkAppID uint64, afterID int64) (int, time.Time, error) {
	if err := r.begin(ctx); err != nil {
		return 0, time.Time{}, err
	}
	var n, oldest int64
	if err := r.queryRow(ctx, webhookReads.EventBacklog, int64(sdkAppID), afterID).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, r.fail(ctx, err)
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	return int(n), sqlstore.DecodeTime(oldest), nil
}

// InsertWebhook fails with NotFound (app) through the foreign key.
func (t *txn) InsertWebhook(ctx context.Context, w *core.WebhookRecord) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	args, err := sqlstore.WebhookArgs(engine, w)
	if err != nil {
		return err
	}
	if !storableArgs(args) {
		return usercenter.Invalid(usercenter.FieldWebhookURL, "must be valid UTF-8 without NUL")
	}
	if _, _, err := t.atomically(ctx, step{qInsertWebhook, args}); err != nil {
		return t.failWrite(ctx, err, usercenter.ResourceApp)
	}
	return nil
}

func (t *txn) UpdateWebhook(ctx context.Context, w *core.WebhookRecord) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	args, err := sqlstore.UpdateWebhookArgs(engine, w)
	if err != nil {
		return err
	}
	if !storable(w.ID) {
		return sqlstore.ErrWebhookNotFound()
	}
	if !storableArgs(args) {
		return usercenter.Invalid(usercenter.FieldWebhookURL, "must be valid UTF-8 without NUL")
	}
	return t.execFound(ctx, usercenter.ResourceWebhook, qUpdateWebhook, args...)
}

// DeleteWebhook removes the endpoint; its log goes with it (ON DELETE
// CASCADE).
func (t *txn) DeleteWebhook(ctx context.Context, id string) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	if !storable(id) {
		return sqlstore.ErrWebhookNotFound()
	}
	return t.execFound(ctx, usercenter.ResourceWebhook, `DELETE FROM webhooks WHERE id = $1`, id)
}

// ClaimWebhook: of two transactions that claim the same endpoint, the
// second waits for the first's row lock and then fails to serialize; run
// again, it finds the endpoint leased.
func (t *txn) ClaimWebhook(ctx context.Context, id, owner string, now, until time.Time) (*core.WebhookRecord, error) {
	if err := t.begin(ctx); err != nil {
		return nil, err
	}
	args, err := sqlstore.ClaimWebhookArgs(engine, id, owner, now, until)
	if err != nil {
		return nil, err
	}
	if !storableArgs(args) {
		return nil, sqlstore.ErrWebhookNotFound()
	}
	w, err := sqlstore.ScanWebhook(t.tx.QueryRow(ctx, qClaimWebhook, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := t.Webhook(ctx, id); err != nil {
			return nil, err
		}
		return nil, nil
	}
	if err != nil {
		return nil, t.fail(ctx, err)
	}
	return &w, nil
}

func (t *txn) SaveWebhookState(ctx context.Context, id, owner string, prevCursor int64, state usercenter.WebhookState, leaseUntil time.Time) (bool, error) {
	if err := t.begin(ctx); err != nil {
		return false, err
	}
	args, err := sqlstore.SaveWebhookStateArgs(engine, id, owner, prevCursor, state, leaseUntil)
	if err != nil {
		return false, err
	}
	if !storableArgs(args) {
		return false, nil
	}
	n, err := t.exec(ctx, qSaveWebhookState, args...)
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// InsertWebhookDeliveries checks first that the endpoint exists, so that
// the foreign key never fails the transaction; a concurrent deletion
// makes one of the two transactions fail to serialize.
func (t *txn) InsertWebhookDeliveries(ctx context.Context, webhookID string, ds []*usercenter.WebhookDelivery, keep int) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	if err := sqlstore.CheckKeepDeliveries(keep); err != nil {
		return err
	}
	if _, err := t.Webhook(ctx, webhookID); err != nil {
		return err
	}
	rows := make([][]any, len(ds))
	for i, d := range ds {
		var err error
		if rows[i], err = sqlstore.WebhookDeliveryArgs(engine, webhookID, d); err != nil {
			return err
		}
		if !storableArgs(rows[i]) {
			return usercenter.Internal(errors.New("postgres: a delivery's text must be valid UTF-8 without NUL"))
		}
	}
	for i, d := range ds {
		if err := t.tx.QueryRow(ctx, qInsertDelivery, rows[i]...).Scan(&d.ID); err != nil {
			return t.fail(ctx, err)
		}
		d.WebhookID = webhookID
	}
	_, err := t.exec(ctx, qTrimWebhookDeliveries, sqlstore.TrimWebhookDeliveriesArgs(webhookID, keep)...)
	return err
}
