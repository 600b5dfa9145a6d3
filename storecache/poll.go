package storecache

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"
)

// A Log is a bus kept in a table of the database itself, for a database
// that cannot push (SQLite): every write transaction that invalidates
// something appends its message to the table, in the transaction (see
// TxPublisher), and servers poll the table for what was appended since
// they last looked. PollLog makes a Bus of it.
//
// Each message has a sequence number, greater than every earlier one's.
// The log keeps only the newest messages: a reader whose last seen
// message was pruned has missed some and must drop everything.
type Log interface {
	// Publish appends msg in a transaction of its own.
	Publish(ctx context.Context, msg []byte) error
	// Newest returns the sequence number of the newest message, 0 when
	// the log is empty.
	Newest(ctx context.Context) (int64, error)
	// Read returns, from one snapshot of the log, its messages numbered
	// from or more, in order, at most limit of them. The caller may keep
	// them.
	Read(ctx context.Context, from int64, limit int) ([]LogEntry, error)
}

// LogEntry is one message of a Log.
type LogEntry struct {
	Seq int64
	Msg []byte
}

// Timings of a log's poller: it reads the log every LogPollInterval
// while it can, and, once a read failed, tries again as Resubscribe
// does.
const (
	LogPollInterval = 150 * time.Millisecond
	// logReadLimit bounds the messages one read returns; a reader that
	// fell behind reads again at once.
	logReadLimit = 512
)

// PollLog returns a Bus over l whose subscribers read l every interval.
func PollLog(l Log, interval time.Duration) Bus {
	return &logBus{log: l, interval: interval}
}

type logBus struct {
	log      Log
	interval time.Duration
}

// errLogRewound is a log whose newest message is older than one this
// reader saw: the database was replaced (restored from a backup), and
// what changed is unknown.
var errLogRewound = errors.New("the cache invalidation log went back: the database was replaced")

// logReadTimeout bounds a read of the log: a read that hangs (a stalled
// disk) must not keep entries living --cache-ttl while nothing is heard;
// it fails, and the caches fall back to TTL until reads work again.
const logReadTimeout = 2 * time.Second

// A log reset is what made a reader of the log drop everything, as
// usercenter_cache_invalidation_resets_total counts it by reason.
const (
	// resetGap: the row read last was pruned before the reader saw
	// the rows after it.
	resetGap = "gap"
	// resetRewind: the log no longer reaches the row read last.
	resetRewind = "rewind"
	// resetRestore: another row has the sequence number of the one read
	// last; the database was replaced, then written past that number.
	resetRestore = "restore"
)

var resetReasons = [...]string{resetGap, resetRewind, resetRestore}

// resetMessages drop everything, from no node, and name their reason
// for the metric; they are handed to the subscriber, never published.
var resetMessages = func() map[string][]byte {
	m := make(map[string][]byte, len(resetReasons))
	for _, r := range resetReasons {
		m[r], _ = json.Marshal(message{All: true, Reset: r})
	}
	return m
}()

func (b *logBus) Publish(ctx context.Context, msg []byte) error { return b.log.Publish(ctx, msg) }

// Subscribe reads the log until ctx ends. Up follows the first read that
// works, Down a read that fails; after a failure it reads again, with
// backoff, and comes Up again, as a bus does when it has reconnected.
func (b *logBus) Subscribe(ctx context.Context, sub Subscriber) {
	Resubscribe(ctx, sub, func(ctx context.Context, following func()) error { return b.follow(ctx, sub, following) })
}

// follow delivers the log's messages from its newest on, until a read
// fails or ctx ends; it calls following once it is Up.
func (b *logBus) follow(ctx context.Context, sub Subscriber, following func()) error {
	// The newest message is read before Up empties the caches: a write
	// committed after this read is delivered by the next, and one
	// committed before is read by every load that follows Up.
	newest, err := b.log.Newest(ctx)
	if err != nil {
		return err
	}
	last := logMark{seq: newest}
	if newest != 0 {
		// Its message too, which tells it from a row that may take its
		// number after a restore (see deliver).
		es, err := b.log.Read(ctx, newest, 1)
		if err != nil {
			return err
		}
		if len(es) == 0 || es[0].Seq != newest {
			return errLogRewound // replaced between the two reads; before Up, nothing to drop
		}
		last.msg = es[0].Msg
	}
	following()
	sub.Up()
	tick := time.NewTicker(b.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		for {
			rctx, cancel := context.WithTimeout(ctx, logReadTimeout)
			es, err := b.log.Read(rctx, last.seq, logReadLimit)
			cancel()
			if ctx.Err() != nil {
				return ctx.Err() // a read interrupted by the end is no failure
			}
			if err != nil {
				return err
			}
			next, err := deliver(sub, last, es)
			if err != nil {
				return err
			}
			last = next
			if len(es) < logReadLimit {
				break
			}
		}
	}
}

// logMark is the entry of the log a reader read last. Its message is
// kept to tell it from another row given its number, which a sequence
// number alone cannot: a database restored from a backup taken before
// that entry, and written to since, numbers its new rows as the old ones
// were. Each message names the random node that wrote it and what it
// changed, so a row written after a restore is all but never the same
// bytes as the one it replaced. The message is one the read returned
// anyway, and comparing it costs no query.
type logMark struct {
	seq int64
	msg []byte // nil while seq is 0
}

// deliver hands sub what es, read from last's seq, holds beyond last,
// and returns the entry to read from next. The entry last comes first,
// unchanged, unless the log was reset under the reader: it was pruned
// (a gap: the messages between it and the first entry read are lost),
// another row took its number (a restore), or the log no longer reaches
// it (a rewind). On a reset sub is handed a message that drops
// everything and names the reason; a rewind also fails the read, so the
// reader starts over from the log's newest entry.
func deliver(sub Subscriber, last logMark, es []LogEntry) (logMark, error) {
	var reset string
	switch {
	case last.seq == 0 && len(es) == 0:
		return last, nil // an empty log, as it still is
	case len(es) == 0:
		// Even the entry last is gone, and nothing came after it: the
		// log was replaced. Only a new start is safe.
		sub.Message(resetMessages[resetRewind])
		return last, errLogRewound
	case last.seq != 0 && es[0].Seq != last.seq, last.seq == 0 && es[0].Seq != 1:
		reset = resetGap
	case last.seq != 0 && !bytes.Equal(es[0].Msg, last.msg):
		reset = resetRestore
	}
	end := es[len(es)-1]
	next := logMark{seq: end.Seq, msg: end.Msg}
	if reset != "" {
		// The drop follows the read, so a load that begins after it
		// reads every write the reset hid, and what comes after es is
		// read next.
		sub.Message(resetMessages[reset])
		return next, nil
	}
	for _, e := range es {
		if e.Seq != last.seq {
			sub.Message(e.Msg)
		}
	}
	return next, nil
}
