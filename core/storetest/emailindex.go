package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"usercenter"
	"usercenter/core"
)

// testEmailIndexes checks the walk over stored emails and the re-indexing
// of one, which an email index migration is made of.
func testEmailIndexes(t *testing.T, s core.Store) {
	// An SdkAppId above MaxInt64 comes back as it went in.
	apps := []uint64{2, 1<<63 + 5}
	AddApps(t, s, apps...)
	var (
		withEmail []*core.UserRecord // in UserId order once sorted
		noEmail   *core.UserRecord
		noIndex   *core.UserRecord
	)
	MustUpdate(t, s, func(tx core.Tx) error {
		withEmail, noEmail, noIndex = nil, nil, nil
		for i := range 7 {
			u := FullUser(apps[i%2], fmt.Sprint("u", i), Base)
			switch i {
			case 3:
				u.SealedEmail, u.EmailIndex = nil, nil
				noEmail = u
			case 5:
				u.EmailIndex = nil // an email no lookup finds: listed, to be indexed
				noIndex = u
				withEmail = append(withEmail, u)
			default:
				withEmail = append(withEmail, u)
			}
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})
	slices.SortFunc(withEmail, func(a, b *core.UserRecord) int { return bytes.Compare([]byte(a.ID), []byte(b.ID)) })

	for _, limit := range []int{1, 2, 100} {
		var got []core.IndexedEmail
		after := ""
		for {
			page, err := s.EmailIndexes(ctx, after, limit)
			if err != nil {
				t.Fatalf("EmailIndexes(%q, %d): %v", after, limit, err)
			}
			if len(page) > limit {
				t.Fatalf("EmailIndexes(%q, %d) returned %d", after, limit, len(page))
			}
			got = append(got, page...)
			if len(page) < limit {
				break
			}
			after = page[len(page)-1].UserID
		}
		if len(got) != len(withEmail) {
			t.Fatalf("EmailIndexes by %d listed %d users, want the %d with an email", limit, len(got), len(withEmail))
		}
		for i, e := range got {
			w := withEmail[i]
			if e.UserID != w.ID || e.SdkAppID != w.SdkAppID || !bytes.Equal(e.Sealed, w.SealedEmail) || !bytes.Equal(e.Index, w.EmailIndex) || (w.EmailIndex == nil) != (e.Index == nil) {
				t.Fatalf("EmailIndexes[%d] = %+v, want user %s of app %d with %q, %q", i, e, w.ID, w.SdkAppID, w.SealedEmail, w.EmailIndex)
			}
		}
	}
	if got, err := s.EmailIndexes(ctx, "", 0); err != nil || len(got) != 0 {
		t.Fatalf("EmailIndexes(limit 0) = %+v, %v; want none", got, err)
	}
	if got, err := s.EmailIndexes(ctx, withEmail[len(withEmail)-1].ID, 10); err != nil || len(got) != 0 {
		t.Fatalf("EmailIndexes after the last = %+v, %v; want none", got, err)
	}

	// Re-indexing changes the index and nothing else, and lookups follow
	// it at once, inside the transaction and after.
	u := withEmail[0]
	if u == noIndex {
		u = withEmail[1]
	}
	oldIndex, newIndex := u.EmailIndex, []byte("idx-email-reindexed")
	var inTx, oldInTx []core.UserRecord
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.SetEmailIndex(ctx, u.ID, newIndex); err != nil {
			return err
		}
		var err error
		if inTx, err = tx.UsersByIndex(ctx, u.SdkAppID, usercenter.FieldEmail, newIndex); err != nil {
			return err
		}
		oldInTx, err = tx.UsersByIndex(ctx, u.SdkAppID, usercenter.FieldEmail, oldIndex)
		return err
	})
	if len(inTx) != 1 || inTx[0].ID != u.ID || len(oldInTx) != 0 {
		t.Fatalf("inside the Tx: new index finds %d users, old %d; want %s, then none", len(inTx), len(oldInTx), u.ID)
	}
	if got, err := only(s.UsersByIndex(ctx, u.SdkAppID, usercenter.FieldEmail, newIndex)); err != nil || got.ID != u.ID {
		t.Fatalf("UsersByIndex(new index) = %+v, %v", got, err)
	}
	if got, err := s.UsersByIndex(ctx, u.SdkAppID, usercenter.FieldEmail, oldIndex); err != nil || len(got) != 0 {
		t.Fatalf("UsersByIndex(old index) = %+v, %v; want none", got, err)
	}
	want := *u
	want.EmailIndex = newIndex
	got, err := s.User(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	WantUser(t, got, &want)

	// A user who had an email but no index gets one.
	MustUpdate(t, s, func(tx core.Tx) error { return tx.SetEmailIndex(ctx, noIndex.ID, []byte("idx-late")) })
	if got, err := only(s.UsersByIndex(ctx, noIndex.SdkAppID, usercenter.FieldEmail, []byte("idx-late"))); err != nil || got.ID != noIndex.ID {
		t.Fatalf("UsersByIndex(late index) = %+v, %v", got, err)
	}

	// No index without an email, nor for a user who is gone; no empty index.
	for _, c := range []struct {
		name   string
		userID string
		index  []byte
		code   usercenter.Code
		res    string
	}{
		{"no email", noEmail.ID, []byte("idx-x"), usercenter.ENotFound, usercenter.ResourceUser},
		{"no such user", "nobody", []byte("idx-x"), usercenter.ENotFound, usercenter.ResourceUser},
		{"empty index", u.ID, []byte{}, usercenter.EInternal, ""},
		{"nil index", u.ID, nil, usercenter.EInternal, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := s.Update(ctx, func(tx core.Tx) error { return tx.SetEmailIndex(ctx, c.userID, c.index) })
			WantErr(t, err, c.code, c.res)
		})
	}
	if got, _ := s.User(ctx, noEmail.ID); got.EmailIndex != nil || got.SealedEmail != nil {
		t.Fatalf("SetEmailIndex gave a user without an email %q, %q", got.SealedEmail, got.EmailIndex)
	}
	if got, _ := s.User(ctx, u.ID); !bytes.Equal(got.EmailIndex, newIndex) {
		t.Fatalf("a refused SetEmailIndex changed the index to %q", got.EmailIndex)
	}

	// A deleted user is no longer listed.
	MustUpdate(t, s, func(tx core.Tx) error { return tx.DeleteUser(ctx, u.ID) })
	all, err := s.EmailIndexes(ctx, "", 100)
	if err != nil || len(all) != len(withEmail)-1 || slices.ContainsFunc(all, func(e core.IndexedEmail) bool { return e.UserID == u.ID }) {
		t.Fatalf("EmailIndexes after a deletion = %d users, %v; want %d without %s", len(all), err, len(withEmail)-1, u.ID)
	}
}
