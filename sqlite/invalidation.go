package sqlite

import (
	"context"

	"usercenter/core"
	"usercenter/sqlstore"
	"usercenter/storecache"
)

// InvalidationBus is the caches' invalidation log of the database, the
// table cache_invalidations (see migrations/0012_cache_invalidations.sql),
// as a storecache.Log: every process that writes the file appends to it
// in its write transactions, and a server polls it on a read connection.
type InvalidationBus struct{ s *Store }

var _ storecache.Log = (*InvalidationBus)(nil)

// logKeep is how many of the newest messages the log keeps at least; a
// poller reads every 150 ms, so only one stalled for thousands of
// invalidating writes finds its last one pruned. Pruning runs every
// logPruneEvery messages, so the table holds at most their sum.
const (
	logKeep       = 4096
	logPruneEvery = 64
)

// InvalidationBus returns the store's log.
func (s *Store) InvalidationBus() *InvalidationBus { return &InvalidationBus{s: s} }

var _ storecache.TxPublisher = (*txn)(nil)

// PublishOnCommit appends msg to the log in the transaction, so that it
// is there exactly when the write it describes is.
func (t *txn) PublishOnCommit(ctx context.Context, msg []byte) (bool, error) {
	ctx, err := t.begin(ctx)
	if err != nil {
		return false, err
	}
	var seq int64
	if err := t.run.queryRow(ctx, `INSERT INTO cache_invalidations (message) VALUES (?) RETURNING seq`, string(msg)).Scan(&seq); err != nil {
		return false, t.fail(err)
	}
	if seq%logPruneEvery == 0 {
		if _, err := t.exec(ctx, `DELETE FROM cache_invalidations WHERE seq <= ?`, seq-logKeep); err != nil {
			return false, t.fail(err)
		}
	}
	return true, nil
}

// Publish appends msg in an Update of its own.
func (b *InvalidationBus) Publish(ctx context.Context, msg []byte) error {
	return b.s.Update(ctx, func(tx core.Tx) error {
		_, err := tx.(*txn).PublishOnCommit(ctx, msg)
		return err
	})
}

// Newest returns the newest message's seq, 0 when there is none.
func (b *InvalidationBus) Newest(ctx context.Context) (int64, error) {
	if b.s.closed.Load() {
		return 0, sqlstore.ErrClosed()
	}
	var seq int64
	err := runner{stmts: b.s.rstmts}.queryRow(ctx, `SELECT coalesce(max(seq), 0) FROM cache_invalidations`).Scan(&seq)
	if err != nil {
		return 0, unexpected(err)
	}
	return seq, nil
}

// Read returns the messages numbered from on, in one statement, so from
// one snapshot.
func (b *InvalidationBus) Read(ctx context.Context, from int64, limit int) ([]storecache.LogEntry, error) {
	if b.s.closed.Load() {
		return nil, sqlstore.ErrClosed()
	}
	rows, err := runner{stmts: b.s.rstmts}.query(ctx, `SELECT seq, message FROM cache_invalidations WHERE seq >= ? ORDER BY seq LIMIT ?`, from, limit)
	if err != nil {
		return nil, unexpected(err)
	}
	defer rows.Close()
	var es []storecache.LogEntry
	for rows.Next() {
		var e storecache.LogEntry
		if err := rows.Scan(&e.Seq, &e.Msg); err != nil {
			return nil, unexpected(err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, unexpected(err)
	}
	return es, nil
}
