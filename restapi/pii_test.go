package restapi_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"usercenter"
	"usercenter/uctest"
)

func TestMaskingAndReveal(t *testing.T) {
	env := uctest.New(t)
	full := createUser(t, env, env.Key, env.App.SdkAppID, `{"originId": "pii-full", "phone": "+8613612346688", "email": "mulong@tencent.com", "address": "Tencent Binhai Building, Shenzhen"}`)
	partial := createUser(t, env, env.Key, env.App.SdkAppID, `{"originId": "pii-partial", "phone": "+8613612340000"}`)
	readOnly := env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersRead)
	pii := env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersRead, usercenter.PermPIIRead)
	plain := []string{"+8613612346688", "13612346688", "mulong@", "Binhai", "13612340000"}

	for _, s := range []scenario{
		{Name: "masked by default", request: request{Method: "GET", Path: "/v1/users/" + full.UserID, Auth: basic(env.Key)}, Status: 200,
			Contains: []string{masked("phone", "+8613612346688"), masked("email", "mulong@tencent.com"), masked("address", "Tencent Binhai Building, Shenzhen")}, NotContains: plain},
		{Name: "masked in lists", request: request{Method: "GET", Path: appUsers(env.App.SdkAppID), Auth: basic(env.Key)}, Status: 200,
			Contains: []string{masked("phone", "+8613612346688"), masked("phone", "+8613612340000")}, NotContains: plain},
		{Name: "masked even for a pii.read key that does not ask", request: request{Method: "GET", Path: "/v1/users/" + full.UserID, Auth: basic(pii)}, Status: 200, NotContains: plain},
		{Name: "reveal needs pii.read", request: request{Method: "GET", Path: "/v1/users/" + full.UserID + "?reveal=phone", Auth: basic(readOnly)}, Status: 403, Code: "forbidden", NotContains: plain},
		{Name: "reveal in a list needs pii.read", request: request{Method: "GET", Path: appUsers(env.App.SdkAppID) + "?reveal=email", Auth: basic(readOnly)}, Status: 403, Code: "forbidden", NotContains: plain},
		{Name: "reveal in a lookup needs pii.read", request: request{Method: "GET", Path: appUsers(env.App.SdkAppID) + "?originId=pii-full&reveal=email", Auth: basic(readOnly)}, Status: 403, Code: "forbidden", NotContains: plain},
		{Name: "unknown reveal field", request: request{Method: "GET", Path: "/v1/users/" + full.UserID + "?reveal=phone,nickname", Auth: basic(pii)}, Status: 400, Code: "invalid_field", Field: "reveal"},
	} {
		t.Run(s.Name, func(t *testing.T) { s.run(t, env) })
	}
	// No refused reveal left a trace.
	if n := len(auditOf(t, env, env.Key, "action=reveal")); n != 0 {
		t.Fatalf("%d reveal events after refused reveals", n)
	}

	// One reveal of two fields, one of which is set: exactly one event per
	// revealed non-empty field, naming the request.
	reveal := func(k *usercenter.APIKey, path string) *response {
		t.Helper()
		res := do(t, env, request{Method: "GET", Path: path, Auth: basic(k)})
		if res.Status != 200 {
			t.Fatalf("%s: %d %s", path, res.Status, res.Body)
		}
		return res
	}
	res := reveal(pii, "/v1/users/"+full.UserID+"?reveal=phone,email")
	var u userJSON
	res.Decode(t, &u)
	if u.Phone != "+8613612346688" || u.Email != "mulong@tencent.com" || u.Address != usercenter.MaskAddress("Tencent Binhai Building, Shenzhen") {
		t.Fatalf("revealed %q %q %q", u.Phone, u.Email, u.Address)
	}
	checkReveals(t, env, full.UserID, res.Header.Get("X-Request-Id"), "key:"+pii.SecretID, []string{"email", "phone"})

	res = reveal(pii, "/v1/users/"+partial.UserID+"?reveal=phone&reveal=email,address,phone")
	res.Decode(t, &u)
	if u.Phone != "+8613612340000" || u.Email != "" || u.Address != "" {
		t.Fatalf("revealed %+v", u)
	}
	checkReveals(t, env, partial.UserID, res.Header.Get("X-Request-Id"), "key:"+pii.SecretID, []string{"phone"})

	// A revealing list page: one event per user per non-empty field.
	res = reveal(pii, appUsers(env.App.SdkAppID)+"?reveal=address,phone")
	if !strings.Contains(string(res.Body), `"address":"Tencent Binhai Building, Shenzhen"`) || !strings.Contains(string(res.Body), `"phone":"+8613612340000"`) {
		t.Fatalf("list reveal: %s", res.Body)
	}
	id := res.Header.Get("X-Request-Id")
	checkReveals(t, env, full.UserID, id, "key:"+pii.SecretID, []string{"address", "phone"})
	checkReveals(t, env, partial.UserID, id, "key:"+pii.SecretID, []string{"phone"})

	// A revealing lookup.
	res = reveal(pii, appUsers(env.App.SdkAppID)+"?email="+url.QueryEscape("MULONG@tencent.com")+"&reveal=email")
	if !strings.Contains(string(res.Body), `"email":"mulong@tencent.com"`) {
		t.Fatalf("lookup reveal: %s", res.Body)
	}
	checkReveals(t, env, full.UserID, res.Header.Get("X-Request-Id"), "key:"+pii.SecretID, []string{"email"})

	// Personal data never reaches the log, revealed or looked up.
	for _, v := range append(plain, "mulong", "tencent.com", "Binhai") {
		if strings.Contains(env.Log.String(), v) {
			t.Fatalf("the log holds %q", v)
		}
	}

	// Writes answer masked, whatever the key may read.
	res = do(t, env, request{Method: "PATCH", Path: "/v1/users/" + full.UserID, Auth: basic(env.Key), Body: `{"phone": "+8613612345678"}`})
	if res.Status != 200 || !strings.Contains(string(res.Body), masked("phone", "+8613612345678")) {
		t.Fatalf("patch answer: %d %s", res.Status, res.Body)
	}
}

// checkReveals asserts that request requestID revealed exactly fields of
// userID, one event each, by actor.
func checkReveals(t *testing.T, env *uctest.Env, userID, requestID, actor string, fields []string) {
	t.Helper()
	var got []string
	for _, e := range auditOf(t, env, env.Key, "action=reveal&userId="+userID) {
		if e.RequestID != requestID {
			continue
		}
		if e.Actor != actor || e.SdkAppID != env.App.SdkAppID {
			t.Fatalf("event %+v", e)
		}
		got = append(got, e.Field)
	}
	slices.Sort(got)
	if !slices.Equal(got, fields) {
		t.Fatalf("request %s revealed %v of %s, want %v", requestID, got, userID, fields)
	}
}

// masked is the JSON member of a personal-data field as the API masks it;
// the masking rules themselves belong to package usercenter.
func masked(field, value string) string {
	m := map[string]func(string) string{"phone": usercenter.MaskPhone, "email": usercenter.MaskEmail, "address": usercenter.MaskAddress}[field]
	return `"` + field + `":"` + m(value) + `"`
}
