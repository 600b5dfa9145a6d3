package core

import (
	"context"
	"time"

	"usercenter"
)

// The outbox of events is also a stream operators read: page by page
// through an app's events (GET /v1/apps/{sdkAppId}/events), or following
// every app's at the command line (usercenter events tail). Events are
// kept for a retention period, then purged with the expired rows.

// Limits of reading events.
const (
	// DefaultEventLimit is the page size of events when none is asked
	// for, and MaxEventLimit its cap. Events are small: a page of the most
	// is a few hundred kilobytes.
	DefaultEventLimit = 100
	MaxEventLimit     = 1000

	// DefaultEventRetention is how long events are kept.
	DefaultEventRetention = 7 * 24 * time.Hour
	// MinEventRetention is the shortest retention allowed: webhooks retry
	// a delivery for 24 hours, and an event must outlive its retries.
	MinEventRetention = 25 * time.Hour
	// eventPurgeBatch is how many events one transaction of the purge
	// deletes, so that a large backlog does not hold the writer long.
	eventPurgeBatch = 10000
)

// EventQuery selects events to read, in ID order.
type EventQuery struct {
	// SdkAppID is the app whose events to read; 0 reads the events of the
	// whole instance (master_key.rotated), which only an actor of every
	// app may read.
	SdkAppID uint64
	// EveryApp reads every app's events and the instance's, in one
	// sequence, instead of SdkAppID's; only for an actor of every app.
	EveryApp bool
	// After is the ID of the last event already read (0: from the
	// oldest kept).
	After int64
	// Limit is the page size, 1 to MaxEventLimit; 0 means
	// DefaultEventLimit.
	Limit int
	// Types keeps only events of these types; empty keeps every type.
	Types []usercenter.EventType
}

// EventPage is one page of events.
type EventPage struct {
	Events []usercenter.Event
	// Next is the After of the following page: the last event's ID, or
	// the query's After when the page is empty, so that a reader can
	// always ask again with it for what comes next.
	Next int64
	// More tells that more events were already there than the page held:
	// ask again at once rather than after a pause.
	More bool
}

// Events reads one page of events. An actor needs the users.read
// permission (events hold no personal data, only IDs and the names of
// what changed) and the app in its scope; an app outside its scope is not
// found, exactly as one that does not exist, so that a key cannot learn
// which apps exist.
func (s *Service) Events(ctx context.Context, actor *usercenter.Actor, q EventQuery) (*EventPage, error) {
	if q.Limit == 0 {
		q.Limit = DefaultEventLimit
	}
	if q.Limit < 1 || q.Limit > MaxEventLimit {
		return nil, usercenter.Invalid(usercenter.FieldPageSize, "must be between 1 and %d", MaxEventLimit)
	}
	if q.After < 0 {
		return nil, usercenter.Invalid(usercenter.FieldCursor, "must not be negative")
	}
	for _, t := range q.Types {
		if !t.Valid() {
			return nil, usercenter.Invalid("", "names an unknown event type %q", usercenter.ClipName(string(t), 64))
		}
	}
	switch {
	case q.EveryApp || q.SdkAppID == 0:
		// The instance's events and every app's are an operator's.
		if !actor.AllApps {
			return nil, usercenter.NotFound(usercenter.ResourceApp)
		}
		if err := actor.Require(usercenter.PermUsersRead); err != nil {
			return nil, err
		}
	default:
		if !actor.Scoped(q.SdkAppID) {
			return nil, usercenter.NotFound(usercenter.ResourceApp)
		}
		if _, err := s.appFor(ctx, s.store, actor, q.SdkAppID, usercenter.PermUsersRead); err != nil {
			return nil, err
		}
	}
	// One more than the page tells whether more are there.
	events, err := s.store.Events(ctx, usercenter.EventFilter{
		SdkAppID: q.SdkAppID, EveryApp: q.EveryApp, AfterID: q.After, Types: q.Types, Limit: q.Limit + 1,
	})
	if err != nil {
		return nil, err
	}
	page := &EventPage{Events: events, Next: q.After}
	if len(events) > q.Limit {
		page.Events, page.More = events[:q.Limit], true
	}
	if n := len(page.Events); n > 0 {
		page.Next = page.Events[n-1].ID
	}
	return page, nil
}

// LastEventID is the ID of the newest event of every app, 0 when there is
// none: a reader that passes it as After reads only the events to come.
// Only an actor of every app may ask, since the IDs count every app's
// changes.
func (s *Service) LastEventID(ctx context.Context, actor *usercenter.Actor) (int64, error) {
	if !actor.AllApps {
		return 0, usercenter.NotFound(usercenter.ResourceApp)
	}
	if err := actor.Require(usercenter.PermUsersRead); err != nil {
		return 0, err
	}
	return s.store.LastEventID(ctx)
}

// WithEventRetention sets how long events are kept before the purge
// deletes them, DefaultEventRetention unless set. A value below
// MinEventRetention keeps the default; the command line refuses such
// values before they get here.
func WithEventRetention(d time.Duration) Option {
	return func(s *Service) {
		if d >= MinEventRetention {
			s.eventRetention = d
		}
	}
}

// EventRetention is how long events are kept.
func (s *Service) EventRetention() time.Duration {
	if s.eventRetention > 0 {
		return s.eventRetention
	}
	return DefaultEventRetention
}

// PurgeEvents deletes the events made longer than the retention ago, but
// none that a webhook endpoint has still to deliver, a batch a
// transaction, and reports how many. IDs follow commit order, not
// the time an event was made, so an event only a little older than the
// one after it may stay until a later purge (see Tx.DeleteOldEvents).
func (s *Service) PurgeEvents(ctx context.Context) (int, error) {
	cutoff, err := s.purgeCutoff(ctx, s.now().UTC().Add(-s.EventRetention()))
	if err != nil {
		return 0, err
	}
	total := 0
	for {
		var n int
		err := s.store.Update(ctx, func(tx Tx) error {
			var err error
			n, err = tx.DeleteOldEvents(ctx, cutoff, eventPurgeBatch)
			return err
		})
		total += n
		if err != nil || n < eventPurgeBatch {
			return total, err
		}
	}
}

// purgeCutoff moves a purge's cutoff back to the first event that a
// webhook endpoint has still to deliver: an event leaves the outbox only
// once every endpoint is past it, whatever the retention, so that
// dispatchers stopped for longer than the retention still deliver every
// event when they are back. (While a dispatcher runs, no endpoint stays
// more than a day behind: it gives an event up after 24 hours.)
func (s *Service) purgeCutoff(ctx context.Context, cutoff time.Time) (time.Time, error) {
	hooks, err := s.store.Webhooks(ctx, 0)
	if err != nil {
		return cutoff, err
	}
	for _, w := range hooks {
		_, first, err := s.store.EventBacklog(ctx, w.SdkAppID, w.Cursor)
		if err != nil {
			return cutoff, err
		}
		if !first.IsZero() && first.Before(cutoff) {
			cutoff = first
		}
	}
	return cutoff, nil
}
