package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"sync"
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
	Clock   Clock
	Log     *slog.Logger
	Metrics *Metrics
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
	active map[string]bool // endpoints this dispatcher is serving
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
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Jitter == nil {
		cfg.Jitter = mrand.Float64
	}
	return &Dispatcher{svc: svc, sender: sender, cfg: cfg, wake: wake, active: map[string]bool{}}
}

// Node is the name this dispatcher leases endpoints under.
func (d *Dispatcher) Node() string { return d.cfg.Node }

// Run passes over the endpoints until ctx ends: after each pass it waits
// for a wake-up or the poll interval. It returns once the last pass has
// finished and saved what it delivered.
func (d *Dispatcher) Run(ctx context.Context) {
	for {
		d.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-d.cfg.Clock.After(d.cfg.Poll):
		}
	}
}

// RunOnce serves every endpoint that is due and not leased by another,
// each up to Batch events or its first failure, and returns when all are
// done.
func (d *Dispatcher) RunOnce(ctx context.Context) {
	queue, err := d.svc.WebhookQueue(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.cfg.Log.Warn("webhooks: cannot list the endpoints", "err", err)
		}
		return
	}
	now := d.cfg.Clock.Now()
	sem := make(chan struct{}, d.cfg.Workers)
	var wg sync.WaitGroup
	for i := range queue {
		w := &queue[i]
		d.cfg.Metrics.backlog(ctx, d.svc, w)
		if !w.NextAttemptAt.IsZero() && w.NextAttemptAt.After(now) {
			continue
		}
		if w.LeaseOwner != "" && w.LeaseOwner != d.cfg.Node && w.LeaseUntil.After(now) {
			continue
		}
		d.mu.Lock()
		busy := d.active[w.ID]
		d.active[w.ID] = true
		d.mu.Unlock()
		if busy {
			continue
		}
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
			d.serve(ctx, w.ID)
		}()
	}
	wg.Wait()
	d.cfg.Metrics.forget(queue)
}

// progress is where delivery to one claimed endpoint stands.
type progress struct {
	d          *Dispatcher
	id         string
	prev       int64 // the cursor stored
	state      usercenter.WebhookState
	leaseUntil time.Time
	pending    []*usercenter.WebhookDelivery
}

// save stores the state and the attempts made since the last save, and
// renews the lease, or releases it. It uses a context of its own, so that
// what was delivered before a shutdown is still recorded.
func (p *progress) save(ctx context.Context, release bool) bool {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var until time.Time
	if !release {
		until = p.d.cfg.Clock.Now().Add(p.d.cfg.Lease)
	}
	ok, err := p.d.svc.SaveWebhookProgress(sctx, p.id, p.d.cfg.Node, p.prev, p.state, until, p.pending)
	if err != nil {
		p.d.cfg.Log.Warn("webhooks: cannot record deliveries; they will be made again", "webhook", p.id, "err", err)
		return false
	}
	if !ok {
		// Replayed, deleted or taken over meanwhile: start afresh.
		return false
	}
	p.prev, p.pending, p.leaseUntil = p.state.Cursor, nil, until
	return true
}

// serve claims one endpoint and delivers its pending events in order,
// until it has none left, has delivered Batch, or a delivery failed.
func (d *Dispatcher) serve(ctx context.Context, id string) {
	now := d.cfg.Clock.Now()
	rec, err := d.svc.ClaimWebhook(ctx, id, d.cfg.Node, now, d.cfg.Lease)
	if err != nil || rec == nil {
		if err != nil && ctx.Err() == nil && usercenter.ErrorCode(err) != usercenter.ENotFound {
			d.cfg.Log.Warn("webhooks: cannot claim an endpoint", "webhook", id, "err", err)
		}
		return
	}
	p := &progress{d: d, id: id, prev: rec.Cursor, state: rec.WebhookState, leaseUntil: now.Add(d.cfg.Lease)}
	if !d.deliver(ctx, rec, p) {
		return
	}
	p.save(ctx, true)
}

// deliver runs serve's loop; false means the lease is lost and must not
// be released.
func (d *Dispatcher) deliver(ctx context.Context, rec *core.WebhookRecord, p *progress) bool {
	handled := 0
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
				return true // retried later, in order: nothing after it goes first
			}
			if len(p.pending) >= 32 && !p.save(ctx, false) {
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
