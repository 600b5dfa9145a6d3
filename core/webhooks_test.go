package core_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/vault"
)

// fakeSender records what core asks of the network; refuse makes
// CheckURL refuse every host named "private.example".
type fakeSender struct {
	mu   sync.Mutex
	sent []core.WebhookMessage
}

func (f *fakeSender) CheckURL(_ context.Context, u *url.URL) error {
	if u.Hostname() == "private.example" {
		return usercenter.Invalid(usercenter.FieldWebhookURL, "resolves to a private address")
	}
	return nil
}

func (f *fakeSender) Send(_ context.Context, m core.WebhookMessage) core.WebhookAttempt {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, m)
	return core.WebhookAttempt{StatusCode: 503, Latency: time.Millisecond, Error: "status 503"}
}

func TestWebhookAdminChangesAuditedOnce(t *testing.T) {
	env, _, _ := newEnv(t)
	alice := usercenter.OperatorAs("cli:alice")
	key := env.Key.Actor()
	app := env.App.SdkAppID
	before := lastAuditID(t, env.Store)
	cursor := lastOutboxID(t, env.Store, app)

	w, err := env.Svc.CreateWebhook(reqCtx("r1"), key, core.NewWebhook{SdkAppID: app, URL: "https://hooks.example/in", Events: []string{"user.*", "pii.disclosed", "user.*"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.Secret, "whsec_") || len(w.Events) != 2 {
		t.Fatalf("created %+v", w)
	}
	if _, err := env.Svc.UpdateWebhook(reqCtx("r2"), alice, app, w.ID, core.WebhookPatch{URL: ptr("https://hooks.example/v2")}); err != nil {
		t.Fatal(err)
	}
	// Changing nothing records nothing.
	if _, err := env.Svc.UpdateWebhook(reqCtx("r-none"), alice, app, w.ID, core.WebhookPatch{Events: []string{"user.*", "pii.disclosed"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Svc.ReplayWebhook(reqCtx("r3"), key, 0, w.ID, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := env.Svc.DeleteWebhook(reqCtx("r4"), alice, 0, w.ID); err != nil {
		t.Fatal(err)
	}

	audits := allEvents(t, env.Store, usercenter.AuditFilter{AfterID: before})
	want := []eventKey{
		{app, "", usercenter.AuditWebhookCreate, w.ID, key.Name, "r1"},
		{app, "", usercenter.AuditWebhookUpdate, w.ID, "cli:alice", "r2"},
		{app, "", usercenter.AuditWebhookReplay, w.ID, key.Name, "r3"},
		{app, "", usercenter.AuditWebhookDelete, w.ID, "cli:alice", "r4"},
	}
	if len(audits) != len(want) {
		t.Fatalf("%d audit events, want %d: %+v", len(audits), len(want), audits)
	}
	for i, a := range audits {
		if keyOf(a) != want[i] {
			t.Errorf("audit %d = %+v, want %+v", i, keyOf(a), want[i])
		}
	}
	wantOutbox(t, outbox(t, env.Store, cursor, app),
		outboxKey{Type: usercenter.EventWebhookCreated, App: app, Actor: key.Name},
		outboxKey{Type: usercenter.EventWebhookUpdated, App: app, Actor: "cli:alice", Fields: "url"},
		outboxKey{Type: usercenter.EventWebhookUpdated, App: app, Actor: key.Name, Fields: "cursor"},
		outboxKey{Type: usercenter.EventWebhookDeleted, App: app, Actor: "cli:alice"},
	)
	for _, e := range outbox(t, env.Store, cursor, app) {
		if e.Data.WebhookID != w.ID {
			t.Errorf("%s names endpoint %q, want %q", e.Type, e.Data.WebhookID, w.ID)
		}
	}
}

func lastAuditID(t *testing.T, s auditStore) int64 {
	t.Helper()
	all := allEvents(t, s, usercenter.AuditFilter{})
	if len(all) == 0 {
		return 0
	}
	return all[len(all)-1].ID
}

func TestWebhookRefusesBadInput(t *testing.T) {
	env, _, _ := newEnv(t)
	app := env.App.SdkAppID
	key := env.Key.Actor()
	for _, c := range []struct {
		url    string
		events []string
		field  usercenter.Field
	}{
		{"https://h.example/", []string{"user.creatd"}, usercenter.FieldWebhookEvents},
		{"https://h.example/", []string{"nope.*"}, usercenter.FieldWebhookEvents},
		{"https://h.example/", []string{"user*"}, usercenter.FieldWebhookEvents},
		{"https://h.example/", []string{" ", ""}, usercenter.FieldWebhookEvents},
		{"ftp://h.example/", []string{"*"}, usercenter.FieldWebhookURL},
		{"https://u:p@h.example/", []string{"*"}, usercenter.FieldWebhookURL},
		{"/relative", []string{"*"}, usercenter.FieldWebhookURL},
		{"", []string{"*"}, usercenter.FieldWebhookURL},
	} {
		_, err := env.Svc.CreateWebhook(bg, key, core.NewWebhook{SdkAppID: app, URL: c.url, Events: c.events})
		if e := usercenter.ErrorOf(err); e == nil || e.Code != usercenter.EInvalid || e.Field != c.field {
			t.Errorf("%q %q: %v, want invalid %s", c.url, c.events, err, c.field)
		}
	}
	_, err := env.Svc.CreateWebhook(bg, key, core.NewWebhook{SdkAppID: app, URL: "https://h.example/", Events: []string{"user.nope"}})
	if err == nil || !strings.Contains(err.Error(), `"user.nope"`) || !strings.Contains(err.Error(), "user.created") {
		t.Errorf("the error names neither the unknown type nor the known ones: %v", err)
	}
	if ws, _ := env.Svc.Webhooks(bg, key, app); len(ws) != 0 {
		t.Fatalf("refused endpoints were stored: %+v", ws)
	}
}

// TestWebhookSender: the sender checks where a URL leads, at creation
// and update; a test event goes through it, signed with the endpoint's
// secret, and into the delivery log, moving no cursor.
func TestWebhookSender(t *testing.T) {
	mk := vault.NewKey()
	in := newInstance(t, mk)
	sender := &fakeSender{}
	svc, err := core.NewService(bg, in.store, mustRing(t, mk), core.WithWebhookSender(sender))
	if err != nil {
		t.Fatal(err)
	}
	admin := usercenter.OperatorAs("cli:alice")
	app, _, err := svc.CreateApp(bg, admin, core.NewApp{Name: "send"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.CreateWebhook(bg, admin, core.NewWebhook{SdkAppID: app.SdkAppID, URL: "http://private.example/x", Events: []string{"*"}})
	if e := usercenter.ErrorOf(err); e == nil || e.Field != usercenter.FieldWebhookURL {
		t.Fatalf("private URL: %v", err)
	}
	w, err := svc.CreateWebhook(bg, admin, core.NewWebhook{SdkAppID: app.SdkAppID, URL: "http://public.example/x", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.UpdateWebhook(bg, admin, 0, w.ID, core.WebhookPatch{URL: ptr("https://private.example/")})
	wantCode(t, err, usercenter.EInvalid)

	d, err := svc.TestWebhook(bg, admin, 0, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(sender.sent) != 1 || sender.sent[0].Secret != w.Secret || sender.sent[0].URL != w.URL || !strings.HasPrefix(sender.sent[0].ID, "test_") ||
		!strings.Contains(string(sender.sent[0].Payload), `"type":"webhook.test"`) {
		t.Fatalf("sent %+v", sender.sent)
	}
	if d.Result != usercenter.DeliveryTest || d.StatusCode != 503 || d.Error != "status 503" {
		t.Fatalf("test delivery %+v", d)
	}
	log, err := svc.WebhookDeliveries(bg, admin, 0, w.ID, 10)
	if err != nil || len(log) != 1 || log[0].ID != d.ID {
		t.Fatalf("log %+v, %v", log, err)
	}
	if got, _ := svc.Webhook(bg, admin, 0, w.ID); got.Cursor != w.Cursor {
		t.Fatalf("a test moved the cursor from %d to %d", w.Cursor, got.Cursor)
	}
	// Without a sender, a test cannot be sent.
	_, err = in.svc.TestWebhook(bg, admin, 0, w.ID)
	wantCode(t, err, usercenter.EUnavailable)
}

func TestWebhookPermissionsAndScope(t *testing.T) {
	env, appB, keyB := newEnv(t)
	app := env.App.SdkAppID
	w, err := env.Svc.CreateWebhook(bg, env.Key.Actor(), core.NewWebhook{SdkAppID: app, URL: "https://h.example/", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	readOnly := env.NewKey(t, []uint64{app}, usercenter.PermUsersRead, usercenter.PermUsersWrite, usercenter.PermPIIRead).Actor()
	_, err = env.Svc.CreateWebhook(bg, readOnly, core.NewWebhook{SdkAppID: app, URL: "https://h.example/", Events: []string{"*"}})
	wantCode(t, err, usercenter.EForbidden)
	_, err = env.Svc.Webhook(bg, readOnly, app, w.ID)
	wantCode(t, err, usercenter.EForbidden)
	_, err = env.Svc.Webhooks(bg, readOnly, app)
	wantCode(t, err, usercenter.EForbidden)
	// Another app's key, and a path naming another app, find nothing.
	_, err = env.Svc.Webhook(bg, keyB.Actor(), 0, w.ID)
	wantCode(t, err, usercenter.ENotFound)
	err = env.Svc.DeleteWebhook(bg, keyB.Actor(), appB.SdkAppID, w.ID)
	wantCode(t, err, usercenter.ENotFound)
	_, err = env.Svc.Webhook(bg, env.Key.Actor(), appB.SdkAppID, w.ID)
	wantCode(t, err, usercenter.ENotFound)
	if got, err := env.Svc.Webhook(bg, env.Key.Actor(), app, w.ID); err != nil || got.Secret != "" || got.URL != w.URL {
		t.Fatalf("show: %+v, %v", got, err)
	}
}

// TestWebhookCursorAndReplay: an endpoint starts after its own creation;
// a replay moves its cursor back to the first event at or after a time,
// never forward, and clears its retries and flag.
func TestWebhookCursorAndReplay(t *testing.T) {
	env, _, _ := newEnv(t)
	env.Clock.Freeze()
	app := env.App.SdkAppID
	key := env.Key.Actor()
	mustUser(t, env.Svc, key, app, personal("early", "", "", ""))
	t0 := env.Clock.Now()
	env.Clock.Advance(time.Hour)
	w, err := env.Svc.CreateWebhook(bg, key, core.NewWebhook{SdkAppID: app, URL: "https://h.example/", Events: []string{"user.created"}})
	if err != nil {
		t.Fatal(err)
	}
	if w.Cursor != lastOutboxID(t, env.Store, app) {
		t.Fatalf("cursor %d, want the webhook.created event %d", w.Cursor, lastOutboxID(t, env.Store, app))
	}
	env.Clock.Advance(time.Hour)
	t2 := env.Clock.Now()
	mustUser(t, env.Svc, key, app, personal("late", "", "", ""))
	pending, err := env.Svc.PendingEvents(bg, app, w.Cursor, 10)
	if err != nil || len(pending) != 1 || pending[0].Type != usercenter.EventUserCreated {
		t.Fatalf("pending after creation: %+v, %v", pending, err)
	}

	// Mark the endpoint failing and retrying, as the dispatcher would.
	rec, err := env.Svc.ClaimWebhook(bg, w.ID, "n1", env.Clock.Now(), time.Minute)
	if err != nil || rec == nil || rec.Secret != w.Secret {
		t.Fatalf("claim: %+v, %v", rec, err)
	}
	st := rec.WebhookState
	st.Attempts, st.RetryingSince, st.NextAttemptAt, st.FailedAt, st.FailedEventID = 3, t2, t2.Add(time.Hour), t2, 1
	if ok, err := env.Svc.SaveWebhookProgress(bg, w.ID, "n1", rec.Cursor, st, time.Time{}, nil); !ok || err != nil {
		t.Fatalf("save: %v, %v", ok, err)
	}

	// A replay from after every event keeps the cursor where it was.
	got, err := env.Svc.ReplayWebhook(bg, key, app, w.ID, t2.Add(time.Minute))
	if err != nil || got.Cursor != w.Cursor || got.Attempts != 0 || !got.FailedAt.IsZero() || !got.NextAttemptAt.IsZero() {
		t.Fatalf("replay from the future: %+v, %v", got, err)
	}
	got, err = env.Svc.ReplayWebhook(bg, key, app, w.ID, t0)
	if err != nil {
		t.Fatal(err)
	}
	pending, _ = env.Svc.PendingEvents(bg, app, got.Cursor, 100)
	if len(pending) == 0 || !pending[0].At.Equal(t0) && pending[0].At.Before(t0) {
		t.Fatalf("after a replay from %v the first pending event is %+v", t0, pending[:min(1, len(pending))])
	}
	if first, _ := env.Store.FirstEventSince(bg, app, t0); pending[0].ID != first {
		t.Fatalf("replay cursor %d: first pending %d, want %d", got.Cursor, pending[0].ID, first)
	}
	_, err = env.Svc.ReplayWebhook(bg, key, app, w.ID, time.Time{})
	wantCode(t, err, usercenter.EInvalid)
}

// TestWebhookSecretSurvivesRotation: a master-key rotation reseals the
// endpoint's secret, which then opens under the new key alone.
func TestWebhookSecretSurvivesRotation(t *testing.T) {
	oldKey, newKey := vault.NewKey(), vault.NewKey()
	in := newInstance(t, oldKey)
	admin := usercenter.OperatorAs("cli:alice")
	app, _, err := in.svc.CreateApp(bg, admin, core.NewApp{Name: "rot"})
	if err != nil {
		t.Fatal(err)
	}
	w, err := in.svc.CreateWebhook(bg, admin, core.NewWebhook{SdkAppID: app.SdkAppID, URL: "https://h.example/", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := core.Reseal(bg, in.store, mustRing(t, newKey, oldKey), admin)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ByKind[core.SealedWebhookSecret] != 1 {
		t.Fatalf("rotation found %d webhook secrets, want 1", rep.ByKind[core.SealedWebhookSecret])
	}
	svc, err := core.NewService(bg, in.store, mustRing(t, newKey))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := svc.ClaimWebhook(bg, w.ID, "n", time.Now(), time.Minute)
	if err != nil || rec == nil || rec.Secret != w.Secret {
		t.Fatalf("after rotation: %+v, %v", rec, err)
	}
}
