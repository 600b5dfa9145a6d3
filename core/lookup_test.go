package core_test

import (
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest/svctest"
)

// A key that may not read phone numbers or emails may not look users up
// by them either: with the mask in hand, repeated yes-or-no lookups would
// recover the value.
func TestLookupByPIINeedsPIIRead(t *testing.T) {
	svc, _ := newFrozen(t)
	app, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "lookup"})
	if err != nil {
		t.Fatal(err)
	}
	phone, email := "+8613612346688", "someone@example.com"
	if _, err := svctest.CreateUser(svc, bg, key.Actor(), app.SdkAppID, core.UserPatch{Phone: &phone, Email: &email}); err != nil {
		t.Fatal(err)
	}
	reader, err := svc.CreateKey(bg, usercenter.Operator(), "reader", []uint64{app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []core.UserQuery{{Phone: phone}, {Phone: "13612346688"}, {Email: email}} {
		if _, err := svctest.FindUsers(svc, bg, reader.Actor(), app.SdkAppID, l, nil); usercenter.ErrorCode(err) != usercenter.EForbidden {
			t.Errorf("lookup %+v without pii.read: %v, want forbidden", l, err)
		}
		users, err := svctest.FindUsers(svc, bg, key.Actor(), app.SdkAppID, l, nil)
		if err != nil || len(users) != 1 {
			t.Errorf("lookup %+v with pii.read: %d users, %v", l, len(users), err)
		}
	}
	if _, err := svctest.FindUsers(svc, bg, reader.Actor(), app.SdkAppID, core.UserQuery{OriginID: "nobody"}, nil); err != nil {
		t.Errorf("lookup by originId without pii.read: %v", err)
	}
}
