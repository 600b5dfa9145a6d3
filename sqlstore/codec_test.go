package sqlstore

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// at is a time with nanoseconds in a zone other than UTC: it must come
// back as the same instant, in UTC.
var at = time.Date(2025, 3, 4, 5, 6, 7, 891011121, time.FixedZone("X", 8*3600))

func columns(list string) int { return strings.Count(list, ",") + 1 }

// valueOf returns the value of the column name among values, which are
// in the order of the column list.
func valueOf(t *testing.T, list string, values []any, name string) any {
	t.Helper()
	for i, c := range strings.Split(list, ",") {
		if strings.TrimSpace(c) == name {
			return values[i]
		}
	}
	t.Fatalf("no column %s", name)
	return nil
}

func TestKeyRoundTrip(t *testing.T) {
	key := &core.KeyRecord{
		APIKey: usercenter.APIKey{SecretID: "AKID1", Name: "ops", CreatedAt: at, RevokedAt: at.Add(time.Hour),
			Permissions: []usercenter.Permission{usercenter.PermUsersRead, usercenter.PermUsersWrite}, Apps: []uint64{1, 2}},
		SealedSecretKey: []byte("sealed"),
	}
	args, err := KeyArgs("sqlite", key)
	if err != nil {
		t.Fatal(err)
	}
	if len(args) != columns(KeyColumns) {
		t.Fatalf("%d values for %d KeyColumns", len(args), columns(KeyColumns))
	}
	// The apps column is the engine's; here a list the test decodes.
	got, err := ScanKey(append(row(args), "2,1"), func(list string) ([]uint64, error) {
		if list != "2,1" {
			t.Errorf("apps column %q", list)
		}
		return []uint64{1, 2}, nil
	})
	want := *key
	want.CreatedAt, want.RevokedAt = at.UTC(), at.Add(time.Hour).UTC()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ScanKey = %+v, %v; want %+v", got, err, want)
	}

	// No permissions and never revoked: nil and zero, not [""] and 1970.
	key.Permissions, key.RevokedAt = nil, time.Time{}
	if args, err = KeyArgs("sqlite", key); err != nil {
		t.Fatal(err)
	}
	if args[3] != "" || args[5] != nil {
		t.Errorf("permissions %q, revoked_at %v", args[3], args[5])
	}
	got, err = ScanKey(append(row(args), []int64(nil)), func(ids []int64) ([]uint64, error) { return Uint64s(ids), nil })
	if err != nil || got.Permissions != nil || !got.RevokedAt.IsZero() || got.Apps != nil {
		t.Errorf("ScanKey = %+v, %v", got, err)
	}
	bad := errors.New("bad list")
	if _, err := ScanKey(append(row(args), "x"), func(string) ([]uint64, error) { return nil, bad }); !errors.Is(err, bad) {
		t.Errorf("ScanKey with a bad apps list: %v", err)
	}
	key.CreatedAt = time.Time{}
	if _, err := KeyArgs("postgres", key); usercenter.ErrorCode(err) != usercenter.EInternal || !strings.Contains(err.Error(), "postgres") {
		t.Errorf("KeyArgs with a zero CreatedAt: %v", err)
	}
}

func TestTokenRoundTrip(t *testing.T) {
	tok := &core.Token{Hash: []byte("h"), UserID: "u1", SdkAppID: 1<<63 + 1, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	args, err := TokenArgs("sqlite", tok)
	if err != nil || len(args) != columns(TokenColumns) {
		t.Fatalf("TokenArgs = %v, %v", args, err)
	}
	got, err := ScanToken(row(args))
	want := *tok
	want.CreatedAt, want.ExpiresAt = at.UTC(), at.Add(time.Hour).UTC()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ScanToken = %+v, %v; want %+v", got, err, want)
	}
	tok.ExpiresAt = time.Time{}
	if _, err := TokenArgs("sqlite", tok); usercenter.ErrorCode(err) != usercenter.EInternal {
		t.Errorf("TokenArgs without an expiry: %v", err)
	}

	ent := &core.EnterpriseToken{Hash: []byte("e"), SecretID: "AKID1", CreatedAt: at, ExpiresAt: at.Add(time.Minute)}
	if args, err = EnterpriseTokenArgs("sqlite", ent); err != nil || len(args) != columns(EnterpriseTokenColumns) {
		t.Fatalf("EnterpriseTokenArgs = %v, %v", args, err)
	}
	gotEnt, err := ScanEnterpriseToken(row(args))
	wantEnt := *ent
	wantEnt.CreatedAt, wantEnt.ExpiresAt = at.UTC(), at.Add(time.Minute).UTC()
	if err != nil || !reflect.DeepEqual(gotEnt, wantEnt) {
		t.Errorf("ScanEnterpriseToken = %+v, %v; want %+v", gotEnt, err, wantEnt)
	}
	ent.CreatedAt = time.Time{}
	if _, err := EnterpriseTokenArgs("sqlite", ent); usercenter.ErrorCode(err) != usercenter.EInternal {
		t.Errorf("EnterpriseTokenArgs without CreatedAt: %v", err)
	}
}

func TestCodeRoundTrip(t *testing.T) {
	for _, used := range []time.Time{{}, at.Add(time.Second)} {
		c := &core.Code{Hash: []byte("c"), SdkAppID: 7, UserID: "u1", Field: usercenter.FieldEmail,
			CreatedAt: at, ExpiresAt: at.Add(time.Minute), UsedAt: used}
		args, err := CodeArgs("sqlite", c)
		if err != nil || len(args) != columns(CodeColumns) {
			t.Fatalf("CodeArgs = %v, %v", args, err)
		}
		// An insert takes the user's two columns from the user's row, found
		// by the same two values: they must come last.
		if !strings.HasSuffix(CodeColumns, "user_id, sdk_app_id") || args[5] != "u1" || args[6] != int64(7) {
			t.Errorf("CodeColumns %q end with %v, %v", CodeColumns, args[5], args[6])
		}
		got, err := ScanCode(row(args))
		want := *c
		want.CreatedAt, want.ExpiresAt = at.UTC(), at.Add(time.Minute).UTC()
		if !used.IsZero() {
			want.UsedAt = used.UTC()
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ScanCode = %+v, %v; want %+v", got, err, want)
		}
	}
	_, err := CodeArgs("sqlite", &core.Code{Field: usercenter.FieldAddress, CreatedAt: at, ExpiresAt: at})
	if usercenter.ErrorCode(err) != usercenter.EInternal {
		t.Errorf("CodeArgs for an address: %v", err)
	}
	if err := CheckAttempts(-1); usercenter.ErrorCode(err) != usercenter.EInternal {
		t.Errorf("CheckAttempts(-1) = %v", err)
	}
	if err := CheckAttempts(0); err != nil {
		t.Errorf("CheckAttempts(0) = %v", err)
	}
}

func TestUserArgs(t *testing.T) {
	u := &core.UserRecord{
		User: usercenter.User{ID: "u1", SdkAppID: 1<<63 + 2, OriginID: "o", CreatedAt: at, UpdatedAt: at.Add(time.Second),
			Profile: usercenter.Profile{Nickname: "n"}},
		SealedPhone: []byte("p"), PhoneIndex: []byte("pi"), SealedEmail: []byte{},
	}
	args, err := UserArgs("sqlite", u)
	if err != nil || len(args) != columns(UserColumns) {
		t.Fatalf("UserArgs = %v, %v", args, err)
	}
	col := func(name string) any { return valueOf(t, UserColumns, args, name) }
	for name, want := range map[string]any{
		"user_id": "u1", "sdk_app_id": int64(-1<<63 + 2), "created_at": at.UnixNano(), "last_login_at": nil,
		"nickname": "n", "email_enc": nil, "email_idx": nil, "address_enc": nil,
	} {
		if got := col(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got, ok := col("phone_enc").([]byte); !ok || string(got) != "p" {
		t.Errorf("phone_enc = %v", col("phone_enc"))
	}

	set, err := UserUpdateArgs("sqlite", u)
	if err != nil {
		t.Fatal(err)
	}
	// Every column but user_id, sdk_app_id and created_at, then user_id.
	if len(set) != len(args)-2 || set[0] != "o" || set[2] != at.Add(time.Second).UnixNano() || set[len(set)-1] != "u1" {
		t.Errorf("UserUpdateArgs = %v", set)
	}

	u.Phone = "+6588888888"
	if _, err := UserArgs("postgres", u); usercenter.ErrorCode(err) != usercenter.EInternal {
		t.Errorf("UserArgs with a plain phone: %v", err)
	}
	if _, err := UserUpdateArgs("postgres", u); usercenter.ErrorCode(err) != usercenter.EInternal {
		t.Errorf("UserUpdateArgs with a plain phone: %v", err)
	}
}

func TestAppRoundTrip(t *testing.T) {
	app := &core.AppRecord{
		App: usercenter.App{SdkAppID: 1<<63 + 3, Name: "a", UserDomain: "a.example", Status: usercenter.AppActive,
			RateLimit: 9, TokenTTL: time.Hour, PhoneRegion: "SG", SuperAppCipher: usercenter.CipherAESGCMBase64,
			CodeTTL: time.Minute, CreatedAt: at},
		SealedSuperAppSecret: []byte("s"),
	}
	args, err := AppArgs("sqlite", app, true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ScanApp(row(args))
	want := *app
	want.CreatedAt = at.UTC()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ScanApp = %+v, %v; want %+v", got, err, want)
	}
	set, err := AppUpdateArgs("sqlite", app)
	wantSet := []any{"a", int64(usercenter.AppActive), int64(9), int64(3600), []byte("s"), "SG",
		string(usercenter.CipherAESGCMBase64), int64(60), int64(-1<<63 + 3)}
	if err != nil || !reflect.DeepEqual(set, wantSet) {
		t.Errorf("AppUpdateArgs = %v, %v; want %v", set, err, wantSet)
	}
}

func TestSortAndIDs(t *testing.T) {
	apps := []core.AppRecord{{App: usercenter.App{SdkAppID: 1 << 63}}, {App: usercenter.App{SdkAppID: 2}}}
	SortApps(apps)
	if apps[0].SdkAppID != 2 {
		t.Errorf("SortApps put %d first", apps[0].SdkAppID)
	}
	users := []core.UserRecord{{User: usercenter.User{SdkAppID: 1 << 63}}, {User: usercenter.User{SdkAppID: 2}}}
	SortUsers(users)
	if users[0].SdkAppID != 2 {
		t.Errorf("SortUsers put %d first", users[0].SdkAppID)
	}
	if got := Uint64s(Int64s([]uint64{1 << 63, 2})); !reflect.DeepEqual(got, []uint64{2, 1 << 63}) {
		t.Errorf("Uint64s(Int64s) = %v", got)
	}
	if Uint64s(nil) != nil {
		t.Error("Uint64s(nil) is not nil")
	}
}

func TestLinks(t *testing.T) {
	var got []string
	for p, id := range Links(map[usercenter.Provider]string{"wechat": "w", "apple": "a", "qq": ""}) {
		got = append(got, string(p)+"="+id)
	}
	if want := []string{"apple=a", "wechat=w"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Links = %v, want %v", got, want)
	}
	for p := range Links(nil) {
		t.Errorf("Links(nil) yields %s", p)
	}
	n := 0
	for range Links(map[usercenter.Provider]string{"a": "1", "b": "2"}) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("Links went on after a break: %d", n)
	}
}

func TestIndexQuery(t *testing.T) {
	if q, err := IndexQuery(usercenter.FieldPhone, "p", "e"); q != "p" || err != nil {
		t.Errorf("phone: %q, %v", q, err)
	}
	if q, err := IndexQuery(usercenter.FieldEmail, "p", "e"); q != "e" || err != nil {
		t.Errorf("email: %q, %v", q, err)
	}
	_, err := IndexQuery(usercenter.FieldAddress, "p", "e")
	if usercenter.ErrorCode(err) != usercenter.EInternal {
		t.Errorf("address: %v", err)
	}
}

func TestWriteError(t *testing.T) {
	cause := errors.New("driver")
	byName := UniqueFields(func(u Unique) string { return u.Name })
	byCols := UniqueFields(Unique.Columns)
	if byCols["users.sdk_app_id, users.origin_id"] != usercenter.FieldOriginID || byName["users_sdk_app_id_origin_id_key"] != usercenter.FieldOriginID {
		t.Errorf("UniqueFields: %v, %v", byCols, byName)
	}
	if got := LinkKey.Columns(); got != "user_links.sdk_app_id, user_links.provider, user_links.provider_user_id" {
		t.Errorf("LinkKey.Columns() = %q", got)
	}
	for _, c := range []struct {
		v      Violation
		parent string
		code   usercenter.Code
		field  string
	}{
		{v: Violation{Unique: "apps_user_domain_key"}, code: usercenter.EConflict, field: "userDomain"},
		{v: Violation{Unique: "apps_user_domain_key", ForeignKey: true}, parent: usercenter.ResourceApp, code: usercenter.EConflict, field: "userDomain"},
		{v: Violation{Unique: "user_links_pkey"}}, // the caller names the provider
		{v: Violation{ForeignKey: true}},          // no parent named
		{v: Violation{ForeignKey: true}, parent: usercenter.ResourceKey, code: usercenter.ENotFound},
		{parent: usercenter.ResourceKey}, // no violation
	} {
		err := WriteError(cause, c.v, byName, c.parent)
		if c.code == "" {
			if err != nil {
				t.Errorf("WriteError(%+v, %q) = %v, want nil", c.v, c.parent, err)
			}
			continue
		}
		e := usercenter.ErrorOf(err)
		if e == nil || e.Code != c.code || string(e.Field) != c.field {
			t.Errorf("WriteError(%+v, %q) = %v, want %s %s", c.v, c.parent, err, c.code, c.field)
		}
		if c.code == usercenter.ENotFound && e.Resource != c.parent {
			t.Errorf("WriteError NotFound of %q, want %q", e.Resource, c.parent)
		}
	}
	e := usercenter.ErrorOf(LinkConflict("wechat", cause))
	if e == nil || e.Code != usercenter.EConflict || e.Field != "thirdPartyIds.wechat" || !errors.Is(e, cause) {
		t.Errorf("LinkConflict = %#v", e)
	}
	for _, c := range []struct {
		err      error
		code     usercenter.Code
		resource string
	}{
		{ErrClosed(), usercenter.EUnavailable, ""},
		{ErrTokenNotFound(), usercenter.ENotFound, usercenter.ResourceToken},
		{ErrCodeNotFound(), usercenter.ENotFound, usercenter.ResourceCode},
	} {
		if e := usercenter.ErrorOf(c.err); e == nil || e.Code != c.code || e.Resource != c.resource {
			t.Errorf("%v: %#v", c.err, e)
		}
	}
}

func TestRun(t *testing.T) {
	refused := errors.New("refused")
	if err := Run("sqlite", func(core.Tx) error { return refused }, nil); err != refused {
		t.Errorf("Run = %v, want fn's error", err)
	}
	err := Run("sqlite", func(core.Tx) error { panic("boom") }, nil)
	if usercenter.ErrorCode(err) != usercenter.EInternal || !strings.Contains(err.Error(), "sqlite: panic in Update: boom") {
		t.Errorf("Run of a panic = %v", err)
	}
}
