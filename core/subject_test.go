package core_test

import (
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest/svctest"
)

// An access request shows the profile in plain with the third-party IDs,
// the events about the user (its own disclosures included) and the live
// tokens, and audits one reveal per field it shows.
func TestExportSubject(t *testing.T) {
	svc, store := svctest.New(t)
	app, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "subject"})
	if err != nil {
		t.Fatal(err)
	}
	actor := key.Actor()
	p := personal("ann", "+8613612346688", "ann@example.com", "1 Main St")
	p.ThirdParty = map[usercenter.Provider]*string{usercenter.ProviderQQ: ptr("qq-ann")}
	sess, err := svc.RegisterUser(bg, actor, app.SdkAppID, p)
	if err != nil {
		t.Fatal(err)
	}
	other := mustUser(t, svc, actor, app.SdkAppID, personal("bob", "+8613612346699", "", ""))
	before := lastEventID(t, store)

	got, err := svc.ExportSubject(reqCtx("req-1"), actor, sess.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	u := got.User
	if u.Phone != "+8613612346688" || u.Email != "ann@example.com" || u.Address != "1 Main St" || u.Nickname != "ann" || u.ThirdParty[usercenter.ProviderQQ] != "qq-ann" {
		t.Fatalf("exported profile = %+v", u)
	}
	if got.LiveTokens != 1 {
		t.Fatalf("LiveTokens = %d, want 1 (the registration's)", got.LiveTokens)
	}
	var create, reveals int
	for _, e := range got.AuditEvents {
		if e.UserID != u.ID {
			t.Fatalf("event about someone else in the export: %+v", e)
		}
		switch e.Action {
		case usercenter.AuditCreate:
			create++
		case usercenter.AuditReveal:
			reveals++
		}
	}
	if create != 1 || reveals != 3 {
		t.Fatalf("exported events: %d create, %d reveal; want 1 and 3", create, reveals)
	}
	name := actor.Name
	wantEvents(t, eventsAfter(t, store, before),
		eventKey{app.SdkAppID, u.ID, usercenter.AuditReveal, "phone", name, "req-1"},
		eventKey{app.SdkAppID, u.ID, usercenter.AuditReveal, "email", name, "req-1"},
		eventKey{app.SdkAppID, u.ID, usercenter.AuditReveal, "address", name, "req-1"})

	// Without pii.read there is no export, and nothing is audited.
	reader, err := svc.CreateKey(bg, usercenter.Operator(), "reader", []uint64{app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead})
	if err != nil {
		t.Fatal(err)
	}
	before = lastEventID(t, store)
	_, err = svc.ExportSubject(bg, reader.Actor(), other.ID)
	wantCode(t, err, usercenter.EForbidden)
	if evs := eventsAfter(t, store, before); len(evs) != 0 {
		t.Fatalf("a refused export wrote %+v", evs)
	}
	_, err = svc.ExportSubject(bg, actor, "2ZZZZZZZZZZZZZZZZZZZZZZZZZZ")
	wantCode(t, err, usercenter.ENotFound)
}

// An erasure deletes the user with their tokens and keeps every event
// about them, under the tombstone, plus one recording the erasure.
func TestEraseUser(t *testing.T) {
	svc, store := svctest.New(t)
	app, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "erase"})
	if err != nil {
		t.Fatal(err)
	}
	actor := key.Actor()
	sess, err := svc.RegisterUser(bg, actor, app.SdkAppID, personal("ann", "+8613612346688", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	id := sess.User.ID
	kept := mustUser(t, svc, actor, app.SdkAppID, personal("bob", "", "", ""))
	if _, err := svc.GetUser(bg, actor, id, []usercenter.PIIField{usercenter.FieldPhone}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateUser(bg, actor, id, core.UserPatch{Nickname: ptr("anne")}); err != nil {
		t.Fatal(err)
	}
	total := len(allEvents(t, store, usercenter.AuditFilter{}))

	n, err := svc.EraseUser(reqCtx("req-erase"), actor, id)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 { // create, reveal phone, update nickname
		t.Fatalf("EraseUser turned %d events into tombstones, want 3", n)
	}
	_, err = svc.GetUser(bg, actor, id, nil)
	wantCode(t, err, usercenter.ENotFound)
	if live, err := store.LiveTokens(bg, id, sess.ExpiresAt.AddDate(-1, 0, 0)); err != nil || live != 0 {
		t.Fatalf("tokens left after erasure: %d, %v", live, err)
	}
	if evs := allEvents(t, store, usercenter.AuditFilter{UserID: id}); len(evs) != 0 {
		t.Fatalf("events still naming the erased user: %+v", evs)
	}
	all := allEvents(t, store, usercenter.AuditFilter{})
	if len(all) != total+1 {
		t.Fatalf("%d events after erasure, want the %d before and one more", len(all), total)
	}
	tombs := allEvents(t, store, usercenter.AuditFilter{UserID: usercenter.ErasedUserID})
	if len(tombs) != 4 || tombs[3].Action != usercenter.AuditErase || tombs[3].RequestID != "req-erase" || tombs[3].SdkAppID != app.SdkAppID {
		t.Fatalf("tombstones = %+v; want the 3 events and the erasure", tombs)
	}
	if evs := allEvents(t, store, usercenter.AuditFilter{UserID: kept.ID}); len(evs) != 1 {
		t.Fatalf("another user's events changed: %+v", evs)
	}
	// Nor does the outbox, which the event stream shows, name them.
	var erasedInOutbox int
	for _, e := range outbox(t, store, 0, app.SdkAppID) {
		switch e.Data.UserID {
		case id:
			t.Fatalf("an event of the outbox still names the erased user: %+v", e)
		case usercenter.ErasedUserID:
			erasedInOutbox++
		}
	}
	if erasedInOutbox != 3 { // user.created, pii.disclosed, user.updated
		t.Fatalf("%d events of the outbox name %q, want 3", erasedInOutbox, usercenter.ErasedUserID)
	}
	_, err = svc.EraseUser(bg, actor, id)
	wantCode(t, err, usercenter.ENotFound)

	reader, err := svc.CreateKey(bg, usercenter.Operator(), "reader", []uint64{app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead, usercenter.PermPIIRead})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.EraseUser(bg, reader.Actor(), kept.ID)
	wantCode(t, err, usercenter.EForbidden)
}
