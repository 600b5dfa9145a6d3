package storetest

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"testing"

	"usercenter"
	"usercenter/core"
)

func testSealedValues(t *testing.T, s core.Store) {
	// IDs on both sides of MaxInt64, where the stored int64 turns
	// negative, and at both ends of the range.
	appIDs := []uint64{math.MaxUint64, 1<<63 + 5, 0, 10, 2, math.MaxInt64, 1 << 63}
	AddApps(t, s, appIDs...)
	MustUpdate(t, s, func(tx core.Tx) error {
		for _, id := range []string{"AKIDc", "AKIDa", "AKIDb"} {
			k := &core.KeyRecord{APIKey: usercenter.APIKey{SecretID: id, Name: id, CreatedAt: Base}, SealedSecretKey: []byte("sk-" + id)}
			if err := tx.InsertKey(ctx, k); err != nil {
				return err
			}
		}
		for _, name := range []string{"m3", "m1", "m2"} {
			if err := tx.SetMeta(ctx, name, []byte("v-"+name)); err != nil {
				return err
			}
		}
		if err := tx.SetMeta(ctx, "m0-empty", nil); err != nil { // set, but no ciphertext
			return err
		}
		for i, id := range []string{"acc-c", "acc-a", "acc-d", "acc-b"} {
			a := consoleAccount(id, id+"@example.com")
			if i != 2 { // one without two-factor, skipped
				a.SealedTOTP = []byte("totp-" + id)
			}
			if err := tx.InsertConsoleAccount(ctx, a); err != nil {
				return err
			}
		}
		for _, id := range []string{"wh_c", "wh_a", "wh_b"} {
			if err := tx.InsertWebhook(ctx, NewWebhook(id, 2)); err != nil {
				return err
			}
		}
		for i := range 7 {
			u := FullUser(2, fmt.Sprint("u", i), Base)
			// Some users lack some values, and those are skipped.
			if i%2 == 0 {
				u.SealedPhone, u.PhoneIndex = nil, nil
			}
			if i%3 == 0 {
				u.SealedAddress = nil
			}
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})

	// want lists every value of a kind in RowKey order, read the ordinary
	// way.
	want := func(kind core.SealedKind) []core.SealedValue {
		t.Helper()
		var out []core.SealedValue
		add := func(key string, v []byte) {
			if len(v) > 0 {
				out = append(out, core.SealedValue{Kind: kind, RowKey: key, Value: v})
			}
		}
		switch kind {
		case core.SealedAppSecret:
			apps, _ := s.Apps(ctx) // in SdkAppId order
			for _, a := range apps {
				add(fmt.Sprintf("%020d", a.SdkAppID), a.SealedSuperAppSecret)
			}
		case core.SealedKeySecret:
			keys, _ := s.Keys(ctx)
			for _, id := range []string{"AKIDa", "AKIDb", "AKIDc"} {
				for _, k := range keys {
					if k.SecretID == id {
						add(id, k.SealedSecretKey)
					}
				}
			}
		case core.SealedWebhookSecret:
			for _, id := range []string{"wh_a", "wh_b", "wh_c"} {
				w, _ := s.Webhook(ctx, id)
				add(id, w.SealedSecret)
			}
		case core.SealedMeta:
			for _, name := range []string{"m0-empty", "m1", "m2", "m3"} {
				v, _ := s.Meta(ctx, name)
				add(name, v)
			}
		case core.SealedConsoleTOTP:
			accounts, _ := s.ConsoleAccounts(ctx)
			for _, id := range []string{"acc-a", "acc-b", "acc-c", "acc-d"} {
				for _, a := range accounts {
					if a.ID == id {
						add(id, a.SealedTOTP)
					}
				}
			}
		default:
			users, _ := s.UsersAfter(ctx, 2, "", 100)
			for _, u := range users {
				add(u.ID, map[core.SealedKind][]byte{
					core.SealedUserPhone:   u.SealedPhone,
					core.SealedUserEmail:   u.SealedEmail,
					core.SealedUserAddress: u.SealedAddress,
				}[kind])
			}
		}
		return out
	}
	walk := func(kind core.SealedKind, limit int) []core.SealedValue {
		t.Helper()
		var all []core.SealedValue
		after := ""
		for {
			page, err := s.SealedValues(ctx, kind, after, limit)
			if err != nil {
				t.Fatalf("SealedValues(%s, %q): %v", kind, after, err)
			}
			if len(page) > limit {
				t.Fatalf("SealedValues(%s) returned %d > %d", kind, len(page), limit)
			}
			if len(page) == 0 {
				return all
			}
			for _, v := range page {
				if v.RowKey <= after {
					t.Fatalf("%s: RowKey %q after %q", kind, v.RowKey, after)
				}
				after = v.RowKey
			}
			all = append(all, page...)
		}
	}

	if len(core.SealedKinds) != 8 {
		t.Fatalf("test covers 8 kinds, core has %d", len(core.SealedKinds))
	}
	for _, kind := range core.SealedKinds {
		w := want(kind)
		if len(w) < 2 {
			t.Fatalf("%s: only %d values to page through", kind, len(w))
		}
		for _, limit := range []int{1, 2, 100} {
			if got := walk(kind, limit); !reflect.DeepEqual(got, w) {
				t.Fatalf("%s by %d:\ngot  %+v\nwant %+v", kind, limit, got, w)
			}
		}
		if got, err := s.SealedValues(ctx, kind, "", 0); err != nil || len(got) != 0 {
			t.Fatalf("%s: limit 0 gave %d values, %v", kind, len(got), err)
		}

		// Rotate every value, one page at a time inside one Update.
		MustUpdate(t, s, func(tx core.Tx) error {
			after := ""
			for {
				page, err := tx.SealedValues(ctx, kind, after, 2)
				if err != nil || len(page) == 0 {
					return err
				}
				for _, v := range page {
					v.Value = append([]byte("rotated:"), v.Value...)
					if err := tx.UpdateSealed(ctx, v); err != nil {
						return err
					}
					after = v.RowKey
				}
			}
		})
		got := want(kind)
		if len(got) != len(w) {
			t.Fatalf("%s: %d values after rotation, want %d", kind, len(got), len(w))
		}
		for i := range got {
			if got[i].RowKey != w[i].RowKey || !bytes.Equal(got[i].Value, append([]byte("rotated:"), w[i].Value...)) {
				t.Fatalf("%s: after rotation %+v, before %+v", kind, got[i], w[i])
			}
		}
	}

	// The app key's bounds.
	for _, c := range []struct {
		after string
		want  int
	}{
		{"99999999999999999999", 0}, // 20 digits above MaxUint64
		{fmt.Sprint(uint64(math.MaxUint64)), 0},
		{fmt.Sprintf("%020d", uint64(math.MaxInt64)), 3},
		{fmt.Sprintf("%020d", uint64(1<<63)), 2},
		{"00000000000000000000", 6},
	} {
		got, err := s.SealedValues(ctx, core.SealedAppSecret, c.after, 100)
		if err != nil || len(got) != c.want {
			t.Fatalf("SealedValues(apps, %q) = %d values, %v; want %d", c.after, len(got), err, c.want)
		}
	}
	_, err := s.SealedValues(ctx, core.SealedAppSecret, "12", 10)
	WantErr(t, err, usercenter.EInternal, "")
	_, err = s.SealedValues(ctx, "user.nickname", "", 10)
	WantErr(t, err, usercenter.EInternal, "")

	// UpdateSealed of a row that is gone, or has no value of the kind.
	users, _ := s.UsersAfter(ctx, 2, "", 100)
	var noPhone string
	for _, u := range users {
		if u.SealedPhone == nil {
			noPhone = u.ID
		}
	}
	for _, c := range []struct {
		v        core.SealedValue
		code     usercenter.Code
		resource string
	}{
		{core.SealedValue{Kind: core.SealedAppSecret, RowKey: fmt.Sprintf("%020d", 3)}, usercenter.ENotFound, usercenter.ResourceApp},
		{core.SealedValue{Kind: core.SealedAppSecret, RowKey: "99999999999999999999"}, usercenter.ENotFound, usercenter.ResourceApp},
		{core.SealedValue{Kind: core.SealedAppSecret, RowKey: "3"}, usercenter.EInternal, ""},
		{core.SealedValue{Kind: core.SealedKeySecret, RowKey: "AKIDnone"}, usercenter.ENotFound, usercenter.ResourceKey},
		{core.SealedValue{Kind: core.SealedMeta, RowKey: "none"}, usercenter.ENotFound, "meta"},
		{core.SealedValue{Kind: core.SealedMeta, RowKey: "m0-empty"}, usercenter.ENotFound, "meta"},
		{core.SealedValue{Kind: core.SealedUserEmail, RowKey: "nobody"}, usercenter.ENotFound, usercenter.ResourceUser},
		{core.SealedValue{Kind: core.SealedUserPhone, RowKey: noPhone}, usercenter.ENotFound, usercenter.ResourceUser},
		{core.SealedValue{Kind: "user.nickname", RowKey: noPhone}, usercenter.EInternal, ""},
	} {
		c.v.Value = []byte("x")
		err := s.Update(ctx, func(tx core.Tx) error { return tx.UpdateSealed(ctx, c.v) })
		WantErr(t, err, c.code, c.resource)
	}
	err = s.Update(ctx, func(tx core.Tx) error {
		return tx.UpdateSealed(ctx, core.SealedValue{Kind: core.SealedKeySecret, RowKey: "AKIDa"})
	})
	WantErr(t, err, usercenter.EInternal, "")
	// A NULL stays NULL: a rotation must not bring back a removed phone.
	if u, _ := s.User(ctx, noPhone); u.SealedPhone != nil {
		t.Fatalf("UpdateSealed filled a NULL phone: %q", u.SealedPhone)
	}
}
