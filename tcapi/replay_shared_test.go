package tcapi_test

// The v1 replay memory shared by several nodes, as serve --redis sets it
// up.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"usercenter"

	"usercenter/core"
	"usercenter/obs"
	"usercenter/redisstore/redistest"
	"usercenter/replay"
	"usercenter/tcapi"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

// Behind a load balancer every node sees the host the client signed.
const sharedHost = "usercenter.example"

// cluster is one database and master key that several nodes serve.
type cluster struct {
	store core.Store
	ring  *vault.Keyring
}

// node is one usercenter process's LCIC gateway over the shared database,
// with its own service and replay memory.
func (c *cluster) node(t *testing.T, mem core.ReplayMemory) http.Handler {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := core.NewService(context.Background(), c.store, c.ring, core.WithReplayMemory(mem), core.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	return obs.Middleware("lcic", log, nil, tcapi.New(svc, log))
}

// sendTo posts a signed v1 form to h, as sent to sharedHost.
func sendTo(t *testing.T, h http.Handler, signed url.Values) apiResult {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://"+sharedHost+"/", strings.NewReader(signed.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return decodeResult(t, rec.Result())
}

// sharedFixture is a service with an app, and a v1 request of it signed
// for sharedHost at the service's time.
func sharedFixture(t *testing.T) (*cluster, func() url.Values) {
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{store: svctest.OpenStore(t), ring: ring}
	svc, err := core.NewService(context.Background(), c.store, c.ring)
	if err != nil {
		t.Fatal(err)
	}
	app, key, err := svc.CreateApp(context.Background(), usercenter.Operator(), core.NewApp{Name: "nodes"})
	if err != nil {
		t.Fatal(err)
	}
	sign := func() url.Values {
		p := url.Values{
			"Action": {"DescribeSdkAppIdUsers"}, "Version": {tcapi.Version},
			"SdkAppId":  {strconv.FormatUint(app.SdkAppID, 10)},
			"Timestamp": {strconv.FormatInt(svc.Now().Unix(), 10)},
		}
		return uctest.SignV1(http.MethodPost, sharedHost, "/", p, key.SecretID, key.SecretKey, "HmacSHA256")
	}
	return c, sign
}

// A v1 request captured on its way to one node is refused by the other.
func TestV1ReplayAcrossNodes(t *testing.T) {
	c, sign := sharedFixture(t)
	name := redistest.Name("lcic-v1")
	a := c.node(t, redistest.ReplayMemory(t, name, core.ReplayWindow, replay.DefaultShare))
	b := c.node(t, redistest.ReplayMemory(t, name, core.ReplayWindow, replay.DefaultShare))

	signed := sign()
	if r := sendTo(t, a, signed); r.Code != "" {
		t.Fatalf("first use on node a: %s %s", r.Code, r.Message)
	}
	if r := sendTo(t, b, signed); r.Code != "AuthFailure.SignatureFailure" || !strings.Contains(r.Message, "Nonce") {
		t.Fatalf("replayed to node b: %q %q, want AuthFailure.SignatureFailure naming the Nonce", r.Code, r.Message)
	}
	if r := sendTo(t, a, signed); r.Code != "AuthFailure.SignatureFailure" {
		t.Fatalf("replayed to node a: %q", r.Code)
	}
	// A new request goes through on either node.
	for i, h := range []http.Handler{b, a} {
		if r := sendTo(t, h, sign()); r.Code != "" {
			t.Fatalf("fresh request %d: %s %s", i, r.Code, r.Message)
		}
	}
}

// downMemory is a shared replay memory whose Redis is down. It answers
// "not seen" with its error, so only the error can make the gateway refuse.
type downMemory struct{}

func (downMemory) Seen(context.Context, string, string, time.Time, time.Time) (bool, error) {
	return false, errors.New("dial tcp 127.0.0.1:6390: connect: connection refused")
}

// When the replay memory fails, v1 requests are refused: accepting one
// could accept a replay that another node remembers.
func TestV1ReplayMemoryDown(t *testing.T) {
	c, sign := sharedFixture(t)
	h := c.node(t, downMemory{})
	if r := sendTo(t, h, sign()); r.Code != "ServiceUnavailable" {
		t.Fatalf("v1 request with the replay memory down: %q %s, want ServiceUnavailable", r.Code, r.Message)
	}
}

// refusingMemory is a replay memory that refuses every request with err.
type refusingMemory struct{ err error }

func (m refusingMemory) Seen(context.Context, string, string, time.Time, time.Time) (bool, error) {
	return true, m.err
}

// A key whose share of the memory is full is over a limit; a request
// signed before the memory began is stale.
func TestV1ReplayMemoryRefuses(t *testing.T) {
	cl, sign := sharedFixture(t)
	for _, c := range []struct {
		err  error
		code string
	}{
		{fmt.Errorf("%w (131072 requests in 10m0s)", core.ErrReplayFull), "RequestLimitExceeded"},
		{fmt.Errorf("%w (signed at …)", core.ErrReplayBefore), "AuthFailure.SignatureExpire"},
	} {
		if r := sendTo(t, cl.node(t, refusingMemory{c.err}), sign()); r.Code != c.code {
			t.Errorf("memory failing with %v: %q %s, want %s", c.err, r.Code, r.Message, c.code)
		}
	}
}
