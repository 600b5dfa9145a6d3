package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/replay"
	"usercenter/sacipher"
	"usercenter/server"
	"usercenter/sqlite"
	"usercenter/tcapi"
	"usercenter/uctest"
	"usercenter/vault"
)

// stallStore is a store that, once stalled, stops answering key and app
// lookups (which every facade's authentication makes) or writes, until the
// caller's context ends: a database that hangs.
type stallStore struct {
	core.Store
	reads, writes atomic.Bool
	// mapped makes the stall end as PostgreSQL's store ends it, with an
	// EUnavailable error; otherwise with the bare context error, as
	// SQLite's does.
	mapped bool
	hits   atomic.Int64
}

func (s *stallStore) stall(ctx context.Context) error {
	s.hits.Add(1)
	<-ctx.Done()
	if s.mapped {
		return &usercenter.Error{Code: usercenter.EUnavailable, Message: "the database did not answer in time", Err: ctx.Err()}
	}
	return ctx.Err()
}

func (s *stallStore) Key(ctx context.Context, secretID string) (*core.KeyRecord, error) {
	if s.reads.Load() {
		return nil, s.stall(ctx)
	}
	return s.Store.Key(ctx, secretID)
}

func (s *stallStore) App(ctx context.Context, sdkAppID uint64) (*core.AppRecord, error) {
	if s.reads.Load() {
		return nil, s.stall(ctx)
	}
	return s.Store.App(ctx, sdkAppID)
}

func (s *stallStore) Update(ctx context.Context, fn func(core.Tx) error) error {
	if s.writes.Load() {
		return s.stall(ctx)
	}
	return s.Store.Update(ctx, fn)
}

const testTimeout = 300 * time.Millisecond

// timeoutEnv is the full handler over a stallStore, with a request
// timeout, and an app with its all-permission key.
type timeoutEnv struct {
	url   string
	store *stallStore
	app   *usercenter.App
	key   *usercenter.APIKey
	user  string
}

func newTimeoutEnv(t *testing.T, mapped bool) *timeoutEnv {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "usercenter.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	store := &stallStore{Store: db, mapped: mapped}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := core.NewService(ctx, store, ring, core.WithLogger(log),
		core.WithReplayMemory(replay.New(core.ReplayWindow, replay.DefaultShare)))
	if err != nil {
		t.Fatal(err)
	}
	app, key, err := svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: "timeout", RateLimit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.NewHandler(svc, log, server.NewRegistry(), server.WithRequestTimeout(testTimeout)))
	t.Cleanup(srv.Close)
	e := &timeoutEnv{url: srv.URL, store: store, app: app, key: key}
	// A user, so that the writes below are real ones.
	var reg struct{ Response struct{ UserId string } }
	e.lcic(t, "RegisterUser", map[string]any{"SdkAppId": app.SdkAppID, "Name": "Timeout", "OriginId": "timeout-1"}).decode(t, &reg)
	if e.user = reg.Response.UserId; len(e.user) != 27 {
		t.Fatalf("RegisterUser without a stall answered no UserId")
	}
	return e
}

// answer is one HTTP answer and how long it took.
type answer struct {
	status  int
	header  http.Header
	body    []byte
	elapsed time.Duration
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d %q is not JSON: %v", a.status, a.body, err)
	}
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body, elapsed: time.Since(start)}
}

// lcic sends a TC3-signed action.
func (e *timeoutEnv) lcic(t *testing.T, action string, params map[string]any) answer {
	t.Helper()
	body, _ := json.Marshal(params)
	req, _ := http.NewRequest(http.MethodPost, e.url+"/", bytes.NewReader(body))
	req.Header.Set("X-TC-Action", action)
	req.Header.Set("X-TC-Version", tcapi.Version)
	req.Header.Set("X-TC-Language", "en-US")
	uctest.SignTC3(req, body, e.key.SecretID, e.key.SecretKey, "", time.Now(), nil, "")
	return do(t, req)
}

// A store that hangs past the request timeout gets each facade's own
// "unavailable" answer, in its own format, soon after the deadline and
// never after the client's patience.
func TestRequestTimeoutFacades(t *testing.T) {
	for _, mapped := range []bool{false, true} {
		name := "bare context error"
		if mapped {
			name = "mapped to unavailable"
		}
		t.Run(name, func(t *testing.T) {
			e := newTimeoutEnv(t, mapped)
			cases := []struct {
				name   string
				writes bool // stall writes rather than reads
				send   func(t *testing.T) answer
				check  func(t *testing.T, a answer)
			}{
				{"lcic read", false, func(t *testing.T) answer {
					return e.lcic(t, "DescribeUser", map[string]any{"UserId": e.user})
				}, wantLCIC},
				{"lcic write", true, func(t *testing.T) answer {
					return e.lcic(t, "RegisterUser", map[string]any{"SdkAppId": e.app.SdkAppID, "Name": "Late", "OriginId": "timeout-2"})
				}, wantLCIC},
				{"rest", false, func(t *testing.T) answer {
					req, _ := http.NewRequest(http.MethodGet, e.url+"/v1/users/"+e.user, nil)
					req.SetBasicAuth(e.key.SecretID, e.key.SecretKey)
					return do(t, req)
				}, wantProblem},
				{"rest write", true, func(t *testing.T) answer {
					req, _ := http.NewRequest(http.MethodPatch, e.url+"/v1/users/"+e.user, strings.NewReader(`{"nickname":"Late"}`))
					req.Header.Set("Content-Type", "application/merge-patch+json")
					req.SetBasicAuth(e.key.SecretID, e.key.SecretKey)
					return do(t, req)
				}, wantProblem},
				{"superapp", false, func(t *testing.T) answer {
					ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
					sig, err := sacipher.Signature(e.app.SuperAppSecretKey, ts)
					if err != nil {
						t.Fatal(err)
					}
					req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/apps/%d/superapp/user/checkUser", e.url, e.app.SdkAppID), strings.NewReader(`{"UserId":"`+e.user+`"}`))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("TC-Timestamp", ts)
					req.Header.Set("TC-Signature", sig)
					return do(t, req)
				}, wantSuperApp},
				{"enterprise", false, func(t *testing.T) answer {
					username := "ver=1&auth_mode=accessKey&sign_method=sha256&access_key=" + e.key.SecretID + "&timestamp=" + strconv.FormatInt(time.Now().UnixMilli(), 10)
					sum := sha256.Sum256([]byte(username + e.key.SecretKey))
					q := "grant_type=password&username=" + url.QueryEscape(username) + "&password=" + hex.EncodeToString(sum[:])
					req, _ := http.NewRequest(http.MethodGet, e.url+"/v2/quecauth/accessKeyAuthrize/accessKeyLogin?"+q, nil)
					return do(t, req)
				}, wantEnterprise},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					stall := &e.store.reads
					if c.writes {
						stall = &e.store.writes
					}
					stall.Store(true)
					defer stall.Store(false)
					before := e.store.hits.Load()
					a := c.send(t)
					if e.store.hits.Load() == before {
						t.Fatalf("the request never reached the stalled store: %d %s", a.status, a.body)
					}
					// The lower bound shows that the store was waited for
					// until the deadline (a timer fires no sooner, however
					// loaded the machine), the upper one that nothing
					// waited past it: the stalled store waits for ever
					// unless the deadline ends it, so the bound can leave
					// a loaded machine seconds, short of the client's 10 s.
					if a.elapsed < testTimeout-50*time.Millisecond || a.elapsed > testTimeout+5*time.Second {
						t.Errorf("answered after %v, want just after the %v request timeout", a.elapsed, testTimeout)
					}
					c.check(t, a)
				})
			}
			// Without the stall everything answers as usual: the deadline
			// is per request.
			var ok struct{ Response struct{ UserId string } }
			e.lcic(t, "DescribeUser", map[string]any{"UserId": e.user}).decode(t, &ok)
			if ok.Response.UserId != e.user {
				t.Fatalf("DescribeUser after the stalls: %+v", ok)
			}
		})
	}
}

func wantLCIC(t *testing.T, a answer) {
	t.Helper()
	var env struct {
		Response struct {
			Error     struct{ Code, Message string }
			RequestId string
		}
	}
	a.decode(t, &env)
	if a.status != http.StatusOK || env.Response.Error.Code != "ServiceUnavailable" || env.Response.RequestId == "" {
		t.Errorf("LCIC answer %d %s, want 200 with ServiceUnavailable in the envelope", a.status, a.body)
	}
}

func wantProblem(t *testing.T, a answer) {
	t.Helper()
	var p struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	}
	a.decode(t, &p)
	if a.status != http.StatusServiceUnavailable || p.Status != http.StatusServiceUnavailable || p.Code != "unavailable" ||
		!strings.HasPrefix(a.header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("REST answer %d %s %s, want a 503 problem+json with code unavailable", a.status, a.header.Get("Content-Type"), a.body)
	}
}

func wantSuperApp(t *testing.T, a answer) {
	t.Helper()
	var env struct{ ReturnCode, ReturnMessage, RequestId string }
	a.decode(t, &env)
	if a.status != http.StatusServiceUnavailable || env.ReturnCode != "503" || env.RequestId == "" {
		t.Errorf("super-app answer %d %s, want 503 with ReturnCode 503", a.status, a.body)
	}
}

func wantEnterprise(t *testing.T, a answer) {
	t.Helper()
	var env struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	}
	a.decode(t, &env)
	if a.status != http.StatusOK || env.Code != 70000 {
		t.Errorf("enterprise answer %d %s, want 200 with code 70000", a.status, a.body)
	}
}

// Health and metrics do not depend on the store's lookups and answer at
// once while it hangs; a scrape gets no deadline at all. That they do not
// wait is told by the stalled store's count of calls, not by a clock.
func TestRequestTimeoutLeavesProbes(t *testing.T) {
	e := newTimeoutEnv(t, false)
	e.store.reads.Store(true)
	e.store.writes.Store(true)
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
		before := e.store.hits.Load()
		a := do(t, req)
		if a.status != http.StatusOK || e.store.hits.Load() != before {
			t.Errorf("GET %s = %d after %v with the store stalled, %d calls to the stalled store", path, a.status, a.elapsed, e.store.hits.Load()-before)
		}
	}
}
