// Package storecache keeps the rows every request reads, in memory, for
// a moment: API keys, apps, login tokens, enterprise access tokens,
// users and users' cards (core.UserCard), each by the key the store finds
// it by. It is a core.Store that
// wraps another.
//
// Every facade's authentication reads the same key, app or token row
// over and over (a client signs every request with one key; a session
// check presents one token many times), and each such read costs a
// database round trip that is a large share of a cheap read's cost.
//
// # Freshness
//
// Without a bus, an entry lives at most TTL (500 ms) from the moment its
// database read began. Writes through this Store drop what they change
// before Update returns, so a write made on this node is read back at
// once; a write made by another node, or by the command line, is seen
// here at most TTL later. That is how a revoked key, a deleted or disabled user and a
// revoked key's enterprise tokens are refused on every node within a
// second.
//
// With a Bus (UseBus, Listen), each Store also publishes what its writes
// changed, and drops what the other processes' writes changed as they
// publish it; entries then live a longer lifetime, such as minutes, for
// as long as the bus is up. When it goes down, or comes back, the caches
// are emptied (what changed meanwhile went unheard) and entries live TTL
// again until it is up. Every writer must publish for this to hold, and
// in cli every process does, a command as well as a server. On
// PostgreSQL the bus is the schema's LISTEN/NOTIFY channel. On SQLite,
// which cannot push, it is a table of the database (PollLog over
// sqlite.InvalidationBus): a write appends its message in its own
// transaction, and a server reads what was appended every
// LogPollInterval (150 ms); a server whose unread messages were pruned
// empties its caches, and so does one whose database was restored from a
// backup under it: it finds the last message it read gone, or, once the
// restored database was written past it, another message under its
// number (PollLog). Either way the message is written with the
// transaction (TxPublisher), so a committed write is announced even if
// its process dies right after COMMIT. A process that writes without
// publishing (a release before the bus) goes unheard, for up to the long
// lifetime. Expiry of tokens is not cached: what is cached is the token's
// row, with its ExpiresAt, and core compares that with its clock on every
// use.
//
// Rows that exist are cached, and so is the absence of a user by UserId,
// under the same rules: a lookup of a UserId that finds no user is
// answered "not found" from here for at most TTL, and an insert of that
// UserId through this Store drops the absence like any write. So a UserId
// of another tenant's user and one that no user has take the same path,
// a cache hit, and their answers, identical by design, are not told apart
// by how long they take either.
//
// A user created on another node is, like any write there, seen here at
// most TTL later, and that is the only case in which a cached absence can
// hide one. It needs a lookup of the UserId before the user existed, and
// UserIds are KSUIDs with 96 random bits, minted by the node that creates
// the user and known to no one before it answers: only a guess can look
// one up beforehand. (migrate-data copies users with their UserIds, but
// into a database no server serves yet.) No other absence is cached:
// nothing calls for it, and an app's SdkAppId and user domain may be
// chosen (app create --sdk-app-id, --user-domain), so an app looked up
// while absent may well be created a moment later.
//
// Reads inside a Tx always go to the database, which a transaction must.
//
// # What is kept
//
// The rows as stored: secrets and personal data stay sealed by the vault,
// exactly as in the database; nothing is opened here. Each entry is found
// by the same global key as its row (SecretId, SdkAppId, UserId, token
// hash), so an entry is the answer the database would give to any caller;
// whether that caller may see it is decided by core, on every request, as
// before.
package storecache

import (
	"context"
	"encoding/binary"
	"hash/maphash"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"usercenter"
	"usercenter/core"
)

// TTL is how long an entry may be served after its database read began.
const TTL = 500 * time.Millisecond

// Limits are the most entries each cache holds.
type Limits struct {
	Keys, Apps, Domains, Users, Tokens, EnterpriseTokens int
}

// DefaultLimits bound the caches of a process that does not serve (a
// command), to about 25 MiB in all: a user entry, the largest, takes
// about 1 KiB. Users bounds the users' cards too. A server sizes its
// caches from a memory budget instead (LimitsFor).
var DefaultLimits = Limits{
	Keys:             4096,
	Apps:             4096,
	Domains:          4096,
	Users:            16384,
	Tokens:           32768,
	EnterpriseTokens: 8192,
}

// EntryBytes is what one entry of the three caches that grow with the
// users costs, in bytes of Go heap, its ring slot included: measured by
// TestEntryBytes for users seeded as bench seeds them (a nickname, an
// OriginId, a sealed phone and email), 979, 263 and 422 bytes, and
// rounded up for longer values. A user's entry holds the whole row, a
// card a few short columns, a token its hash, UserId and times.
var EntryBytes = map[string]int{"users": 1100, "user-cards": 320, "tokens": 480}

// smallCachesMiB is what the caches that do not grow with the users
// (keys, apps, domains, enterprise tokens: DefaultLimits' counts) may
// take, estimated at about 400 bytes an entry, not measured.
const smallCachesMiB = 8

// MinMiB is the smallest budget LimitsFor takes.
const MinMiB = 16

// LimitsFor divides a budget of mib MiB (at least MinMiB) among the
// caches. Keys, apps, domains and enterprise tokens keep DefaultLimits'
// counts (smallCachesMiB); what is left is a working set of users, each
// with its user entry, its card and one token, at EntryBytes each. So
// 192 MiB holds about 101,000 users' entries, cards and tokens: a
// working set of 100,000 users stays in memory for the entries' lifetime.
// Every cache is bounded by count, so the budget holds whatever the
// database holds; Go's heap needs room above it to collect (GOGC).
func LimitsFor(mib int) Limits {
	mib = max(mib, MinMiB)
	perUser := EntryBytes["users"] + EntryBytes["user-cards"] + EntryBytes["tokens"]
	users := (mib - smallCachesMiB) << 20 / perUser
	lim := DefaultLimits
	lim.Users, lim.Tokens = users, users
	return lim
}

// Store is a core.Store that caches what the wrapped store reads.
type Store struct {
	core.Store
	closed atomic.Bool

	keys    *ttlCache[string, *core.KeyRecord]
	apps    *ttlCache[uint64, *core.AppRecord]
	domains *ttlCache[string, uint64]           // UserDomain to SdkAppId
	users   *ttlCache[string, *core.UserRecord] // nil: no such user
	// cards holds what UserCard reads, under the rules of users and
	// dropped with them, by UserId.
	cards  *ttlCache[string, *core.UserCard] // nil: no such user
	tokens *ttlCache[hashKey, *core.Token]
	ent    *ttlCache[hashKey, *core.EnterpriseToken]

	bus *busState // nil: no other node hears of this one's writes
}

var _ core.Store = (*Store)(nil)

var seed = maphash.MakeSeed()

func hashString(s string) uint64 { return maphash.String(seed, s) }

func hashID(id uint64) uint64 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], id)
	return maphash.Bytes(seed, b[:])
}

// hashKey is what a token is found under, as a map key that costs no
// allocation: core stores tokens under at most 40 bytes (usercenter.TokenKey).
type hashKey struct {
	n uint8
	b [maxHashKey]byte
}

const maxHashKey = 48

func newHashKey(h []byte) (hashKey, bool) {
	var k hashKey
	if len(h) < 8 || len(h) > maxHashKey {
		return k, false
	}
	k.n = uint8(copy(k.b[:], h))
	return k, true
}

// Token keys end with a SHA-256 sum, whose last 8 bytes are uniform.
func hashSum(k hashKey) uint64 { return binary.LittleEndian.Uint64(k.b[k.n-8 : k.n]) }

// New wraps s with caches of the given limits (DefaultLimits for zero
// fields).
func New(s core.Store, lim Limits) *Store {
	def := func(n, d int) int {
		if n <= 0 {
			return d
		}
		return n
	}
	d := DefaultLimits
	return &Store{
		Store:   s,
		keys:    newTTLCache[string, *core.KeyRecord](def(lim.Keys, d.Keys), TTL, hashString),
		apps:    newTTLCache[uint64, *core.AppRecord](def(lim.Apps, d.Apps), TTL, hashID),
		domains: newTTLCache[string, uint64](def(lim.Domains, d.Domains), TTL, hashString),
		users:   newTTLCache[string, *core.UserRecord](def(lim.Users, d.Users), TTL, hashString),
		cards:   newTTLCache[string, *core.UserCard](def(lim.Users, d.Users), TTL, hashString),
		tokens:  newTTLCache[hashKey, *core.Token](def(lim.Tokens, d.Tokens), TTL, hashSum),
		ent:     newTTLCache[hashKey, *core.EnterpriseToken](def(lim.EnterpriseTokens, d.EnterpriseTokens), TTL, hashSum),
	}
}

// Callers own what a read returns and may change it, so every read hands
// out a copy and keeps the cached row to itself. Byte slices (sealed
// values, hashes) and the key's lists are shared: nothing in core writes
// into them.

func copyKey(k *core.KeyRecord) *core.KeyRecord { c := *k; return &c }
func copyApp(a *core.AppRecord) *core.AppRecord { c := *a; return &c }
func copyToken(t *core.Token) *core.Token       { c := *t; return &c }
func copyEnt(t *core.EnterpriseToken) *core.EnterpriseToken {
	c := *t
	return &c
}

func copyUser(u *core.UserRecord) *core.UserRecord {
	c := *u
	if u.ThirdParty != nil {
		c.ThirdParty = make(map[usercenter.Provider]string, len(u.ThirdParty))
		for p, id := range u.ThirdParty {
			c.ThirdParty[p] = id
		}
	}
	return &c
}

// cached reads k through c, loading it with load on a miss. A closed
// Store reads through, so that it fails as the wrapped store does.
func cached[K comparable, V any](s *Store, c *ttlCache[K, *V], k K, load func() (*V, error), cp func(*V) *V) (*V, error) {
	if s.closed.Load() {
		return load()
	}
	v, ok, t := c.lookup(k)
	if ok {
		return cp(v), nil
	}
	v, err := load()
	if err != nil {
		return nil, err
	}
	c.put(k, cp(v), t)
	return v, nil
}

// Key returns the key with its apps, permissions and revocation.
func (s *Store) Key(ctx context.Context, secretID string) (*core.KeyRecord, error) {
	return cached(s, s.keys, secretID, func() (*core.KeyRecord, error) { return s.Store.Key(ctx, secretID) }, copyKey)
}

func (s *Store) App(ctx context.Context, sdkAppID uint64) (*core.AppRecord, error) {
	return cached(s, s.apps, sdkAppID, func() (*core.AppRecord, error) { return s.Store.App(ctx, sdkAppID) }, copyApp)
}

// AppByDomain remembers which app has a domain, and reads that app
// through App. An app's UserDomain never changes, but the app found is
// still checked against the domain asked for.
func (s *Store) AppByDomain(ctx context.Context, userDomain string) (*core.AppRecord, error) {
	if s.closed.Load() {
		return s.Store.AppByDomain(ctx, userDomain)
	}
	id, ok, t := s.domains.lookup(userDomain)
	if ok {
		app, err := s.App(ctx, id)
		if err == nil && app.UserDomain == userDomain {
			return app, nil
		}
		if err != nil && usercenter.ErrorCode(err) != usercenter.ENotFound {
			return nil, err
		}
		s.domains.invalidate(userDomain)
		_, _, t = s.domains.lookup(userDomain)
	}
	app, err := s.Store.AppByDomain(ctx, userDomain)
	if err != nil {
		return nil, err
	}
	s.domains.put(userDomain, app.SdkAppID, t)
	return app, nil
}

// User caches the user, or that there is none (see the package comment).
func (s *Store) User(ctx context.Context, userID string) (*core.UserRecord, error) {
	if s.closed.Load() {
		return s.Store.User(ctx, userID)
	}
	u, ok, t := s.users.lookup(userID)
	if ok {
		if u == nil {
			return nil, usercenter.NotFound(usercenter.ResourceUser)
		}
		return copyUser(u), nil
	}
	u, err := s.Store.User(ctx, userID)
	switch {
	case err == nil:
		s.users.put(userID, copyUser(u), t)
	case isNoUser(err):
		s.users.put(userID, nil, t)
	}
	return u, err
}

// UserCard caches a user's card, or that there is no such user, as User
// caches the user; a write that drops the one drops the other.
func (s *Store) UserCard(ctx context.Context, userID string) (*core.UserCard, error) {
	if s.closed.Load() {
		return s.Store.UserCard(ctx, userID)
	}
	c, ok, t := s.cards.lookup(userID)
	if ok {
		if c == nil {
			return nil, usercenter.NotFound(usercenter.ResourceUser)
		}
		cp := *c
		return &cp, nil
	}
	c, err := s.Store.UserCard(ctx, userID)
	switch {
	case err == nil:
		cp := *c
		s.cards.put(userID, &cp, t)
	case isNoUser(err):
		s.cards.put(userID, nil, t)
	}
	return c, err
}

// UserCardInApp answers from the cards UserCard keeps, and keeps the card
// it reads. When no user of the app has the UserId, it keeps what the
// UserId is instead, another app's user or no one's (one more read, on
// that first miss only), so that the next lookup of either is a cache hit
// like the other: the two answers are the same, and their timing must not
// tell them apart either.
func (s *Store) UserCardInApp(ctx context.Context, sdkAppID uint64, userID string) (*core.UserCard, error) {
	if s.closed.Load() {
		return s.Store.UserCardInApp(ctx, sdkAppID, userID)
	}
	c, ok, t := s.cards.lookup(userID)
	if ok {
		if c == nil || c.SdkAppID != sdkAppID {
			return nil, usercenter.NotFound(usercenter.ResourceUser)
		}
		cp := *c
		return &cp, nil
	}
	c, err := s.Store.UserCardInApp(ctx, sdkAppID, userID)
	switch {
	case err == nil:
		cp := *c
		s.cards.put(userID, &cp, t)
		return c, nil
	case !isNoUser(err):
		return nil, err
	}
	switch other, oerr := s.Store.UserCard(ctx, userID); {
	case oerr == nil:
		s.cards.put(userID, other, t)
	case isNoUser(oerr):
		s.cards.put(userID, nil, t)
	}
	return nil, err
}

// isNoUser reports whether err is the store's answer for a UserId that no
// user has, as opposed to a failure to read.
func isNoUser(err error) bool {
	e := usercenter.ErrorOf(err)
	return e.Code == usercenter.ENotFound && e.Resource == usercenter.ResourceUser
}

// Token finds a login token by the key core stores it under; a key of an
// unexpected length reads through.
func (s *Store) Token(ctx context.Context, hash []byte) (*core.Token, error) {
	k, ok := newHashKey(hash)
	if !ok {
		return s.Store.Token(ctx, hash)
	}
	return cached(s, s.tokens, k, func() (*core.Token, error) { return s.Store.Token(ctx, hash) }, copyToken)
}

func (s *Store) EnterpriseToken(ctx context.Context, hash []byte) (*core.EnterpriseToken, error) {
	k, ok := newHashKey(hash)
	if !ok {
		return s.Store.EnterpriseToken(ctx, hash)
	}
	return cached(s, s.ent, k, func() (*core.EnterpriseToken, error) { return s.Store.EnterpriseToken(ctx, hash) }, copyEnt)
}

// Update runs fn in the wrapped store's transaction, and drops from the
// caches whatever fn wrote, once the transaction has ended (committed or
// not: dropping too much costs only a read). So the next read on this
// node, by anyone, sees the write.
func (s *Store) Update(ctx context.Context, fn func(core.Tx) error) error {
	var inv invalidations
	published, refused := false, false
	err := s.Store.Update(ctx, func(tx core.Tx) error {
		// A store may run fn again; what every run wrote is dropped,
		// and only the last run's message counts.
		published, refused = false, false
		if err := fn(&txn{Tx: tx, inv: &inv}); err != nil {
			refused = true
			return err
		}
		p, ok := tx.(TxPublisher)
		if !ok || s.bus == nil || s.bus.foreign {
			return nil
		}
		msg := inv.encode(s.bus.node)
		if msg == nil {
			return nil
		}
		ok, err := p.PublishOnCommit(ctx, msg)
		published = ok
		return err
	})
	s.apply(&inv)
	if !published && !(err != nil && refused) {
		// Published once the store's Update has returned, so after
		// COMMIT: a node that hears of the write and reads again reads
		// it. A failed Update is published too, as its commit may have
		// happened unseen, unless fn itself refused it: then nothing it
		// wrote was committed. A crash between COMMIT and here loses the
		// message, which is why a store that can publishes in the
		// transaction instead.
		s.publish(ctx, &inv)
	}
	return err
}

// Close closes the wrapped store; reads then fail as its reads do.
func (s *Store) Close() error {
	s.closed.Store(true)
	s.purge()
	return s.Store.Close()
}

func (s *Store) purge() {
	s.keys.purge()
	s.apps.purge()
	s.domains.purge()
	s.users.purge()
	s.cards.purge()
	s.tokens.purge()
	s.ent.purge()
}

// Stats counts the hits and misses of one cache.
type Stats struct {
	Hits, Misses int64
	Len          int
}

// Stats reports each cache by name: keys, apps, domains, users,
// user-cards, tokens, enterprise-tokens.
func (s *Store) Stats() map[string]Stats {
	out := map[string]Stats{}
	add := func(name string, h, m *atomic.Int64, n int) {
		out[name] = Stats{Hits: h.Load(), Misses: m.Load(), Len: n}
	}
	add("keys", &s.keys.hits, &s.keys.misses, s.keys.len())
	add("apps", &s.apps.hits, &s.apps.misses, s.apps.len())
	add("domains", &s.domains.hits, &s.domains.misses, s.domains.len())
	add("users", &s.users.hits, &s.users.misses, s.users.len())
	add("user-cards", &s.cards.hits, &s.cards.misses, s.cards.len())
	add("tokens", &s.tokens.hits, &s.tokens.misses, s.tokens.len())
	add("enterprise-tokens", &s.ent.hits, &s.ent.misses, s.ent.len())
	return out
}

// invalidations records what an Update's fn wrote. fn runs on the
// store's writer goroutine or the caller's; either way one at a time.
type invalidations struct {
	keys, users []string
	apps        []uint64
	// Inserted rows, dropped here only: the absence of a key or an app
	// is never cached, and that of a user only on a UserId looked up
	// before it existed, which only a guess can do (see the package
	// comment); other nodes need not hear of them, and a registration
	// costs no publication.
	newKeys, newUsers []string
	newApps           []uint64
	// All tokens: expired ones were deleted, and tokens are not indexed
	// by expiry here. Dropped here only: a cached token carries its
	// ExpiresAt, which core checks on every use, so another node's
	// copies of expired tokens are refused without a word.
	tokens, ent bool
	// The login tokens of these users (a revocation, a deletion).
	tokenUsers []string
	// The enterprise tokens of these API keys (a trim).
	entKeys []string
	// Everything: a write this package cannot place.
	all bool
}

func (s *Store) apply(inv *invalidations) {
	if inv.all {
		s.purge()
		return
	}
	for _, k := range slices.Concat(inv.keys, inv.newKeys) {
		s.keys.invalidate(k)
	}
	for _, id := range slices.Concat(inv.apps, inv.newApps) {
		s.apps.invalidate(id)
	}
	for _, u := range slices.Concat(inv.users, inv.newUsers) {
		s.users.invalidate(u)
		s.cards.invalidate(u)
	}
	if inv.tokens {
		s.tokens.purge()
	} else if len(inv.tokenUsers) > 0 {
		s.tokens.invalidateIf(func(t *core.Token) bool { return slices.Contains(inv.tokenUsers, t.UserID) })
	}
	if inv.ent {
		s.ent.purge()
	} else if len(inv.entKeys) > 0 {
		s.ent.invalidateIf(func(t *core.EnterpriseToken) bool { return slices.Contains(inv.entKeys, t.SecretID) })
	}
}

// txn is the Tx fn sees: the wrapped store's, noting what it writes.
// Reads go straight to the wrapped Tx. Inserts drop their rows too: for
// keys and apps, whose absence is never cached, that costs nothing and
// needs no argument; for users it drops the cached absence of the UserId.
// Writes to what is not cached (audit events, the outbox and its purge,
// codes, meta) pass through;
// TestTxMethodsKnown fails when core.Tx gains a method not decided here.
type txn struct {
	core.Tx
	inv *invalidations
}

func (t *txn) InsertApp(ctx context.Context, app *core.AppRecord) error {
	t.inv.newApps = append(t.inv.newApps, app.SdkAppID)
	return t.Tx.InsertApp(ctx, app)
}

func (t *txn) UpdateApp(ctx context.Context, app *core.AppRecord) error {
	t.inv.apps = append(t.inv.apps, app.SdkAppID)
	return t.Tx.UpdateApp(ctx, app)
}

func (t *txn) InsertKey(ctx context.Context, key *core.KeyRecord) error {
	t.inv.newKeys = append(t.inv.newKeys, key.SecretID)
	return t.Tx.InsertKey(ctx, key)
}

func (t *txn) RevokeKey(ctx context.Context, secretID string, at time.Time) error {
	t.inv.keys = append(t.inv.keys, secretID)
	return t.Tx.RevokeKey(ctx, secretID, at)
}

func (t *txn) InsertUser(ctx context.Context, u *core.UserRecord) error {
	t.inv.newUsers = append(t.inv.newUsers, u.ID)
	return t.Tx.InsertUser(ctx, u)
}

func (t *txn) InsertUsers(ctx context.Context, users []*core.UserRecord) error {
	for _, u := range users {
		t.inv.newUsers = append(t.inv.newUsers, u.ID)
	}
	return t.Tx.InsertUsers(ctx, users)
}

func (t *txn) UpdateUser(ctx context.Context, u *core.UserRecord) error {
	t.inv.users = append(t.inv.users, u.ID)
	return t.Tx.UpdateUser(ctx, u)
}

func (t *txn) DeleteUser(ctx context.Context, userID string) error {
	t.inv.users = append(t.inv.users, userID)
	t.inv.tokenUsers = append(t.inv.tokenUsers, userID)
	return t.Tx.DeleteUser(ctx, userID)
}

func (t *txn) DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error) {
	n, err := t.Tx.DeleteExpiredTokens(ctx, now)
	if n > 0 || err != nil {
		t.inv.tokens = true
	}
	return n, err
}

// DeleteUserTokens drops the cached tokens of the one user it revokes,
// not every user's.
func (t *txn) DeleteUserTokens(ctx context.Context, userID string) (int, error) {
	n, err := t.Tx.DeleteUserTokens(ctx, userID)
	if n > 0 || err != nil {
		t.inv.tokenUsers = append(t.inv.tokenUsers, userID)
	}
	return n, err
}

func (t *txn) DeleteExpiredEnterpriseTokens(ctx context.Context, now time.Time) (int, error) {
	n, err := t.Tx.DeleteExpiredEnterpriseTokens(ctx, now)
	if n > 0 || err != nil {
		t.inv.ent = true
	}
	return n, err
}

// TrimEnterpriseTokens drops the cached tokens of the one key it trims:
// a key at its limit trims at every login, which must not empty the cache
// of every other key's tokens.
func (t *txn) TrimEnterpriseTokens(ctx context.Context, secretID string, keep int) (int, error) {
	n, err := t.Tx.TrimEnterpriseTokens(ctx, secretID, keep)
	if n > 0 || err != nil {
		t.inv.entKeys = append(t.inv.entKeys, secretID)
	}
	return n, err
}

// UpdateSealed re-seals one value (master-key rotation) in the row of its
// kind.
func (t *txn) UpdateSealed(ctx context.Context, v core.SealedValue) error {
	switch v.Kind {
	case core.SealedKeySecret:
		t.inv.keys = append(t.inv.keys, v.RowKey)
	case core.SealedUserPhone, core.SealedUserEmail, core.SealedUserAddress:
		t.inv.users = append(t.inv.users, v.RowKey)
	case core.SealedAppSecret:
		id, err := strconv.ParseUint(v.RowKey, 10, 64)
		if err != nil {
			t.inv.all = true
		} else {
			t.inv.apps = append(t.inv.apps, id)
		}
	case core.SealedMeta, core.SealedConsoleTOTP, core.SealedWebhookSecret:
		// Neither meta values, console accounts nor webhook endpoints are
		// cached.
	default:
		t.inv.all = true
	}
	return t.Tx.UpdateSealed(ctx, v)
}

// SetEmailIndex re-indexes one user's email: the cached user goes.
func (t *txn) SetEmailIndex(ctx context.Context, userID string, index []byte) error {
	t.inv.users = append(t.inv.users, userID)
	return t.Tx.SetEmailIndex(ctx, userID, index)
}
