package core_test

import (
	"testing"

	"usercenter"
	"usercenter/core"
)

// Each app's SuperApp secret authenticates the platform for that app
// alone, so two apps may never share one.
func TestSuperAppSecretIsUnique(t *testing.T) {
	svc, _ := newFrozen(t)
	a, _, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	key := a.SuperAppSecretKey
	_, err = svc.UpdateApp(bg, usercenter.Operator(), b.SdkAppID, core.AppPatch{SuperAppSecretKey: &key})
	if e := usercenter.ErrorOf(err); e.Code != usercenter.EConflict || e.Field != usercenter.FieldSuperAppSecretKey {
		t.Fatalf("b took a's secret: %v", err)
	}
	// Setting an app's own secret again is no conflict.
	if _, err := svc.UpdateApp(bg, usercenter.Operator(), a.SdkAppID, core.AppPatch{SuperAppSecretKey: &key}); err != nil {
		t.Fatal(err)
	}
	fresh := "0123456789abcdef"
	if _, err := svc.UpdateApp(bg, usercenter.Operator(), b.SdkAppID, core.AppPatch{SuperAppSecretKey: &fresh}); err != nil {
		t.Fatal(err)
	}
}
