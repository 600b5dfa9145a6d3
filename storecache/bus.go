package storecache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A Bus carries invalidations between the nodes serving one database:
// what a write through one node's Store changed is published, and every
// other node drops it from its caches. The postgres package has one over
// LISTEN/NOTIFY, redisstore one over Redis pub/sub.
//
// A message is at most MaxMessage bytes. It names rows by the keys the
// caches already use (SecretIds, SdkAppIds, UserIds): never a token, a
// secret or personal data.
type Bus interface {
	// Publish sends msg to every subscriber of the bus, this node's
	// included.
	Publish(ctx context.Context, msg []byte) error
	// Subscribe delivers the bus's messages to sub until ctx ends,
	// reconnecting whenever its connection is lost. It calls sub.Up once
	// it listens (every message published from then on is delivered), and
	// sub.Down when it stops listening (messages may be lost until the
	// next Up). It returns when ctx ends.
	Subscribe(ctx context.Context, sub Subscriber)
}

// Subscriber is what a Bus delivers to.
type Subscriber interface {
	Up()
	Down(err error)
	Message(msg []byte)
}

// Resubscribe is the loop every Bus's Subscribe runs: listen until ctx
// ends, telling sub Down with what ended each listen, and listen again
// after a pause that doubles from 100 ms to 5 s while listens keep
// failing. listen calls listening once it listens (it calls sub.Up
// itself), which starts the pauses over.
func Resubscribe(ctx context.Context, sub Subscriber, listen func(ctx context.Context, listening func()) error) {
	const pauseMin, pauseMax = 100 * time.Millisecond, 5 * time.Second
	pause := pauseMin
	for ctx.Err() == nil {
		err := listen(ctx, func() { pause = pauseMin })
		sub.Down(err)
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, pauseMax)
	}
}

// MaxMessage is the largest message a Store publishes: under PostgreSQL's
// NOTIFY payload limit (8000 bytes). A write that invalidates more is
// published as "drop everything".
const MaxMessage = 7900

// publishTimeout bounds the publication after a write, which runs after
// the write committed, whatever the request's context says: the request
// may have gone, the other nodes must still hear of the write.
const publishTimeout = 5 * time.Second

// message is what a Bus carries: an invalidations, as JSON, with the
// publishing node so that it can skip its own.
type message struct {
	Node       string   `json:"n"`
	Keys       []string `json:"k,omitempty"`
	Apps       []uint64 `json:"a,omitempty"`
	Users      []string `json:"u,omitempty"`
	TokenUsers []string `json:"tu,omitempty"`
	EntKeys    []string `json:"ek,omitempty"`
	All        bool     `json:"all,omitempty"`
	// Reset names why a reader of a Log dropped everything (resetGap,
	// resetRewind, resetRestore); only that reader hands such a message
	// to its own subscriber.
	Reset string `json:"reset,omitempty"`
}

// encode returns the message publishing inv, or nil when nothing in inv
// concerns another node: inserts (see invalidations) and the deletion of
// expired tokens are not published.
func (inv *invalidations) encode(node string) []byte {
	m := message{Node: node, Keys: inv.keys, Apps: inv.apps, Users: inv.users, TokenUsers: inv.tokenUsers,
		EntKeys: inv.entKeys, All: inv.all}
	if !m.All && len(m.Keys)+len(m.Apps)+len(m.Users)+len(m.TokenUsers)+len(m.EntKeys) == 0 {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil || len(b) > MaxMessage {
		b, _ = json.Marshal(message{Node: node, All: true})
	}
	return b
}

func decode(b []byte) (message, bool) {
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return m, false
	}
	return m, true
}

// busState is a Store's side of its Bus.
type busState struct {
	bus  Bus
	node string // this Store's name on the bus, random
	// longTTL is the lifetime of entries while the bus is up.
	longTTL time.Duration
	up      atomic.Bool
	// Counters for the metrics.
	publishFailures atomic.Int64
	received        atomic.Int64
	flushes         atomic.Int64
	resets          [len(resetReasons)]atomic.Int64 // by resetReasons' index
	// mu orders Up and Down with each other.
	mu sync.Mutex
	// changed, if set, hears each change of state.
	changed func(up bool, err error)
	// foreign: the bus is not the store's own (UseForeignBus).
	foreign bool
}

// TxPublisher is a Tx that can publish a message of the store's bus
// with its transaction: the message goes out when, and only when, the
// transaction commits, as PostgreSQL's NOTIFY does. A write made through
// one is announced even if the process dies right after COMMIT, or its
// connection breaks; other Txs' writes are published after COMMIT.
// PublishOnCommit reports false when it cannot (a wrapper over a Tx that
// cannot), and the message is then published after COMMIT. It publishes
// on the store's own bus: with another (UseForeignBus) it is not used.
type TxPublisher interface {
	PublishOnCommit(ctx context.Context, msg []byte) (bool, error)
}

// UseBus makes s publish, on bus, what its writes change: a command that
// writes and exits needs no more. A server also calls Listen, which lets
// entries live longTTL while the bus is up. It is called before s is
// used, once.
func (s *Store) UseBus(bus Bus, longTTL time.Duration) {
	var b [8]byte
	rand.Read(b[:])
	s.bus = &busState{bus: bus, node: hex.EncodeToString(b[:]), longTTL: max(longTTL, TTL)}
}

// UseForeignBus is UseBus for a bus that is not the wrapped store's own,
// such as Redis pub/sub in front of a database: a Tx's PublishOnCommit
// writes to the store's own bus, which no one would hear, so it is not
// used, and every message is published after COMMIT.
func (s *Store) UseForeignBus(bus Bus, longTTL time.Duration) {
	s.UseBus(bus, longTTL)
	s.bus.foreign = true
}

// Listen drops what other nodes' writes change, as the bus of UseBus
// reports them, until ctx ends. While the bus is up entries live the
// longTTL of UseBus; while it is down they live TTL, as without a bus,
// and every change of state empties the caches: what was cached may have
// changed unreported.
func (s *Store) Listen(ctx context.Context) {
	if s.bus == nil {
		return
	}
	s.bus.bus.Subscribe(ctx, (*subscriber)(s))
	(*subscriber)(s).Down(ctx.Err())
}

// OnBusChange makes Listen call f each time the bus comes up (err nil)
// or goes down, for a log line; f must not block. It is called before
// Listen.
func (s *Store) OnBusChange(f func(up bool, err error)) {
	if s.bus != nil {
		s.bus.changed = f
	}
}

// InvalidationUp reports whether entries are kept for the long lifetime,
// the bus being up.
func (s *Store) InvalidationUp() bool { return s.bus != nil && s.bus.up.Load() }

// publish tells the other nodes what a write changed.
func (s *Store) publish(ctx context.Context, inv *invalidations) {
	if s.bus == nil {
		return
	}
	msg := inv.encode(s.bus.node)
	if msg == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	// Once more on failure: a connection of the pool may have been closed
	// under it since its last use.
	if err := s.bus.bus.Publish(ctx, msg); err != nil {
		if err := s.bus.bus.Publish(ctx, msg); err != nil {
			s.bus.publishFailures.Add(1)
		}
	}
}

// subscriber is a Store as its bus's Subscriber.
type subscriber Store

func (sub *subscriber) Up() {
	s := (*Store)(sub)
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	// Whatever changed while the bus was down went unheard: cached rows
	// are read again, and from now on live long.
	s.purge()
	s.bus.flushes.Add(1)
	s.setTTL(s.bus.longTTL)
	s.bus.up.Store(true)
	if s.bus.changed != nil {
		s.bus.changed(true, nil)
	}
}

func (sub *subscriber) Down(err error) {
	s := (*Store)(sub)
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	if !s.bus.up.Load() {
		return
	}
	s.bus.up.Store(false)
	// Entries stored to live long would outlive changes no one will
	// report: they go, and new ones live TTL.
	s.setTTL(TTL)
	s.purge()
	s.bus.flushes.Add(1)
	if s.bus.changed != nil {
		s.bus.changed(false, err)
	}
}

func (sub *subscriber) Message(b []byte) {
	s := (*Store)(sub)
	m, ok := decode(b)
	if !ok {
		// Not ours, or from a release that speaks otherwise: dropping
		// everything is always right.
		s.purge()
		return
	}
	if m.Reset != "" {
		// Heard from no node: the log this node reads was reset under it.
		if i := slices.Index(resetReasons[:], m.Reset); i >= 0 {
			s.bus.resets[i].Add(1)
		}
		s.purge()
		return
	}
	if m.Node == s.bus.node {
		return
	}
	s.bus.received.Add(1)
	s.apply(&invalidations{keys: m.Keys, apps: m.Apps, users: m.Users, tokenUsers: m.TokenUsers,
		entKeys: m.EntKeys, all: m.All})
}

// setTTL sets the lifetime of the entries stored from now on. Callers
// purge too, so that every cache's FIFO ring stays in expiry order.
func (s *Store) setTTL(d time.Duration) {
	s.keys.ttl.Store(int64(d))
	s.apps.ttl.Store(int64(d))
	s.domains.ttl.Store(int64(d))
	s.users.ttl.Store(int64(d))
	s.cards.ttl.Store(int64(d))
	s.tokens.ttl.Store(int64(d))
	s.ent.ttl.Store(int64(d))
}

// TTL returns how long an entry stored now may be served.
func (s *Store) TTL() time.Duration { return time.Duration(s.keys.ttl.Load()) }
