package storetest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

func testUsers(t *testing.T, s core.Store) {
	AddApps(t, s, 1, 2, 3)

	u := NewUser(1, "alice", Base)
	AddUser(t, s, u)
	got, err := s.User(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	WantUser(t, got, u)
	if !got.LastLoginAt.IsZero() {
		t.Fatal("LastLoginAt set on a new user")
	}
	got, err = s.UserByOrigin(ctx, 1, "alice")
	if err != nil || got.ID != u.ID {
		t.Fatalf("UserByOrigin = %+v, %v", got, err)
	}
	_, err = s.UserByOrigin(ctx, 2, "alice")
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	_, err = s.User(ctx, "nobody")
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)

	// Conflicts.
	sameOrigin := NewUser(1, "alice", Base)
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, sameOrigin) }), usercenter.EConflict, "originId")
	sameID := NewUser(2, "bob", Base)
	sameID.ID = u.ID
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, sameID) }), usercenter.EConflict, "userId")
	noApp := NewUser(42, "carol", Base)
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, noApp) }), usercenter.ENotFound, usercenter.ResourceApp)

	// The same OriginId in other apps; UsersByOrigin orders by app.
	u3 := NewUser(3, "alice", Base.Add(time.Second))
	u2 := NewUser(2, "alice", Base.Add(2*time.Second))
	AddUser(t, s, u3)
	AddUser(t, s, u2)
	list, err := s.UsersByOrigin(ctx, []uint64{3, 1, 2, 77}, "alice")
	if err != nil || len(list) != 3 || list[0].SdkAppID != 1 || list[1].SdkAppID != 2 || list[2].SdkAppID != 3 {
		t.Fatalf("UsersByOrigin = %+v, %v", list, err)
	}
	WantUser(t, &list[1], u2)
	list, err = s.UsersByOrigin(ctx, []uint64{2}, "alice")
	if err != nil || len(list) != 1 || list[0].ID != u2.ID {
		t.Fatalf("UsersByOrigin(2) = %+v, %v", list, err)
	}
	if list, err := s.UsersByOrigin(ctx, nil, "alice"); err != nil || len(list) != 0 {
		t.Fatalf("UsersByOrigin(no apps) = %+v, %v", list, err)
	}

	// UpdateUser, including setting and clearing LastLoginAt.
	u.OriginID = "alice2"
	u.Nickname = "Alice"
	u.Avatar = ""
	u.Status = usercenter.UserDisabled
	u.UpdatedAt = Base.Add(time.Minute)
	u.LastLoginAt = Base.Add(2 * time.Minute)
	MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, u) })
	got, _ = s.User(ctx, u.ID)
	WantUser(t, got, u)
	WantUTC(t, "LastLoginAt", got.LastLoginAt, u.LastLoginAt)
	u.LastLoginAt = time.Time{}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, u) })
	got, _ = s.User(ctx, u.ID)
	WantUser(t, got, u)
	if !got.LastLoginAt.IsZero() {
		t.Fatalf("LastLoginAt = %v after clearing, want zero", got.LastLoginAt)
	}

	// An OriginId is unique per app only.
	u3.OriginID = u.OriginID
	MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, u3) })
	other := NewUser(1, "taken", Base)
	AddUser(t, s, other)
	moved := *u
	moved.OriginID = "taken"
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.UpdateUser(ctx, &moved) }), usercenter.EConflict, "originId")
	if got, _ := s.User(ctx, u.ID); got.OriginID != u.OriginID {
		t.Fatalf("failed UpdateUser changed OriginId to %q", got.OriginID)
	}
	ghost := NewUser(1, "ghost", Base)
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.UpdateUser(ctx, ghost) }), usercenter.ENotFound, usercenter.ResourceUser)

	// DeleteUser.
	MustUpdate(t, s, func(tx core.Tx) error { return tx.DeleteUser(ctx, u2.ID) })
	_, err = s.User(ctx, u2.ID)
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.DeleteUser(ctx, u2.ID) }), usercenter.ENotFound, usercenter.ResourceUser)
}

func testUserProfileRoundTrip(t *testing.T, s core.Store) {
	AddApps(t, s, 1, 2)
	u := FullUser(1, "alice", Base)
	bare := NewUser(1, "bob", Base.Add(time.Second))
	AddUser(t, s, u)
	AddUser(t, s, bare)

	got, err := s.User(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	WantUser(t, got, u)
	got, err = s.User(ctx, bare.ID)
	if err != nil {
		t.Fatal(err)
	}
	WantUser(t, got, bare)
	if got.ThirdParty != nil || got.SealedPhone != nil || got.PhoneIndex != nil || got.SealedAddress != nil {
		t.Fatalf("user without links or personal data: %+v", got)
	}

	// Empty ciphertexts and indexes are no value at all, never empty
	// ones: they read back nil, no lookup finds them, and rotation does not
	// list them. And nothing plain is stored anywhere.
	empty := NewUser(1, "carol", Base.Add(2*time.Second))
	empty.SealedPhone, empty.EmailIndex = []byte{}, []byte{}
	AddUser(t, s, empty)
	if got, err := s.User(ctx, empty.ID); err != nil || got.SealedPhone != nil || got.EmailIndex != nil {
		t.Fatalf("user with empty values = %+v, %v; want them nil", got, err)
	}
	if l, err := s.UsersByIndex(ctx, 1, usercenter.FieldEmail, []byte{}); err != nil || len(l) != 0 {
		t.Fatalf("UsersByIndex(empty email index) = %+v, %v; want none", l, err)
	}
	if vals, err := s.SealedValues(ctx, core.SealedUserPhone, "", 100); err != nil || len(vals) != 1 || vals[0].RowKey != u.ID {
		t.Fatalf("SealedValues(phone) = %+v, %v; want alice's only", vals, err)
	}
	plain := NewUser(1, "dave", Base)
	plain.Phone = "+8613612346688"
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, plain) }), usercenter.EInternal, "")
	_, err = s.User(ctx, plain.ID)
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	plainUpdate := *u
	plainUpdate.Email = "alice@example.com"
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.UpdateUser(ctx, &plainUpdate) }), usercenter.EInternal, "")

	// Every read returns the full record with its links.
	reads := map[string]func() (*core.UserRecord, error){
		"UserByOrigin": func() (*core.UserRecord, error) { return s.UserByOrigin(ctx, 1, "alice") },
		"UserByLink": func() (*core.UserRecord, error) {
			return s.UserByLink(ctx, 1, usercenter.ProviderQQ, "qq-alice")
		},
		"UsersByOrigin": func() (*core.UserRecord, error) {
			l, err := s.UsersByOrigin(ctx, []uint64{1, 2}, "alice")
			return only(l, err)
		},
		"UsersByIndex": func() (*core.UserRecord, error) {
			l, err := s.UsersByIndex(ctx, 1, usercenter.FieldEmail, u.EmailIndex)
			return only(l, err)
		},
		"ListUsers": func() (*core.UserRecord, error) {
			l, _, err := s.ListUsers(ctx, 1, 0, 1)
			return only(l, err)
		},
		"UsersAfter": func() (*core.UserRecord, error) {
			l, err := s.UsersAfter(ctx, 1, "", 10)
			for i := range l {
				if l[i].ID == u.ID {
					return &l[i], err
				}
			}
			return nil, fmt.Errorf("UsersAfter = %+v, %v", l, err)
		},
	}
	for name, read := range reads {
		got, err := read()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		WantUser(t, got, u)
	}
	// A Tx reads the same.
	MustUpdate(t, s, func(tx core.Tx) error {
		got, err = tx.UserByLink(ctx, 1, usercenter.ProviderWeChatUnion, "wx-alice")
		return err
	})
	WantUser(t, got, u)

	// UpdateUser writes every mutable field.
	u.OriginID = "alice2"
	u.Nickname, u.Avatar = "A", ""
	u.City, u.Province, u.Nationality, u.Lang, u.Timezone = "Paris", "", "FR", "fr", "Europe/Paris"
	u.Sex, u.Signature, u.Remark = "", "new sig", ""
	u.LogonMode = usercenter.LogonAPI
	u.Status = usercenter.UserDisabled
	u.SealedPhone, u.PhoneIndex = nil, nil
	u.SealedEmail = []byte("resealed-email")
	u.UpdatedAt = Base.Add(time.Hour)
	u.LastLoginAt = Base.Add(time.Minute)
	MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, u) })
	got, _ = s.User(ctx, u.ID)
	WantUser(t, got, u)
	// SdkAppID and CreatedAt are not mutable.
	moved := *u
	moved.SdkAppID, moved.CreatedAt = 2, Base.Add(time.Hour)
	MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, &moved) })
	got, _ = s.User(ctx, u.ID)
	WantUser(t, got, u)
}

func testLinks(t *testing.T, s core.Store) {
	AddApps(t, s, 1, 2)
	wx, qq, apple := usercenter.ProviderWeChatUnion, usercenter.ProviderQQ, usercenter.ProviderApple

	a := NewUser(1, "a", Base)
	a.ThirdParty = map[usercenter.Provider]string{wx: "w1", qq: "same", apple: ""}
	AddUser(t, s, a)
	got, _ := s.User(ctx, a.ID)
	if want := map[usercenter.Provider]string{wx: "w1", qq: "same"}; !reflect.DeepEqual(got.ThirdParty, want) {
		t.Fatalf("links = %v, want %v (an empty ID is no link)", got.ThirdParty, want)
	}

	// One user may use the same ID at two providers.
	b := NewUser(1, "b", Base)
	b.ThirdParty = map[usercenter.Provider]string{apple: "same", usercenter.ProviderAlipay: "ali"}
	AddUser(t, s, b)

	// A provider account belongs to one user of an app: the conflict names
	// the provider, and nothing of the user is kept.
	c := NewUser(1, "c", Base)
	c.ThirdParty = map[usercenter.Provider]string{usercenter.ProviderTwitter: "t", wx: "w1"}
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, c) }), usercenter.EConflict, "thirdPartyIds.wechatUnion")
	var inner error
	MustUpdate(t, s, func(tx core.Tx) error {
		inner = tx.InsertUser(ctx, c)
		return nil // even if fn carries on, the failed insert left nothing
	})
	WantErr(t, inner, usercenter.EConflict, "thirdPartyIds.wechatUnion")
	_, err := s.User(ctx, c.ID)
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	_, err = s.UserByLink(ctx, 1, usercenter.ProviderTwitter, "t")
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)

	// In another app the same account is another user's.
	other := NewUser(2, "a", Base)
	other.ThirdParty = map[usercenter.Provider]string{wx: "w1"}
	AddUser(t, s, other)
	for app, want := range map[uint64]string{1: a.ID, 2: other.ID} {
		got, err := s.UserByLink(ctx, app, wx, "w1")
		if err != nil || got.ID != want {
			t.Fatalf("UserByLink(app %d) = %+v, %v; want %s", app, got, err, want)
		}
	}
	_, err = s.UserByLink(ctx, 1, wx, "w2")
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	_, err = s.UserByLink(ctx, 1, apple, "w1") // right ID, wrong provider
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)

	// UpdateUser replaces the links: dropped ones are free again.
	a.ThirdParty = map[usercenter.Provider]string{wx: "w1-new", usercenter.ProviderFacebook: "fb"}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, a) })
	got, _ = s.User(ctx, a.ID)
	WantUser(t, got, a)
	for _, gone := range []struct {
		p  usercenter.Provider
		id string
	}{{wx, "w1"}, {qq, "same"}} {
		_, err := s.UserByLink(ctx, 1, gone.p, gone.id)
		WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	}
	if got, err := s.UserByLink(ctx, 1, usercenter.ProviderFacebook, "fb"); err != nil || got.ID != a.ID {
		t.Fatalf("UserByLink(fb) = %+v, %v", got, err)
	}

	// Taking another user's link fails and changes nothing of the user.
	b2 := *b
	b2.Nickname = "changed"
	b2.ThirdParty = map[usercenter.Provider]string{usercenter.ProviderFacebook: "fb"}
	MustUpdate(t, s, func(tx core.Tx) error {
		inner = tx.UpdateUser(ctx, &b2)
		return nil
	})
	WantErr(t, inner, usercenter.EConflict, "thirdPartyIds.facebook")
	got, _ = s.User(ctx, b.ID)
	WantUser(t, got, b)

	// Moving a link from one user to another in one Update works once the
	// first lets go of it.
	a.ThirdParty = nil
	b.ThirdParty = map[usercenter.Provider]string{usercenter.ProviderFacebook: "fb"}
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.UpdateUser(ctx, a); err != nil {
			return err
		}
		return tx.UpdateUser(ctx, b)
	})
	got, _ = s.User(ctx, a.ID)
	WantUser(t, got, a)
	if got, err := s.UserByLink(ctx, 1, usercenter.ProviderFacebook, "fb"); err != nil || got.ID != b.ID {
		t.Fatalf("UserByLink(fb) after move = %+v, %v", got, err)
	}

	// A provider unknown to this program needs no schema change.
	b.ThirdParty["mastodon"] = "m@x"
	MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, b) })
	got, _ = s.User(ctx, b.ID)
	WantUser(t, got, b)

	// Deleting a user frees its links.
	MustUpdate(t, s, func(tx core.Tx) error { return tx.DeleteUser(ctx, b.ID) })
	for p, id := range b.ThirdParty {
		_, err := s.UserByLink(ctx, 1, p, id)
		WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	}
	d := NewUser(1, "d", Base)
	d.ThirdParty = map[usercenter.Provider]string{usercenter.ProviderFacebook: "fb"}
	AddUser(t, s, d)
}

func testListUsers(t *testing.T, s core.Store) {
	AddApps(t, s, 1, 2)
	var want []*core.UserRecord
	MustUpdate(t, s, func(tx core.Tx) error {
		// Inserted out of order, and two sharing a CreatedAt, which the
		// UserId then orders.
		for i := 9; i >= 0; i-- {
			at := Base.Add(time.Duration(i/2) * time.Second)
			u := NewUser(1, fmt.Sprint("u", i), at)
			want = append([]*core.UserRecord{u}, want...)
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		return tx.InsertUser(ctx, NewUser(2, "elsewhere", Base))
	})
	for i := 0; i < len(want); i += 2 {
		if want[i].ID > want[i+1].ID {
			want[i], want[i+1] = want[i+1], want[i]
		}
	}

	var all []core.UserRecord
	for off := 0; off < 12; off += 4 {
		page, total, err := s.ListUsers(ctx, 1, off, 4)
		if err != nil || total != 10 {
			t.Fatalf("ListUsers(%d) total = %d, %v", off, total, err)
		}
		all = append(all, page...)
	}
	if len(all) != 10 {
		t.Fatalf("pages hold %d users, want 10", len(all))
	}
	for i := range all {
		WantUser(t, &all[i], want[i])
	}
	page, total, err := s.ListUsers(ctx, 1, 100, 4)
	if err != nil || total != 10 || len(page) != 0 {
		t.Fatalf("past the end: %d users, total %d, %v", len(page), total, err)
	}
	page, total, err = s.ListUsers(ctx, 3, 0, 10)
	if err != nil || total != 0 || len(page) != 0 {
		t.Fatalf("empty app: %d users, total %d, %v", len(page), total, err)
	}
	// In a Tx, ListUsers sees the Tx's own users.
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.InsertUser(ctx, NewUser(2, "more", Base.Add(time.Hour))); err != nil {
			return err
		}
		page, total, err := tx.ListUsers(ctx, 2, 0, 10)
		if err != nil || total != 2 || len(page) != 2 || page[1].OriginID != "more" {
			t.Errorf("ListUsers in Tx = %+v, %d, %v", page, total, err)
		}
		return nil
	})
}

// testListReadsLinks checks that the one query loading a page's links
// gives each user its own.
func testListReadsLinks(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	var want []*core.UserRecord
	MustUpdate(t, s, func(tx core.Tx) error {
		for i := range 50 {
			u := FullUser(1, fmt.Sprint("u", i), Base.Add(time.Duration(i)*time.Second))
			switch i % 3 {
			case 0:
				u.ThirdParty = nil
			case 1:
				u.ThirdParty[usercenter.ProviderAlipay] = fmt.Sprint("ali", i)
			}
			want = append(want, u)
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})
	page, total, err := s.ListUsers(ctx, 1, 0, 100)
	if err != nil || total != 50 || len(page) != 50 {
		t.Fatalf("ListUsers = %d users, total %d, %v", len(page), total, err)
	}
	for i := range page {
		WantUser(t, &page[i], want[i])
	}
	slices.SortFunc(want, func(a, b *core.UserRecord) int { return strings.Compare(a.ID, b.ID) })
	after, err := s.UsersAfter(ctx, 1, "", 100)
	if err != nil || len(after) != 50 {
		t.Fatalf("UsersAfter = %d users, %v", len(after), err)
	}
	for i := range after {
		WantUser(t, &after[i], want[i])
	}
}

func testUsersByIndex(t *testing.T, s core.Store) {
	AddApps(t, s, 1, 2)
	idx := []byte("shared-index")
	var app1 []string
	MustUpdate(t, s, func(tx core.Tx) error {
		for i := range 5 {
			u := FullUser(1, fmt.Sprint("u", i), Base)
			if i%2 == 0 { // the store enforces no uniqueness on indexes
				u.PhoneIndex = idx
				app1 = append(app1, u.ID)
			}
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		u := FullUser(2, "x", Base)
		u.PhoneIndex, u.EmailIndex = idx, idx
		return tx.InsertUser(ctx, u)
	})
	slices.Sort(app1)

	got, err := s.UsersByIndex(ctx, 1, usercenter.FieldPhone, idx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range got {
		ids = append(ids, u.ID)
		if u.ThirdParty == nil || u.SealedPhone == nil {
			t.Fatalf("UsersByIndex returned an incomplete user: %+v", u)
		}
	}
	if !reflect.DeepEqual(ids, app1) {
		t.Fatalf("UsersByIndex(phone) = %v, want %v in UserId order", ids, app1)
	}
	// The phone index is not the email index.
	if got, err := s.UsersByIndex(ctx, 1, usercenter.FieldEmail, idx); err != nil || len(got) != 0 {
		t.Fatalf("UsersByIndex(email) = %+v, %v; want none", got, err)
	}
	if got, err := s.UsersByIndex(ctx, 1, usercenter.FieldEmail, []byte("idx-email-u3")); err != nil || len(got) != 1 || got[0].OriginID != "u3" {
		t.Fatalf("UsersByIndex(email u3) = %+v, %v", got, err)
	}
	if got, err := s.UsersByIndex(ctx, 2, usercenter.FieldEmail, idx); err != nil || len(got) != 1 || got[0].OriginID != "x" {
		t.Fatalf("UsersByIndex(app 2) = %+v, %v", got, err)
	}
	if got, err := s.UsersByIndex(ctx, 1, usercenter.FieldPhone, nil); err != nil || len(got) != 0 {
		t.Fatalf("UsersByIndex(nil) = %+v, %v", got, err)
	}
	if got, err := s.UsersByIndex(ctx, 1, usercenter.FieldEmail, []byte{}); err != nil || len(got) != 0 {
		t.Fatalf("UsersByIndex(empty) = %+v, %v", got, err)
	}

	// A user without an index is never found, and clearing an index takes
	// the user out of lookups at once; a Tx sees its own indexes.
	bare := NewUser(1, "bare", Base)
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.InsertUser(ctx, bare); err != nil {
			return err
		}
		first, err := tx.User(ctx, app1[0])
		if err != nil {
			return err
		}
		first.PhoneIndex, first.SealedPhone = nil, nil
		if err := tx.UpdateUser(ctx, first); err != nil {
			return err
		}
		got, err := tx.UsersByIndex(ctx, 1, usercenter.FieldPhone, idx)
		if err != nil || len(got) != len(app1)-1 {
			t.Errorf("Tx UsersByIndex after clearing = %+v, %v; want %d users", got, err, len(app1)-1)
		}
		return nil
	})
	got, err = s.UsersByIndex(ctx, 1, usercenter.FieldPhone, idx)
	if err != nil || len(got) != len(app1)-1 || got[0].ID != app1[1] || got[1].ID != app1[2] {
		t.Fatalf("UsersByIndex after clearing %s = %+v, %v; want %v", app1[0], got, err, app1[1:])
	}
	for _, f := range []usercenter.PIIField{usercenter.FieldPhone, usercenter.FieldEmail} {
		for _, index := range [][]byte{nil, {}} {
			got, err := s.UsersByIndex(ctx, 1, f, index)
			if err != nil || len(got) != 0 {
				t.Fatalf("UsersByIndex(%s, %q) = %+v, %v; want none", f, index, got, err)
			}
		}
	}

	_, err = s.UsersByIndex(ctx, 1, usercenter.FieldAddress, idx)
	WantErr(t, err, usercenter.EInternal, "")
	_, err = s.UsersByIndex(ctx, 1, "nickname", idx)
	WantErr(t, err, usercenter.EInternal, "")
}

// seedUsersAfter stores n users of app 1 with random creation times, so
// that UserId order is not insertion order, and one user of app 2 that
// walks of app 1 must not see. It returns app 1's UserIds.
func seedUsersAfter(t *testing.T, s core.Store, n int) map[string]bool {
	t.Helper()
	AddApps(t, s, 1, 2)
	initial := make(map[string]bool, n)
	MustUpdate(t, s, func(tx core.Tx) error {
		for i := range n {
			u := NewUser(1, fmt.Sprint("u", i), Base.Add(time.Duration(rand.IntN(1e6))*time.Millisecond))
			u.ThirdParty = map[usercenter.Provider]string{usercenter.ProviderQQ: u.ID}
			initial[u.ID] = true
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		return tx.InsertUser(ctx, NewUser(2, "elsewhere", Base))
	})
	return initial
}

// walkUsers pages through app 1 with UsersAfter, 100 at a time, checking
// that every page is in strict UserId order after its cursor (so nothing
// repeats) and holds only app 1's users with their links. between runs
// after each page.
func walkUsers(t *testing.T, s core.Store, initial map[string]bool, between func()) (seen []string, pages int) {
	t.Helper()
	after := ""
	for {
		page, err := s.UsersAfter(ctx, 1, after, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 100 {
			t.Fatalf("page of %d users", len(page))
		}
		if len(page) == 0 {
			return seen, pages
		}
		pages++
		for _, u := range page {
			if u.ID <= after {
				t.Fatalf("UserId %s after cursor %s: not in order, or repeated", u.ID, after)
			}
			if u.SdkAppID != 1 || initial[u.ID] && u.ThirdParty[usercenter.ProviderQQ] != u.ID {
				t.Fatalf("wrong user or links: %+v", u)
			}
			after = u.ID
			seen = append(seen, u.ID)
		}
		if between != nil {
			between()
		}
	}
}

func testUsersAfter(t *testing.T, s core.Store) {
	const n = 1200
	initial := seedUsersAfter(t, s, n)
	seen, pages := walkUsers(t, s, initial, nil)
	if len(seen) != n || pages != n/100 {
		t.Fatalf("walk saw %d users in %d pages, want %d in %d", len(seen), pages, n, n/100)
	}
	for _, id := range seen {
		if !initial[id] {
			t.Fatalf("unknown user %s", id)
		}
	}

	for _, limit := range []int{0, -1} {
		if page, err := s.UsersAfter(ctx, 1, "", limit); err != nil || len(page) != 0 {
			t.Fatalf("UsersAfter(limit %d) = %d users, %v", limit, len(page), err)
		}
	}
	if page, err := s.UsersAfter(ctx, 3, "", 10); err != nil || len(page) != 0 {
		t.Fatalf("UsersAfter(empty app) = %d users, %v", len(page), err)
	}
	// A cursor past every UserId ends the walk; one before them all
	// starts it.
	if page, err := s.UsersAfter(ctx, 1, "zzzzzzzzzzzzzzzzzzzzzzzzzzz", 10); err != nil || len(page) != 0 {
		t.Fatalf("UsersAfter(past the end) = %d users, %v", len(page), err)
	}
	if page, err := s.UsersAfter(ctx, 1, "0", 10); err != nil || len(page) != 10 || page[0].ID != seen[0] {
		t.Fatalf("UsersAfter(\"0\") = %d users, %v; want the first 10", len(page), err)
	}
}

// testUsersBefore walks app 1 backwards, newest UserId first, and checks
// that it sees exactly the forward walk reversed.
func testUsersBefore(t *testing.T, s core.Store) {
	const n = 1200
	initial := seedUsersAfter(t, s, n)
	forward, _ := walkUsers(t, s, initial, nil)
	var backward []string
	before := ""
	for {
		page, err := s.UsersBefore(ctx, 1, before, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 100 {
			t.Fatalf("page of %d users", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, u := range page {
			if before != "" && u.ID >= before {
				t.Fatalf("UserId %s before cursor %s: not in order, or repeated", u.ID, before)
			}
			if u.SdkAppID != 1 || u.ThirdParty[usercenter.ProviderQQ] != u.ID {
				t.Fatalf("wrong user or links: %+v", u)
			}
			before = u.ID
			backward = append(backward, u.ID)
		}
	}
	if len(backward) != n {
		t.Fatalf("backward walk saw %d users, want %d", len(backward), n)
	}
	for i, id := range backward {
		if forward[n-1-i] != id {
			t.Fatalf("backward walk's user %d is %s, want %s", i, id, forward[n-1-i])
		}
	}
	for _, limit := range []int{0, -1} {
		if page, err := s.UsersBefore(ctx, 1, "", limit); err != nil || len(page) != 0 {
			t.Fatalf("UsersBefore(limit %d) = %d users, %v", limit, len(page), err)
		}
	}
	if page, err := s.UsersBefore(ctx, 3, "", 10); err != nil || len(page) != 0 {
		t.Fatalf("UsersBefore(empty app) = %d users, %v", len(page), err)
	}
	if page, err := s.UsersBefore(ctx, 1, "0", 10); err != nil || len(page) != 0 {
		t.Fatalf("UsersBefore(before the start) = %d users, %v", len(page), err)
	}
	if page, err := s.UsersBefore(ctx, 1, "zzzzzzzzzzzzzzzzzzzzzzzzzzz", 10); err != nil || len(page) != 10 || page[0].ID != forward[n-1] {
		t.Fatalf("UsersBefore(past the end) = %d users, %v; want the last 10", len(page), err)
	}
}

// testUsersAfterWhileWriting walks an app while another goroutine inserts
// users on both sides of the cursor: the walk must still see every user
// that was there from the start exactly once, in order, and whichever new
// ones it reaches once.
func testUsersAfterWhileWriting(t *testing.T, s core.Store) {
	const n = 1200
	initial := seedUsersAfter(t, s, n)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var once sync.Once
	var inserted atomic.Int64
	halt := func() { once.Do(func() { close(stop); wg.Wait() }) }
	defer halt() // before the store closes, even if the walk fails
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			u := NewUser(1, fmt.Sprint("new", i), Base.Add(time.Duration(rand.IntN(1e6))*time.Millisecond))
			if err := s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, u) }); err != nil {
				t.Error(err)
				return
			}
			inserted.Add(1)
		}
	})
	// Between pages, wait for a commit, so that every page boundary has
	// writes behind it however fast the walk is.
	between := func() {
		seen := inserted.Load()
		deadline := time.Now().Add(10 * time.Second)
		for inserted.Load() == seen {
			if time.Now().After(deadline) {
				t.Fatal("no user inserted for 10s while walking")
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	seen, pages := walkUsers(t, s, initial, between)
	halt()

	found := 0
	for _, id := range seen { // walkUsers checked the order, so no repeats
		if initial[id] {
			found++
		}
	}
	if found != n {
		t.Fatalf("concurrent walk saw %d of the %d initial users", found, n)
	}
	if pages < n/100 || inserted.Load() < int64(pages) {
		t.Fatalf("walk of %d pages with %d inserts: the walk did not run alongside the writes", pages, inserted.Load())
	}
	// Every user the walk saw beyond the initial ones is a real new user.
	_, total, err := s.ListUsers(ctx, 1, 0, 0)
	if err != nil || total != n+int(inserted.Load()) {
		t.Fatalf("ListUsers total = %d, %v; want %d", total, err, n+int(inserted.Load()))
	}
	if len(seen) > total {
		t.Fatalf("walk saw %d users of %d", len(seen), total)
	}
	t.Logf("walk saw %d users in %d pages; %d inserted meanwhile", len(seen), pages, inserted.Load())
}

func testTokens(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	u1, u2 := NewUser(1, "a", Base), NewUser(1, "b", Base)
	AddUser(t, s, u1)
	AddUser(t, s, u2)

	tok := func(n int, u *core.UserRecord, expires time.Time) *core.Token {
		h := sha256.Sum256([]byte(fmt.Sprint("token", n)))
		return &core.Token{Hash: h[:], UserID: u.ID, SdkAppID: 1, CreatedAt: Base, ExpiresAt: expires}
	}
	toks := []*core.Token{
		tok(0, u1, Base.Add(time.Hour)),
		tok(1, u1, Base.Add(-time.Hour)),
		tok(2, u2, Base.Add(-time.Minute)),
		tok(3, u2, Base.Add(time.Minute)),
		tok(4, u2, Base), // expires exactly now: not yet "before now"
	}
	MustUpdate(t, s, func(tx core.Tx) error {
		for _, tk := range toks {
			if err := tx.InsertToken(ctx, tk); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.Token(ctx, toks[0].Hash)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Hash, toks[0].Hash) || got.UserID != u1.ID || got.SdkAppID != 1 {
		t.Fatalf("Token = %+v", got)
	}
	WantUTC(t, "CreatedAt", got.CreatedAt, Base)
	WantUTC(t, "ExpiresAt", got.ExpiresAt, toks[0].ExpiresAt)

	_, err = s.Token(ctx, []byte("nope"))
	WantErr(t, err, usercenter.ENotFound, "token")
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertToken(ctx, toks[0]) }), usercenter.EConflict, "token")
	stray := tok(9, NewUser(1, "ghost", Base), Base)
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertToken(ctx, stray) }), usercenter.ENotFound, usercenter.ResourceUser)

	var n int
	MustUpdate(t, s, func(tx core.Tx) error {
		var err error
		n, err = tx.DeleteExpiredTokens(ctx, Base)
		return err
	})
	if n != 2 {
		t.Fatalf("DeleteExpiredTokens = %d, want 2", n)
	}
	for i, tk := range toks {
		_, err := s.Token(ctx, tk.Hash)
		if gone := usercenter.ErrorCode(err) == usercenter.ENotFound; gone != (i == 1 || i == 2) {
			t.Errorf("token %d: %v", i, err)
		}
	}

	// Deleting a user takes its tokens with it, and only its.
	MustUpdate(t, s, func(tx core.Tx) error { return tx.DeleteUser(ctx, u2.ID) })
	for _, i := range []int{3, 4} {
		_, err := s.Token(ctx, toks[i].Hash)
		WantErr(t, err, usercenter.ENotFound, "token")
	}
	if _, err := s.Token(ctx, toks[0].Hash); err != nil {
		t.Fatalf("other user's token gone: %v", err)
	}
}
