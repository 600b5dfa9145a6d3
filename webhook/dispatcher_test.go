package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
	"usercenter/webhook"
)

var bg = context.Background()

// clock is uctest's clock for the dispatcher; tests call RunOnce, so
// After never fires.
type clock struct{ *uctest.Clock }

func (clock) After(time.Duration) <-chan time.Time { return nil }

// delivery is one request a receiver got.
type delivery struct {
	header  http.Header
	body    []byte
	payload usercenter.WebhookPayload
}

// receiver records deliveries and answers each with status(n), n
// counting requests from 0.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []delivery
	status func(n int) int
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	r := &receiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var p usercenter.WebhookPayload
		json.Unmarshal(body, &p)
		r.mu.Lock()
		n := len(r.got)
		r.got = append(r.got, delivery{req.Header.Clone(), body, p})
		r.mu.Unlock()
		w.WriteHeader(r.status(n))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// fixture is an instance with one endpoint and a dispatcher whose sender
// may reach loopback.
type fixture struct {
	env  *uctest.Env
	hook *usercenter.Webhook
	d    *webhook.Dispatcher
	key  *usercenter.Actor
}

func newFixture(t *testing.T, url string, events []string, cfg webhook.Config) *fixture {
	t.Helper()
	env := uctest.New(t)
	env.Clock.Freeze()
	key := env.Key.Actor()
	hook, err := env.Svc.CreateWebhook(bg, key, core.NewWebhook{SdkAppID: env.App.SdkAppID, URL: url, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clock = clock{env.Clock}
	cfg.SaveEvery = -1 // every pass records what it delivered, for the checks after it
	if cfg.Jitter == nil {
		cfg.Jitter = func() float64 { return 0.99 }
	}
	sender := webhook.NewSender(webhook.SenderOptions{AllowPrivate: true, Timeout: cfg.Timeout, Now: env.Clock.Now})
	return &fixture{env: env, hook: hook, d: webhook.NewDispatcher(env.Svc, sender, nil, cfg), key: key}
}

func (f *fixture) register(t *testing.T, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		nick := "u" + strconv.Itoa(i)
		u, err := svctest.CreateUser(f.env.Svc, bg, f.key, f.env.App.SdkAppID, core.UserPatch{Nickname: &nick})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	return ids
}

func (f *fixture) endpoint(t *testing.T) *usercenter.Webhook {
	t.Helper()
	w, err := f.env.Svc.Webhook(bg, f.key, 0, f.hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestDeliversInOrderThroughFailures: a receiver that fails three times
// then succeeds gets every selected event, in order, each verified; the
// failures wait their backoff, and the log tells the attempts.
func TestDeliversInOrderThroughFailures(t *testing.T) {
	r := newReceiver(t, func(n int) int {
		if n < 3 {
			return 500
		}
		return 204
	})
	f := newFixture(t, r.URL+"/hook?token=abc", []string{"user.created"}, webhook.Config{})
	users := f.register(t, 4)
	nick := "renamed" // user.updated: not selected
	if _, err := f.env.Svc.UpdateUser(bg, f.key, users[0], core.UserPatch{Nickname: &nick}); err != nil {
		t.Fatal(err)
	}
	users = append(users, f.register(t, 1)...)

	f.d.RunOnce(bg)
	if got := len(r.deliveries()); got != 1 {
		t.Fatalf("first pass: %d deliveries, want 1 (failed)", got)
	}
	w := f.endpoint(t)
	if w.Attempts != 1 || w.NextAttemptAt.IsZero() || w.Cursor != f.hook.Cursor {
		t.Fatalf("after a failure: %+v", w.WebhookState)
	}
	// Not yet due: nothing is sent.
	f.d.RunOnce(bg)
	if got := len(r.deliveries()); got != 1 {
		t.Fatalf("a retry went before its backoff: %d deliveries", got)
	}
	for range 3 {
		f.env.Clock.Advance(2 * time.Hour)
		f.d.RunOnce(bg)
	}
	got := r.deliveries()
	if len(got) != 3+len(users) {
		t.Fatalf("%d deliveries, want %d", len(got), 3+len(users))
	}
	for i, d := range got[3:] {
		if d.payload.Type != usercenter.EventUserCreated || d.payload.Data.UserID != users[i] {
			t.Fatalf("delivery %d: %s of %q, want user.created of %q", i, d.payload.Type, d.payload.Data.UserID, users[i])
		}
		if err := verify(f.hook.Secret, d.header, d.body, f.env.Clock.Now()); err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
		if d.header.Get("webhook-id") != usercenter.WebhookMessageID(d.payload.ID) || d.header.Get("Content-Type") != "application/json" {
			t.Fatalf("delivery %d headers %v", i, d.header)
		}
	}
	// The retries are of the same message.
	for i := range 3 {
		if got[i].header.Get("webhook-id") != got[3].header.Get("webhook-id") {
			t.Fatalf("attempt %d had webhook-id %s, the success %s", i, got[i].header.Get("webhook-id"), got[3].header.Get("webhook-id"))
		}
	}
	w = f.endpoint(t)
	if w.Attempts != 0 || !w.NextAttemptAt.IsZero() || !w.FailedAt.IsZero() {
		t.Fatalf("after catching up: %+v", w.WebhookState)
	}
	log, err := f.env.Svc.WebhookDeliveries(bg, f.key, 0, f.hook.ID, 100)
	if err != nil || len(log) != 3+len(users) {
		t.Fatalf("log: %d entries, %v", len(log), err)
	}
	first := log[len(log)-1]
	if first.Result != usercenter.DeliveryFailed || first.StatusCode != 500 || first.Attempt != 1 || first.Error != "status 500" {
		t.Fatalf("first attempt logged as %+v", first)
	}
	if third := log[len(log)-4]; third.Result != usercenter.DeliveryOK || third.Attempt != 4 || third.StatusCode != 204 {
		t.Fatalf("the success logged as %+v", third)
	}
}

// TestGivesUpAfterRetryFor: an event that fails for a day is given up,
// the endpoint flagged, and delivery goes on with the next event.
func TestGivesUpAfterRetryFor(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	r := newReceiver(t, func(int) int {
		if broken.Load() {
			return 503
		}
		return 200
	})
	f := newFixture(t, r.URL, []string{"user.*"}, webhook.Config{})
	users := f.register(t, 2)
	start := f.env.Clock.Now()
	for f.env.Clock.Now().Sub(start) < 25*time.Hour {
		f.d.RunOnce(bg)
		f.env.Clock.Advance(time.Hour)
		if !f.endpoint(t).FailedAt.IsZero() {
			break
		}
	}
	w := f.endpoint(t)
	if w.FailedAt.IsZero() || w.FailedEventID == 0 {
		t.Fatalf("not flagged after a day: %+v", w.WebhookState)
	}
	// Given up on the first user's event; the same pass went on to the
	// second's, which failed too.
	log, _ := f.env.Svc.WebhookDeliveries(bg, f.key, 0, f.hook.ID, 100)
	if log[1].Result != usercenter.DeliveryGaveUp || log[1].EventID != w.FailedEventID || log[0].Result != usercenter.DeliveryFailed || log[0].Attempt != 1 {
		t.Fatalf("last log entries %+v", log[:2])
	}
	for _, d := range r.deliveries() {
		if d.payload.ID == w.FailedEventID && d.payload.Data.UserID != users[0] {
			t.Fatalf("gave up on %q, want the first user", d.payload.Data.UserID)
		}
	}
	broken.Store(false)
	f.env.Clock.Advance(2 * time.Hour)
	f.d.RunOnce(bg)
	d := r.deliveries()
	if last := d[len(d)-1].payload; last.Data.UserID != users[1] {
		t.Fatalf("after giving up, delivered %+v, want the next user", last)
	}
	if w := f.endpoint(t); w.FailedAt.IsZero() {
		t.Fatal("a later success cleared the flag; only the operator should")
	}
	// Replaying clears the flag and redelivers from the start.
	n := len(d)
	if _, err := f.env.Svc.ReplayWebhook(bg, f.key, 0, f.hook.ID, start.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.d.RunOnce(bg)
	d = r.deliveries()
	if len(d) < n+2 || d[n].payload.Data.UserID != users[0] || d[n+1].payload.Data.UserID != users[1] {
		t.Fatalf("replay delivered %d more", len(d)-n)
	}
	if w := f.endpoint(t); !w.FailedAt.IsZero() {
		t.Fatal("a replay left the flag")
	}
}

// TestRedirectIsAFailure: a 3xx is not followed.
func TestRedirectIsAFailure(t *testing.T) {
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { followed.Add(1) }))
	defer target.Close()
	r := newReceiver(t, func(int) int { return http.StatusTemporaryRedirect })
	r.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, target.URL, http.StatusTemporaryRedirect)
	})
	f := newFixture(t, r.URL, []string{"*"}, webhook.Config{})
	f.register(t, 1)
	f.d.RunOnce(bg)
	if followed.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
	log, _ := f.env.Svc.WebhookDeliveries(bg, f.key, 0, f.hook.ID, 10)
	if len(log) != 1 || log[0].Result != usercenter.DeliveryFailed || log[0].StatusCode != 307 || log[0].Error != "redirect not followed" {
		t.Fatalf("log %+v", log)
	}
}

// TestHangingReceiverTimesOut: a receiver that never answers fails the
// delivery as a timeout, and the dispatcher goes on.
func TestHangingReceiverTimesOut(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-release:
		case <-req.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)
	f := newFixture(t, hang.URL, []string{"*"}, webhook.Config{Timeout: 200 * time.Millisecond})
	f.register(t, 1)
	f.d.RunOnce(bg)
	log, _ := f.env.Svc.WebhookDeliveries(bg, f.key, 0, f.hook.ID, 10)
	if len(log) != 1 || log[0].Result != usercenter.DeliveryFailed || log[0].Error != "timeout" || log[0].StatusCode != 0 {
		t.Fatalf("log %+v", log)
	}
}

// fakeResolver answers every name with addrs.
type fakeResolver []netip.Addr

func (r fakeResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return r, nil
}

// TestPrivateAddressesRefused: at creation, by the URL's resolved
// addresses; at dial time, whatever the name resolved to before (DNS
// rebinding).
func TestPrivateAddressesRefused(t *testing.T) {
	strict := webhook.NewSender(webhook.SenderOptions{Resolver: fakeResolver{netip.MustParseAddr("93.184.216.34")}})
	for _, raw := range []string{"http://127.0.0.1:9/x", "http://[::1]/", "http://10.1.2.3/", "http://169.254.169.254/latest", "http://192.168.0.1/", "http://100.64.0.1/", "http://[fd00::1]/", "http://0.0.0.0/", "http://0.1.2.3/", "http://255.255.255.255/", "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/", "http://224.0.0.1/"} {
		u, _ := url.Parse(raw)
		if err := strict.CheckURL(bg, u); usercenter.ErrorCode(err) != usercenter.EInvalid {
			t.Errorf("%s: %v, want invalid", raw, err)
		}
	}
	u, _ := url.Parse("https://public.example/")
	if err := strict.CheckURL(bg, u); err != nil {
		t.Errorf("a public address refused: %v", err)
	}
	rebinding := webhook.NewSender(webhook.SenderOptions{Resolver: fakeResolver{netip.MustParseAddr("127.0.0.1")}})
	if err := rebinding.CheckURL(bg, u); usercenter.ErrorCode(err) != usercenter.EInvalid {
		t.Errorf("a name resolving to loopback: %v", err)
	}
	allowing := webhook.NewSender(webhook.SenderOptions{AllowPrivate: true, Resolver: fakeResolver{netip.MustParseAddr("127.0.0.1")}})
	if err := allowing.CheckURL(bg, u); err != nil {
		t.Errorf("--webhook-allow-private refused: %v", err)
	}

	// At dial time: "localhost" passes no check here, as a name that
	// rebinds after the check would, and the dialer still refuses it.
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	target := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	a := strict.Send(bg, core.WebhookMessage{URL: target, Secret: usercenter.NewWebhookSecret(), ID: "evt_1", Payload: []byte("{}")})
	if a.OK || a.Error != "address not allowed" || hits.Load() != 0 {
		t.Fatalf("dialled loopback: %+v, %d hits", a, hits.Load())
	}
	if a := allowing.Send(bg, core.WebhookMessage{URL: target, Secret: usercenter.NewWebhookSecret(), ID: "evt_1", Payload: []byte("{}")}); !a.OK || hits.Load() != 1 {
		t.Fatalf("allowed loopback not reached: %+v", a)
	}
}

// TestTwoDispatchersNeverOverlap: dispatchers of two nodes over one
// store, passing at once, deliver each event once, never two at a time.
func TestTwoDispatchersNeverOverlap(t *testing.T) {
	var inFlight, overlaps atomic.Int32
	seen := map[int64]int{}
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if inFlight.Add(1) > 1 {
			overlaps.Add(1)
		}
		defer inFlight.Add(-1)
		var p usercenter.WebhookPayload
		json.NewDecoder(req.Body).Decode(&p)
		mu.Lock()
		seen[p.ID]++
		mu.Unlock()
		time.Sleep(time.Millisecond) // widen the window an overlap would need
	}))
	defer srv.Close()
	f := newFixture(t, srv.URL, []string{"user.created"}, webhook.Config{Node: "a"})
	sender := webhook.NewSender(webhook.SenderOptions{AllowPrivate: true})
	other := webhook.NewDispatcher(f.env.Svc, sender, nil, webhook.Config{Node: "b", Clock: clock{f.env.Clock}, SaveEvery: -1})
	users := f.register(t, 40)
	var wg sync.WaitGroup
	for _, d := range []*webhook.Dispatcher{f.d, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				d.RunOnce(bg)
			}
		}()
	}
	wg.Wait()
	f.d.RunOnce(bg)
	if overlaps.Load() != 0 {
		t.Fatalf("%d deliveries overlapped", overlaps.Load())
	}
	if len(seen) != len(users) {
		t.Fatalf("%d events delivered, want %d", len(seen), len(users))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %d delivered %d times", id, n)
		}
	}
}

// TestDeliveriesHoldNoPersonalData: what is sent, logged and stored about
// deliveries names users only by ID.
func TestDeliveriesHoldNoPersonalData(t *testing.T) {
	r := newReceiver(t, func(n int) int { return 200 + 300*(n%2) })
	f := newFixture(t, r.URL, []string{"*"}, webhook.Config{})
	phone, email, address := "+8613612346688", "secret.person@example.com", "1 Hidden Road"
	nick := "nick"
	u, err := svctest.CreateUser(f.env.Svc, bg, f.key, f.env.App.SdkAppID, core.UserPatch{Nickname: &nick, Phone: &phone, Email: &email, Address: &address})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.Svc.GetUser(bg, f.key, u.ID, []usercenter.PIIField{usercenter.FieldPhone}); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		f.d.RunOnce(bg)
		f.env.Clock.Advance(time.Hour)
	}
	var all strings.Builder
	for _, d := range r.deliveries() {
		all.Write(d.body)
		for k, v := range d.header {
			all.WriteString(k + strings.Join(v, ","))
		}
	}
	log, _ := f.env.Svc.WebhookDeliveries(bg, f.key, 0, f.hook.ID, 100)
	b, _ := json.Marshal(log)
	all.Write(b)
	all.WriteString(f.env.Log.String())
	if !strings.Contains(all.String(), "pii.disclosed") {
		t.Fatal("the disclosure was not delivered")
	}
	for _, secret := range []string{phone, "13612346688", email, address, f.hook.Secret, strings.TrimPrefix(f.hook.Secret, "whsec_"), f.env.Key.SecretKey} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("%q found in deliveries, their log or the service's log", secret)
		}
	}
}

// TestUpdateTakesEffect: a dispatcher that holds an endpoint sends to its
// new URL, with its new filters, once it is updated.
func TestUpdateTakesEffect(t *testing.T) {
	a := newReceiver(t, func(int) int { return 200 })
	b := newReceiver(t, func(int) int { return 200 })
	f := newFixture(t, a.URL, []string{"user.created"}, webhook.Config{})
	f.register(t, 1)
	f.d.RunOnce(bg)
	url := b.URL
	if _, err := f.env.Svc.UpdateWebhook(bg, f.key, 0, f.hook.ID, core.WebhookPatch{URL: &url}); err != nil {
		t.Fatal(err)
	}
	f.register(t, 1)
	f.d.RunOnce(bg)
	if len(a.deliveries()) != 1 || len(b.deliveries()) != 1 {
		t.Fatalf("old URL got %d, new URL %d; want 1 each", len(a.deliveries()), len(b.deliveries()))
	}
}

// TestPassReportsMore: a pass that stops at Batch with events left says
// so, for Run to go on at once rather than wait for the next poll; the
// pass that delivers the last one says there is no more.
func TestPassReportsMore(t *testing.T) {
	r := newReceiver(t, func(int) int { return 204 })
	f := newFixture(t, r.URL+"/hook", []string{"user.created"}, webhook.Config{Batch: 2})
	f.register(t, 5)
	var passes []bool
	for range 3 {
		passes = append(passes, f.d.RunOnce(bg))
	}
	if want := []bool{true, true, false}; !slices.Equal(passes, want) {
		t.Fatalf("passes reported more = %v, want %v", passes, want)
	}
	if got := len(r.deliveries()); got != 5 {
		t.Fatalf("%d deliveries, want 5", got)
	}
}
