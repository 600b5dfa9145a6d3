// Package storetest is the behaviour contract of core.Store, written once
// and run against every engine. An engine's tests call Run with a function
// that opens a fresh, empty store; whatever an engine does beyond the
// contract (files, pools, migrations, how it batches) it tests itself,
// with the helpers exported here.
//
// The suite reaches the store only through core.Store and core.Tx, so
// what it checks is what core can rely on whichever engine is behind it.
//
// Inside an Update's fn the tests only record, and assert once Update has
// returned: an engine may run fn on a goroutine of its own (SQLite's
// writer does), where t.FailNow would end that goroutine and hang the
// store instead of failing the test.
package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// ctx is not a test's context: goroutines of a test may outlive its body
// by the time they notice a failure, and must not see a canceled context
// as the store's failure.
var ctx = context.Background()

// test is one behaviour of the contract, on a store of its own.
type test struct {
	name string
	fn   func(t *testing.T, s core.Store)
}

// tests lists the contract. Each entry gets a fresh store, so that no
// behaviour depends on what another left behind.
var tests = []test{
	{"Apps", testApps},
	{"AppStoresGiven", testAppStoresGiven},
	{"AppPhoneRegion", testAppPhoneRegion},
	{"AppByDomain", testAppByDomain},
	{"UpdateApp", testUpdateApp},
	{"Keys", testKeys},
	{"Users", testUsers},
	{"UserProfileRoundTrip", testUserProfileRoundTrip},
	{"UserCard", testUserCard},
	{"UserCardInApp", testUserCardInApp},
	{"UserCardsByOrigin", testUserCardsByOrigin},
	{"Links", testLinks},
	{"ExternalID", testExternalID},
	{"InsertUsers", testInsertUsers},
	{"InsertUsersAllOrNothing", testInsertUsersAllOrNothing},
	{"InsertAudits", testInsertAudits},
	{"ListUsers", testListUsers},
	{"ListReadsLinks", testListReadsLinks},
	{"UsersByIndex", testUsersByIndex},
	{"UsersAfter", testUsersAfter},
	{"UsersAfterWhileWriting", testUsersAfterWhileWriting},
	{"UsersBefore", testUsersBefore},
	{"Tokens", testTokens},
	{"Meta", testMeta},
	{"ZeroTimes", testZeroTimes},
	{"Codes", testCodes},
	{"TakeCodeConcurrent", testTakeCodeConcurrent},
	{"DeleteExpiredCodes", testDeleteExpiredCodes},
	{"CodeAttempts", testCodeAttempts},
	{"DeleteUserCascades", testDeleteUserCascades},
	{"EnterpriseTokens", testEnterpriseTokens},
	{"TrimEnterpriseTokens", testTrimEnterpriseTokens},
	{"SCIMTokens", testSCIMTokens},
	{"Audit", testAudit},
	{"AuditOutlivesUser", testAuditOutlivesUser},
	{"EraseAuditUser", testEraseAuditUser},
	{"LiveTokens", testLiveTokens},
	{"UserStats", testUserStats},
	{"Events", testEvents},
	{"EventsRollBack", testEventsRollBack},
	{"EventsFilter", testEventsFilter},
	{"DeleteOldEvents", testDeleteOldEvents},
	{"EraseEventsUser", testEraseEventsUser},
	{"DeleteUserTokens", testDeleteUserTokens},
	{"SealedValues", testSealedValues},
	{"EmailIndexes", testEmailIndexes},
	{"Webhooks", testWebhooks},
	{"WebhookLease", testWebhookLease},
	{"WebhookLeaseConcurrent", testWebhookLeaseConcurrent},
	{"WebhookDeliveries", testWebhookDeliveries},
	{"WebhookOutboxReads", testWebhookOutboxReads},
	{"UpdateReturnsFnError", testUpdateReturnsFnError},
	{"UpdateRollsBack", testUpdateRollsBack},
	{"UpdateUserAndAuditAtomic", testUpdateUserAndAuditAtomic},
	{"SwallowedErrorKeepsUpdate", testSwallowedErrorKeepsUpdate},
	{"UpdatePanic", testUpdatePanic},
	{"TxAfterUpdate", testTxAfterUpdate},
	{"CanceledContext", testCanceledContext},
	{"ConcurrentUpdates", testConcurrentUpdates},
	{"ConcurrentSameOrigin", testConcurrentSameOrigin},
	{"ConcurrentRegistration", testConcurrentRegistration},
	{"BatchOneFailingUpdate", testBatchOneFailingUpdate},
	{"Close", testClose},
}

// Run runs the whole contract as subtests of t, each on a store from open.
// open must return a fresh, empty store and register its own cleanup; the
// suite may Close the store itself, so closing it again must do no harm.
func Run(t *testing.T, open func(t *testing.T) core.Store) {
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open(t)) })
	}
}

// Base is a time with nanoseconds and a non-UTC zone, to check that both
// survive (the instant) and are normalized (the zone).
var Base = time.Date(2025, 3, 4, 5, 6, 7, 891011121, time.FixedZone("X", 8*3600))

// errRefused is what an fn returns to make its Update fail.
var errRefused = errors.New("refused")

// NewApp returns a valid app whose every field is set, derived from id.
func NewApp(id uint64) *core.AppRecord {
	return &core.AppRecord{
		App: usercenter.App{
			SdkAppID:    id,
			Name:        fmt.Sprintf("App %d", id),
			UserDomain:  fmt.Sprintf("app%d.example", id),
			Status:      usercenter.AppActive,
			RateLimit:   20,
			TokenTTL:    7 * 24 * time.Hour,
			PhoneRegion: "SG",
			// Not the defaults, so that a round trip proves they are stored.
			SuperAppCipher: usercenter.CipherAESGCMBase64,
			CodeTTL:        2 * time.Minute,
			CreatedAt:      Base,
		},
		SealedSuperAppSecret: []byte{1, 2, 3, byte(id)},
	}
}

// NewUser returns a user of app with a fresh UserId created at at, and no
// personal data or links.
func NewUser(app uint64, origin string, at time.Time) *core.UserRecord {
	return &core.UserRecord{User: usercenter.User{
		ID:        usercenter.NewUserID(at),
		SdkAppID:  app,
		OriginID:  origin,
		Status:    usercenter.UserActive,
		CreatedAt: at,
		UpdatedAt: at,
		Profile: usercenter.Profile{
			Nickname: "Nick " + origin,
			Avatar:   "https://example.com/" + origin + ".png",
		},
	}}
}

// FullUser is a user with every profile field, sealed value, index and a
// few links set, all derived from origin.
func FullUser(app uint64, origin string, at time.Time) *core.UserRecord {
	u := NewUser(app, origin, at)
	u.City = "Shenzhen " + origin
	u.Province = "Guangdong"
	u.Nationality = "CN"
	u.Lang = "zh-CN"
	u.Timezone = "Asia/Shanghai"
	u.Sex = "female"
	u.Signature = "sig " + origin
	u.Remark = "remark " + origin
	u.LogonMode = usercenter.LogonWeChat
	u.ExternalID = "ext-" + origin
	u.FullName = "Full Name " + origin
	u.SealedPhone = []byte("sealed-phone-" + origin)
	u.SealedEmail = []byte("sealed-email-" + origin)
	u.SealedAddress = []byte("sealed-address-" + origin)
	u.PhoneIndex = []byte("idx-phone-" + origin)
	u.EmailIndex = []byte("idx-email-" + origin)
	u.ThirdParty = map[usercenter.Provider]string{
		usercenter.ProviderWeChatUnion: "wx-" + origin,
		usercenter.ProviderQQ:          "qq-" + origin,
	}
	return u
}

// HashOf is the stored hash of a token or code named s.
func HashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// NewCode returns a code for u, hashed from name, created at Base.
func NewCode(name string, u *core.UserRecord, field usercenter.PIIField, expires time.Time) *core.Code {
	return &core.Code{
		Hash:      HashOf(name),
		SdkAppID:  u.SdkAppID,
		UserID:    u.ID,
		Field:     field,
		CreatedAt: Base,
		ExpiresAt: expires,
	}
}

// MustUpdate runs fn in an Update and fails t if it fails.
func MustUpdate(t testing.TB, s core.Store, fn func(core.Tx) error) {
	t.Helper()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

// AddApps stores NewApp of each id.
func AddApps(t testing.TB, s core.Store, ids ...uint64) {
	t.Helper()
	MustUpdate(t, s, func(tx core.Tx) error {
		for _, id := range ids {
			if err := tx.InsertApp(ctx, NewApp(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// AddUser stores u in an Update of its own.
func AddUser(t testing.TB, s core.Store, u *core.UserRecord) {
	t.Helper()
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertUser(ctx, u) })
}

// AddCode stores c in an Update of its own.
func AddCode(t testing.TB, s core.Store, c *core.Code) {
	t.Helper()
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertCode(ctx, c) })
}

// Take runs TakeCode in an Update of its own.
func Take(s core.Store, hash []byte, at time.Time) (*core.Code, error) {
	var c *core.Code
	err := s.Update(ctx, func(tx core.Tx) error {
		var err error
		c, err = tx.TakeCode(ctx, hash, at)
		return err
	})
	return c, err
}

// Attempts reads a user's code attempts in an Update, the only place the
// contract offers them.
func Attempts(t testing.TB, s core.Store, app uint64, userID string) (int, time.Time) {
	t.Helper()
	var (
		n     int
		since time.Time
	)
	MustUpdate(t, s, func(tx core.Tx) error {
		var err error
		n, since, err = tx.CodeAttempts(ctx, app, userID)
		return err
	})
	return n, since
}

// SetAttempts runs SetCodeAttempts in an Update of its own.
func SetAttempts(s core.Store, app uint64, userID string, n int, since time.Time) error {
	return s.Update(ctx, func(tx core.Tx) error { return tx.SetCodeAttempts(ctx, app, userID, n, since) })
}

// WantErr checks err's domain code and, unless fieldOrResource is empty,
// its Field or Resource.
func WantErr(t testing.TB, err error, code usercenter.Code, fieldOrResource string) {
	t.Helper()
	var e *usercenter.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want a *usercenter.Error with code %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("got code %s (%v), want %s", e.Code, err, code)
	}
	if fieldOrResource != "" && string(e.Field) != fieldOrResource && e.Resource != fieldOrResource {
		t.Fatalf("got field %q resource %q (%v), want %q", e.Field, e.Resource, err, fieldOrResource)
	}
}

// WantUTC checks that got is the instant want, in UTC; a zero want wants
// the zero time.
func WantUTC(t testing.TB, what string, got, want time.Time) {
	t.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			t.Fatalf("%s = %v, want zero", what, got)
		}
		return
	}
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("%s = %v, want %v in UTC", what, got, want)
	}
}

// WantUser checks got against what storing want should read back: times
// in UTC, no empty links, and nil for empty ciphertexts and indexes.
func WantUser(t testing.TB, got *core.UserRecord, want *core.UserRecord) {
	t.Helper()
	w := *want
	w.CreatedAt = w.CreatedAt.UTC()
	w.UpdatedAt = w.UpdatedAt.UTC()
	if !w.LastLoginAt.IsZero() {
		w.LastLoginAt = w.LastLoginAt.UTC()
	}
	w.ThirdParty = nil
	for p, id := range want.ThirdParty {
		if id == "" {
			continue
		}
		if w.ThirdParty == nil {
			w.ThirdParty = make(map[usercenter.Provider]string)
		}
		w.ThirdParty[p] = id
	}
	for _, b := range []*[]byte{&w.SealedPhone, &w.SealedEmail, &w.SealedAddress, &w.PhoneIndex, &w.EmailIndex} {
		if len(*b) == 0 {
			*b = nil
		}
	}
	if !reflect.DeepEqual(*got, w) {
		t.Fatalf("got user\n%+v\nwant\n%+v", *got, w)
	}
	WantUTC(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
}

// only returns the single user of a list read.
func only(l []core.UserRecord, err error) (*core.UserRecord, error) {
	if err != nil {
		return nil, err
	}
	if len(l) != 1 {
		return nil, fmt.Errorf("got %d users, want 1", len(l))
	}
	return &l[0], nil
}
