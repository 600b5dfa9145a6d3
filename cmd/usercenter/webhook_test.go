package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usercenter/postgres/pgtest"
)

// hookReceiver is a webhook endpoint for process tests. It records the
// first receipt of each event, in order, and every receipt; it can hold
// deliveries until released, fail the next ones, and notice two
// deliveries at once.
type hookReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	order    []int64         // event IDs, at their first receipt
	times    map[int64]int   // receipts of each event
	users    map[string]bool // UserIds of user.created events
	bodies   bytes.Buffer
	hold     chan struct{} // while not nil, deliveries wait for it to close
	held     chan struct{} // signalled when a delivery is held
	failNext int           // answer 500 to this many more deliveries

	inFlight, overlaps atomic.Int32
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{times: map[int64]int{}, users: map[string]bool{}, held: make(chan struct{}, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		r.release()
		r.Close()
	})
	return r
}

func (r *hookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	if r.inFlight.Add(1) > 1 {
		r.overlaps.Add(1)
	}
	defer r.inFlight.Add(-1)
	body, _ := io.ReadAll(req.Body)
	var ev struct {
		ID   int64
		Type string
		Data struct{ UserID string }
	}
	json.Unmarshal(body, &ev)
	r.mu.Lock()
	hold := r.hold
	fail := r.failNext > 0
	if fail {
		r.failNext--
	}
	r.mu.Unlock()
	if hold != nil {
		select {
		case r.held <- struct{}{}:
		default:
		}
		<-hold
	}
	if fail {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	// A little work, so that two deliveries at once would overlap here.
	time.Sleep(2 * time.Millisecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies.Write(body)
	r.bodies.WriteString(fmt.Sprint(req.Header))
	if r.times[ev.ID] == 0 {
		r.order = append(r.order, ev.ID)
	}
	r.times[ev.ID]++
	if ev.Type == "user.created" {
		r.users[ev.Data.UserID] = true
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *hookReceiver) holdDeliveries() {
	r.mu.Lock()
	r.hold = make(chan struct{})
	r.mu.Unlock()
}

func (r *hookReceiver) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hold != nil {
		close(r.hold)
		r.hold = nil
	}
}

// waitUsers polls, within a generous bound, until every user's
// user.created event has arrived.
func (r *hookReceiver) waitUsers(t *testing.T, users []string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r.mu.Lock()
		missing := 0
		for _, u := range users {
			if !r.users[u] {
				missing++
			}
		}
		r.mu.Unlock()
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d user.created events not delivered within %v", missing, len(users), within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkOrder fails unless events arrived, first receipts, in ID order.
func (r *hookReceiver) checkOrder(t *testing.T) (dups int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 1; i < len(r.order); i++ {
		if r.order[i] <= r.order[i-1] {
			t.Fatalf("event %d arrived after event %d: out of order", r.order[i], r.order[i-1])
		}
	}
	for _, n := range r.times {
		dups += n - 1
	}
	return dups
}

// createUserREST creates a user with personal data through /v1.
func createUserREST(t *testing.T, addr string, a app, origin string) string {
	t.Helper()
	body := fmt.Sprintf(`{"originId":%q,"nickname":"hook","phone":"+8613612346688","email":"hook.person@example.com","address":"7 Hidden Lane"}`, origin)
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/apps/"+strconv.FormatUint(a.SdkAppId, 10)+"/users", strings.NewReader(body))
	req.SetBasicAuth(a.SecretId, a.SecretKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var u struct{ UserId string }
	if err := json.NewDecoder(res.Body).Decode(&u); err != nil || res.StatusCode != 201 {
		t.Fatalf("create user: %d %v", res.StatusCode, err)
	}
	return u.UserId
}

// TestWebhookCrashLosesNothing: a server killed with a delivery in
// flight, and more events committed behind it, delivers every event
// after its restart, in order; a receiver that then fails twice still
// gets each event. Nothing personal or secret lands in the database
// files, the deliveries or the logs.
func TestWebhookCrashLosesNothing(t *testing.T) {
	skipShort(t)
	start := time.Now()
	dir := t.TempDir()
	a := createApp(t, dir, "hooks")
	recv := newHookReceiver(t)
	out, errOut, code := runBin(t, "webhook", "create", "--app", strconv.FormatUint(a.SdkAppId, 10), "--url", recv.URL+"/in",
		"--events", "user.*", "--allow-private", "--json", "--data", dir)
	if code != 0 {
		t.Fatalf("webhook create: %s%s", out, errOut)
	}
	var hook struct{ Id, Secret string }
	json.Unmarshal([]byte(out), &hook)

	recv.holdDeliveries()
	p := startServer(t, dir, "--webhook-allow-private")
	var users []string
	for i := range 5 {
		users = append(users, createUserREST(t, p.addr, a, fmt.Sprint("before-", i)))
	}
	select {
	case <-recv.held:
	case <-time.After(time.Minute):
		t.Fatalf("no delivery started within a minute\n%s", p.stderr)
	}
	// Committed, not delivered: one delivery is in flight, the rest queued.
	p.cmd.Process.Kill()
	p.wait(10 * time.Second)
	recv.release()
	logs := p.stderr.String()

	recv.mu.Lock()
	recv.failNext = 2
	recv.mu.Unlock()
	p2 := startServer(t, dir, "--webhook-allow-private")
	for i := range 3 {
		users = append(users, createUserREST(t, p2.addr, a, fmt.Sprint("after-", i)))
	}
	// The dead node's lease (30 s) must run out, and two failures back off.
	recv.waitUsers(t, users, 3*time.Minute)
	dups := recv.checkOrder(t)
	// The metrics name the endpoint, never its URL.
	res, err := http.Get("http://" + p2.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`usercenter_webhook_deliveries_total{result="delivered",webhook="` + hook.Id + `"}`,
		`usercenter_webhook_deliveries_total{result="failed",webhook="` + hook.Id + `"} 2`,
		`usercenter_webhook_delivery_lag_seconds_count`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(string(metrics), recv.URL) {
		t.Error("/metrics holds the endpoint's URL")
	}
	p2.stop()
	logs += p2.stderr.String()
	t.Logf("%d users delivered (%d duplicates) in %v", len(users), dups, time.Since(start).Round(time.Millisecond))

	// Nothing personal or secret in the database files, the deliveries
	// or the logs.
	var files bytes.Buffer
	filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && !strings.HasSuffix(path, ".key") {
			b, _ := os.ReadFile(path)
			files.Write(b)
		}
		return nil
	})
	recv.mu.Lock()
	delivered := recv.bodies.String()
	recv.mu.Unlock()
	for _, secret := range []string{"+8613612346688", "13612346688", "hook.person@example.com", "7 Hidden Lane", hook.Secret, strings.TrimPrefix(hook.Secret, "whsec_"), a.SecretKey} {
		for name, where := range map[string]string{"the database files": files.String(), "the deliveries": delivered, "the logs": logs} {
			if strings.Contains(where, secret) {
				t.Errorf("%q found in %s", secret, name)
			}
		}
	}
}

// TestWebhookThreeNodes: three servers on one PostgreSQL database deliver
// each event of one endpoint, never two at once.
func TestWebhookThreeNodes(t *testing.T) {
	skipShort(t)
	start := time.Now()
	dsn := pgtest.DSN(t)
	keyFile := filepath.Join(t.TempDir(), "master.key")
	setup := &nodes{dsn: dsn, keyFile: keyFile}
	var a app
	if err := json.Unmarshal([]byte(setup.cli(t, "app", "create", "--name", "hooks", "--json", "--rate-limit", "100000")), &a); err != nil || a.SdkAppId == 0 {
		t.Fatalf("app create --json: %v", err)
	}
	recv := newHookReceiver(t)
	setup.cli(t, "webhook", "create", "--app", strconv.FormatUint(a.SdkAppId, 10), "--url", recv.URL, "--events", "user.created", "--allow-private")
	ns := startNodes(t, 3, dsn, keyFile, "--webhook-allow-private")
	t.Logf("three nodes up after %v", time.Since(start).Round(time.Millisecond))

	var (
		mu    sync.Mutex
		users []string
		wg    sync.WaitGroup
	)
	for n := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(ns.addr(n), a.SecretId, a.SecretKey)
			for i := range 20 {
				s, err := register(c, a.SdkAppId, "Hook", fmt.Sprintf("node%d-%d", n, i))
				if err != nil {
					t.Errorf("register on node %d: %v", n, err)
					return
				}
				mu.Lock()
				users = append(users, s.UserId)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	recv.waitUsers(t, users, 2*time.Minute)
	dups := recv.checkOrder(t)
	ns.stop(t)
	if n := recv.overlaps.Load(); n != 0 {
		t.Fatalf("%d deliveries overlapped another", n)
	}
	t.Logf("%d events delivered by three nodes, %d duplicates, in %v", len(users), dups, time.Since(start).Round(time.Millisecond))
}
