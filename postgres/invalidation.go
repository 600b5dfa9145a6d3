package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"usercenter/storecache"
)

// InvalidationBus carries storecache's invalidations between the nodes
// serving one schema, over LISTEN/NOTIFY: a node publishes with
// pg_notify after its write committed, and every node listens on a
// connection of its own, outside the pool. Its channel is named after the
// schema, so that instances sharing a database never hear each other.
//
// PostgreSQL delivers a notification to every session listening when it
// is sent; one sent while a node was not listening is lost to it, which
// is why storecache empties its caches whenever the listener comes back.
type InvalidationBus struct {
	s       *Store
	channel string
	// pid is the listening session's backend process ID, 0 while it
	// does not listen.
	pid atomic.Uint32
	// pings counts the checks of a quiet session, for the tests.
	pings atomic.Int64
}

var _ storecache.Bus = (*InvalidationBus)(nil)

// Timings of the listener. It waits for notifications listenIdle at a
// time, then checks its connection with a query bounded by listenPing:
// a connection lost without a word (a dead network path) is found within
// their sum. Reconnections back off as storecache.Resubscribe does.
const (
	listenPing = 5 * time.Second
)

// listenIdle is a variable for the tests.
var listenIdle = 15 * time.Second

// InvalidationBus returns the store's bus.
func (s *Store) InvalidationBus() *InvalidationBus {
	return &InvalidationBus{s: s, channel: s.channel}
}

// invalidationChannel names the channel of a schema.
func invalidationChannel(schema string) string {
	h := fnv.New64a()
	h.Write([]byte("usercenter\x00cache\x00" + schema))
	return fmt.Sprintf("usercenter_cache_%016x", h.Sum64())
}

var _ storecache.TxPublisher = (*txn)(nil)

// PublishOnCommit sends msg on the invalidation channel with the
// transaction: PostgreSQL delivers a NOTIFY when its transaction commits
// and drops it when the transaction, or the savepoint it was sent in,
// rolls back. So a committed write is always announced, even if this
// process dies right after COMMIT, and an undone one never is. In a
// batch it goes out with the batch's rows, before COMMIT, in the same
// round trip (see deferred).
func (t *txn) PublishOnCommit(ctx context.Context, msg []byte) (bool, error) {
	if err := t.beginBatched(ctx); err != nil {
		return false, err
	}
	if t.deferred != nil {
		t.deferred.notices = append(t.deferred.notices, string(msg))
		return true, nil
	}
	if _, err := t.exec(ctx, `SELECT pg_notify($1, $2)`, t.s.channel, string(msg)); err != nil {
		return false, err
	}
	return true, nil
}

// Channel is the NOTIFY channel's name.
func (b *InvalidationBus) Channel() string { return b.channel }

// ListenerPID returns the backend process ID of the listening session,
// as pg_stat_activity shows it, or 0 while there is none.
func (b *InvalidationBus) ListenerPID() uint32 { return b.pid.Load() }

// Publish sends msg, from a connection of the pool.
func (b *InvalidationBus) Publish(ctx context.Context, msg []byte) error {
	if b.s.closed.Load() {
		return errors.New("postgres: the store is closed")
	}
	_, err := b.s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, b.channel, string(msg))
	return err
}

// Subscribe listens until ctx ends, on a connection it opens again
// whenever it is lost.
func (b *InvalidationBus) Subscribe(ctx context.Context, sub storecache.Subscriber) {
	storecache.Resubscribe(ctx, sub, func(ctx context.Context, listening func()) error { return b.listen(ctx, sub, listening) })
}

// listen opens a session, listens, and delivers until the session fails
// or ctx ends; it calls listening once the LISTEN is in force.
func (b *InvalidationBus) listen(ctx context.Context, sub storecache.Subscriber, listening func()) error {
	cfg := b.s.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams["application_name"] == "usercenter" {
		cfg.RuntimeParams["application_name"] = "usercenter cache invalidation"
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		b.pid.Store(0)
		closeCtx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{b.channel}.Sanitize()); err != nil {
		return err
	}
	b.pid.Store(conn.PgConn().PID())
	listening()
	sub.Up()
	for {
		waitCtx, cancel := context.WithTimeout(ctx, listenIdle)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			sub.Message([]byte(n.Payload))
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded):
			return err
		}
		// Quiet for listenIdle: is the session still there?
		pingCtx, cancel := context.WithTimeout(ctx, listenPing)
		_, err = conn.Exec(pingCtx, "SELECT 1")
		cancel()
		if err != nil {
			return err
		}
		b.pings.Add(1)
	}
}
