package core_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/core/storetest"
	"usercenter/uctest/svctest"
)

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newConsoleService(t *testing.T) (*core.Service, core.Store, *testClock) {
	clock := &testClock{now: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)}
	svc, store := svctest.New(t, core.WithClock(clock.Now))
	return svc, store, clock
}

const goodPassword = "correct horse battery"

// firstAdmin sets up the instance's first admin through the setup link.
func firstAdmin(t *testing.T, svc *core.Service) *core.ConsoleSignedIn {
	t.Helper()
	link, err := svc.ConsoleSetupLink(bg)
	if err != nil || link == "" {
		t.Fatalf("ConsoleSetupLink = %q, %v", link, err)
	}
	in, err := svc.RedeemConsoleLink(bg, link, "Root@Example.com", goodPassword)
	if err != nil {
		t.Fatalf("RedeemConsoleLink: %v", err)
	}
	return in
}

// invite creates an account through an admin and sets its password.
func invite(t *testing.T, svc *core.Service, admin *usercenter.Actor, email string, role usercenter.ConsoleRole, apps []uint64) *core.ConsoleSignedIn {
	t.Helper()
	_, link, err := svc.CreateConsoleAccount(bg, admin, email, role, apps)
	if err != nil {
		t.Fatalf("CreateConsoleAccount: %v", err)
	}
	in, err := svc.RedeemConsoleLink(bg, link, "", goodPassword)
	if err != nil {
		t.Fatalf("RedeemConsoleLink: %v", err)
	}
	return in
}

func consoleEvents(t *testing.T, s core.Store, action usercenter.AuditAction) []usercenter.AuditEvent {
	return allEvents(t, s, usercenter.AuditFilter{Action: action})
}

func TestConsoleSetup(t *testing.T) {
	svc, store, _ := newConsoleService(t)
	if need, err := svc.ConsoleSetupNeeded(bg); !need || err != nil {
		t.Fatalf("a fresh instance: setup needed %v, %v", need, err)
	}
	early, err := svc.ConsoleSetupLink(bg) // a second start's link, never used
	if err != nil {
		t.Fatal(err)
	}
	link, _ := svc.ConsoleSetupLink(bg)
	info, err := svc.ConsoleLinkInfo(bg, link)
	if err != nil || !info.Setup {
		t.Fatalf("ConsoleLinkInfo = %+v, %v", info, err)
	}
	_, err = svc.RedeemConsoleLink(bg, link, "root@example.com", "short")
	wantCode(t, err, usercenter.EInvalid)
	if e := usercenter.ErrorOf(err); e.Field != usercenter.FieldPassword {
		t.Errorf("a short password: field %q", e.Field)
	}
	_, err = svc.RedeemConsoleLink(bg, link, "not an email", goodPassword)
	wantCode(t, err, usercenter.EInvalid)

	in, err := svc.RedeemConsoleLink(bg, link, "Root@Example.com", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if in.Account.Email != "root@example.com" || in.Account.Role != usercenter.RoleAdmin || in.Account.Status != usercenter.ConsoleActive {
		t.Errorf("the first account: %+v", in.Account)
	}
	acc, actor, err := svc.ConsoleSession(bg, in.Token)
	if err != nil || acc.ID != in.Account.ID || !actor.ManagesConsole || !actor.AllApps || actor.Name != "console:"+acc.ID {
		t.Fatalf("ConsoleSession = %+v, %+v, %v", acc, actor, err)
	}

	// The link works once; the other setup link dies with the first use;
	// no new one is made.
	_, err = svc.RedeemConsoleLink(bg, link, "x@example.com", goodPassword)
	wantCode(t, err, usercenter.EUnauthenticated)
	if _, err := svc.ConsoleLinkInfo(bg, early); usercenter.ErrorCode(err) != usercenter.EUnauthenticated {
		t.Errorf("the other setup link's info once set up: %v", err)
	}
	_, err = svc.RedeemConsoleLink(bg, early, "x@example.com", goodPassword)
	wantCode(t, err, usercenter.EUnauthenticated)
	if _, err := svc.ConsoleLinkInfo(bg, link); usercenter.ErrorCode(err) != usercenter.EUnauthenticated {
		t.Errorf("a used link's info: %v", err)
	}
	if again, err := svc.ConsoleSetupLink(bg); again != "" || err != nil {
		t.Errorf("a setup link once an account exists: %q, %v", again, err)
	}
	if need, _ := svc.ConsoleSetupNeeded(bg); need {
		t.Error("setup still needed")
	}

	created := consoleEvents(t, store, usercenter.AuditConsoleAccountCreate)
	signIns := consoleEvents(t, store, usercenter.AuditConsoleSignIn)
	if len(created) != 1 || created[0].Actor != "console:"+acc.ID || created[0].Field != acc.ID || created[0].UserID != "" {
		t.Errorf("create events: %+v", created)
	}
	if len(signIns) != 1 || signIns[0].Actor != "console:"+acc.ID {
		t.Errorf("sign-in events: %+v", signIns)
	}
}

func TestConsoleLinkExpires(t *testing.T) {
	svc, _, clock := newConsoleService(t)
	admin := firstAdmin(t, svc)
	_, adminActor, _ := svc.ConsoleSession(bg, admin.Token)
	_, link, err := svc.CreateConsoleAccount(bg, adminActor, "late@example.com", usercenter.RoleViewer, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, fresh, _ := svc.CreateConsoleAccount(bg, adminActor, "early@example.com", usercenter.RoleViewer, nil)
	clock.Add(core.ConsoleLinkTTL - time.Second)
	if info, err := svc.ConsoleLinkInfo(bg, fresh); err != nil || info.Email != "early@example.com" {
		t.Fatalf("a link just before its end: %+v, %v", info, err)
	}
	if _, err := svc.RedeemConsoleLink(bg, fresh, "", goodPassword); err != nil {
		t.Fatalf("a link just before its end: %v", err)
	}
	clock.Add(time.Second)
	_, err = svc.RedeemConsoleLink(bg, link, "", goodPassword)
	wantCode(t, err, usercenter.EUnauthenticated)
	if _, err := svc.ConsoleLinkInfo(bg, link); usercenter.ErrorCode(err) != usercenter.EUnauthenticated {
		t.Errorf("an expired link's info: %v", err)
	}
	// An admin makes a new link, which works.
	acc, _ := svc.ConsoleAccountByEmail(bg, adminActor, "late@example.com")
	again, err := svc.NewConsoleLink(bg, adminActor, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RedeemConsoleLink(bg, again, "", goodPassword); err != nil {
		t.Fatalf("a new link: %v", err)
	}
}

func TestConsoleSignInAndLockout(t *testing.T) {
	svc, store, clock := newConsoleService(t)
	admin := firstAdmin(t, svc)
	_, adminActor, _ := svc.ConsoleSession(bg, admin.Token)
	op := invite(t, svc, adminActor, "op@example.com", usercenter.RoleSupport, nil)

	ok, err := svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "OP@example.com", Password: goodPassword, Addr: "192.0.2.1"})
	if err != nil || ok.ConsoleSignedIn == nil || ok.Ticket != "" {
		t.Fatalf("a right password: %+v, %v", ok, err)
	}
	unknown, err := svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "nobody@example.com", Password: goodPassword})
	wantCode(t, err, usercenter.EUnauthenticated)
	_, wrongErr := svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "op@example.com", Password: "wrong password!"})
	if unknown != nil || err.Error() != wrongErr.Error() {
		t.Errorf("an unknown email answers %v, a wrong password %v: they must not differ", err, wrongErr)
	}
	for range core.ConsoleLockoutFailures - 2 {
		_, err := svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "op@example.com", Password: "wrong password!"})
		wantCode(t, err, usercenter.EUnauthenticated)
	}
	_, err = svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "op@example.com", Password: "wrong password!"})
	wantCode(t, err, usercenter.ERateLimited)
	if !strings.Contains(err.Error(), "locked") {
		t.Errorf("the lockout says %v", err)
	}
	// Locked: even the right password is refused, without being checked.
	_, err = svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "op@example.com", Password: goodPassword})
	wantCode(t, err, usercenter.ERateLimited)
	acc, _ := svc.ConsoleAccount(bg, adminActor, op.Account.ID)
	if !acc.Locked(clock.Now()) {
		t.Errorf("the account does not show its lock: %+v", acc)
	}
	lockouts := consoleEvents(t, store, usercenter.AuditConsoleLockout)
	failed := consoleEvents(t, store, usercenter.AuditConsoleSignInFailed)
	if len(lockouts) != 1 || lockouts[0].Actor != "console:"+op.Account.ID {
		t.Errorf("lockout events: %+v", lockouts)
	}
	if len(failed) != core.ConsoleLockoutFailures+1 || failed[0].Actor != "console:unknown" {
		t.Errorf("failed sign-in events: %+v", failed)
	}

	// The lock ends by itself…
	clock.Add(core.ConsoleLockout)
	if _, err := svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "op@example.com", Password: goodPassword}); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	// …or when an admin lifts it.
	for range core.ConsoleLockoutFailures {
		svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "op@example.com", Password: "wrong password!"})
	}
	_, err = svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "op@example.com", Password: goodPassword})
	wantCode(t, err, usercenter.ERateLimited)
	_, opActor, _ := svc.ConsoleSession(bg, op.Token)
	_, err = svc.ChangeConsoleAccount(bg, opActor, op.Account.ID, core.ConsoleAccountChange{Unlock: true})
	wantCode(t, err, usercenter.EForbidden)
	if _, err := svc.ChangeConsoleAccount(bg, adminActor, op.Account.ID, core.ConsoleAccountChange{Unlock: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "op@example.com", Password: goodPassword}); err != nil {
		t.Fatalf("after an admin lifted the lock: %v", err)
	}
	if ev := consoleEvents(t, store, usercenter.AuditConsoleAccountUpdate); ev[len(ev)-1].Field != op.Account.ID+":lock" || ev[len(ev)-1].Actor != adminActor.Name {
		t.Errorf("the unlock's event: %+v", ev[len(ev)-1])
	}
}

func TestConsoleAddressLimit(t *testing.T) {
	svc, _, clock := newConsoleService(t)
	firstAdmin(t, svc)
	for i := range core.ConsoleAddressAttempts {
		// Unknown emails: no account locks, only the address counts.
		_, err := svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "x@example.com", Password: "wrong", Addr: "192.0.2.7"})
		if usercenter.ErrorCode(err) != usercenter.EUnauthenticated {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	_, err := svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "root@example.com", Password: goodPassword, Addr: "192.0.2.7"})
	wantCode(t, err, usercenter.ERateLimited)
	if _, err := svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "root@example.com", Password: goodPassword, Addr: "192.0.2.8"}); err != nil {
		t.Fatalf("another address: %v", err)
	}
	clock.Add(core.ConsoleAddressWindow)
	if _, err := svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "root@example.com", Password: goodPassword, Addr: "192.0.2.7"}); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestConsoleTOTP(t *testing.T) {
	svc, store, clock := newConsoleService(t)
	admin := firstAdmin(t, svc)
	enrol, err := svc.BeginConsoleTOTP(bg, &admin.Account)
	if err != nil {
		t.Fatal(err)
	}
	if len(enrol.QRPNG) < 8 || string(enrol.QRPNG[1:4]) != "PNG" || !strings.HasPrefix(enrol.URL, "otpauth://totp/") {
		t.Fatalf("enrolment: QR %d bytes, URL %q", len(enrol.QRPNG), enrol.URL)
	}
	code := func() string {
		c, err := core.ConsoleSecretCode(enrol.Secret, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	wrong := func(c string) string { return string('0'+(c[0]-'0'+1)%10) + c[1:] }
	_, err = svc.ConfirmConsoleTOTP(bg, admin.Account.ID, enrol.Pending, wrong(code()))
	wantCode(t, err, usercenter.EInvalid)
	// The pending secret is bound to its account.
	_, err = svc.ConfirmConsoleTOTP(bg, "someone-else", enrol.Pending, code())
	wantCode(t, err, usercenter.EInvalid)
	recovery, err := svc.ConfirmConsoleTOTP(bg, admin.Account.ID, enrol.Pending, code())
	if err != nil || len(recovery) != core.ConsoleRecoveryCodes {
		t.Fatalf("ConfirmConsoleTOTP = %v, %v", recovery, err)
	}
	rec, _ := store.ConsoleAccount(bg, admin.Account.ID)
	if !rec.TwoFactor || strings.Contains(string(rec.SealedTOTP), enrol.Secret) {
		t.Fatalf("the secret is not enrolled, or stored in plain")
	}

	creds := core.ConsoleCredentials{Email: "root@example.com", Password: goodPassword}
	step, err := svc.ConsoleSignIn(bg, creds)
	if err != nil || step.Ticket == "" || step.ConsoleSignedIn != nil {
		t.Fatalf("a password alone: %+v, %v", step, err)
	}
	_, err = svc.ConsoleSignIn(bg, core.ConsoleCredentials{Ticket: step.Ticket, Code: wrong(code())})
	wantCode(t, err, usercenter.EUnauthenticated)
	_, err = svc.ConsoleSignIn(bg, core.ConsoleCredentials{Ticket: "forged", Code: code()})
	wantCode(t, err, usercenter.EUnauthenticated)
	// The enrolment's code does not sign in: a code works once.
	_, err = svc.ConsoleSignIn(bg, core.ConsoleCredentials{Ticket: step.Ticket, Code: code()})
	wantCode(t, err, usercenter.EUnauthenticated)
	clock.Add(30 * time.Second) // the next period's code
	in, err := svc.ConsoleSignIn(bg, core.ConsoleCredentials{Ticket: step.Ticket, Code: code()})
	if err != nil || in.ConsoleSignedIn == nil {
		t.Fatalf("ticket and code: %+v, %v", in, err)
	}
	_, err = svc.ConsoleSignIn(bg, core.ConsoleCredentials{Ticket: step.Ticket, Code: code()})
	wantCode(t, err, usercenter.EUnauthenticated)
	// The password and the code in one form work too.
	clock.Add(30 * time.Second)
	withCode := creds
	withCode.Code = code()
	if _, err := svc.ConsoleSignIn(bg, withCode); err != nil {
		t.Fatalf("password and code at once: %v", err)
	}

	// A recovery code works once, typed in any case.
	rc := creds
	rc.Code = strings.ToUpper(recovery[3])
	if _, err := svc.ConsoleSignIn(bg, rc); err != nil {
		t.Fatalf("a recovery code: %v", err)
	}
	_, err = svc.ConsoleSignIn(bg, rc)
	wantCode(t, err, usercenter.EUnauthenticated)
	if rec, _ := store.ConsoleAccount(bg, admin.Account.ID); len(rec.RecoveryCodes) != core.ConsoleRecoveryCodes-1 {
		t.Errorf("%d recovery codes left", len(rec.RecoveryCodes))
	}

	// A ticket expires.
	step, _ = svc.ConsoleSignIn(bg, creds)
	clock.Add(6 * time.Minute)
	_, err = svc.ConsoleSignIn(bg, core.ConsoleCredentials{Ticket: step.Ticket, Code: code()})
	wantCode(t, err, usercenter.EUnauthenticated)

	// An admin resets two-factor: the password alone signs in again.
	_, actor, _ := svc.ConsoleSession(bg, in.Token)
	if _, err := svc.ChangeConsoleAccount(bg, actor, admin.Account.ID, core.ConsoleAccountChange{ResetTwoFactor: true}); err != nil {
		t.Fatal(err)
	}
	if r, err := svc.ConsoleSignIn(bg, creds); err != nil || r.ConsoleSignedIn == nil {
		t.Fatalf("after a reset: %+v, %v", r, err)
	}
}

func TestConsoleSessionExpiry(t *testing.T) {
	svc, store, clock := newConsoleService(t)
	in := firstAdmin(t, svc)
	check := func() error { _, _, err := svc.ConsoleSession(bg, in.Token); return err }

	// Used every 50 minutes, a session lives on; idle for an hour it ends.
	for range 3 {
		clock.Add(50 * time.Minute)
		if err := check(); err != nil {
			t.Fatalf("a session in use: %v", err)
		}
	}
	clock.Add(core.ConsoleSessionIdle)
	wantCode(t, check(), usercenter.EUnauthenticated)

	// However used, it ends ConsoleSessionMax after sign-in.
	r, _ := svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "root@example.com", Password: goodPassword})
	in = r.ConsoleSignedIn
	for elapsed := time.Duration(0); elapsed < core.ConsoleSessionMax-50*time.Minute; elapsed += 50 * time.Minute {
		clock.Add(50 * time.Minute)
		if err := check(); err != nil {
			t.Fatalf("after %v: %v", elapsed, err)
		}
	}
	clock.Add(50 * time.Minute)
	wantCode(t, check(), usercenter.EUnauthenticated)

	// Sign-out deletes the session row.
	r, _ = svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "root@example.com", Password: goodPassword})
	in = r.ConsoleSignedIn
	if err := svc.ConsoleSignOut(bg, in.Token); err != nil {
		t.Fatal(err)
	}
	wantCode(t, check(), usercenter.EUnauthenticated)
	if _, _, err := svc.ConsoleSession(bg, ""); usercenter.ErrorCode(err) != usercenter.EUnauthenticated {
		t.Errorf("no token: %v", err)
	}
	if ev := consoleEvents(t, store, usercenter.AuditConsoleSignOut); len(ev) != 1 {
		t.Errorf("sign-out events: %+v", ev)
	}
}

func TestConsoleAccountManagement(t *testing.T) {
	svc, store, _ := newConsoleService(t)
	storetest.AddApps(t, store, 1400000001, 1400000002)
	admin := firstAdmin(t, svc)
	_, adminActor, _ := svc.ConsoleSession(bg, admin.Token)

	viewer := invite(t, svc, adminActor, "viewer@example.com", usercenter.RoleViewer, []uint64{1400000001})
	vAcc, vActor, err := svc.ConsoleSession(bg, viewer.Token)
	if err != nil {
		t.Fatal(err)
	}
	if vActor.ManagesConsole || vActor.AllApps || !slices.Equal(vActor.Apps, []uint64{1400000001}) ||
		!slices.Equal(vActor.Permissions, []usercenter.Permission{usercenter.PermUsersRead}) {
		t.Errorf("a viewer acts as %+v", vActor)
	}
	_, _, err = svc.CreateConsoleAccount(bg, vActor, "x@example.com", usercenter.RoleAdmin, nil)
	wantCode(t, err, usercenter.EForbidden)
	_, err = svc.ConsoleAccounts(bg, vActor)
	wantCode(t, err, usercenter.EForbidden)
	_, err = svc.ChangeConsoleAccount(bg, vActor, vAcc.ID, core.ConsoleAccountChange{Role: ptr(usercenter.RoleAdmin)})
	wantCode(t, err, usercenter.EForbidden)

	// An admin limited to some apps manages no accounts either.
	limited := invite(t, svc, adminActor, "limited@example.com", usercenter.RoleAdmin, []uint64{1400000002})
	_, lActor, _ := svc.ConsoleSession(bg, limited.Token)
	_, _, err = svc.CreateConsoleAccount(bg, lActor, "x@example.com", usercenter.RoleAdmin, nil)
	wantCode(t, err, usercenter.EForbidden)

	// Bad input.
	_, _, err = svc.CreateConsoleAccount(bg, adminActor, "viewer@example.com", usercenter.RoleViewer, nil)
	wantCode(t, err, usercenter.EConflict)
	_, _, err = svc.CreateConsoleAccount(bg, adminActor, "y@example.com", "root", nil)
	wantCode(t, err, usercenter.EInvalid)
	_, _, err = svc.CreateConsoleAccount(bg, adminActor, "y@example.com", usercenter.RoleViewer, []uint64{1400000009})
	wantCode(t, err, usercenter.ENotFound)

	// A role change applies to the live session at once.
	if _, err := svc.ChangeConsoleAccount(bg, adminActor, vAcc.ID, core.ConsoleAccountChange{
		Role: ptr(usercenter.RoleSupport), Apps: ptr([]uint64(nil)),
	}); err != nil {
		t.Fatal(err)
	}
	if _, a, err := svc.ConsoleSession(bg, viewer.Token); err != nil || !a.AllApps || !a.Has(usercenter.PermPIIRead) {
		t.Errorf("after the role change: %+v, %v", a, err)
	}
	// Disabling ends its sessions and sign-ins.
	if _, err := svc.ChangeConsoleAccount(bg, adminActor, vAcc.ID, core.ConsoleAccountChange{Disable: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.ConsoleSession(bg, viewer.Token); usercenter.ErrorCode(err) != usercenter.EUnauthenticated {
		t.Errorf("a disabled account's session: %v", err)
	}
	_, err = svc.ConsoleSignIn(bg, core.ConsoleCredentials{Email: "viewer@example.com", Password: goodPassword})
	wantCode(t, err, usercenter.EDisabled)

	// The last admin of every app stays.
	_, err = svc.ChangeConsoleAccount(bg, adminActor, admin.Account.ID, core.ConsoleAccountChange{Role: ptr(usercenter.RoleViewer)})
	wantCode(t, err, usercenter.EInvalid)
	_, err = svc.ChangeConsoleAccount(bg, adminActor, admin.Account.ID, core.ConsoleAccountChange{Disable: true})
	wantCode(t, err, usercenter.EInvalid)

	updates := consoleEvents(t, store, usercenter.AuditConsoleAccountUpdate)
	var fields []string
	for _, e := range updates {
		if e.Actor == adminActor.Name {
			fields = append(fields, e.Field)
		}
	}
	want := []string{vAcc.ID + ":role", vAcc.ID + ":apps", vAcc.ID + ":status"}
	if !slices.Equal(fields, want) {
		t.Errorf("update events by the admin: %v, want %v", fields, want)
	}
	names, err := svc.ConsoleAccountNames(bg, vActor)
	if err != nil || names["console:"+vAcc.ID] != "viewer@example.com" || names[adminActor.Name] != "root@example.com" {
		t.Errorf("ConsoleAccountNames = %v, %v", names, err)
	}
	_, err = svc.ConsoleAccountNames(bg, &usercenter.Actor{Name: "key:x", AllApps: true})
	wantCode(t, err, usercenter.EForbidden)
	list, err := svc.ConsoleAccounts(bg, usercenter.Operator())
	if err != nil || len(list) != 3 {
		t.Errorf("the operator lists %d accounts, %v", len(list), err)
	}
}
