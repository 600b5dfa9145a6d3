package tcapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// TestDescribeReadsNoPersonalData: DescribeUser and DescribeUserDetail,
// by UserId and by OriginId, answer from the users' cards alone. Every read of a whole user
// (the rows that carry the sealed phone, email and address) fails here,
// so none of them loads personal data, let alone opens it; and they
// answer as before: a disabled user is described, a user of an app
// outside the key's scope is not found exactly as a missing one is.
func TestDescribeReadsNoPersonalData(t *testing.T) {
	var guard *uctest.UserGuard
	env := uctest.New(t, uctest.Options{Wrap: func(s core.Store) core.Store {
		guard = uctest.NewUserGuard(s)
		return guard
	}})
	ctx := context.Background()
	other, _ := env.NewApp(t, "other", 1000)
	create := func(app uint64, origin string, status usercenter.UserStatus) *usercenter.User {
		t.Helper()
		name, avatar, phone, email := "Nick "+origin, "https://example.com/"+origin+".png", "+8613912345678", origin+"@example.com"
		u, err := svctest.CreateUser(env.Svc, ctx, usercenter.Operator(), app, core.UserPatch{
			OriginID: &origin, Nickname: &name, Avatar: &avatar, Phone: &phone, Email: &email, Status: &status,
		})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	alice := create(env.App.SdkAppID, "alice", usercenter.UserActive)
	off := create(env.App.SdkAppID, "off", usercenter.UserDisabled)
	foreign := create(other.SdkAppID, "foreign", usercenter.UserActive)
	// An OriginId in both apps: found in both by a key of both.
	twinA := create(env.App.SdkAppID, "twin", usercenter.UserActive)
	twinB := create(other.SdkAppID, "twin", usercenter.UserDisabled)
	both := env.NewKey(t, []uint64{env.App.SdkAppID, other.SdkAppID}, usercenter.PermUsersRead)
	const ghost = "2zNkbGhJ3Rf6H4oqQ2nX5c9cVxV" // the shape of a UserId, never issued

	guard.On.Store(true)
	if _, err := env.Svc.GetUser(ctx, usercenter.Operator(), alice.ID, nil); !errors.Is(err, uctest.ErrWholeUserRead) {
		t.Fatalf("GetUser through the guard: %v, want the guard's refusal", err)
	}
	refusedBefore := guard.Refused.Load()

	sdk := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, uctest.SDKOptions{SignMethod: uctest.TC3})
	type info struct {
		SdkAppId                       uint64
		UserId, Name, Avatar, OriginId string
	}
	infoOf := func(u *usercenter.User) info {
		return info{u.SdkAppID, u.ID, u.Nickname, u.Avatar, u.OriginID}
	}
	describe := func(sdk *uctest.SDK, param string, u *usercenter.User) {
		t.Helper()
		value := u.ID
		if param == "OriginId" {
			value = u.OriginID
		}
		body, err := sdk.Call("DescribeUser", map[string]any{param: value})
		if err != nil {
			t.Fatalf("DescribeUser(%s %s): %v", param, value, err)
		}
		var d struct{ Response info }
		if err := json.Unmarshal(body, &d); err != nil || d.Response != infoOf(u) {
			t.Fatalf("DescribeUser(%s %s) = %s, want %+v", param, value, body, infoOf(u))
		}
	}
	detail := func(sdk *uctest.SDK, param, value string, users ...*usercenter.User) {
		t.Helper()
		body, err := sdk.Call("DescribeUserDetail", map[string]any{param: value})
		if err != nil {
			t.Fatalf("DescribeUserDetail(%s %s): %v", param, value, err)
		}
		var l struct{ Response struct{ Users []info } }
		if err := json.Unmarshal(body, &l); err != nil || len(l.Response.Users) != len(users) {
			t.Fatalf("DescribeUserDetail(%s %s) = %s, want %d users", param, value, body, len(users))
		}
		for i, u := range users {
			if l.Response.Users[i] != infoOf(u) {
				t.Fatalf("DescribeUserDetail(%s %s) = %s, want %+v at %d", param, value, body, infoOf(u), i)
			}
		}
	}
	for _, u := range []*usercenter.User{alice, off} {
		for _, param := range []string{"UserId", "OriginId"} {
			describe(sdk, param, u)
			detail(sdk, param, map[string]string{"UserId": u.ID, "OriginId": u.OriginID}[param], u)
		}
	}
	// The key of app A finds A's twin by OriginId; the key of both finds
	// both, in SdkAppId order, which DescribeUser refuses as ambiguous.
	describe(sdk, "OriginId", twinA)
	sdkBoth := env.SDK(t, both.SecretID, both.SecretKey, uctest.SDKOptions{SignMethod: uctest.TC3})
	twins := []*usercenter.User{twinA, twinB}
	if twinB.SdkAppID < twinA.SdkAppID {
		twins = []*usercenter.User{twinB, twinA}
	}
	detail(sdkBoth, "OriginId", "twin", twins...)
	if _, err := sdkBoth.Call("DescribeUser", map[string]any{"OriginId": "twin"}); uctest.Code(err) != "InvalidParameterValue" {
		t.Fatalf("DescribeUser of an OriginId in two apps: %v, want InvalidParameterValue", err)
	}
	for _, q := range []map[string]any{{"UserId": foreign.ID}, {"UserId": ghost}, {"OriginId": foreign.OriginID}, {"OriginId": "nobody"}} {
		for _, action := range []string{"DescribeUser", "DescribeUserDetail"} {
			if _, err := sdk.Call(action, q); uctest.Code(err) != "ResourceNotFound.User" {
				t.Fatalf("%s(%v): %v, want ResourceNotFound.User", action, q, err)
			}
		}
	}
	for _, action := range []string{"DescribeUser", "DescribeUserDetail"} {
		_, errForeign := sdk.Call(action, map[string]any{"UserId": foreign.ID})
		_, errGhost := sdk.Call(action, map[string]any{"UserId": ghost})
		var f, g interface{ GetMessage() string }
		if !errors.As(errForeign, &f) || !errors.As(errGhost, &g) {
			t.Fatalf("%s of another app's user: %v; of nobody: %v; want API errors", action, errForeign, errGhost)
		}
		if uctest.Code(errForeign) != "ResourceNotFound.User" || uctest.Code(errGhost) != uctest.Code(errForeign) || f.GetMessage() != g.GetMessage() {
			t.Fatalf("%s of another app's user: %v; of nobody: %v; want the same ResourceNotFound.User", action, errForeign, errGhost)
		}
	}
	if n := guard.Refused.Load() - refusedBefore; n != 0 {
		t.Fatalf("%d reads of whole users", n)
	}
}
