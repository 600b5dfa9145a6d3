package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// peakRSS is the process's peak resident set (VmHWM) in bytes, 0 where
// /proc is not available.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	return statusKB(b, "VmHWM:")
}

// statusKB reads a "Name:   123 kB" line of /proc/self/status, in bytes.
func statusKB(status []byte, name string) uint64 {
	i := bytes.Index(status, []byte(name))
	if i < 0 {
		return 0
	}
	line := status[i+len(name):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	f := bytes.Fields(line)
	if len(f) == 0 {
		return 0
	}
	kb, err := strconv.ParseUint(string(f[0]), 10, 64)
	if err != nil {
		return 0
	}
	return kb << 10
}

// resetPeakRSS starts a new peak resident set measurement (Linux 4.0 and
// later), so that each phase reports its own peak rather than the run's.
// It reports whether the kernel allowed it.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// serverRSSInterval is how often a --target server's RSS is sampled
// while a phase runs.
const serverRSSInterval = time.Second

// serverRSSWatch samples a --target server's resident set, as it reports
// it in its /metrics (process_resident_memory_bytes, from the Prometheus
// process collector `serve` registers), before a phase, every
// serverRSSInterval during it, and after it, and keeps the largest
// sample. That is the peak seen, not the kernel's peak: a spike between
// two samples goes unseen.
//
// It also keeps the server's CPU time (process_cpu_seconds_total) of the
// first and the last sample: on a machine shared with other work the
// phase's wall time says how much CPU the server was given, its CPU time
// what the work cost.
type serverRSSWatch struct {
	client   *http.Client
	url      string
	peak     atomic.Uint64
	firstCPU atomic.Pointer[float64]
	lastCPU  atomic.Pointer[float64]
	err      atomic.Pointer[error] // the first failed sample
	stop     chan struct{}
	done     chan struct{}
}

// watchServerRSS starts sampling the RSS of the server a phase loads:
// the target's, or for a baseline its server's when that is a process
// apart. It returns nil when that server is this process (--self, or a
// baseline served in-process).
func (e *env) watchServerRSS(baseline bool) *serverRSSWatch {
	base := e.base
	if baseline {
		if e.baseline == nil || !e.baseline.apart {
			return nil
		}
		base = e.baseline.base
	} else if e.cfg.InProcess {
		return nil
	}
	w := &serverRSSWatch{
		// Its own connection, so that sampling takes none of the load's.
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableCompression: true}},
		url:    base.JoinPath("/metrics").String(),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	w.sample(e.ctx)
	go func() {
		defer close(w.done)
		t := time.NewTicker(serverRSSInterval)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-e.ctx.Done():
				return
			case <-t.C:
				w.sample(e.ctx)
			}
		}
	}()
	return w
}

// serverUse is what a serverRSSWatch saw of a phase.
type serverUse struct {
	rss uint64 // the largest RSS sampled
	// cpuSeconds is the server's CPU time between the first and the last
	// sample, 0 if it reported none.
	cpuSeconds float64
}

// finish takes the last sample and returns what the watch saw, and the
// first sampling error if any sample failed.
func (w *serverRSSWatch) finish(ctx context.Context) (serverUse, error) {
	if w == nil {
		return serverUse{}, nil
	}
	close(w.stop)
	<-w.done
	w.sample(ctx)
	w.client.CloseIdleConnections()
	var err error
	if p := w.err.Load(); p != nil {
		err = *p
	}
	use := serverUse{rss: w.peak.Load()}
	if first, last := w.firstCPU.Load(), w.lastCPU.Load(); first != nil && last != nil && *last > *first {
		use.cpuSeconds = *last - *first
	}
	return use, err
}

func (w *serverRSSWatch) sample(ctx context.Context) {
	rss, cpu, err := w.read(ctx)
	if err != nil {
		w.err.CompareAndSwap(nil, &err)
		if err != errNoRSS {
			return
		}
	}
	if cpu >= 0 {
		w.firstCPU.CompareAndSwap(nil, &cpu)
		w.lastCPU.Store(&cpu)
	}
	for {
		old := w.peak.Load()
		if rss <= old || w.peak.CompareAndSwap(old, rss) {
			return
		}
	}
}

// read returns the server's RSS and its CPU seconds, -1 if it reports
// none.
func (w *serverRSSWatch) read(ctx context.Context) (uint64, float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.url, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET /metrics: HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return 0, 0, err
	}
	cpu, ok := metricValue(body, "process_cpu_seconds_total")
	if !ok {
		cpu = -1
	}
	rss, ok := processRSS(body)
	if !ok {
		// Kept apart from the CPU time, which some platforms export
		// without the RSS (client_golang on macOS without cgo).
		return 0, cpu, errNoRSS
	}
	return rss, cpu, nil
}

// errNoRSS is read's answer for a /metrics without the server's RSS.
var errNoRSS = errors.New("GET /metrics: no process_resident_memory_bytes")

// processRSS finds process_resident_memory_bytes in a Prometheus text
// exposition.
func processRSS(metrics []byte) (uint64, bool) {
	x, ok := metricValue(metrics, "process_resident_memory_bytes")
	if !ok || x >= 1<<62 {
		return 0, false
	}
	return uint64(x), true
}

// metricValue finds the unlabelled sample of metric name in a Prometheus
// text exposition: a finite value, 0 or more.
func metricValue(metrics []byte, name string) (float64, bool) {
	for line := range bytes.Lines(metrics) {
		rest, ok := bytes.CutPrefix(line, []byte(name))
		if !ok || len(rest) == 0 || (rest[0] != ' ' && rest[0] != '{') {
			continue // a comment, or another metric whose name starts so
		}
		if rest[0] == '{' { // labels; the process collector sets none
			rest = rest[bytes.LastIndexByte(rest, '}')+1:]
		}
		f := bytes.Fields(rest) // the value, then perhaps a timestamp
		if len(f) == 0 {
			continue
		}
		v := f[0]
		x, err := strconv.ParseFloat(string(v), 64)
		if err != nil || !(x >= 0 && x < 1<<62) { // NaN fails both
			return 0, false
		}
		return x, true
	}
	return 0, false
}
