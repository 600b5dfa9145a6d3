package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

func TestMetricValue(t *testing.T) {
	text := []byte("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 93.27\nprocess_cpu_seconds_total_x 1\n")
	if got, ok := metricValue(text, "process_cpu_seconds_total"); !ok || got != 93.27 {
		t.Errorf("metricValue = %v, %v; want 93.27, true", got, ok)
	}
	if got, ok := metricValue(text, "process_cpu"); ok {
		t.Errorf("metricValue of a name that only prefixes others = %v, true; want none", got)
	}
}

func TestProcessRSS(t *testing.T) {
	for _, c := range []struct {
		text string
		want uint64
		ok   bool
	}{
		{"# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 1.23456e+08\n", 123456000, true},
		{"go_goroutines 12\nprocess_resident_memory_bytes 52428800\nprocess_virtual_memory_bytes 9e+09\n", 52428800, true},
		{"process_resident_memory_bytes{pid=\"1\"} 1024 1700000000000\n", 1024, true},
		{"process_resident_memory_bytes_max 99\n", 0, false},
		{"process_virtual_memory_bytes 9e+09\n", 0, false},
		{"process_resident_memory_bytes NaN\n", 0, false},
	} {
		got, ok := processRSS([]byte(c.text))
		if got != c.want || ok != c.ok {
			t.Errorf("processRSS(%q) = %d, %v; want %d, %v", c.text, got, ok, c.want, c.ok)
		}
	}
}

// Against a --target the server's own RSS, read from its /metrics, is
// reported apart from the load generator's: the largest value seen.
func TestTargetServerRSS(t *testing.T) {
	const peak = 300 << 20
	var scrapes atomic.Int64
	res, e, describes := describeWithMetrics(t, func(w io.Writer) {
		// The first scrape, before the scenario, sees the peak, every
		// later one less; the CPU time grows by 0.25 s a scrape.
		n := scrapes.Add(1)
		rss := 200 << 20
		if n == 1 {
			rss = peak
		}
		fmt.Fprintf(w, "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %g\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %g\n", 10+0.25*float64(n), float64(rss))
	})
	if res.OK != 40 || describes != 40 {
		t.Fatalf("%d ok of 40 (%v), %d requests", res.OK, res.ErrorCodes, describes)
	}
	if n := scrapes.Load(); n < 2 {
		t.Errorf("the server's /metrics was read %d times, want before and after", n)
	}
	if res.ServerRSSBytes != peak || e.serverPeak != peak || e.serverRSSErr != "" {
		t.Errorf("server RSS %d, run's %d (%q), want %d", res.ServerRSSBytes, e.serverPeak, e.serverRSSErr, peak)
	}
	// From the first scrape to the last: every scrape but the first added
	// 0.25 s.
	if want := 0.25 * float64(scrapes.Load()-1); res.ServerCPUSeconds != want {
		t.Errorf("server CPU %v s over %d scrapes, want %v", res.ServerCPUSeconds, scrapes.Load(), want)
	}
	if want := res.ServerCPUSeconds * 1e6 / 40; res.ServerCPUMicrosPerOp != want || want == 0 {
		t.Errorf("server CPU per operation %v µs, want %v", res.ServerCPUMicrosPerOp, want)
	}
	if res.PeakRSSBytes == 0 || res.PeakRSSBytes == peak {
		t.Errorf("load generator peak RSS %d, want this process's own", res.PeakRSSBytes)
	}
	rep := &Report{Target: e.base.String(), Scenarios: []Result{res}, ServerPeakRSSBytes: e.serverPeak}
	var b strings.Builder
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "server RSS") || !strings.Contains(b.String(), "300.0 MiB") {
		t.Errorf("the table does not report the server's RSS:\n%s", b.String())
	}
	if cpu := strconv.FormatFloat(res.ServerCPUMicrosPerOp, 'f', 1, 64); !strings.Contains(b.String(), "server µs/op") || !strings.Contains(b.String(), " "+cpu+" ") {
		t.Errorf("the table does not report the server's %s µs an operation:\n%s", cpu, b.String())
	}
}

// A server whose /metrics has its CPU time but no RSS (client_golang on
// macOS without cgo) still gets its CPU per operation; the missing RSS
// is noted.
func TestServerCPUWithoutRSS(t *testing.T) {
	var scrapes atomic.Int64
	res, e, _ := describeWithMetrics(t, func(w io.Writer) {
		fmt.Fprintf(w, "process_cpu_seconds_total %g\n", 10+0.5*float64(scrapes.Add(1)))
	})
	if res.OK != 40 {
		t.Fatalf("%d ok of 40 (%v)", res.OK, res.ErrorCodes)
	}
	if want := 0.5 * float64(scrapes.Load()-1); res.ServerCPUSeconds != want || want == 0 {
		t.Errorf("server CPU %v s over %d scrapes, want %v", res.ServerCPUSeconds, scrapes.Load(), want)
	}
	if res.ServerRSSBytes != 0 || !strings.Contains(e.serverRSSErr, "no process_resident_memory_bytes") {
		t.Errorf("server RSS %d, note %q; want none, and a note that it is missing", res.ServerRSSBytes, e.serverRSSErr)
	}
}

// describeWithMetrics runs the describe scenario against a target that
// answers every describe for one user and /metrics with what metrics
// writes; it returns the result, the run's environment and how many
// describes the target answered.
func describeWithMetrics(t *testing.T, metrics func(w io.Writer)) (Result, *env, int64) {
	t.Helper()
	const userID = "2zNkbGhJ3Rf6H4oqQ2nX5c9cVxV"
	var describes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			metrics(w)
			return
		}
		describes.Add(1)
		w.Write([]byte(`{"Response":{"UserId":"` + userID + `","Name":"n","RequestId":"r"}}`))
	}))
	t.Cleanup(srv.Close)
	cfg := testConfig(srv.URL)
	e := testEnv(t, &cfg)
	e.seeded = mustSeeded(t, sampleUser{id: userID, idx: 1})
	res := e.measure(context.Background(), scenarios[ScenarioDescribe])
	return res, e, describes.Load()
}
