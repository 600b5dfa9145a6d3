package core_test

import (
	"errors"
	"slices"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
)

// SCIM tokens: shown once and stored as a hash, an actor scoped to their
// one app with users.read always, refused for another app and once
// revoked, and audited when created and revoked.
func TestSCIMTokens(t *testing.T) {
	env, appB, _ := newEnv(t)
	op := usercenter.OperatorAs("cli:tester")
	tok, err := env.Svc.CreateSCIMToken(reqCtx("create"), op, env.App.SdkAppID, []usercenter.Permission{usercenter.PermUsersWrite})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Token == "" || tok.ID == "" || !slices.Equal(tok.Permissions, []usercenter.Permission{usercenter.PermUsersRead, usercenter.PermUsersWrite}) {
		t.Fatalf("created %+v", tok)
	}
	rec, err := env.Store.SCIMTokenByID(bg, tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Token != "" || !slices.Equal(rec.Hash, usercenter.HashToken(tok.Token)) {
		t.Fatalf("stored %+v: want only the token's SHA-256", rec)
	}

	actor, err := env.Svc.AuthenticateSCIMToken(bg, env.App.SdkAppID, tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	if actor.Name != "scim:"+tok.ID || !actor.Scoped(env.App.SdkAppID) || actor.Scoped(appB.SdkAppID) || actor.AllApps ||
		!actor.Has(usercenter.PermUsersRead) || !actor.Has(usercenter.PermUsersWrite) || actor.Has(usercenter.PermPIIRead) {
		t.Fatalf("actor %+v", actor)
	}
	for name, c := range map[string]struct {
		app   uint64
		token string
	}{
		"another app":  {appB.SdkAppID, tok.Token},
		"a wrong one":  {env.App.SdkAppID, tok.Token + "x"},
		"empty":        {env.App.SdkAppID, ""},
		"overlong one": {env.App.SdkAppID, string(make([]byte, 4096))},
	} {
		if _, err := env.Svc.AuthenticateSCIMToken(bg, c.app, c.token); !errors.Is(err, core.ErrBadSCIMToken) {
			t.Errorf("%s: %v, want ErrBadSCIMToken", name, err)
		}
	}

	other, err := env.Svc.CreateSCIMToken(bg, op, env.App.SdkAppID, []usercenter.Permission{usercenter.PermPIIRead, usercenter.PermUsersRead, usercenter.PermPIIRead})
	if err != nil || !slices.Equal(other.Permissions, []usercenter.Permission{usercenter.PermUsersRead, usercenter.PermPIIRead}) {
		t.Fatalf("second token %+v, %v", other, err)
	}
	list, err := env.Svc.SCIMTokens(bg, op, env.App.SdkAppID)
	if err != nil || len(list) != 2 || list[0].ID != tok.ID || list[1].ID != other.ID || list[0].Token != "" {
		t.Fatalf("SCIMTokens = %+v, %v", list, err)
	}

	if err := env.Svc.RevokeSCIMToken(reqCtx("revoke"), op, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Svc.AuthenticateSCIMToken(bg, env.App.SdkAppID, tok.Token); !errors.Is(err, core.ErrBadSCIMToken) {
		t.Fatalf("a revoked token: %v", err)
	}
	if _, err := env.Svc.AuthenticateSCIMToken(bg, env.App.SdkAppID, other.Token); err != nil {
		t.Fatalf("the other token after revoking one: %v", err)
	}
	if err := env.Svc.RevokeSCIMToken(bg, op, tok.ID); err != nil {
		t.Fatalf("revoking again: %v", err)
	}
	wantCode(t, env.Svc.RevokeSCIMToken(bg, op, "scimNone"), usercenter.ENotFound)

	events := allEvents(t, env.Store, usercenter.AuditFilter{SdkAppID: env.App.SdkAppID, Actor: "cli:tester"})
	var got []string
	for _, e := range events {
		got = append(got, string(e.Action)+" "+e.Field+" "+e.RequestID)
	}
	want := []string{"scim_token.create " + tok.ID + " create", "scim_token.create " + other.ID + " ", "scim_token.revoke " + tok.ID + " revoke"}
	if !slices.Equal(got, want) {
		t.Errorf("audit events %q, want %q (revoking twice audits once)", got, want)
	}
}

// Only an operator manages SCIM tokens, and only the SCIM permissions are
// granted.
func TestSCIMTokenRefusals(t *testing.T) {
	env := uctest.New(t)
	key := env.Key.Actor()
	_, err := env.Svc.CreateSCIMToken(bg, key, env.App.SdkAppID, nil)
	wantCode(t, err, usercenter.EForbidden)
	_, err = env.Svc.SCIMTokens(bg, key, env.App.SdkAppID)
	wantCode(t, err, usercenter.EForbidden)
	wantCode(t, env.Svc.RevokeSCIMToken(bg, key, "scimX"), usercenter.EForbidden)
	_, err = env.Svc.CreateSCIMToken(bg, usercenter.Operator(), env.App.SdkAppID, []usercenter.Permission{"users.delete"})
	wantCode(t, err, usercenter.EInvalid)
	_, err = env.Svc.CreateSCIMToken(bg, usercenter.Operator(), 42, nil)
	wantCode(t, err, usercenter.ENotFound)
	_, err = env.Svc.SCIMTokens(bg, usercenter.Operator(), 42)
	wantCode(t, err, usercenter.ENotFound)
}
