// Package bench is the engine of `usercenter bench`: it puts a closed-loop
// load on a usercenter instance, one scenario at a time, through the same
// APIs and signatures real clients use, checks every answer, and reports
// throughput, latency and errors beside a baseline measured in the same
// run on the same machine.
//
// A run has four phases:
//
//  1. Seeding: the app is filled with Users users, each with a unique
//     OriginId, a nickname, a phone number and an email, by default
//     through the REST API's bulk import.
//  2. Baselines: two trivial handlers, a static 200-byte JSON document and
//     one primary-key lookup in a SQLite table with as many rows as the
//     app has users, are served on loopback by the same HTTP server
//     stack and loaded with the same client and connection count.
//  3. Scenarios: each runs its untimed setup, then its timed window.
//  4. The report: req/s, latency quantiles, errors by kind, and each
//     scenario's throughput as a ratio to the lookup baseline. On a shared
//     machine absolute figures wander with the neighbours' load; the
//     ratio to a baseline measured minutes apart wanders far less.
//
// The load generator shares the CPU with the server when both run on one
// machine, so it is written to be cheap: one transport, one reusable
// request per worker, bodies built in reused buffers, the TC3 signing key
// derived once a day, answers checked by a scanner that does not
// allocate, latencies in a fixed-size histogram per worker.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Creds are an app's credentials, as `usercenter app create --json`
// prints them.
type Creds struct {
	SdkAppId          uint64 `json:"SdkAppId"`
	UserDomain        string `json:"UserDomain"`
	SecretId          string `json:"SecretId"`
	SecretKey         string `json:"SecretKey"`
	SuperAppSecretKey string `json:"SuperAppSecretKey"`
	SuperAppCipher    string `json:"SuperAppCipher"`
}

func (c *Creds) check() error {
	var missing []string
	if c.SdkAppId == 0 {
		missing = append(missing, "SdkAppId")
	}
	if c.SecretId == "" {
		missing = append(missing, "SecretId")
	}
	if c.SecretKey == "" {
		missing = append(missing, "SecretKey")
	}
	if c.SuperAppSecretKey == "" {
		missing = append(missing, "SuperAppSecretKey")
	}
	if len(missing) > 0 {
		return fmt.Errorf("the credentials lack %s (use the output of `usercenter app create --json`)", strings.Join(missing, ", "))
	}
	return nil
}

// Key is an API key, as `usercenter key create --json` prints it.
type Key struct {
	SecretId  string `json:"SecretId"`
	SecretKey string `json:"SecretKey"`
}

// Scenario names, in the order they run.
const (
	ScenarioRegister   = "register"
	ScenarioLogin      = "login"
	ScenarioDescribe   = "describe"
	ScenarioMe         = "me"
	ScenarioNick       = "superapp-nick"
	ScenarioPhone      = "superapp-phone"
	ScenarioUserInfo   = "enterprise-userinfo"
	ScenarioSCIMFilter = "scim-filter"
	ScenarioSCIMGet    = "scim-get"
	ScenarioMixed      = "mixed"
	BaselineStatic     = "baseline-static"
	BaselineLookup     = "baseline-lookup"
	maxUsers           = 100_000_000 // phone numbers are +86139 and 8 digits of the user's index
	maxConnections     = 1024
	// defaultTokenUsers bounds the users `me` logs in during its setup, a
	// login each, so that it reads from as many users as it can without a
	// setup longer than the scenario.
	defaultTokenUsers = 1 << 17
)

// Scenarios lists every scenario, in the order they run.
var Scenarios = []string{ScenarioRegister, ScenarioLogin, ScenarioDescribe, ScenarioMe, ScenarioNick, ScenarioPhone, ScenarioUserInfo, ScenarioSCIMFilter, ScenarioSCIMGet, ScenarioMixed}

// Seeding paths.
const (
	SeedImport = "import"
	SeedREST   = "rest"
	SeedBatch  = "batch"
)

// Config is one run.
type Config struct {
	// Target is the instance's base URL, http://host:port.
	Target string
	Creds  Creds
	// EnterpriseKey is the key the enterprise scenario logs in with; nil
	// uses the Creds' key.
	EnterpriseKey *Key
	// SCIMToken is the bearer token of one of the app's SCIM tokens, as
	// `usercenter scim token create --json` prints it; the SCIM scenarios
	// need it. Without pii.read, their reads stay reads.
	SCIMToken string

	// InProcess says the target runs in this process, whose peak RSS is
	// then the server's (with the load generator's).
	InProcess bool
	// Engine and RateLimiter describe the target, for the report.
	Engine      string
	RateLimiter string

	Connections int
	// Duration and Requests bound each scenario (and baseline); either may
	// be zero, not both.
	Duration time.Duration
	Requests int64
	Users    int
	// Seed is SeedImport (default), SeedBatch or SeedREST; SeedCallers
	// how many requests seeding keeps in flight (default Connections).
	Seed        string
	SeedCallers int
	// Scenarios to run, in any order; nil runs all.
	Scenarios []string
	// EmitWrk, when set, is a directory: after seeding, the run writes the
	// data of the wrk scripts in bench/wrk there (Requests pre-signed
	// requests a script, default 100,000) instead of measuring anything.
	EmitWrk string
	// TempDir holds the lookup baseline's table; "" is os.TempDir().
	TempDir string
	// BaselineProcess, when set, starts a server of the two baselines
	// over a lookup table of rows rows as a process of its own (as
	// ServeBaseline serves them), and returns its base URL and how to
	// stop it. Against a --target the run then measures the baselines
	// there: the target is a process apart from the load generator, and
	// a baseline served inside the load generator's process would be
	// spared what crossing between processes costs (the scheduler's
	// wake-ups, a runtime of its own), which made every ratio to it
	// lower. Its CPU time and RSS are read from its /metrics as the
	// target's are. Nil, or in-process runs, serve the baselines in this
	// process, beside the in-process server.
	BaselineProcess func(ctx context.Context, rows int) (base string, stop func() error, err error)
	// Progress gets one line per phase; nil for none.
	Progress io.Writer
	// Version is the tool's version, for the report.
	Version string
}

// isLoopback says whether host names this machine only.
func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

func (c *Config) normalize() error {
	u, err := url.Parse(c.Target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return fmt.Errorf("the target must be a base URL such as http://127.0.0.1:8080, not %q", c.Target)
	}
	if !isLoopback(u.Hostname()) {
		// A load tool aimed at someone else's host is a denial of service.
		return errors.New("the target must be a loopback address: this is a measuring tool, not a traffic generator for other hosts")
	}
	if err := c.Creds.check(); err != nil {
		return err
	}
	if k := c.EnterpriseKey; k != nil && (k.SecretId == "" || k.SecretKey == "") {
		return errors.New("the enterprise key lacks SecretId or SecretKey (use the output of `usercenter key create --json`)")
	}
	return c.CheckLoad()
}

// CheckLoad checks the shape of the load (connections, bounds, users,
// seeding, scenarios) and fills in defaults, so that a command can refuse
// bad flags before it builds anything.
func (c *Config) CheckLoad() error {
	if c.Connections < 1 || c.Connections > maxConnections {
		return fmt.Errorf("connections must be between 1 and %d", maxConnections)
	}
	if c.Duration < 0 || c.Requests < 0 || (c.Duration == 0 && c.Requests == 0) {
		return errors.New("a duration, a request count, or both must bound each scenario")
	}
	if c.Users < 1 || c.Users > maxUsers {
		return fmt.Errorf("users must be between 1 and %d", maxUsers)
	}
	switch c.Seed {
	case "":
		c.Seed = SeedImport
	case SeedImport, SeedREST, SeedBatch:
	default:
		return fmt.Errorf("seed must be %s, %s or %s", SeedImport, SeedBatch, SeedREST)
	}
	if c.SeedCallers <= 0 || c.SeedCallers > c.Connections {
		c.SeedCallers = c.Connections
	}
	if len(c.Scenarios) == 0 {
		c.Scenarios = Scenarios
	}
	for _, s := range c.Scenarios {
		if !slices.Contains(Scenarios, s) {
			return fmt.Errorf("unknown scenario %q; the scenarios are %s", s, strings.Join(Scenarios, ", "))
		}
	}
	// Always in the documented order, whatever order they were named in.
	c.Scenarios = slices.DeleteFunc(slices.Clone(Scenarios), func(s string) bool { return !slices.Contains(c.Scenarios, s) })
	return nil
}

// Report is what a run measured. The JSON form is for scripts; its field
// names are stable.
type Report struct {
	Tool        string    `json:"tool"`
	Version     string    `json:"version,omitempty"`
	StartedAt   time.Time `json:"startedAt"`
	Target      string    `json:"target"`
	InProcess   bool      `json:"inProcess"`
	Engine      string    `json:"engine,omitempty"`
	RateLimiter string    `json:"rateLimiter,omitempty"`
	Connections int       `json:"connections"`
	// DurationSeconds and Requests are the bounds of each scenario; 0 is
	// no bound.
	DurationSeconds float64 `json:"durationSeconds"`
	Requests        int64   `json:"requests"`
	GoVersion       string  `json:"goVersion"`
	GOMAXPROCS      int     `json:"gomaxprocs"`
	NumCPU          int     `json:"numCPU"`

	Seeding   SeedResult `json:"seeding"`
	Baselines []Result   `json:"baselines"`
	Scenarios []Result   `json:"scenarios"`
	// PeakRSSBytes is this process's peak resident set over the seeding
	// and the scenarios (not the baselines, whose table is the tool's):
	// server and load generator together when InProcess, the load
	// generator alone otherwise.
	PeakRSSBytes uint64 `json:"peakRSSBytes,omitempty"`
	// ServerPeakRSSBytes is, against a --target, the largest RSS the
	// server reported over the seeding and the scenarios.
	ServerPeakRSSBytes uint64   `json:"serverPeakRSSBytes,omitempty"`
	Interrupted        bool     `json:"interrupted,omitempty"`
	Notes              []string `json:"notes,omitempty"`
}

// SeedResult is the seeding phase.
type SeedResult struct {
	Users       int     `json:"users"`
	Path        string  `json:"path"`
	Callers     int     `json:"callers"`
	Seconds     float64 `json:"seconds"`
	UsersPerSec float64 `json:"usersPerSec"`
	Errors      uint64  `json:"errors"`
	// ErrorCodes counts failed requests by kind.
	ErrorCodes map[string]uint64 `json:"errorCodes,omitempty"`
	// ContactUsers is how many seeded users have a phone and an email.
	ContactUsers int `json:"contactUsers"`
	// ContactSeconds is the time spent adding phones and emails to the
	// users after a batch seeding, not counted in Seconds (0 for
	// the REST path, which creates every user with them).
	ContactSeconds float64 `json:"contactSeconds,omitempty"`
	// AppUsers is the app's user count after seeding, the row count of the
	// lookup baseline's table.
	AppUsers     int    `json:"appUsers"`
	PeakRSSBytes uint64 `json:"peakRSSBytes,omitempty"`
	// ServerRSSBytes is a --target server's largest RSS seen while
	// seeding; see Result.ServerRSSBytes.
	ServerRSSBytes uint64 `json:"serverRSSBytes,omitempty"`
	// ServerCPUSeconds is the CPU time a --target server spent while
	// seeding (see Result.ServerCPUSeconds): on a shared machine the
	// seeding's wall time depends on the neighbours, its CPU time far less.
	ServerCPUSeconds float64 `json:"serverCPUSeconds,omitempty"`
}

// Latency quantiles in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Result is one scenario or baseline.
type Result struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"` // read, write, mixed or baseline
	Description string `json:"description"`
	// Setup is what ran before the timed window, untimed.
	Setup      string `json:"setup,omitempty"`
	SetupError string `json:"setupError,omitempty"`
	// Ops counts completed operations: OK plus Errors.
	Ops    uint64 `json:"ops"`
	OK     uint64 `json:"ok"`
	Errors uint64 `json:"errors"`
	// ErrorCodes counts failed operations by kind: an API error code, an
	// HTTP status, a transport failure or a wrong answer.
	ErrorCodes     map[string]uint64 `json:"errorCodes,omitempty"`
	ElapsedSeconds float64           `json:"elapsedSeconds"`
	// ReqPerSec is successful operations per second; latencies are of
	// successful operations.
	ReqPerSec float64 `json:"reqPerSec"`
	LatencyMs Latency `json:"latencyMs"`
	// RatioToLookup is ReqPerSec over the lookup baseline's.
	RatioToLookup float64 `json:"ratioToLookup"`
	// PeakRSSBytes is this process's peak resident set during this
	// scenario: server and load generator together when InProcess, the
	// load generator alone otherwise. HeapInuseBytes is its Go heap in use
	// after the scenario.
	PeakRSSBytes uint64 `json:"peakRSSBytes,omitempty"`
	// ServerRSSBytes is, against a --target, the server's own resident
	// set: the largest process_resident_memory_bytes its /metrics reported
	// before, every second during, and after the scenario (a peak seen,
	// not the kernel's peak).
	ServerRSSBytes uint64 `json:"serverRSSBytes,omitempty"`
	// ServerCPUSeconds is, against a --target, the CPU time the server
	// reported (process_cpu_seconds_total) spending between the first and
	// the last RSS sample of the row: over its timed window.
	ServerCPUSeconds float64 `json:"serverCPUSeconds,omitempty"`
	// ServerCPUMicrosPerOp is ServerCPUSeconds per completed operation,
	// in microseconds: what the server spent on one, whatever the load
	// generator spent beside it. A baseline's is its own server's, when
	// it runs as a process apart (Config.BaselineProcess).
	ServerCPUMicrosPerOp float64 `json:"serverCPUMicrosPerOp,omitempty"`
	HeapInuseBytes       uint64  `json:"heapInuseBytes,omitempty"`
	// Breakdown counts a mixed scenario's operations by kind.
	Breakdown map[string]OpCount `json:"breakdown,omitempty"`
}

// OpCount is one kind of operation within a mixed scenario.
type OpCount struct {
	OK     uint64 `json:"ok"`
	Errors uint64 `json:"errors"`
}

// Lookup returns the result named name.
func (r *Report) Lookup(name string) *Result {
	for i := range r.Baselines {
		if r.Baselines[i].Name == name {
			return &r.Baselines[i]
		}
	}
	for i := range r.Scenarios {
		if r.Scenarios[i].Name == name {
			return &r.Scenarios[i]
		}
	}
	return nil
}

// TotalErrors counts every failed request of the run: seeding, setups and
// timed windows.
func (r *Report) TotalErrors() uint64 {
	n := r.Seeding.Errors
	for _, rs := range [][]Result{r.Baselines, r.Scenarios} {
		for _, x := range rs {
			n += x.Errors
			if x.SetupError != "" {
				n++
			}
		}
	}
	return n
}

// Run seeds the target, measures the baselines and the scenarios, and
// returns the report. A failed request never stops a run: it is counted.
// Run returns an error only when the run cannot go on (bad configuration,
// a target that cannot be seeded at all); if ctx ends, the report holds
// what was measured so far.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	e, err := newEnv(ctx, &cfg)
	if err != nil {
		return nil, err
	}
	defer e.close()
	rep := &Report{
		Tool: "usercenter bench", Version: cfg.Version, StartedAt: time.Now().UTC(),
		Target: cfg.Target, InProcess: cfg.InProcess, Engine: cfg.Engine, RateLimiter: cfg.RateLimiter,
		Connections: cfg.Connections, DurationSeconds: cfg.Duration.Seconds(), Requests: cfg.Requests,
		GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
	}
	if cfg.InProcess {
		rep.Target = "self"
	}
	rssReset := resetPeakRSS()
	if !rssReset {
		rep.Notes = append(rep.Notes, "the kernel refused to reset the peak RSS (/proc/self/clear_refs), so each phase's peak RSS includes the phases before it")
	}
	defer func() {
		rep.PeakRSSBytes = e.peak
		rep.ServerPeakRSSBytes = e.serverPeak
		for _, n := range []string{e.serverRSSErr, e.baselineRSSErr} {
			if n != "" {
				rep.Notes = append(rep.Notes, n)
			}
		}
		rep.Interrupted = ctx.Err() != nil
	}()

	e.progress("seeding %d users through %s with %d callers", cfg.Users, seedPathName(cfg.Seed), cfg.SeedCallers)
	seed, err := e.seed(ctx)
	rep.Seeding = seed
	if err != nil {
		return rep, err
	}
	e.progress("seeded %d users in %.2f s (%.0f users/s), %d errors; the app has %d users", seed.Users, seed.Seconds, seed.UsersPerSec, seed.Errors, seed.AppUsers)

	if cfg.EmitWrk != "" {
		n := int(cfg.Requests)
		if n <= 0 {
			n = defaultWrkRequests
		}
		e.progress("writing wrk data to %s: %d tokens, %d pre-signed requests a script", cfg.EmitWrk, min(e.seeded.Len(), defaultTokenUsers), n)
		if err := e.emitWrk(cfg.EmitWrk, n); err != nil {
			return rep, fmt.Errorf("writing the wrk data: %w", err)
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("wrote the data of bench/wrk's scripts to %s at %s; its TC3 signatures are good for 5 minutes", cfg.EmitWrk, time.Now().UTC().Format(time.RFC3339)))
		return rep, nil
	}

	rows := max(seed.AppUsers, 1)
	bl, err := e.startBaseline(ctx, rows)
	if err != nil {
		return rep, fmt.Errorf("the lookup baseline: %w", err)
	}
	e.baseline = bl
	for _, b := range []*scenario{baselineStatic, baselineLookup} {
		if ctx.Err() != nil {
			return rep, nil
		}
		res := e.measure(ctx, b)
		rep.Baselines = append(rep.Baselines, res)
		e.progress("%s: %.0f req/s, %d errors", b.name, res.ReqPerSec, res.Errors)
	}
	e.baseline = nil
	if err := bl.stop(); err != nil {
		rep.Notes = append(rep.Notes, "closing the lookup baseline: "+err.Error())
	}
	// Hand the baseline's memory back, so that the scenarios' peak RSS is
	// the server's and not the baseline's leftovers.
	debug.FreeOSMemory()

	for _, name := range cfg.Scenarios {
		if ctx.Err() != nil {
			break
		}
		sc := scenarios[name]
		res := e.measure(ctx, sc)
		rep.Scenarios = append(rep.Scenarios, res)
		if res.SetupError != "" {
			e.progress("%s: setup failed: %s", name, res.SetupError)
		} else {
			e.progress("%s: %.0f req/s, %d errors", name, res.ReqPerSec, res.Errors)
		}
	}
	lookup := rep.Lookup(BaselineLookup)
	for _, rs := range [][]Result{rep.Baselines, rep.Scenarios} {
		for i := range rs {
			if lookup != nil && lookup.ReqPerSec > 0 {
				rs[i].RatioToLookup = rs[i].ReqPerSec / lookup.ReqPerSec
			}
		}
	}
	return rep, nil
}

func seedPathName(p string) string {
	switch p {
	case SeedBatch:
		return "LCIC BatchRegister"
	case SeedImport:
		return "REST importUsers (each with phone and email)"
	}
	return "REST createUser (each with phone and email)"
}

// progress writes one line about the run's progress.
func (e *env) progress(format string, args ...any) {
	if e.cfg.Progress != nil {
		fmt.Fprintf(e.cfg.Progress, "bench: "+format+"\n", args...)
	}
}

// runID makes OriginIds unique to one run, so that runs against the same
// app never collide.
func runID() string {
	return strconv.FormatInt(time.Now().UnixNano()/1e6, 36) + strconv.Itoa(os.Getpid()%1000)
}
