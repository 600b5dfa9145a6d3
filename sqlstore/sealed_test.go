package sqlstore

import (
	"math"
	"testing"

	"usercenter"
	"usercenter/core"
)

func TestSealedStatements(t *testing.T) {
	meta := SealedColumns[core.SealedMeta]
	for _, c := range []struct{ got, want string }{
		{meta.List(Dollar), `SELECT name, value FROM meta WHERE name > $1 AND length(value) > 0 ORDER BY name LIMIT $2`},
		{meta.Update(Question), `UPDATE meta SET value = ? WHERE name = ? AND length(value) > 0`},
		{SealedColumns[core.SealedKeySecret].List(Question), `SELECT secret_id, secret_key FROM api_keys WHERE secret_id > ? ORDER BY secret_id LIMIT ?`},
		{SealedColumns[core.SealedKeySecret].Update(Dollar), `UPDATE api_keys SET secret_key = $1 WHERE secret_id = $2`},
		{SealedColumns[core.SealedUserEmail].List(Dollar), `SELECT user_id, email_enc FROM users WHERE user_id > $1 AND email_enc IS NOT NULL ORDER BY user_id LIMIT $2`},
		{SealedColumns[core.SealedUserPhone].Update(Question), `UPDATE users SET phone_enc = ? WHERE user_id = ? AND phone_enc IS NOT NULL`},
	} {
		if c.got != c.want {
			t.Errorf("got  %s\nwant %s", c.got, c.want)
		}
	}
	// Apps are every engine's own; every other kind is here.
	for _, kind := range core.SealedKinds {
		if _, ok := SealedColumns[kind]; ok == (kind == core.SealedAppSecret) {
			t.Errorf("SealedColumns[%q] present: %v", kind, ok)
		}
	}
}

func TestAppRowKeys(t *testing.T) {
	if got := AppRowKey(1400000000); got != "00000000001400000000" {
		t.Errorf("AppRowKey = %q", got)
	}
	if got := AppRowKey(math.MaxUint64); got != "18446744073709551615" {
		t.Errorf("AppRowKey(MaxUint64) = %q", got)
	}
	for _, c := range []struct {
		after string
		from  uint64
		none  bool
		code  usercenter.Code
	}{
		{after: "", from: 0},
		{after: AppRowKey(0), from: 1},
		{after: AppRowKey(math.MaxInt64), from: math.MaxInt64 + 1},
		{after: AppRowKey(math.MaxUint64 - 1), from: math.MaxUint64},
		{after: AppRowKey(math.MaxUint64), none: true},
		{after: "99999999999999999999", none: true}, // 20 digits above MaxUint64
		{after: "1", code: usercenter.EInternal},
		{after: "0000000000000000000x", code: usercenter.EInternal},
		{after: "+0000000000000000001", code: usercenter.EInternal},
	} {
		from, none, err := AppsFrom(c.after)
		if from != c.from || none != c.none || usercenter.ErrorCode(err) != c.code {
			t.Errorf("AppsFrom(%q) = %d, %v, %v; want %d, %v, %q", c.after, from, none, err, c.from, c.none, c.code)
		}
	}
	for _, c := range []struct {
		key  string
		id   uint64
		code usercenter.Code
	}{
		{key: AppRowKey(42), id: 42},
		{key: AppRowKey(math.MaxUint64), id: math.MaxUint64},
		{key: "99999999999999999999", code: usercenter.ENotFound},
		{key: "42", code: usercenter.EInternal},
		{key: "", code: usercenter.EInternal},
	} {
		id, err := AppOfRowKey(c.key)
		if id != c.id || usercenter.ErrorCode(err) != c.code {
			t.Errorf("AppOfRowKey(%q) = %d, %v; want %d, %q", c.key, id, err, c.id, c.code)
		}
	}
}

func TestScanSealed(t *testing.T) {
	v, err := ScanSealed(row{int64(-1), []byte("c")}, core.SealedAppSecret)
	if err != nil || v.RowKey != AppRowKey(math.MaxUint64) || string(v.Value) != "c" || v.Kind != core.SealedAppSecret {
		t.Errorf("ScanSealed(app) = %+v, %v", v, err)
	}
	v, err = ScanSealed(row{"u1", []byte("c")}, core.SealedUserPhone)
	if err != nil || v.RowKey != "u1" || string(v.Value) != "c" || v.Kind != core.SealedUserPhone {
		t.Errorf("ScanSealed(user) = %+v, %v", v, err)
	}
}
