package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// The lookup baseline does what a minimal real handler does: it reads the
// row's columns and encodes them, so its answer is the row's columns as
// JSON, read from the table itself.
func TestBaselineLookupEncodesColumns(t *testing.T) {
	ctx := context.Background()
	bl, err := startBaseline(ctx, 50, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Close()
	for _, id := range []int64{1, 37, 50} {
		var want lookupRow
		if err := bl.db.QueryRowContext(ctx, `SELECT id, name, data, created_at FROM rows WHERE id = ?`, id).
			Scan(&want.ID, &want.Name, &want.Data, &want.CreatedAt); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(bl.base.String() + "/lookup/" + strconv.FormatInt(id, 10))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var got lookupRow
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if resp.StatusCode != 200 || dec.Decode(&got) != nil {
			t.Fatalf("GET /lookup/%d = %d %q, want the row as JSON", id, resp.StatusCode, body)
		}
		if got != want || got.ID != id || got.Name == "" || got.Data == "" || got.CreatedAt == 0 {
			t.Errorf("row %d answered %+v, the table holds %+v", id, got, want)
		}
		if n := len(body); n < docSize-20 || n > docSize+20 {
			t.Errorf("row %d is %d bytes of JSON, want about %d", id, n, docSize)
		}
	}
	// sqlite.Open's read pool.
	if got, want := bl.db.Stats().MaxOpenConnections, max(4, runtime.GOMAXPROCS(0)); got != want {
		t.Errorf("the baseline reads over %d connections, the store over %d", got, want)
	}
}

// Against a --target, the baselines are served by the process
// Config.BaselineProcess starts, apart from the load generator as the
// target is: the run loads that server and reads its /metrics, and stops
// it when done with it. In --self mode the hook is not used.
func TestBaselineProcess(t *testing.T) {
	const rows = 50
	var started, stopped atomic.Int64
	var lookups atomic.Int64
	process := func(ctx context.Context, n int) (string, func() error, error) {
		if n != rows {
			t.Errorf("the baselines' server was asked for %d rows, want %d", n, rows)
		}
		started.Add(1)
		sctx, cancel := context.WithCancel(context.Background())
		ready := make(chan string, 1)
		done := make(chan error, 1)
		go func() {
			done <- ServeBaseline(sctx, "127.0.0.1:0", n, t.TempDir(), func(base string) { ready <- base })
		}()
		var base string
		select {
		case base = <-ready:
		case err := <-done:
			cancel()
			return "", nil, err
		}
		// Count the lookups that reach this server, through a proxy of
		// its own address: the run must load this one.
		u, _ := url.Parse(base)
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/lookup/") {
				lookups.Add(1)
			}
			httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
		}))
		return proxy.URL, func() error {
			stopped.Add(1)
			proxy.Close()
			cancel()
			return <-done
		}, nil
	}

	target := httptest.NewServer(http.NotFoundHandler())
	defer target.Close()
	cfg := testConfig(target.URL)
	cfg.BaselineProcess = process
	e := testEnv(t, &cfg)
	bl, err := e.startBaseline(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	if !bl.apart || bl.rows != rows {
		t.Fatalf("baseline apart=%v rows=%d, want a process apart with %d rows", bl.apart, bl.rows, rows)
	}
	e.baseline = bl
	res := e.measure(context.Background(), baselineLookup)
	if res.OK != 40 || res.Errors != 0 || lookups.Load() != 40 {
		t.Fatalf("%d ok, %d errors (%v), %d lookups reached the baselines' server; want 40 of 40", res.OK, res.Errors, res.ErrorCodes, lookups.Load())
	}
	// Its /metrics is this test process's, through the proxy: a resident
	// set is always there.
	if res.ServerRSSBytes == 0 || e.serverRSSErr != "" {
		t.Errorf("the baselines' server's RSS = %d (%q), want it read from its /metrics", res.ServerRSSBytes, e.serverRSSErr)
	}
	if err := bl.stop(); err != nil {
		t.Errorf("stopping the baselines' server: %v", err)
	}
	e.baseline = nil
	if started.Load() != 1 || stopped.Load() != 1 {
		t.Errorf("the baselines' server was started %d and stopped %d times, want once each", started.Load(), stopped.Load())
	}

	// In-process runs serve their baselines themselves.
	cfg.InProcess = true
	self := testEnv(t, &cfg)
	bl, err = self.startBaseline(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	defer bl.stop()
	if bl.apart || started.Load() != 1 {
		t.Errorf("an in-process run used the baselines' process (apart=%v, started %d times)", bl.apart, started.Load())
	}
}

// A baselines' server apart whose /metrics fails is noted as that server's,
// not as the target's, whose own note stays free for its own failures.
func TestBaselineProcessMetricsFailure(t *testing.T) {
	const rows = 20
	bl, err := startBaseline(context.Background(), rows, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Close()
	// The in-process baseline serves no /metrics: a process apart whose
	// metrics cannot be read.
	target := httptest.NewServer(http.NotFoundHandler())
	defer target.Close()
	cfg := testConfig(target.URL)
	cfg.BaselineProcess = func(context.Context, int) (string, func() error, error) {
		return bl.base.String(), func() error { return nil }, nil
	}
	e := testEnv(t, &cfg)
	ref, err := e.startBaseline(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	e.baseline = ref
	res := e.measure(context.Background(), baselineLookup)
	if res.OK != 40 {
		t.Fatalf("%d ok of 40 (%v)", res.OK, res.ErrorCodes)
	}
	if !strings.HasPrefix(e.baselineRSSErr, "reading the baselines' server's RSS") || e.serverRSSErr != "" {
		t.Errorf("notes: baselines' server %q, target %q; want the failure noted as the baselines' server's only", e.baselineRSSErr, e.serverRSSErr)
	}
}
