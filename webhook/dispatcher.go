package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"usercenter"
	"usercenter/core"
)

// Clock is the dispatcher's time: real in serve, driven by tests.
type Clock interface {
	Now() time.Time
	// After delivers once d has passed, as time.After.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Defaults of Config.
const (
	DefaultPoll     = time.Second
	DefaultRetryFor = 24 * time.Hour
	// backoffBase and backoffCap bound the wait before retry n: base·2ⁿ⁻¹,
	// at most the cap, with jitter.
	backoffBase = 5 * time.Second
	backoffCap  = time.Hour
)

// Config tunes a Dispatcher. Zero fields take defaults.
type Config struct {
	// Node names this dispatcher in leases: unique per process.
	Node string
	// Timeout is how long one delivery may take (the Sender's).
	Timeout time.Duration
	// Poll is how often endpoints are looked at without a wake-up.
	Poll time.Duration
	// Lease is how long a claim of an endpoint lasts unless renewed; it
	// must outlast a delivery: at least 3 Timeouts, and 30 s.
	Lease time.Duration
	// RetryFor is how long an event is retried before it is given up.
	RetryFor time.Duration
	// Batch bounds the events one endpoint is given in one pass, so that
	// a busy endpoint does not hold the pass up.
	Batch int
	// Workers bounds the endpoints served at once.
	Workers int
	// Gather is how long a pass waits after a wake-up, for the commits
	// of a burst to gather into it (10 ms by default).
	Gather time.Duration
	// SaveEvery is how old the oldest unrecorded delivery may get before
	// a pass ends with recording it (250 ms by default; below zero, every
	// pass records). Fewer records cost fewer writes; a crash redelivers
	// what was not recorded.
	SaveEvery time.Duration
	Clock     Clock
	Log       *slog.Logger
	Metrics   *Metrics
	// Jitter returns a number in [0, 1); math/rand's by default.
	Jitter func() float64
}

// Dispatcher delivers each endpoint's events in order, at least once.
// Several dispatchers, in one process or many over one database, share
// the work through leases on the endpoints: an endpoint is delivered to
// by one at a time, and a dispatcher that dies leaves its lease to end.
type Dispatcher struct {
	svc    *core.Service
	sender core.WebhookSender
	cfg    Config
	wake   <-chan struct{}

	mu     sync.Mutex
	active map[string]bool      // endpoints a worker of this dispatcher is serving
	held   map[string]*progress // endpoints this dispatcher holds a lease on
}

// NewDispatcher returns a dispatcher that sends through sender. wake, if
// not nil, starts a pass at once when signalled (core.WithEventsCommitted).
func NewDispatcher(svc *core.Service, sender core.WebhookSender, wake <-chan struct{}, cfg Config) *Dispatcher {
	if cfg.Node == "" {
		var b [8]byte
		rand.Read(b[:])
		cfg.Node = hex.EncodeToString(b[:])
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Poll == 0 {
		cfg.Poll = DefaultPoll
	}
	if min := max(3*cfg.Timeout, 30*time.Second); cfg.Lease < min {
		cfg.Lease = min
	}
	if cfg.RetryFor == 0 {
		cfg.RetryFor = DefaultRetryFor
	}
	if cfg.Batch == 0 {
		cfg.Batch = 200
	}
	if cfg.Workers == 0 {
		cfg.Workers = 8
	}
	if cfg.Gather == 0 {
		cfg.Gather = 10 * time.Millisecond
	}
	if cfg.SaveEvery == 0 {
		cfg.SaveEvery = defaultSaveEvery
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Jitter == nil {
		cfg.Jitter = mrand.Float64
	}
	return &Dispatcher{svc: svc, sender: sender, cfg: cfg, wake: wake, active: map[string]bool{}, held: map[string]*progress{}}
}

// Node is the name this dispatcher leases endpoints under.
func (d *Dispatcher) Node() string { return d.cfg.Node }

// Run passes over the endpoints until ctx ends: after a pass that left
// events behind (an endpoint reached Batch) it starts the next at once;
// otherwise it waits for a wake-up or the poll interval. Before it
// returns it records what it delivered and releases its leases.
func (d *Dispatcher) Run(ctx context.Context) {
	defer d.Release(ctx)
	for {
		if d.RunOnce(ctx) && ctx.Err() == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
			// Let a burst of commits gather into one pass.
			select {
			case <-ctx.Done():
				return
			case <-d.cfg.Clock.After(d.cfg.Gather):
			}
		case <-d.cfg.Clock.After(d.cfg.Poll):
		}
	}
}

// Release records what was delivered and not yet saved, and releases
// every lease this dispatcher holds: for a shutdown, so that another
// node takes over at once.
func (d *Dispatcher) Release(ctx context.Context) {
	d.mu.Lock()
	held := d.held
	d.held = map[string]*progress{}
	d.mu.Unlock()
	for _, p := range held {
		p.save(ctx, true)
	}
}

// RunOnce serves every endpoint that has events to deliver, is due and
// not leased by another, each up to Batch events or its first failure,
// and returns when all are done. It reports whether an endpoint stopped
// at Batch, with more events to deliver at once.
func (d *Dispatcher) RunOnce(ctx context.Context) (more bool) {
	queue, err := d.svc.WebhookQueue(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.cfg.Log.Warn("webhooks: cannot list the endpoints", "err", err)
		}
		return false
	}
	var full atomic.Bool
	now := d.cfg.Clock.Now()
	live := make(map[string]bool, len(queue))
	sem := make(chan struct{}, d.cfg.Workers)
	var wg sync.WaitGroup
	for i := range queue {
		w := &queue[i]
		live[w.ID] = true
		d.mu.Lock()
		p := d.held[w.ID]
		busy := d.active[w.ID]
		d.mu.Unlock()
		if busy {
			continue
		}
		if p == nil {
			// Not ours: worth a claim (a write) only if due, free, and
			// with events after its cursor.
			if !w.NextAttemptAt.IsZero() && w.NextAttemptAt.After(now) {
				continue
			}
			if w.LeaseOwner != "" && w.LeaseOwner != d.cfg.Node && w.LeaseUntil.After(now) {
				continue
			}
			n, oldest, err := d.svc.WebhookBacklog(ctx, w.SdkAppID, w.Cursor)
			d.cfg.Metrics.backlog(w.ID, n, oldest)
			if err != nil || n == 0 {
				continue
			}
		} else if w.LeaseOwner != d.cfg.Node || w.URL != p.rec.URL || !slices.Equal(w.Events, p.rec.Events) ||
			w.Cursor != p.prev || !w.UpdatedAt.Equal(p.rec.UpdatedAt) {
			// Taken over by another node after our lease ended, or updated
			// or replayed: record what was delivered (a takeover refuses
			// it), and claim it afresh for its new URL, filters or cursor.
			p.save(ctx, false)
			d.mu.Lock()
			delete(d.held, w.ID)
			d.mu.Unlock()
			p = nil
		} else if !p.state.NextAttemptAt.IsZero() && p.state.NextAttemptAt.After(now) {
			continue
		}
		d.mu.Lock()
		d.active[w.ID] = true
		d.mu.Unlock()
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() {
				d.mu.Lock()
				delete(d.active, w.ID)
				d.mu.Unlock()
				<-sem
				wg.Done()
			}()
			if d.serve(ctx, w.ID, p) {
				full.Store(true)
			}
		}()
	}
	wg.Wait()
	// Endpoints deleted meanwhile are forgotten.
	d.mu.Lock()
	for id := range d.held {
		if !live[id] {
			delete(d.held, id)
		}
	}
	d.mu.Unlock()
	d.cfg.Metrics.forget(live)
	return full.Load()
}

// progress is where delivery to one endpoint this dispatcher holds
// stands. It outlives a pass: while the lease lasts, the next pass goes
// on from it without a claim, and deliveries are recorded in batches
// (saveEvery), at the price of redelivering the unrecorded ones after a
// crash, which at-least-once allows.
type progress struct {
	d          *Dispatcher
	rec        *core.WebhookRecord // as claimed: URL, filters, secret
	prev       int64               // the cursor stored
	state      usercenter.WebhookState
	leaseUntil time.Time
	savedAt    time.Time
	measuredAt time.Time // of the backlog, for the metrics
	pending    []*usercenter.WebhookDelivery
	full       bool // the last deliver stopped at Batch: more may wait
}

// Recording bounds: a batch of deliveries is saved when it holds
// saveBatch, or at the end of a pass once the last save is SaveEvery old.
const (
	saveBatch        = 64
	defaultSaveEvery = 250 * time.Millisecond
)

// save stores the state and the attempts made since the last save, and
// renews the lease, or releases it. It uses a context of its own, so that
// what was delivered before a shutdown is still recorded. false means the
// lease is lost, or the cursor moved (a replay, a deletion): the progress
// must be dropped.
func (p *progress) save(ctx context.Context, release bool) bool {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now := p.d.cfg.Clock.Now()
	var until time.Time
	if !release {
		until = now.Add(p.d.cfg.Lease)
	}
	ok, err := p.d.svc.SaveWebhookProgress(sctx, p.rec.ID, p.d.cfg.Node, p.prev, p.state, until, p.pending)
	if err != nil {
		p.d.cfg.Log.Warn("webhooks: cannot record deliveries; they will be made again", "webhook", p.rec.ID, "err", err)
		return false
	}
	if !ok {
		return false
	}
	p.prev, p.pending, p.leaseUntil, p.savedAt = p.state.Cursor, nil, until, now
	return true
}

// serve delivers one endpoint's pending events in order, until it has
// none left, has delivered Batch, or a delivery failed, from p if this
// dispatcher holds the endpoint, or else from a claim. It reports whether
// it stopped at Batch, and still holds the endpoint.
func (d *Dispatcher) serve(ctx context.Context, id string, p *progress) (full bool) {
	now := d.cfg.Clock.Now()
	if p == nil {
		rec, err := d.svc.ClaimWebhook(ctx, id, d.cfg.Node, now, d.cfg.Lease)
		if err != nil || rec == nil {
			if err != nil && ctx.Err() == nil && usercenter.ErrorCode(err) != usercenter.ENotFound {
				d.cfg.Log.Warn("webhooks: cannot claim an endpoint", "webhook", id, "err", err)
			}
			return false
		}
		p = &progress{d: d, rec: rec, prev: rec.Cursor, state: rec.WebhookState, leaseUntil: now.Add(d.cfg.Lease), savedAt: now}
	}
	keep := d.deliver(ctx, p)
	full = keep && p.full
	if keep && (len(p.pending) > 0 || p.state.Cursor != p.prev) && d.cfg.Clock.Now().Sub(p.savedAt) >= d.cfg.SaveEvery {
		keep = p.save(ctx, false)
	}
	if keep && d.cfg.Metrics != nil && d.cfg.Clock.Now().Sub(p.measuredAt) >= d.cfg.Poll {
		n, oldest, err := d.svc.WebhookBacklog(ctx, p.rec.SdkAppID, p.state.Cursor)
		if err == nil {
			d.cfg.Metrics.backlog(id, n, oldest)
			p.measuredAt = d.cfg.Clock.Now()
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if keep {
		d.held[id] = p
	} else {
		delete(d.held, id)
	}
	return full && keep
}

// deliver runs serve's loop; false means the lease is lost, or the
// endpoint changed under it, and p must be dropped.
func (d *Dispatcher) deliver(ctx context.Context, p *progress) bool {
	rec := p.rec
	handled := 0
	p.full = false
	defer func() { p.full = handled >= d.cfg.Batch }()
	for handled < d.cfg.Batch {
		events, err := d.svc.PendingEvents(ctx, rec.SdkAppID, p.state.Cursor, min(100, d.cfg.Batch))
		if err != nil {
			if ctx.Err() == nil {
				d.cfg.Log.Warn("webhooks: cannot read the outbox", "webhook", rec.ID, "err", err)
			}
			return true
		}
		if len(events) == 0 {
			return true
		}
		for i := range events {
			e := &events[i]
			if !rec.Matches(e.Type) {
				p.state.Cursor = e.ID
				continue
			}
			// The lease must outlast this delivery: renew it first if not.
			if d.cfg.Clock.Now().Add(d.cfg.Timeout + d.cfg.Lease/10).After(p.leaseUntil) {
				if !p.save(ctx, false) {
					return false
				}
			}
			if ctx.Err() != nil {
				return true
			}
			done, ok := d.attempt(ctx, rec, p, e)
			if !ok {
				return true
			}
			handled++
			if !done {
				// Retried later, in order: nothing after it goes first.
				// Recorded now, so that every node sees when it is due.
				return p.save(ctx, false)
			}
			if len(p.pending) >= saveBatch && !p.save(ctx, false) {
				return false
			}
		}
	}
	return true
}

// attempt delivers one event. done says whether the endpoint is done with
// it (delivered, or given up); ok is false when the attempt did not count
// (shutdown).
func (d *Dispatcher) attempt(ctx context.Context, rec *core.WebhookRecord, p *progress, e *usercenter.Event) (done, ok bool) {
	payload, err := json.Marshal(usercenter.NewWebhookPayload(e))
	if err != nil {
		d.cfg.Log.Error("webhooks: cannot encode an event", "event", e.ID, "err", err)
		return false, false
	}
	at := d.cfg.Clock.Now()
	a := d.sender.Send(ctx, core.WebhookMessage{URL: rec.URL, Secret: rec.Secret, ID: usercenter.WebhookMessageID(e.ID), Payload: payload})
	if !a.OK && ctx.Err() != nil {
		return false, false // cut short by shutdown: not the endpoint's failure
	}
	st := &p.state
	st.Attempts++
	del := &usercenter.WebhookDelivery{
		EventID: e.ID, EventType: e.Type, Attempt: st.Attempts, At: at.UTC(),
		StatusCode: a.StatusCode, Latency: a.Latency, Error: a.Error,
	}
	p.pending = append(p.pending, del)
	switch {
	case a.OK:
		del.Result = usercenter.DeliveryOK
		d.cfg.Metrics.delivered(rec.ID, del.Result, e.At, d.cfg.Clock.Now())
		*st = usercenter.WebhookState{Cursor: e.ID, FailedAt: st.FailedAt, FailedEventID: st.FailedEventID}
		return true, true
	case !st.RetryingSince.IsZero() && at.Sub(st.RetryingSince) >= d.cfg.RetryFor:
		del.Result = usercenter.DeliveryGaveUp
		d.cfg.Metrics.delivered(rec.ID, del.Result, e.At, d.cfg.Clock.Now())
		d.cfg.Log.Warn("webhooks: an event was given up after a day of failed deliveries; the endpoint is flagged",
			"webhook", rec.ID, "event", e.ID, "attempts", st.Attempts, "last_error", a.Error)
		*st = usercenter.WebhookState{Cursor: e.ID, FailedAt: at.UTC(), FailedEventID: e.ID}
		return true, true
	}
	del.Result = usercenter.DeliveryFailed
	d.cfg.Metrics.delivered(rec.ID, del.Result, e.At, d.cfg.Clock.Now())
	if st.RetryingSince.IsZero() {
		st.RetryingSince = at.UTC()
	}
	st.NextAttemptAt = at.Add(d.backoff(st.Attempts)).UTC()
	return false, true
}

// backoff is the wait after the nth failed attempt: exponential, capped,
// and between half and all of it at random, so that endpoints that failed
// together do not retry together.
func (d *Dispatcher) backoff(n int) time.Duration {
	full := float64(backoffCap)
	if n < 30 {
		full = math.Min(full, float64(backoffBase)*math.Pow(2, float64(n-1)))
	}
	return time.Duration(full * (0.5 + 0.5*d.cfg.Jitter()))
}
