package bench

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// env is what the workers of a run share.
type env struct {
	cfg  *Config
	ctx  context.Context
	base *url.URL
	tr   *http.Transport

	tc3       *tc3Signer
	sa        *superAppSigner
	basicAuth string // Authorization of the REST API
	appID     string // SdkAppId in decimal
	run       string // makes this run's OriginIds unique

	// Super-app paths, under /apps/{SdkAppId} so that they serve this app
	// however many apps the instance has.
	saNick, saCode, saPhone string
	usersPath               string // POST /v1/apps/{SdkAppId}/users
	importPath              string // POST /v1/apps/{SdkAppId}/users:import
	scimUsers               string // /scim/v2/{SdkAppId}/Users
	scimAuth                string // Authorization of the SCIM API

	// Filled by seeding and setups.
	seeded   *seededUsers // seeded users the scenarios pick from
	tokens   []tokenUser  // logged-in users, for /v1/me
	entAuth  string       // Authorization of the enterprise API
	entPlain bool         // the enterprise key reveals phones and emails
	baseline *baselineRef

	workers []*worker
	peak    uint64 // the largest peak RSS of any phase so far

	serverPeak   uint64 // the largest RSS a --target server reported
	serverRSSErr string // why a sample of it failed, if one did
	// baselineRSSErr is why a sample of the baselines' server failed,
	// when it runs apart.
	baselineRSSErr string
}

// sampleUser is a seeded user: idx is its seeding index, from which its
// OriginId, nickname, phone and email follow.
type sampleUser struct {
	id  string
	idx int
}

// tokenUser is a user with a login token.
type tokenUser struct {
	userID string
	bearer string // "Bearer <token>"
}

func newEnv(ctx context.Context, cfg *Config) (*env, error) {
	base, _ := url.Parse(cfg.Target)
	base.Path = ""
	sa, err := newSuperAppSigner(cfg.Creds.SuperAppSecretKey, cfg.Creds.SuperAppCipher)
	if err != nil {
		return nil, err
	}
	appID := strconv.FormatUint(cfg.Creds.SdkAppId, 10)
	saBase := "/apps/" + appID + "/superapp/user/"
	e := &env{
		cfg: cfg, ctx: ctx, base: base, tr: newTransport(cfg.Connections),
		tc3:        newTC3Signer(cfg.Creds.SecretId, cfg.Creds.SecretKey, base.Host),
		sa:         sa,
		basicAuth:  "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Creds.SecretId+":"+cfg.Creds.SecretKey)),
		appID:      appID,
		usersPath:  "/v1/apps/" + appID + "/users",
		importPath: "/v1/apps/" + appID + "/users:import",
		scimUsers:  "/scim/v2/" + appID + "/Users",
		scimAuth:   "Bearer " + cfg.SCIMToken,
		run:        runID(),
		saNick:     saBase + "getUserNick", saCode: saBase + "getUserInfoTemporaryCode", saPhone: saBase + "getUserPhoneNumber",
	}
	for i := range cfg.Connections {
		e.workers = append(e.workers, e.newWorker(i))
	}
	return e, nil
}

// notePeak reads this process's peak RSS over the phase that just ended:
// server and load generator together when InProcess, the load generator
// alone otherwise. The run's peak counts only phases where the server
// works: a baseline's table lives in this process too, and would pass for
// the server's memory.
func (e *env) notePeak(serverPhase bool) uint64 {
	p := peakRSS()
	if serverPhase {
		e.peak = max(e.peak, p)
	}
	return p
}

// noteServerRSS ends a --target server's RSS watch of a phase and returns
// what it saw; a phase that is the server's counts in the run's server
// peak, and a baseline's is its own server's. A failed sample is noted
// once per server in the report.
func (e *env) noteServerRSS(w *serverRSSWatch, serverPhase bool) serverUse {
	use, err := w.finish(e.ctx)
	switch {
	case err == nil:
	case serverPhase && e.serverRSSErr == "":
		e.serverRSSErr = fmt.Sprintf("reading the server's RSS from its /metrics: %v", err)
	case !serverPhase && e.baselineRSSErr == "":
		e.baselineRSSErr = fmt.Sprintf("reading the baselines' server's RSS from its /metrics: %v", err)
	}
	if serverPhase {
		e.serverPeak = max(e.serverPeak, use.rss)
	}
	return use
}

func (e *env) close() {
	if e.baseline != nil {
		e.baseline.stop()
	}
	e.tr.CloseIdleConnections()
}

// worker is one closed loop: it sends a request, waits for the answer,
// checks it, and sends the next.
type worker struct {
	e    *env
	id   int
	slot *slot
	rng  *rand.Rand
	tc3  tc3State
	sa   superAppState
	body []byte
	tmp  []byte
	want []byte

	hist   Histogram
	ok     uint64
	failed uint64
	errs   map[string]uint64

	regPrefix string // OriginId prefix of this worker's registrations
	regN      uint64
	seq       uint64
	reads     uint64
	kinds     [numOps]OpCount
}

// progressEvery is how often a long setup or seeding says how far it is.
const progressEvery = 5 * time.Second

// maxErrorKinds bounds the distinct error labels a worker keeps, so that
// a server answering garbage cannot grow the tool's memory.
const maxErrorKinds = 64

func (e *env) newWorker(i int) *worker {
	return &worker{
		e: e, id: i, slot: newSlot(e.ctx, e.tr),
		rng:       rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i))),
		errs:      map[string]uint64{},
		regPrefix: "r" + e.run + "-" + strconv.Itoa(i) + "-",
	}
}

func (w *worker) resetStats() {
	w.hist = Histogram{}
	w.ok, w.failed = 0, 0
	clear(w.errs)
	w.kinds = [numOps]OpCount{}
}

func (w *worker) fail(label string) {
	w.failed++
	if _, ok := w.errs[label]; !ok && len(w.errs) >= maxErrorKinds {
		label = "other errors"
	}
	w.errs[label]++
}

// pick returns a random seeded user.
func (w *worker) pick() sampleUser {
	return w.e.seeded.at(w.rng.IntN(w.e.seeded.Len()))
}

// parallel runs fn(w, i) for every i in [0, n) over the first callers
// workers and returns the failures by kind. A long run reports its
// progress every few seconds as what: done of n.
func (e *env) parallel(what string, callers, n int, fn func(w *worker, i int) string) (map[string]uint64, uint64) {
	var next atomic.Int64
	var wg sync.WaitGroup
	stopTicks := make(chan struct{})
	defer close(stopTicks)
	if e.cfg.Progress != nil {
		go func() {
			start := time.Now()
			t := time.NewTicker(progressEvery)
			defer t.Stop()
			for {
				select {
				case <-stopTicks:
					return
				case <-t.C:
					done := min(int(next.Load()), n)
					e.progress("%s: %d of %d (%.0f/s)", what, done, n, float64(done)/time.Since(start).Seconds())
				}
			}
		}()
	}
	ws := e.workers[:min(callers, len(e.workers))]
	for _, w := range ws {
		w.resetStats()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e.ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if label := fn(w, i); label != "" {
					w.fail(label)
				} else {
					w.ok++
				}
			}
		}()
	}
	wg.Wait()
	errs := map[string]uint64{}
	var failed uint64
	for _, w := range ws {
		for k, v := range w.errs {
			errs[k] += v
		}
		failed += w.failed
		w.resetStats()
	}
	return errs, failed
}

// measure runs a scenario: its setup, untimed, then its closed loop on
// every connection until the duration or the request count is reached.
func (e *env) measure(ctx context.Context, sc *scenario) Result {
	res := Result{Name: sc.name, Kind: sc.kind, Description: sc.describe(e)}
	if sc.setup != nil {
		setup, err := sc.setup(e)
		res.Setup = setup
		if err != nil {
			res.SetupError = err.Error()
			return res
		}
		// The setup may have learnt something the description reports.
		res.Description = sc.describe(e)
		if sc.name == ScenarioUserInfo && e.entPlain {
			res.Kind = "write" // every answer writes two audit events
		}
	}
	// Start from a clean heap, so that one scenario's garbage is not
	// collected on the next one's time.
	runtime.GC()
	resetPeakRSS()
	serverRSS := e.watchServerRSS(sc.kind == "baseline")

	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			stop.Store(true)
		case <-done:
		}
	}()
	var issued atomic.Int64
	limit := e.cfg.Requests
	deadline := time.Now().Add(e.cfg.Duration)
	if e.cfg.Duration == 0 {
		deadline = time.Now().Add(100 * 365 * 24 * time.Hour)
	}
	var wg sync.WaitGroup
	start := time.Now()
	for _, w := range e.workers {
		w.resetStats()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if limit > 0 && issued.Add(1) > limit {
					return
				}
				t0 := time.Now()
				if t0.After(deadline) {
					return
				}
				if label := sc.op(w, t0); label != "" {
					w.fail(label)
					continue
				}
				w.hist.Record(time.Since(t0))
				w.ok++
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(done)
	use := e.noteServerRSS(serverRSS, sc.kind != "baseline")
	res.ServerRSSBytes, res.ServerCPUSeconds = use.rss, use.cpuSeconds

	var hist Histogram
	for _, w := range e.workers {
		hist.Merge(&w.hist)
		res.OK += w.ok
		res.Errors += w.failed
		for k, v := range w.errs {
			if res.ErrorCodes == nil {
				res.ErrorCodes = map[string]uint64{}
			}
			res.ErrorCodes[k] += v
		}
		if sc.name == ScenarioMixed {
			if res.Breakdown == nil {
				res.Breakdown = map[string]OpCount{}
			}
			for k, c := range w.kinds {
				if c.OK+c.Errors == 0 {
					continue
				}
				b := res.Breakdown[opNames[k]]
				b.OK += c.OK
				b.Errors += c.Errors
				res.Breakdown[opNames[k]] = b
			}
		}
	}
	res.Ops = res.OK + res.Errors
	if res.ServerCPUSeconds > 0 && res.Ops > 0 {
		res.ServerCPUMicrosPerOp = res.ServerCPUSeconds * 1e6 / float64(res.Ops)
	}
	res.ElapsedSeconds = elapsed.Seconds()
	if elapsed > 0 {
		res.ReqPerSec = float64(res.OK) / elapsed.Seconds()
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	res.LatencyMs = Latency{P50: ms(hist.Quantile(0.50)), P95: ms(hist.Quantile(0.95)), P99: ms(hist.Quantile(0.99)), Max: ms(hist.Max()), Mean: ms(hist.Mean())}
	res.PeakRSSBytes = e.notePeak(sc.kind != "baseline")
	var ms2 runtime.MemStats
	runtime.ReadMemStats(&ms2)
	res.HeapInuseBytes = ms2.HeapInuse
	return res
}
