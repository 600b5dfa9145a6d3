package sqlite

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// fullUser is a user with every profile field, sealed value, index and a
// few links set, all derived from origin.
func fullUser(app uint64, origin string, at time.Time) *core.UserRecord {
	u := newUser(app, origin, at)
	u.City = "Shenzhen " + origin
	u.Province = "Guangdong"
	u.Nationality = "CN"
	u.Lang = "zh-CN"
	u.Timezone = "Asia/Shanghai"
	u.Sex = "female"
	u.Signature = "sig " + origin
	u.Remark = "remark " + origin
	u.LogonMode = usercenter.LogonWeChat
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

func TestUserProfileRoundTrip(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1, 2)
	u := fullUser(1, "alice", base)
	bare := newUser(1, "bob", base.Add(time.Second))
	addUser(t, s, u)
	addUser(t, s, bare)

	got, err := s.User(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantUser(t, got, u)
	got, err = s.User(ctx, bare.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantUser(t, got, bare)
	if got.ThirdParty != nil || got.SealedPhone != nil || got.PhoneIndex != nil || got.SealedAddress != nil {
		t.Fatalf("user without links or personal data: %+v", got)
	}

	// Empty ciphertexts are NULL, never empty blobs, and nothing plain is
	// stored anywhere.
	empty := newUser(1, "carol", base.Add(2*time.Second))
	empty.SealedPhone, empty.EmailIndex = []byte{}, []byte{}
	addUser(t, s, empty)
	var nulls int
	if err := s.rdb.QueryRowContext(ctx, `SELECT (phone_enc IS NULL) + (email_idx IS NULL) FROM users WHERE user_id = ?`, empty.ID).Scan(&nulls); err != nil || nulls != 2 {
		t.Fatalf("empty values stored as %d NULLs, %v; want 2", nulls, err)
	}
	plain := newUser(1, "dave", base)
	plain.Phone = "+8613612346688"
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, plain) }), usercenter.EInternal, "")
	_, err = s.User(ctx, plain.ID)
	wantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	plainUpdate := *u
	plainUpdate.Email = "alice@example.com"
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.UpdateUser(ctx, &plainUpdate) }), usercenter.EInternal, "")

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
		wantUser(t, got, u)
	}
	// A Tx reads the same.
	update(t, s, func(tx core.Tx) error {
		got, err := tx.UserByLink(ctx, 1, usercenter.ProviderWeChatUnion, "wx-alice")
		if err != nil {
			return err
		}
		wantUser(t, got, u)
		return nil
	})

	// UpdateUser writes every mutable field.
	u.OriginID = "alice2"
	u.Nickname, u.Avatar = "A", ""
	u.City, u.Province, u.Nationality, u.Lang, u.Timezone = "Paris", "", "FR", "fr", "Europe/Paris"
	u.Sex, u.Signature, u.Remark = "", "new sig", ""
	u.LogonMode = usercenter.LogonAPI
	u.Status = usercenter.UserDisabled
	u.SealedPhone, u.PhoneIndex = nil, nil
	u.SealedEmail = []byte("resealed-email")
	u.UpdatedAt = base.Add(time.Hour)
	u.LastLoginAt = base.Add(time.Minute)
	update(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, u) })
	got, _ = s.User(ctx, u.ID)
	wantUser(t, got, u)
	// SdkAppID and CreatedAt are not mutable.
	moved := *u
	moved.SdkAppID, moved.CreatedAt = 2, base.Add(time.Hour)
	update(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, &moved) })
	got, _ = s.User(ctx, u.ID)
	wantUser(t, got, u)
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

func TestLinks(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1, 2)
	wx, qq, apple := usercenter.ProviderWeChatUnion, usercenter.ProviderQQ, usercenter.ProviderApple

	a := newUser(1, "a", base)
	a.ThirdParty = map[usercenter.Provider]string{wx: "w1", qq: "same", apple: ""}
	addUser(t, s, a)
	got, _ := s.User(ctx, a.ID)
	if want := map[usercenter.Provider]string{wx: "w1", qq: "same"}; !reflect.DeepEqual(got.ThirdParty, want) {
		t.Fatalf("links = %v, want %v (an empty ID is no link)", got.ThirdParty, want)
	}

	// One user may use the same ID at two providers.
	b := newUser(1, "b", base)
	b.ThirdParty = map[usercenter.Provider]string{apple: "same", usercenter.ProviderAlipay: "ali"}
	addUser(t, s, b)

	// A provider account belongs to one user of an app: the conflict names
	// the provider, and nothing of the user is kept.
	c := newUser(1, "c", base)
	c.ThirdParty = map[usercenter.Provider]string{usercenter.ProviderTwitter: "t", wx: "w1"}
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, c) }), usercenter.EConflict, "thirdPartyIds.wechatUnion")
	update(t, s, func(tx core.Tx) error {
		wantErr(t, tx.InsertUser(ctx, c), usercenter.EConflict, "thirdPartyIds.wechatUnion")
		return nil // even if fn carries on, the failed insert left nothing
	})
	_, err := s.User(ctx, c.ID)
	wantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	_, err = s.UserByLink(ctx, 1, usercenter.ProviderTwitter, "t")
	wantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)

	// In another app the same account is another user's.
	other := newUser(2, "a", base)
	other.ThirdParty = map[usercenter.Provider]string{wx: "w1"}
	addUser(t, s, other)
	for app, want := range map[uint64]string{1: a.ID, 2: other.ID} {
		got, err := s.UserByLink(ctx, app, wx, "w1")
		if err != nil || got.ID != want {
			t.Fatalf("UserByLink(app %d) = %+v, %v; want %s", app, got, err, want)
		}
	}
	_, err = s.UserByLink(ctx, 1, wx, "w2")
	wantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	_, err = s.UserByLink(ctx, 1, apple, "w1") // right ID, wrong provider
	wantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)

	// UpdateUser replaces the links: dropped ones are free again.
	a.ThirdParty = map[usercenter.Provider]string{wx: "w1-new", usercenter.ProviderFacebook: "fb"}
	update(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, a) })
	got, _ = s.User(ctx, a.ID)
	wantUser(t, got, a)
	for _, gone := range []struct {
		p  usercenter.Provider
		id string
	}{{wx, "w1"}, {qq, "same"}} {
		_, err := s.UserByLink(ctx, 1, gone.p, gone.id)
		wantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	}
	if got, err := s.UserByLink(ctx, 1, usercenter.ProviderFacebook, "fb"); err != nil || got.ID != a.ID {
		t.Fatalf("UserByLink(fb) = %+v, %v", got, err)
	}

	// Taking another user's link fails and changes nothing of the user.
	b2 := *b
	b2.Nickname = "changed"
	b2.ThirdParty = map[usercenter.Provider]string{usercenter.ProviderFacebook: "fb"}
	update(t, s, func(tx core.Tx) error {
		wantErr(t, tx.UpdateUser(ctx, &b2), usercenter.EConflict, "thirdPartyIds.facebook")
		return nil
	})
	got, _ = s.User(ctx, b.ID)
	wantUser(t, got, b)

	// Moving a link from one user to another in one Update works once the
	// first lets go of it.
	a.ThirdParty = nil
	b.ThirdParty = map[usercenter.Provider]string{usercenter.ProviderFacebook: "fb"}
	update(t, s, func(tx core.Tx) error {
		if err := tx.UpdateUser(ctx, a); err != nil {
			return err
		}
		return tx.UpdateUser(ctx, b)
	})
	got, _ = s.User(ctx, a.ID)
	wantUser(t, got, a)
	if got, err := s.UserByLink(ctx, 1, usercenter.ProviderFacebook, "fb"); err != nil || got.ID != b.ID {
		t.Fatalf("UserByLink(fb) after move = %+v, %v", got, err)
	}

	// A provider unknown to this program needs no schema change.
	b.ThirdParty["mastodon"] = "m@x"
	update(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, b) })
	got, _ = s.User(ctx, b.ID)
	wantUser(t, got, b)

	// Deleting a user frees its links.
	update(t, s, func(tx core.Tx) error { return tx.DeleteUser(ctx, b.ID) })
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM user_links WHERE user_id = ?`, b.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d links left after DeleteUser, %v", n, err)
	}
	d := newUser(1, "d", base)
	d.ThirdParty = map[usercenter.Provider]string{usercenter.ProviderFacebook: "fb"}
	addUser(t, s, d)
}

// TestListReadsLinks checks that the one query loading a page's links
// gives each user its own.
func TestListReadsLinks(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	var want []*core.UserRecord
	update(t, s, func(tx core.Tx) error {
		for i := range 50 {
			u := fullUser(1, fmt.Sprint("u", i), base.Add(time.Duration(i)*time.Second))
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
		wantUser(t, &page[i], want[i])
	}
	slices.SortFunc(want, func(a, b *core.UserRecord) int { return strings.Compare(a.ID, b.ID) })
	after, err := s.UsersAfter(ctx, 1, "", 100)
	if err != nil || len(after) != 50 {
		t.Fatalf("UsersAfter = %d users, %v", len(after), err)
	}
	for i := range after {
		wantUser(t, &after[i], want[i])
	}
}

func TestUsersByIndex(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1, 2)
	idx := []byte("shared-index")
	var app1 []string
	update(t, s, func(tx core.Tx) error {
		for i := range 5 {
			u := fullUser(1, fmt.Sprint("u", i), base)
			if i%2 == 0 { // the store enforces no uniqueness on indexes
				u.PhoneIndex = idx
				app1 = append(app1, u.ID)
			}
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		u := fullUser(2, "x", base)
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
	_, err = s.UsersByIndex(ctx, 1, usercenter.FieldAddress, idx)
	wantErr(t, err, usercenter.EInvalid, "field")
	_, err = s.UsersByIndex(ctx, 1, "nickname", idx)
	wantErr(t, err, usercenter.EInvalid, "field")
}

func TestUsersAfter(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1, 2)
	const n = 1200
	initial := make(map[string]bool, n)
	update(t, s, func(tx core.Tx) error {
		for i := range n {
			// Random creation times, so that UserId order is not insertion
			// order.
			u := newUser(1, fmt.Sprint("u", i), base.Add(time.Duration(rand.IntN(1e6))*time.Millisecond))
			u.ThirdParty = map[usercenter.Provider]string{usercenter.ProviderQQ: u.ID}
			initial[u.ID] = true
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		return tx.InsertUser(ctx, newUser(2, "elsewhere", base))
	})

	walk := func() (seen []string, pages int) {
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
		}
	}

	seen, pages := walk()
	if len(seen) != n || pages != n/100 {
		t.Fatalf("walk saw %d users in %d pages, want %d in %d", len(seen), pages, n, n/100)
	}
	for _, id := range seen {
		if !initial[id] {
			t.Fatalf("unknown user %s", id)
		}
	}

	// While another goroutine inserts users on both sides of the cursor,
	// a walk still sees every user that was there from the start exactly
	// once, and whichever new ones it reaches once.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var once sync.Once
	halt := func() { once.Do(func() { close(stop); wg.Wait() }) }
	defer halt() // before the store closes, even if the walk fails
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			u := newUser(1, fmt.Sprint("new", i), base.Add(time.Duration(rand.IntN(1e6))*time.Millisecond))
			if err := s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, u) }); err != nil {
				t.Error(err)
				return
			}
		}
	})
	seen, _ = walk()
	halt()
	found := 0
	for _, id := range seen { // walk checked the order, so no repeats
		if initial[id] {
			found++
		}
	}
	if found != n {
		t.Fatalf("concurrent walk saw %d of the %d initial users", found, n)
	}
	_, total, _ := s.ListUsers(ctx, 1, 0, 0)
	t.Logf("walk saw %d users; %d inserted meanwhile", len(seen), total-n)

	for _, limit := range []int{0, -1} {
		if page, err := s.UsersAfter(ctx, 1, "", limit); err != nil || len(page) != 0 {
			t.Fatalf("UsersAfter(limit %d) = %d users, %v", limit, len(page), err)
		}
	}
	if page, err := s.UsersAfter(ctx, 3, "", 10); err != nil || len(page) != 0 {
		t.Fatalf("UsersAfter(empty app) = %d users, %v", len(page), err)
	}
}

func TestAppPhoneRegion(t *testing.T) {
	s := openStore(t)
	a := newApp(1)
	a.PhoneRegion = ""
	update(t, s, func(tx core.Tx) error { return tx.InsertApp(ctx, a) })
	got, err := s.App(ctx, 1)
	if err != nil || got.PhoneRegion != "" {
		t.Fatalf("App = %+v, %v; want the region as given (none): the default is core's", got, err)
	}
	addApps(t, s, 2)
	apps, err := s.Apps(ctx)
	if err != nil || len(apps) != 2 || apps[1].PhoneRegion != "SG" {
		t.Fatalf("Apps = %+v, %v", apps, err)
	}
}

// TestQueryPlans checks that the lookups added for profiles, links and
// audit events use their indexes rather than scanning a table.
func TestQueryPlans(t *testing.T) {
	checkQueryPlans(t, openStore(t), []planCase{
		{qUsersByPhone, []any{1, []byte("x")}, "users_app_phone"},
		{qUsersByEmail, []any{1, []byte("x")}, "users_app_email"},
		{qUsersAfter, []any{1, "", 10}, "users_app_user"},
		{qUsersLinks, []any{`["a","b"]`}, "sqlite_autoindex_user_links_2"},
		{qUserLinks, []any{"a"}, "sqlite_autoindex_user_links_2"},
		{`SELECT id FROM audit_events WHERE user_id = ? ORDER BY id LIMIT 10`, []any{"a"}, "audit_events_user"},
		{`SELECT id FROM audit_events WHERE sdk_app_id = ? ORDER BY id LIMIT 10`, []any{1}, "audit_events_app"},
	})
}

// planCase is a query, its arguments, and the index its plan must use.
type planCase struct {
	query string
	args  []any
	index string
}

// checkQueryPlans fails t for every query whose plan does not use its
// index.
func checkQueryPlans(t *testing.T, s *Store, cases []planCase) {
	t.Helper()
	for _, c := range cases {
		rows, err := s.rdb.QueryContext(ctx, "EXPLAIN QUERY PLAN "+c.query, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, c.index) {
			t.Errorf("%s\nplan %q does not use %s", c.query, p, c.index)
		}
	}
}
