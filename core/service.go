// Package core holds usercenter's use cases: the rules every facade shares
// for apps, API keys, users and tokens. Facades translate their protocol to
// calls on Service and map its usercenter.Error codes back.
package core

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"usercenter"
	"usercenter/vault"
)

// Limiter decides whether an app may run one more request of an action,
// at perSecond sustained with bursts of perSecond. A limiter shared
// between nodes can fail; the Service then lets the request through (see
// admit).
type Limiter interface {
	Allow(ctx context.Context, sdkAppID uint64, action string, perSecond int) (bool, error)
}

// ReplayWindow is how long a replay memory must keep each signed request:
// twice the clock skew a signed request (a signature v1 request, an
// AccessKey login) is accepted with, the span of timestamps accepted at
// any moment.
const ReplayWindow = 10 * time.Minute

// Service implements the use cases over a Store.
type Service struct {
	store   Store
	vault   *vault.Keyring
	limiter Limiter
	now     func() time.Time
	log     *slog.Logger
	// pii is the one door to users' personal data.
	pii *piiVault
	// enterpriseTTL is the lifetime of enterprise API access tokens.
	enterpriseTTL time.Duration
	// eventRetention is how long events are kept.
	eventRetention time.Duration
	// replays remembers the signed requests already used.
	replays ReplayMemory
	// limiterWarned is when the last warning about a failing limiter was
	// logged, in Unix nanoseconds.
	limiterWarned atomic.Int64
	// writes tells whether writes fail for want of storage (see Ready).
	writes writeHealth
	// emailIndexDone is set once every stored email is known to be
	// indexed under the current rules (see MigrateEmailIndex).
	emailIndexDone atomic.Bool
	// webhooks checks endpoint URLs and sends test events; may be nil.
	webhooks WebhookSender
	// eventsCommitted, if set, runs after an Update that wrote events.
	eventsCommitted func()
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLimiter enables per-app, per-action rate limits.
func WithLimiter(l Limiter) Option { return func(s *Service) { s.limiter = l } }

// WithReplayMemory sets the memory of used signed requests (signature v1
// requests and AccessKey logins), which must keep each for ReplayWindow.
// Without it such requests are refused: a Service that forgot one must
// not accept replays silently.
func WithReplayMemory(m ReplayMemory) Option { return func(s *Service) { s.replays = m } }

// WithLogger sets the logger for background work.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService builds a Service. It checks that the keyring opens the values
// already stored, so a wrong master key fails here rather than on the first
// request.
func NewService(ctx context.Context, store Store, ring *vault.Keyring, opts ...Option) (*Service, error) {
	s := &Service{store: store, vault: ring, now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	s.store = watchedStore{Store: store, s: s}
	if err := s.checkMasterKey(ctx); err != nil {
		return nil, err
	}
	if err := s.loadIndexKey(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

const (
	metaKeyCheck = "master_key_check"
	keyCheckText = "usercenter master key check"
)

// ErrWrongMasterKey means the database was written under another master key.
var ErrWrongMasterKey = errors.New("the master key does not match this database: its values were encrypted with another key (check --master-key-file)")

func (s *Service) checkMasterKey(ctx context.Context) error {
	sealed, err := s.store.Meta(ctx, metaKeyCheck)
	if err != nil {
		return err
	}
	if sealed == nil {
		return s.store.Update(ctx, func(tx Tx) error {
			return tx.SetMeta(ctx, metaKeyCheck, s.vault.Seal([]byte(keyCheckText), aadMeta(metaKeyCheck)))
		})
	}
	pt, err := s.vault.Open(sealed, aadMeta(metaKeyCheck))
	if err != nil || string(pt) != keyCheckText {
		return ErrWrongMasterKey
	}
	return nil
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Ready reports whether the store answers, and whether it takes writes:
// after a write failed because the database's storage fails (ErrStorage:
// a full disk, an I/O error), Ready fails until a write succeeds again,
// which Ready itself tries at most once every probeEvery (see probe).
func (s *Service) Ready(ctx context.Context) error {
	if err := s.store.Ping(ctx); err != nil {
		return err
	}
	return s.writes.ready(ctx, s)
}

// probeEvery spaces the writes Ready tries while writes fail.
const probeEvery = time.Second

// metaProbe is the meta row that Ready's probe writes. Its value stays
// empty: an empty meta value is not sealed (see SealedMeta).
const metaProbe = "readiness_probe"

// writeHealth remembers whether the store's writes fail for want of
// storage (see Service.Ready).
type writeHealth struct {
	// failing is whether failed is set, read without the lock: every
	// successful write asks, and while all is well takes no lock.
	failing  atomic.Bool
	mu       sync.Mutex
	failed   error     // the last write's ErrStorage failure; nil once a write succeeds
	failedAt time.Time // when it failed, or when Ready last probed
}

// note records the outcome of a write.
func (h *writeHealth) note(now time.Time, err error) {
	switch {
	case err == nil:
		if !h.failing.Load() {
			return
		}
		h.mu.Lock()
		h.failed = nil
		h.failing.Store(false)
		h.mu.Unlock()
	case errors.Is(err, ErrStorage):
		h.mu.Lock()
		h.failed, h.failedAt = err, now
		h.failing.Store(true)
		h.mu.Unlock()
	}
}

// ready fails while writes fail. At most once every probeEvery after a
// failure it writes metaProbe, and is ready again if that succeeds: the
// writes that failed may not come back while the node reports itself not
// ready, and an operator who freed space expects it to recover alone.
func (h *writeHealth) ready(ctx context.Context, s *Service) error {
	h.mu.Lock()
	failed, since := h.failed, h.failedAt
	probe := failed != nil && s.now().Sub(since) >= probeEvery
	if probe {
		h.failedAt = s.now() // one probe at a time, and one per probeEvery
	}
	h.mu.Unlock()
	if failed == nil {
		return nil
	}
	if !probe {
		return failed
	}
	return s.store.Update(ctx, func(tx Tx) error { return tx.SetMeta(ctx, metaProbe, nil) })
}

// watchedStore is the Service's Store: every write's outcome goes to
// writes, for Ready.
type watchedStore struct {
	Store
	s *Service
}

func (w watchedStore) Update(ctx context.Context, fn func(Tx) error) error {
	if w.s.eventsCommitted == nil {
		err := w.Store.Update(ctx, fn)
		w.s.writes.note(w.s.now(), err)
		return err
	}
	var wrote bool
	err := w.Store.Update(ctx, func(tx Tx) error {
		wrote = false // fn may run again
		return fn(eventsTx{Tx: tx, wrote: &wrote})
	})
	w.s.writes.note(w.s.now(), err)
	if err == nil && wrote {
		w.s.eventsCommitted()
	}
	return err
}

// eventsTx notes whether an Update wrote events, for eventsCommitted.
type eventsTx struct {
	Tx
	wrote *bool
}

func (t eventsTx) InsertEvents(ctx context.Context, events []*usercenter.Event) error {
	if len(events) > 0 {
		*t.wrote = true
	}
	return t.Tx.InsertEvents(ctx, events)
}

// WithEventsCommitted sets what runs after each Update that committed
// events: the dispatcher's wake-up, so that a delivery need not wait for
// its next poll. It must not block.
func WithEventsCommitted(f func()) Option { return func(s *Service) { s.eventsCommitted = f } }

type actionKey struct{}

// WithAction names the API action a request runs, for rate limiting. Calls
// without an action (the CLI) are not limited.
func WithAction(ctx context.Context, action string) context.Context {
	return context.WithValue(ctx, actionKey{}, action)
}

// ErrRateLimited is returned when an app's per-action budget is used up.
var ErrRateLimited = &usercenter.Error{Code: usercenter.ERateLimited, Message: "the request rate limit of the app has been exceeded"}

// limiterWarnEvery spaces the warnings about a failing limiter: while
// Redis is down every request would log one.
const limiterWarnEvery = 30 * time.Second

// admit charges one request of the context's action to the app. A limiter
// that fails lets the request through: a rate limit protects capacity,
// and refusing every request while Redis is down would be the outage it
// is meant to prevent.
func (s *Service) admit(ctx context.Context, app *usercenter.App) error {
	action, _ := ctx.Value(actionKey{}).(string)
	if s.limiter == nil || action == "" {
		return nil
	}
	ok, err := s.limiter.Allow(ctx, app.SdkAppID, action, app.RateLimit)
	if err != nil {
		s.warnLimiter(err)
		return nil
	}
	if !ok {
		return ErrRateLimited
	}
	return nil
}

// warnLimiter logs a limiter failure at most once per limiterWarnEvery.
// The error names only the limiter's backend, never the app or the user.
func (s *Service) warnLimiter(err error) {
	now := time.Now().UnixNano()
	last := s.limiterWarned.Load()
	if now-last < int64(limiterWarnEvery) || !s.limiterWarned.CompareAndSwap(last, now) {
		return
	}
	s.log.Warn("rate limiter unavailable: requests are not rate limited until it answers again", "err", err)
}
