package storetest

import (
	"reflect"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// cardOf is the card a user record stores.
func cardOf(u *core.UserRecord) core.UserCard {
	return core.UserCard{ID: u.ID, SdkAppID: u.SdkAppID, OriginID: u.OriginID, Status: u.Status, Nickname: u.Nickname, Avatar: u.Avatar}
}

func wantCard(t testing.TB, r core.Reader, want *core.UserRecord) {
	t.Helper()
	got, err := r.UserCard(ctx, want.ID)
	if err != nil {
		t.Fatalf("UserCard(%s): %v", want.ID, err)
	}
	if *got != cardOf(want) {
		t.Fatalf("UserCard(%s) = %+v, want %+v", want.ID, *got, cardOf(want))
	}
}

// testUserCard: the card of a user is its identity and public profile as
// stored, read back after every kind of write, and a user that is not
// there is not found as User reports it.
func testUserCard(t *testing.T, s core.Store) {
	const big = 1<<63 + 9 // beyond int64, as SdkAppIds may be
	AddApps(t, s, 1, big)

	u := FullUser(1, "alice", Base)
	AddUser(t, s, u)
	wantCard(t, s, u)
	// A disabled user without nickname or avatar, in an app beyond int64.
	other := FullUser(big, "bob", Base.Add(time.Second))
	other.Status = usercenter.UserDisabled
	other.Nickname, other.Avatar = "", ""
	AddUser(t, s, other)
	wantCard(t, s, other)

	for _, id := range []string{"nobody", usercenter.NewUserID(Base), "", "bad\x00id", "\xff\xfe"} {
		_, err := s.UserCard(ctx, id)
		WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	}

	// An update changes the card: read once before, so that a store that
	// keeps what it read must drop it.
	u.OriginID = "alice2"
	u.Nickname = "Alice 名"
	u.Avatar = "https://example.com/a2.png"
	u.Status = usercenter.UserDisabled
	u.UpdatedAt = Base.Add(time.Minute)
	MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, u) })
	wantCard(t, s, u)

	// A Tx reads its own writes, and what it did not write.
	carol := NewUser(1, "carol", Base.Add(2*time.Second))
	var (
		inTx     *core.UserCard
		inTxErr  error
		otherErr error
	)
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.InsertUser(ctx, carol); err != nil {
			return err
		}
		inTx, inTxErr = tx.UserCard(ctx, carol.ID)
		_, otherErr = tx.UserCard(ctx, other.ID)
		return nil
	})
	if inTxErr != nil || *inTx != cardOf(carol) {
		t.Fatalf("UserCard in the Tx that inserted it = %+v, %v; want %+v", inTx, inTxErr, cardOf(carol))
	}
	if otherErr != nil {
		t.Fatalf("UserCard of a committed user in a Tx: %v", otherErr)
	}
	wantCard(t, s, carol)

	// A lookup before the user exists must not hide it once inserted.
	dave := NewUser(1, "dave", Base.Add(3*time.Second))
	_, err := s.UserCard(ctx, dave.ID)
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	AddUser(t, s, dave)
	wantCard(t, s, dave)

	// A deleted user is not found, in a Tx as outside.
	var afterDelete error
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.DeleteUser(ctx, u.ID); err != nil {
			return err
		}
		_, afterDelete = tx.UserCard(ctx, u.ID)
		return nil
	})
	WantErr(t, afterDelete, usercenter.ENotFound, usercenter.ResourceUser)
	_, err = s.UserCard(ctx, u.ID)
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	wantCard(t, s, other)
}

// testUserCardsByOrigin: the cards of the users with an OriginId in the
// apps given, in SdkAppId order as UsersByOrigin, and none of other apps.
func testUserCardsByOrigin(t *testing.T, s core.Store) {
	const big = 1<<63 + 9
	AddApps(t, s, 1, 2, 3, big)
	inBig := FullUser(big, "alice", Base)
	in1 := FullUser(1, "alice", Base.Add(time.Second))
	in3 := NewUser(3, "alice", Base.Add(2*time.Second))
	in3.Status = usercenter.UserDisabled
	bob := NewUser(2, "bob", Base.Add(3*time.Second))
	for _, u := range []*core.UserRecord{inBig, in1, in3, bob} {
		AddUser(t, s, u)
	}
	want := func(apps []uint64, origin string, users ...*core.UserRecord) {
		t.Helper()
		got, err := s.UserCardsByOrigin(ctx, apps, origin)
		if err != nil {
			t.Fatalf("UserCardsByOrigin(%v, %q): %v", apps, origin, err)
		}
		var w []core.UserCard
		for _, u := range users {
			w = append(w, cardOf(u))
		}
		if len(got) != len(w) || (len(w) > 0 && !reflect.DeepEqual(got, w)) {
			t.Fatalf("UserCardsByOrigin(%v, %q) = %+v, want %+v", apps, origin, got, w)
		}
	}
	want([]uint64{big, 3, 2, 1, 77}, "alice", in1, in3, inBig)
	want([]uint64{2}, "alice")
	want([]uint64{3}, "alice", in3)
	want(nil, "alice")
	want([]uint64{1, 2, 3}, "bob", bob)
	want([]uint64{1, 2, 3}, "nobody")
	want([]uint64{1}, "bad\x00origin\xff")

	// The cards follow the writes.
	in1.OriginID = "alice-renamed"
	MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, in1) })
	want([]uint64{1, 3}, "alice", in3)
	want([]uint64{1, 3}, "alice-renamed", in1)
	var inTx []core.UserCard
	var inTxErr error
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.DeleteUser(ctx, in3.ID); err != nil {
			return err
		}
		inTx, inTxErr = tx.UserCardsByOrigin(ctx, []uint64{1, 3, big}, "alice")
		return nil
	})
	if inTxErr != nil || len(inTx) != 1 || inTx[0] != cardOf(inBig) {
		t.Fatalf("UserCardsByOrigin in the Tx that deleted one = %+v, %v; want only %+v", inTx, inTxErr, cardOf(inBig))
	}
	want([]uint64{1, 3, big}, "alice", inBig)
}

// testUserCardInApp: the card of a user of the app asked for is UserCard's,
// and a user of another app is not found exactly as one that is not
// there, whether or not its card was read before; the card follows the
// writes, in a Tx as outside.
func testUserCardInApp(t *testing.T, s core.Store) {
	const big = 1<<63 + 9
	AddApps(t, s, 1, 2, big)
	u := FullUser(1, "alice", Base)
	inBig := FullUser(big, "bob", Base.Add(time.Second))
	inBig.Status = usercenter.UserDisabled
	AddUser(t, s, u)
	AddUser(t, s, inBig)
	want := func(r core.Reader, app uint64, want *core.UserRecord) {
		t.Helper()
		got, err := r.UserCardInApp(ctx, app, want.ID)
		if err != nil || *got != cardOf(want) {
			t.Fatalf("UserCardInApp(%d, %s) = %+v, %v; want %+v", app, want.ID, got, err, cardOf(want))
		}
	}
	missing := func(r core.Reader, app uint64, id string) {
		t.Helper()
		_, err := r.UserCardInApp(ctx, app, id)
		WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	}
	want(s, 1, u)
	want(s, big, inBig)
	// Foreign, before and after a read that a store may keep.
	missing(s, 2, u.ID)
	missing(s, big, u.ID)
	wantCard(t, s, u)
	missing(s, 2, u.ID)
	missing(s, 1, inBig.ID)
	for _, id := range []string{"nobody", usercenter.NewUserID(Base), "", "bad\x00id", "\xff\xfe"} {
		missing(s, 1, id)
	}

	// Not found in its app before it exists, found once inserted.
	carol := NewUser(2, "carol", Base.Add(2*time.Second))
	missing(s, 2, carol.ID)
	AddUser(t, s, carol)
	want(s, 2, carol)

	// An update changes the card: read once before, so that a store that
	// keeps what it read must drop it.
	u.Nickname, u.Avatar, u.OriginID = "Alice 名", "https://example.com/a2.png", "alice2"
	u.Status = usercenter.UserDisabled
	u.UpdatedAt = Base.Add(time.Minute)
	MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, u) })
	want(s, 1, u)

	// A Tx reads its own writes: an insert, then a delete. Update may run
	// its function on another goroutine, so what it read is checked after.
	dave := NewUser(1, "dave", Base.Add(3*time.Second))
	var (
		inTx                   *core.UserCard
		inTxErr, foreign, gone error
	)
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.InsertUser(ctx, dave); err != nil {
			return err
		}
		inTx, inTxErr = tx.UserCardInApp(ctx, 1, dave.ID)
		_, foreign = tx.UserCardInApp(ctx, 2, dave.ID)
		if err := tx.DeleteUser(ctx, u.ID); err != nil {
			return err
		}
		_, gone = tx.UserCardInApp(ctx, 1, u.ID)
		return nil
	})
	if inTxErr != nil || *inTx != cardOf(dave) {
		t.Fatalf("UserCardInApp in the Tx that inserted it = %+v, %v; want %+v", inTx, inTxErr, cardOf(dave))
	}
	WantErr(t, foreign, usercenter.ENotFound, usercenter.ResourceUser)
	WantErr(t, gone, usercenter.ENotFound, usercenter.ResourceUser)
	want(s, 1, dave)
	missing(s, 1, u.ID)
	want(s, big, inBig)
}
