package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlstore"
)

var webhookReads = sqlstore.NewWebhookReads(sqlstore.Question)

var (
	qInsertWebhook         = sqlstore.InsertWebhook(sqlstore.Question)
	qUpdateWebhook         = sqlstore.UpdateWebhook(sqlstore.Question)
	qSaveWebhookState      = sqlstore.SaveWebhookState(sqlstore.Question)
	qClaimWebhook          = sqlstore.ClaimWebhook(sqlstore.Question)
	qTrimWebhookDeliveries = sqlstore.TrimWebhookDeliveries(sqlstore.Question)
	qInsertDelivery        = `INSERT INTO webhook_deliveries (` + sqlstore.WebhookDeliveryColumns + `) VALUES (` +
		sqlstore.Question.List(1, 9) + `) RETURNING id`
)

func (r *reader) Webhook(ctx context.Context, id string) (*core.WebhookRecord, error) {
	ctx, err := r.point(ctx)
	if err != nil {
		return nil, err
	}
	w, err := sqlstore.ScanWebhook(r.run.queryRow(ctx, webhookReads.Webhook, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sqlstore.ErrWebhookNotFound()
	}
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	return &w, nil
}

func (r *reader) Webhooks(ctx context.Context, sdkAppID uint64) ([]core.WebhookRecord, error) {
	ctx, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	if sdkAppID == 0 {
		return sqlstore.All(ctx, (*readEngine)(r), sqlstore.ScanWebhook, webhookReads.AllWebhooks)
	}
	return sqlstore.All(ctx, (*readEngine)(r), sqlstore.ScanWebhook, webhookReads.WebhooksOfApp, int64(sdkAppID))
}

func (r *reader) WebhookDeliveries(ctx context.Context, webhookID string, limit int) ([]usercenter.WebhookDelivery, error) {
	ctx, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	return sqlstore.All(ctx, (*readEngine)(r), sqlstore.ScanWebhookDelivery, webhookReads.Deliveries, webhookID, limit)
}

func (r *reader) FirstEventSince(ctx context.Context, sdkAppID uint64, since time.Time) (int64, error) {
	ctx, err := r.point(ctx)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := r.run.queryRow(ctx, webhookReads.FirstEventSince, int64(sdkAppID), sqlstore.BoundTime(since)).Scan(&id); err != nil {
		return 0, r.fail(ctx, err)
	}
	return id, nil
}

func (r *reader) EventBacklog(ctx context.Context, sdkAppID uint64, afterID int64) (int, time.Time, error) {
	ctx, err := r.point(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	var n, oldest int64
	if err := r.run.queryRow(ctx, webhookReads.EventBacklog, int64(sdkAppID), afterID).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, r.fail(ctx, err)
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	return int(n), sqlstore.DecodeTime(oldest), nil
}

// InsertWebhook fails with NotFound (app) through the foreign key.
func (t *txn) InsertWebhook(ctx context.Context, w *core.WebhookRecord) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	args, err := sqlstore.WebhookArgs(engine, w)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, qInsertWebhook, args...); err != nil {
		return t.failWrite(err, usercenter.ResourceApp)
	}
	return nil
}

func (t *txn) UpdateWebhook(ctx context.Context, w *core.WebhookRecord) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	args, err := sqlstore.UpdateWebhookArgs(engine, w)
	if err != nil {
		return err
	}
	return t.execFound(ctx, usercenter.ResourceWebhook, qUpdateWebhook, args...)
}

// DeleteWebhook removes the endpoint; its log goes with it (ON DELETE
// CASCADE).
func (t *txn) DeleteWebhook(ctx context.Context, id string) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	return t.execFound(ctx, usercenter.ResourceWebhook, `DELETE FROM webhooks WHERE id = ?`, id)
}

// ClaimWebhook: Updates run one at a time on the writer, so of two that
// claim an endpoint the second finds it leased.
func (t *txn) ClaimWebhook(ctx context.Context, id, owner string, now, until time.Time) (*core.WebhookRecord, error) {
	ctx, err := t.begin(ctx)
	if err != nil {
		return nil, err
	}
	args, err := sqlstore.ClaimWebhookArgs(engine, id, owner, now, until)
	if err != nil {
		return nil, err
	}
	w, err := sqlstore.ScanWebhook(t.run.queryRow(ctx, qClaimWebhook, args...))
	if errors.Is(err, sql.ErrNoRows) {
		t.writes-- // counted as it ran (see runner.noteWrite), it changed nothing
		if _, err := t.Webhook(ctx, id); err != nil {
			return nil, err
		}
		return nil, nil
	}
	if err != nil {
		return nil, t.fail(err)
	}
	return &w, nil
}

func (t *txn) SaveWebhookState(ctx context.Context, id, owner string, prevCursor int64, state usercenter.WebhookState, leaseUntil time.Time) (bool, error) {
	ctx, err := t.begin(ctx)
	if err != nil {
		return false, err
	}
	args, err := sqlstore.SaveWebhookStateArgs(engine, id, owner, prevCursor, state, leaseUntil)
	if err != nil {
		return false, err
	}
	n, err := t.exec(ctx, qSaveWebhookState, args...)
	if err != nil {
		return false, t.fail(err)
	}
	return n == 1, nil
}

func (t *txn) InsertWebhookDeliveries(ctx context.Context, webhookID string, ds []*usercenter.WebhookDelivery, keep int) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	if err := sqlstore.CheckKeepDeliveries(keep); err != nil {
		return err
	}
	rows := make([][]any, len(ds))
	for i, d := range ds {
		if rows[i], err = sqlstore.WebhookDeliveryArgs(engine, webhookID, d); err != nil {
			return err
		}
	}
	return t.atomically(ctx, func() error {
		for i, d := range ds {
			if err := t.run.queryRow(ctx, qInsertDelivery, rows[i]...).Scan(&d.ID); err != nil {
				return t.failWrite(err, usercenter.ResourceWebhook)
			}
			d.WebhookID = webhookID
		}
		if _, err := t.exec(ctx, qTrimWebhookDeliveries, sqlstore.TrimWebhookDeliveriesArgs(webhookID, keep)...); err != nil {
			return t.fail(err)
		}
		return nil
	})
}
