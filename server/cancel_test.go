package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"usercenter"

	"github.com/prometheus/client_golang/prometheus"

	"usercenter/core"
	"usercenter/replay"
	"usercenter/sacipher"
	"usercenter/server"
	"usercenter/tcapi"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

// hangStore is the engine's store whose key and app lookups, which every
// facade's authentication makes, wait when armed until the caller's
// context ends and then ask the engine anyway: whatever the engine makes
// of a canceled context is what the facades get.
type hangStore struct {
	core.Store
	armed   atomic.Bool
	entered chan struct{}
}

func (s *hangStore) hang(ctx context.Context) {
	// A lookup made after the client hung up goes straight on.
	if s.armed.Load() && ctx.Err() == nil {
		s.entered <- struct{}{}
		<-ctx.Done()
	}
}

func (s *hangStore) Key(ctx context.Context, secretID string) (*core.KeyRecord, error) {
	s.hang(ctx)
	return s.Store.Key(ctx, secretID)
}

func (s *hangStore) App(ctx context.Context, sdkAppID uint64) (*core.AppRecord, error) {
	s.hang(ctx)
	return s.Store.App(ctx, sdkAppID)
}

// logLines keeps every log line and hands each "request…" line (the one
// obs writes when a request ends) to ended.
type logLines struct {
	mu    sync.Mutex
	all   []slog.Record
	ended chan slog.Record
}

func (h *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (h *logLines) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.all = append(h.all, r)
	h.mu.Unlock()
	if strings.HasPrefix(r.Message, "request") {
		h.ended <- r
	}
	return nil
}
func (h *logLines) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logLines) WithGroup(string) slog.Handler      { return h }

// A client that hangs up while its request waits for the database is no
// failure of the server, on either engine and in every facade: the
// request is counted as canceled and logged at debug, never as an
// internal error and never at ERROR.
func TestClientGoneIsNotAnError(t *testing.T) {
	ctx := context.Background()
	store := &hangStore{Store: svctest.OpenStore(t), entered: make(chan struct{})}
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	log := &logLines{ended: make(chan slog.Record, 16)}
	svc, err := core.NewService(ctx, store, ring, core.WithLogger(slog.New(log)),
		core.WithReplayMemory(replay.New(core.ReplayWindow, replay.DefaultShare)))
	if err != nil {
		t.Fatal(err)
	}
	app, key, err := svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: "cancel", RateLimit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	reg := server.NewRegistry()
	srv := httptest.NewServer(server.NewHandler(svc, slog.New(log), reg))
	t.Cleanup(srv.Close)

	lcic := func(action string, params map[string]any) *http.Request {
		body, _ := json.Marshal(params)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", bytes.NewReader(body))
		req.Header.Set("X-TC-Action", action)
		req.Header.Set("X-TC-Version", tcapi.Version)
		uctest.SignTC3(req, body, key.SecretID, key.SecretKey, "", time.Now(), nil, "")
		return req
	}
	// A user, so that every request below is one that would succeed.
	resp, err := http.DefaultClient.Do(lcic("RegisterUser", map[string]any{"SdkAppId": app.SdkAppID, "Name": "Gone", "OriginId": "gone-1"}))
	if err != nil {
		t.Fatal(err)
	}
	var reg1 struct{ Response struct{ UserId string } }
	err = json.NewDecoder(resp.Body).Decode(&reg1)
	resp.Body.Close()
	user := reg1.Response.UserId
	if err != nil || len(user) != 27 {
		t.Fatalf("RegisterUser: %v, UserId %q", err, user)
	}
	<-log.ended

	cases := []struct {
		facade string
		req    func() *http.Request
	}{
		{"lcic", func() *http.Request { return lcic("DescribeUser", map[string]any{"UserId": user}) }},
		{"v1", func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/users/"+user, nil)
			req.SetBasicAuth(key.SecretID, key.SecretKey)
			return req
		}},
		{"superapp", func() *http.Request {
			ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
			sig, err := sacipher.Signature(app.SuperAppSecretKey, ts)
			if err != nil {
				t.Fatal(err)
			}
			// GET: net/http notices a hang-up only once the body is read,
			// and this facade authenticates first.
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/apps/%d/superapp/user/checkUser?UserId=%s", srv.URL, app.SdkAppID, user), nil)
			req.Header.Set("TC-Timestamp", ts)
			req.Header.Set("TC-Signature", sig)
			return req
		}},
		{"enterprise", func() *http.Request {
			username := "ver=1&auth_mode=accessKey&sign_method=sha256&access_key=" + key.SecretID + "&timestamp=" + strconv.FormatInt(time.Now().UnixMilli(), 10)
			sum := sha256.Sum256([]byte(username + key.SecretKey))
			q := "grant_type=password&username=" + url.QueryEscape(username) + "&password=" + hex.EncodeToString(sum[:])
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/quecauth/accessKeyAuthrize/accessKeyLogin?"+q, nil)
			return req
		}},
	}
	for _, c := range cases {
		t.Run(c.facade, func(t *testing.T) {
			store.armed.Store(true)
			defer store.armed.Store(false)
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			sent := make(chan error, 1)
			go func() {
				resp, err := http.DefaultClient.Do(c.req().WithContext(cctx))
				if err == nil {
					resp.Body.Close()
				}
				sent <- err
			}()
			<-store.entered // the request waits for the database
			cancel()        // and its client hangs up
			if err := <-sent; err == nil {
				t.Fatal("the request was answered although its client hung up")
			}
			rec := <-log.ended
			attrs := map[string]string{}
			rec.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
			if rec.Level != slog.LevelDebug || attrs["result"] != "canceled" || attrs["facade"] != c.facade {
				t.Errorf("logged %q at %v with %v, want a debug line with result canceled", rec.Message, rec.Level, attrs)
			}
			if n := requests(t, reg, c.facade, "canceled"); n != 1 {
				t.Errorf("%s requests counted canceled: %v, want 1", c.facade, n)
			}
		})
	}
	// Nothing was logged at ERROR, and no request was counted as the
	// facades' internal error or unavailable.
	log.mu.Lock()
	for _, r := range log.all {
		if r.Level >= slog.LevelError {
			t.Errorf("logged at %v: %s", r.Level, r.Message)
		}
	}
	log.mu.Unlock()
	for _, code := range []string{"InternalError", "ServiceUnavailable", "internal", "unavailable", "500", "503", "50000", "70000"} {
		for _, c := range cases {
			if n := requests(t, reg, c.facade, code); n != 0 {
				t.Errorf("%d %s requests counted as %s", int(n), c.facade, code)
			}
		}
	}
}

// requests is usercenter_requests_total summed over actions.
func requests(t *testing.T, reg *prometheus.Registry, facade, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "usercenter_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["facade"] == facade && l["code"] == code {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}
