package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

func testCodes(t *testing.T, s core.Store) {
	AddApps(t, s, 1, 2)
	u := NewUser(1, "u", Base)
	AddUser(t, s, u)
	expires := Base.Add(5 * time.Minute)

	c := NewCode("one", u, usercenter.FieldPhone, expires)
	AddCode(t, s, c)
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertCode(ctx, NewCode("one", u, usercenter.FieldEmail, expires)) }),
		usercenter.EConflict, "code")

	at := Base.Add(time.Minute)
	got, err := Take(s, c.Hash, at)
	if err != nil {
		t.Fatal(err)
	}
	want := *c
	want.CreatedAt, want.ExpiresAt, want.UsedAt = Base.UTC(), expires.UTC(), at.UTC()
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("TakeCode = %+v\nwant %+v", *got, want)
	}
	WantUTC(t, "UsedAt", got.UsedAt, at)
	WantUTC(t, "ExpiresAt", got.ExpiresAt, expires)

	// A code is taken once.
	_, err = Take(s, c.Hash, at.Add(time.Second))
	WantErr(t, err, usercenter.ENotFound, "code")
	_, err = Take(s, HashOf("never issued"), at)
	WantErr(t, err, usercenter.ENotFound, "code")
	_, err = Take(s, nil, at)
	WantErr(t, err, usercenter.ENotFound, "code")

	// TakeCode leaves expiry to the caller: an expired code is taken, and
	// its ExpiresAt says so.
	old := NewCode("expired", u, usercenter.FieldEmail, Base.Add(-time.Minute))
	AddCode(t, s, old)
	got, err = Take(s, old.Hash, at)
	if err != nil || !got.ExpiresAt.Equal(old.ExpiresAt) || got.Field != usercenter.FieldEmail {
		t.Fatalf("TakeCode(expired) = %+v, %v", got, err)
	}

	// A taken code whose Update fails stays unused.
	c2 := NewCode("two", u, usercenter.FieldEmail, expires)
	AddCode(t, s, c2)
	err = s.Update(ctx, func(tx core.Tx) error {
		if _, err := tx.TakeCode(ctx, c2.Hash, at); err != nil {
			return err
		}
		return errRefused
	})
	if !errors.Is(err, errRefused) {
		t.Fatal(err)
	}
	if _, err := Take(s, c2.Hash, at); err != nil {
		t.Fatalf("code taken by a failed Update: %v", err)
	}

	// Inserted and taken in one Update: a Tx sees its own writes, and the
	// second take in it fails.
	c3 := NewCode("three", u, usercenter.FieldPhone, expires)
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.InsertCode(ctx, c3); err != nil {
			return err
		}
		if _, err := tx.TakeCode(ctx, c3.Hash, at); err != nil {
			return err
		}
		if _, err := tx.TakeCode(ctx, c3.Hash, at); usercenter.ErrorCode(err) != usercenter.ENotFound {
			t.Errorf("second TakeCode in one Tx: %v", err)
		}
		return nil
	})

	// A zero time would leave the code unused; it is refused.
	c4 := NewCode("four", u, usercenter.FieldPhone, expires)
	AddCode(t, s, c4)
	_, err = Take(s, c4.Hash, time.Time{})
	WantErr(t, err, usercenter.EInternal, "")
	if _, err := Take(s, c4.Hash, at); err != nil {
		t.Fatalf("code used by a refused TakeCode: %v", err)
	}

	// A code is bound to its user's app, to a real user, and to a phone or
	// an email.
	for _, bad := range []struct {
		mut      func(*core.Code)
		code     usercenter.Code
		resource string
	}{
		{func(c *core.Code) { c.SdkAppID = 2 }, usercenter.ENotFound, usercenter.ResourceUser},
		{func(c *core.Code) { c.UserID = "nobody" }, usercenter.ENotFound, usercenter.ResourceUser},
		{func(c *core.Code) { c.Field = usercenter.FieldAddress }, usercenter.EInternal, ""},
		{func(c *core.Code) { c.Field = "" }, usercenter.EInternal, ""},
		{func(c *core.Code) { c.ExpiresAt = time.Time{} }, usercenter.EInternal, ""},
	} {
		c := NewCode("bad", u, usercenter.FieldPhone, expires)
		bad.mut(c)
		WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertCode(ctx, c) }), bad.code, bad.resource)
	}
	if n := codesStored(t, s); unusedCode(t, s, HashOf("bad")) || n != 5 {
		t.Fatalf("a refused code was stored: %d codes, want 5", n)
	}
}

// unusedCode reports whether an unused code with hash is stored, by
// taking it in an Update that then fails, so that it stays unused.
func unusedCode(t *testing.T, s core.Store, hash []byte) bool {
	t.Helper()
	var found bool
	err := s.Update(ctx, func(tx core.Tx) error {
		_, err := tx.TakeCode(ctx, hash, Base)
		switch usercenter.ErrorCode(err) {
		case "":
			found = true
		case usercenter.ENotFound:
		default:
			return err
		}
		return errRefused
	})
	if err != errRefused {
		t.Fatalf("peeking at a code: %v", err)
	}
	return found
}

// codesStored counts the codes stored, used or not, by purging them all
// in an Update that then fails, so that they stay.
func codesStored(t *testing.T, s core.Store) int {
	t.Helper()
	var n int
	err := s.Update(ctx, func(tx core.Tx) error {
		var err error
		if n, err = tx.DeleteExpiredCodes(ctx, Base.AddDate(100, 0, 0)); err != nil {
			return err
		}
		return errRefused
	})
	if err != errRefused {
		t.Fatalf("counting codes: %v", err)
	}
	return n
}

// testTakeCodeConcurrent races 20 takes of one code, several times over:
// exactly one wins each race, and every other is told NotFound "code".
func testTakeCodeConcurrent(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	u := NewUser(1, "u", Base)
	AddUser(t, s, u)
	const n = 20
	for round := range 3 {
		c := NewCode(fmt.Sprint("race", round), u, usercenter.FieldPhone, Base.Add(time.Hour))
		AddCode(t, s, c)

		start := make(chan struct{})
		errs := make([]error, n)
		got := make([]*core.Code, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				got[i], errs[i] = Take(s, c.Hash, Base.Add(time.Duration(i+1)*time.Second))
			})
		}
		close(start)
		wg.Wait()

		won := -1
		for i, err := range errs {
			if err == nil {
				if won >= 0 {
					t.Fatalf("round %d: takes %d and %d both got the code", round, won, i)
				}
				won = i
				continue
			}
			WantErr(t, err, usercenter.ENotFound, usercenter.ResourceCode)
		}
		if won < 0 {
			t.Fatalf("round %d: no take got the code", round)
		}
		// The winner got the code as stored, used at its own time.
		want := *c
		want.CreatedAt, want.ExpiresAt = Base.UTC(), c.ExpiresAt.UTC()
		want.UsedAt = Base.Add(time.Duration(won+1) * time.Second).UTC()
		if !reflect.DeepEqual(*got[won], want) {
			t.Fatalf("round %d: winner got %+v\nwant %+v", round, *got[won], want)
		}
		// The code stays, used.
		if unusedCode(t, s, c.Hash) || codesStored(t, s) != round+1 {
			t.Fatalf("round %d: the code is unused or gone after the race", round)
		}
	}
}

func testDeleteExpiredCodes(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	u := NewUser(1, "u", Base)
	AddUser(t, s, u)
	now := Base.Add(time.Hour)
	for name, exp := range map[string]time.Time{
		"long ago":      now.Add(-time.Hour),
		"just expired":  now.Add(-time.Nanosecond),
		"expires now":   now, // not before now: kept
		"expires later": now.Add(time.Minute),
	} {
		AddCode(t, s, NewCode(name, u, usercenter.FieldPhone, exp))
	}
	used := NewCode("used and expired", u, usercenter.FieldEmail, now.Add(-time.Minute))
	AddCode(t, s, used)
	if _, err := Take(s, used.Hash, Base); err != nil {
		t.Fatal(err)
	}

	var n int
	MustUpdate(t, s, func(tx core.Tx) error {
		var err error
		n, err = tx.DeleteExpiredCodes(ctx, now)
		return err
	})
	if n != 3 {
		t.Fatalf("DeleteExpiredCodes removed %d, want 3", n)
	}
	for name, left := range map[string]bool{
		"long ago": false, "just expired": false,
		"expires now": true, "expires later": true,
	} {
		if got := unusedCode(t, s, HashOf(name)); got != left {
			t.Errorf("code %q left = %v, want %v", name, got, left)
		}
	}
	// The used one is gone too: only the two unexpired codes are stored.
	if n := codesStored(t, s); n != 2 {
		t.Errorf("%d codes left, want 2", n)
	}
	MustUpdate(t, s, func(tx core.Tx) error {
		var err error
		n, err = tx.DeleteExpiredCodes(ctx, now)
		return err
	})
	if n != 0 {
		t.Fatalf("second DeleteExpiredCodes removed %d", n)
	}
	WantErr(t, s.Update(ctx, func(tx core.Tx) error {
		_, err := tx.DeleteExpiredCodes(ctx, time.Time{})
		return err
	}), usercenter.EInternal, "")
}

func testCodeAttempts(t *testing.T, s core.Store) {
	AddApps(t, s, 1, 2)
	u, v := NewUser(1, "u", Base), NewUser(1, "v", Base.Add(time.Second))
	AddUser(t, s, u)
	AddUser(t, s, v)

	if n, since := Attempts(t, s, 1, u.ID); n != 0 || !since.IsZero() {
		t.Fatalf("CodeAttempts before any = %d, %v", n, since)
	}
	if n, since := Attempts(t, s, 1, "nobody"); n != 0 || !since.IsZero() {
		t.Fatalf("CodeAttempts of nobody = %d, %v", n, since)
	}

	if err := SetAttempts(s, 1, u.ID, 1, Base); err != nil {
		t.Fatal(err)
	}
	n, since := Attempts(t, s, 1, u.ID)
	if n != 1 {
		t.Fatalf("CodeAttempts = %d, want 1", n)
	}
	WantUTC(t, "since", since, Base)

	// Upsert: count and start both replaced.
	later := Base.Add(time.Minute)
	if err := SetAttempts(s, 1, u.ID, 4, later); err != nil {
		t.Fatal(err)
	}
	n, since = Attempts(t, s, 1, u.ID)
	if n != 4 {
		t.Fatalf("CodeAttempts = %d, want 4", n)
	}
	WantUTC(t, "since", since, later)
	// Another user's count is their own.
	if n, _ := Attempts(t, s, 1, v.ID); n != 0 {
		t.Fatalf("CodeAttempts of v = %d", n)
	}

	// A Tx sees its own count.
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.SetCodeAttempts(ctx, 1, v.ID, 2, Base); err != nil {
			return err
		}
		if n, _, err := tx.CodeAttempts(ctx, 1, v.ID); err != nil || n != 2 {
			t.Errorf("Tx CodeAttempts = %d, %v; want 2", n, err)
		}
		return nil
	})

	// 0 clears, whether or not there is a count.
	for range 2 {
		if err := SetAttempts(s, 1, u.ID, 0, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if n, since := Attempts(t, s, 1, u.ID); n != 0 || !since.IsZero() {
			t.Fatalf("CodeAttempts after clear = %d, %v", n, since)
		}
	}
	if n, _ := Attempts(t, s, 1, v.ID); n != 2 {
		t.Fatalf("clearing u cleared v: %d", n)
	}

	WantErr(t, SetAttempts(s, 1, u.ID, -1, Base), usercenter.EInternal, "")
	WantErr(t, SetAttempts(s, 2, u.ID, 1, Base), usercenter.ENotFound, usercenter.ResourceUser) // not u's app
	WantErr(t, SetAttempts(s, 1, "nobody", 1, Base), usercenter.ENotFound, usercenter.ResourceUser)
	WantErr(t, SetAttempts(s, 1, u.ID, 1, time.Time{}), usercenter.EInternal, "")
	for _, who := range []struct {
		app  uint64
		user string
	}{{1, u.ID}, {2, u.ID}, {1, "nobody"}} {
		if n, since := Attempts(t, s, who.app, who.user); n != 0 || !since.IsZero() {
			t.Fatalf("refused SetCodeAttempts stored %d since %v for %+v", n, since, who)
		}
	}
}

// testDeleteUserCascades checks that a user's codes and code attempts go
// with it, and nobody else's.
func testDeleteUserCascades(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	u, v := NewUser(1, "u", Base), NewUser(1, "v", Base.Add(time.Second))
	AddUser(t, s, u)
	AddUser(t, s, v)
	for _, who := range []*core.UserRecord{u, v} {
		AddCode(t, s, NewCode(who.ID+"-a", who, usercenter.FieldPhone, Base.Add(time.Hour)))
		AddCode(t, s, NewCode(who.ID+"-b", who, usercenter.FieldEmail, Base.Add(time.Hour)))
		if _, err := Take(s, HashOf(who.ID+"-b"), Base); err != nil {
			t.Fatal(err)
		}
		if err := SetAttempts(s, 1, who.ID, 3, Base); err != nil {
			t.Fatal(err)
		}
	}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.DeleteUser(ctx, u.ID) })
	// Only v's two codes, the used one included, are left.
	if n := codesStored(t, s); n != 2 {
		t.Errorf("%d codes left, want the other user's 2", n)
	}
	if !unusedCode(t, s, HashOf(v.ID+"-a")) {
		t.Error("the other user's code went with the deleted user")
	}
	if n, _ := Attempts(t, s, 1, v.ID); n != 3 {
		t.Errorf("other user's attempts = %d, want 3", n)
	}
	// A user stored again under the deleted UserId inherits nothing: no
	// attempts, no codes.
	AddUser(t, s, u)
	if n, since := Attempts(t, s, 1, u.ID); n != 0 || !since.IsZero() {
		t.Errorf("attempts of the deleted user survived: %d since %v", n, since)
	}
	_, err := Take(s, HashOf(u.ID+"-a"), Base)
	WantErr(t, err, usercenter.ENotFound, "code")
}

func testEnterpriseTokens(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	addKeys(t, s, 1, "AKIDa", "AKIDb")
	now := Base.Add(time.Hour)
	tok := func(name, key string, exp time.Time) *core.EnterpriseToken {
		return &core.EnterpriseToken{Hash: HashOf(name), SecretID: key, CreatedAt: Base, ExpiresAt: exp}
	}
	insert := func(e *core.EnterpriseToken) error {
		return s.Update(ctx, func(tx core.Tx) error { return tx.InsertEnterpriseToken(ctx, e) })
	}
	live := tok("live", "AKIDa", now.Add(time.Hour))
	for _, e := range []*core.EnterpriseToken{
		live,
		tok("expired", "AKIDa", now.Add(-time.Second)),
		tok("expires now", "AKIDa", now),
		tok("b live", "AKIDb", now.Add(time.Hour)),
		tok("b expired", "AKIDb", now.Add(-time.Hour)),
	} {
		if err := insert(e); err != nil {
			t.Fatal(err)
		}
	}

	got, err := s.EnterpriseToken(ctx, live.Hash)
	if err != nil {
		t.Fatal(err)
	}
	want := *live
	want.CreatedAt, want.ExpiresAt = Base.UTC(), live.ExpiresAt.UTC()
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("EnterpriseToken = %+v, want %+v", *got, want)
	}
	WantUTC(t, "ExpiresAt", got.ExpiresAt, live.ExpiresAt)
	// Expired tokens are returned until purged; the caller checks.
	if got, err := s.EnterpriseToken(ctx, HashOf("expired")); err != nil || !got.ExpiresAt.Before(now) {
		t.Fatalf("EnterpriseToken(expired) = %+v, %v", got, err)
	}
	_, err = s.EnterpriseToken(ctx, HashOf("never issued"))
	WantErr(t, err, usercenter.ENotFound, "token")
	// Login tokens and enterprise tokens are apart.
	_, err = s.Token(ctx, live.Hash)
	WantErr(t, err, usercenter.ENotFound, "token")

	WantErr(t, insert(tok("live", "AKIDb", now)), usercenter.EConflict, "token")
	WantErr(t, insert(tok("orphan", "AKIDnone", now)), usercenter.ENotFound, usercenter.ResourceKey)
	WantErr(t, insert(tok("no expiry", "AKIDa", time.Time{})), usercenter.EInternal, "")

	// A Tx sees its own token.
	MustUpdate(t, s, func(tx core.Tx) error {
		e := tok("in tx", "AKIDa", now.Add(time.Hour))
		if err := tx.InsertEnterpriseToken(ctx, e); err != nil {
			return err
		}
		if got, err := tx.EnterpriseToken(ctx, e.Hash); err != nil || got.SecretID != "AKIDa" {
			t.Errorf("Tx EnterpriseToken = %+v, %v", got, err)
		}
		return nil
	})

	var n int
	MustUpdate(t, s, func(tx core.Tx) error {
		var err error
		n, err = tx.DeleteExpiredEnterpriseTokens(ctx, now)
		return err
	})
	if n != 2 {
		t.Fatalf("DeleteExpiredEnterpriseTokens removed %d, want 2", n)
	}
	for name, left := range map[string]bool{"expired": false, "b expired": false, "expires now": true, "live": true, "b live": true} {
		_, err := s.EnterpriseToken(ctx, HashOf(name))
		if (err == nil) != left {
			t.Errorf("token %q: %v, want left = %v", name, err, left)
		}
	}

	// Revoking a key keeps its tokens: every use checks the key. (The
	// contract has no way to delete a key; engines test that deleting one
	// takes its tokens with it.)
	MustUpdate(t, s, func(tx core.Tx) error { return tx.RevokeKey(ctx, "AKIDa", now) })
	if _, err := s.EnterpriseToken(ctx, live.Hash); err != nil {
		t.Fatalf("token gone after revoke: %v", err)
	}
}

// addKeys stores an API key of app for each SecretId.
func addKeys(t *testing.T, s core.Store, app uint64, ids ...string) {
	t.Helper()
	MustUpdate(t, s, func(tx core.Tx) error {
		for _, id := range ids {
			k := &core.KeyRecord{
				APIKey:          usercenter.APIKey{SecretID: id, Name: id, Apps: []uint64{app}, Permissions: []usercenter.Permission{usercenter.PermUsersRead}, CreatedAt: Base},
				SealedSecretKey: []byte("sk-" + id),
			}
			if err := tx.InsertKey(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// testTrimEnterpriseTokens: a trim keeps a key's newest tokens, by
// CreatedAt and then hash, expired or not, and touches no other key's.
func testTrimEnterpriseTokens(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	addKeys(t, s, 1, "AKIDa", "AKIDb")
	// AKIDa's tokens, from oldest to newest: two issued at the same time
	// go by hash. One of the older ones has expired; it still counts.
	tieLow, tieHigh := "tie x", "tie y"
	if bytes.Compare(HashOf(tieLow), HashOf(tieHigh)) > 0 {
		tieLow, tieHigh = tieHigh, tieLow
	}
	type issued struct {
		name    string
		created time.Time
	}
	byAge := []issued{
		{"oldest", Base.Add(-time.Hour)},
		{tieLow, Base},
		{tieHigh, Base},
		{"newer", Base.Add(time.Minute)},
		{"newest", Base.Add(2 * time.Minute)},
	}
	// Inserted in another order than their age, across two Updates.
	for _, batch := range [][]int{{3, 1}, {4, 0, 2}} {
		MustUpdate(t, s, func(tx core.Tx) error {
			for _, i := range batch {
				e := &core.EnterpriseToken{Hash: HashOf(byAge[i].name), SecretID: "AKIDa", CreatedAt: byAge[i].created, ExpiresAt: Base.Add(time.Hour)}
				if i == 0 {
					e.ExpiresAt = Base.Add(-time.Minute)
				}
				if err := tx.InsertEnterpriseToken(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
	}
	other := &core.EnterpriseToken{Hash: HashOf("b's"), SecretID: "AKIDb", CreatedAt: Base.Add(-2 * time.Hour), ExpiresAt: Base.Add(time.Hour)}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertEnterpriseToken(ctx, other) })

	trim := func(secretID string, keep int) (int, error) {
		var n int
		err := s.Update(ctx, func(tx core.Tx) error {
			var err error
			n, err = tx.TrimEnterpriseTokens(ctx, secretID, keep)
			return err
		})
		return n, err
	}
	// left checks which of AKIDa's tokens remain: the newest keep.
	left := func(keep int) {
		t.Helper()
		for i, tok := range byAge {
			_, err := s.EnterpriseToken(ctx, HashOf(tok.name))
			if want := i >= len(byAge)-keep; (err == nil) != want {
				t.Errorf("keeping %d, token %q: %v, want kept = %v", keep, tok.name, err, want)
			}
		}
		if _, err := s.EnterpriseToken(ctx, other.Hash); err != nil {
			t.Errorf("another key's token after a trim: %v", err)
		}
	}

	_, err := trim("AKIDa", -1)
	WantErr(t, err, usercenter.EInternal, "")
	left(len(byAge))
	for _, c := range []struct {
		keep, deleted int
	}{
		{keep: 9, deleted: 0},
		{keep: 5, deleted: 0},
		{keep: 4, deleted: 1}, // the oldest, expired
		{keep: 3, deleted: 1}, // of the tie, the lower hash
		{keep: 2, deleted: 1},
		{keep: 2, deleted: 0},
		{keep: 0, deleted: 2},
	} {
		n, err := trim("AKIDa", c.keep)
		if err != nil || n != c.deleted {
			t.Fatalf("TrimEnterpriseTokens(AKIDa, %d) = %d, %v; want %d", c.keep, n, err, c.deleted)
		}
		left(c.keep)
	}
	// A key without tokens, or that no key has, has nothing to trim.
	for _, id := range []string{"AKIDa", "AKIDnone", "AKID\xff\x00"} {
		if n, err := trim(id, 0); err != nil || n != 0 {
			t.Errorf("TrimEnterpriseTokens(%q, 0) = %d, %v", id, n, err)
		}
	}

	// A Tx trims the tokens it issued itself, and sees them gone.
	MustUpdate(t, s, func(tx core.Tx) error {
		for i, name := range []string{"in tx 1", "in tx 2"} {
			e := &core.EnterpriseToken{Hash: HashOf(name), SecretID: "AKIDb", CreatedAt: Base.Add(time.Duration(i) * time.Second), ExpiresAt: Base.Add(time.Hour)}
			if err := tx.InsertEnterpriseToken(ctx, e); err != nil {
				return err
			}
		}
		if n, err := tx.TrimEnterpriseTokens(ctx, "AKIDb", 1); err != nil || n != 2 {
			t.Errorf("Tx TrimEnterpriseTokens = %d, %v; want 2", n, err)
		}
		for name, kept := range map[string]bool{"b's": false, "in tx 1": false, "in tx 2": true} {
			if _, err := tx.EnterpriseToken(ctx, HashOf(name)); (err == nil) != kept {
				t.Errorf("Tx EnterpriseToken(%q) after the trim: %v, want kept = %v", name, err, kept)
			}
		}
		return nil
	})
	if _, err := s.EnterpriseToken(ctx, HashOf("in tx 2")); err != nil {
		t.Errorf("the token the trim kept: %v", err)
	}

	// A trim undone with its Update leaves every token.
	err = s.Update(ctx, func(tx core.Tx) error {
		if _, err := tx.TrimEnterpriseTokens(ctx, "AKIDb", 0); err != nil {
			return err
		}
		return errRefused
	})
	if !errors.Is(err, errRefused) {
		t.Fatalf("Update = %v, want the fn's error", err)
	}
	if _, err := s.EnterpriseToken(ctx, HashOf("in tx 2")); err != nil {
		t.Errorf("a token of a trim rolled back: %v", err)
	}
}
