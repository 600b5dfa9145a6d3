package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"usercenter"
	"usercenter/bench"
	"usercenter/core"
	"usercenter/server"
	"usercenter/storecache"
	"usercenter/webhook"
)

// benchRateLimit is the largest per-action rate an app may have
// (usercenter.App.Validate). --self gives it to its app so that the
// limiter runs, as it does in serve, without ever refusing a request.
const benchRateLimit = 100000

// benchSelfHook, when set (by tests), sees the in-process instance and
// the report before the instance is torn down.
var benchSelfHook func(ctx context.Context, inst *instance, app *usercenter.App, key *usercenter.APIKey, rep *bench.Report) error

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer, _ env) error {
	fs, sf := newStoreFlagSet("bench", stdout, stderr)
	self := fs.Bool("self", false, "start an in-process server on a fresh database in a temporary directory and drive it")
	target := fs.String("target", "", "drive the running usercenter at this base URL, e.g. http://127.0.0.1:8080 (loopback only)")
	credsFile := fs.String("creds", "", "with --target: a `FILE` holding the app's credentials, the JSON that 'usercenter app create --json' prints")
	entKeyFile := fs.String("enterprise-key", "", "with --target: a `FILE` holding the key the enterprise scenario logs in with, the JSON that 'usercenter key create --json' prints (default the --creds key; a key with pii.read makes every userInfo an audited write)")
	scimTokenFile := fs.String("scim-token", "", "with --target: a `FILE` holding the app's SCIM token for the SCIM scenarios, the JSON that 'usercenter scim token create --json' prints (a token without pii.read keeps their reads reads)")
	connections := fs.Int("connections", 32, "concurrent connections, each a closed loop of one request at a time")
	duration := fs.Duration("duration", 0, "how long each scenario runs (default 10s unless --requests is given)")
	requests := fs.Int64("requests", 0, "how many operations each scenario runs at most (0: no bound)")
	users := fs.Int("users", 10000, "how many users to seed")
	scenarioList := fs.String("scenarios", "", "comma-separated scenarios to run (default all): "+strings.Join(bench.Scenarios, ", "))
	seed := fs.String("seed", bench.SeedImport, "how to seed: import (POST /v1/apps/{id}/users:import, 1000 users a call, every user with phone and email), batch (LCIC BatchRegister, 1000 users a call; then phone and email for every user, through the REST API, one request each) or rest (POST /v1/apps/{id}/users: every user with phone and email, one request each)")
	seedCallers := fs.Int("seed-callers", 0, "requests in flight while seeding (default --connections)")
	jsonFile := fs.String("json", "", "also write the report as JSON to this file (- for stdout)")
	logLevel := fs.String("log-level", "warn", "--self: the server's log level")
	emitWrk := fs.String("emit-wrk", "", "with --target: seed, then write the data of the wrk scripts in bench/wrk (tokens, pre-signed LCIC requests: --requests of each, default 100000) to this `DIR` instead of measuring")
	withWebhook := fs.Bool("webhook", false, "--self: run the scenarios twice on one instance, first with no webhook endpoint, then with one subscribed to user.created whose receiver runs in this process, and report both and the delivery lag")
	webhookDiscard := fs.Bool("webhook-discard", false, "with --webhook: deliveries succeed at once without HTTP, to measure the dispatcher's work in the store alone")
	baselineInProcess := fs.Bool("baseline-in-process", false, "with --target: serve the two baselines in this process, beside the load generator, instead of in a process of its own as the target is (how earlier releases measured them; every ratio to them is then lower)")
	stopWithStdin := fs.Bool("stop-with-stdin", false, "with --serve-baseline: stop once standard input reaches its end (how bench --target runs its baselines' server, so that it never outlives the run)")
	serveBaseline := fs.String("serve-baseline", "", "serve the two baselines (GET /static, GET /lookup/{id} over a table of --users rows) at this loopback `ADDR` until interrupted, for an external load generator such as bench/wrk/lookup.lua; no scenario runs")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (with --self it covers the server too)")
	// The environment is not read: USERCENTER_DB may name a real database,
	// and a benchmark must never write its users into one by accident.
	positional, err := parse(fs, args, func(string) string { return "" })
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		return usageError{msg: fmt.Sprintf("bench takes no arguments, got %q", positional[0])}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *serveBaseline != "" {
		return benchServeBaseline(ctx, set, *serveBaseline, *users, *stopWithStdin, stdout)
	}
	switch {
	case *self == (*target != ""):
		return usageError{msg: "bench needs exactly one of --self and --target URL"}
	case *target != "" && *credsFile == "":
		return usageError{msg: "--target needs --creds FILE, the output of `usercenter app create --json`"}
	case *self && (*credsFile != "" || *entKeyFile != "" || *scimTokenFile != ""):
		return usageError{msg: "--creds, --enterprise-key and --scim-token go with --target; --self makes its own app, keys and SCIM token"}
	case set["data"] || set["master-key-file"]:
		return usageError{msg: "bench keeps its data in a temporary directory: --data and --master-key-file do not apply"}
	case *emitWrk != "" && *target == "":
		return usageError{msg: "--emit-wrk goes with --target: the scripts need a server that outlives this command"}
	case *webhookDiscard && !*withWebhook:
		return usageError{msg: "--webhook-discard goes with --webhook"}
	case *withWebhook && !*self:
		return usageError{msg: "--webhook goes with --self: the receiver runs in this process"}
	case *target != "" && set["db"]:
		return usageError{msg: "--db goes with --self; a --target server has its own database"}
	case *baselineInProcess && *target == "":
		return usageError{msg: "--baseline-in-process goes with --target; --self serves everything in this process"}
	case *stopWithStdin:
		return usageError{msg: "--stop-with-stdin goes with --serve-baseline"}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{msg: fmt.Sprintf("invalid --log-level %q", *logLevel)}
	}
	cfg := bench.Config{
		Connections: *connections,
		Duration:    *duration,
		Requests:    *requests,
		Users:       *users,
		Seed:        *seed,
		SeedCallers: *seedCallers,
		Progress:    stderr,
		Version:     version(),
		EmitWrk:     *emitWrk,
	}
	if cfg.Duration == 0 && cfg.Requests == 0 {
		cfg.Duration = 10 * time.Second
	}
	if *scenarioList != "" {
		for _, s := range strings.Split(*scenarioList, ",") {
			if s = strings.TrimSpace(s); s != "" {
				cfg.Scenarios = append(cfg.Scenarios, s)
			}
		}
	}
	if err := cfg.CheckLoad(); err != nil {
		return usageError{msg: err.Error()}
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	var rep *bench.Report
	if *self {
		rep, err = benchSelf(ctx, fs, sf, cfg, level, stderr, *withWebhook, *webhookDiscard)
	} else {
		cfg.Target = *target
		if !*baselineInProcess {
			cfg.BaselineProcess = baselineProcess(stderr)
		}
		if err := readJSONFile(*credsFile, "usercenter app create --json", &cfg.Creds); err != nil {
			return err
		}
		if *entKeyFile != "" {
			cfg.EnterpriseKey = new(bench.Key)
			if err := readJSONFile(*entKeyFile, "usercenter key create --json", cfg.EnterpriseKey); err != nil {
				return err
			}
		}
		if *scimTokenFile != "" {
			var tok struct{ Token string }
			if err := readJSONFile(*scimTokenFile, "usercenter scim token create --json", &tok); err != nil {
				return err
			}
			cfg.SCIMToken = tok.Token
		}
		rep, err = bench.Run(ctx, cfg)
	}
	if rep != nil && len(rep.Scenarios)+len(rep.Baselines) > 0 {
		if werr := writeBenchReport(rep, stdout, *jsonFile); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	if n := rep.TotalErrors(); n > 0 {
		return fmt.Errorf("%d requests failed; the report above lists them by kind", n)
	}
	return nil
}

// benchServeBaseline serves bench's baselines alone, so that an external
// load generator measures its own lookup baseline beside the server.
func benchServeBaseline(ctx context.Context, set map[string]bool, addr string, rows int, stopWithStdin bool, stdout io.Writer) error {
	for name := range set {
		if name != "serve-baseline" && name != "users" && name != "stop-with-stdin" {
			return usageError{msg: "--serve-baseline takes only --users (the lookup table's rows) and --stop-with-stdin, not --" + name}
		}
	}
	if rows < 1 {
		return usageError{msg: "--users must be at least 1"}
	}
	if err := bench.CheckBaselineAddr(addr); err != nil {
		return usageError{msg: "--serve-baseline: " + err.Error()}
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if stopWithStdin {
		go func() {
			io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}
	return bench.ServeBaseline(ctx, addr, rows, "", func(base string) {
		fmt.Fprintf(stdout, "%s%s: GET /static, GET /lookup/{id} for id 1 to %d; stop with Ctrl-C\n", baselineServing, base, rows)
	})
}

// baselineStopWait and baselineStartWait (and a second per 100,000 rows
// of its table) bound how long a run waits for its baselines' server to
// stop and to start, so that one that hangs cannot hold the run up.
const (
	baselineStopWait  = 30 * time.Second
	baselineStartWait = time.Minute
)

// baselineServing starts the line `bench --serve-baseline` prints once
// it serves, followed by its base URL.
const baselineServing = "serving the baselines at "

// baselineProcess runs the baselines' server as a process of its own,
// this executable under --serve-baseline, for bench.Config.BaselineProcess.
// Only the usercenter binary can be that executable: a test binary of
// this package would run its tests instead, so tests of --target runs
// drive the built binary (cmd/usercenter).
// It stops when its standard input closes: when stop closes it, or when
// this process ends, however it ends.
func baselineProcess(stderr io.Writer) func(ctx context.Context, rows int) (string, func() error, error) {
	return func(ctx context.Context, rows int) (string, func() error, error) {
		exe, err := os.Executable()
		if err != nil {
			return "", nil, err
		}
		cmd := exec.Command(exe, "bench", "--serve-baseline", "127.0.0.1:0", "--users", strconv.Itoa(rows), "--stop-with-stdin")
		cmd.Stderr = stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return "", nil, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return "", nil, err
		}
		if err := cmd.Start(); err != nil {
			return "", nil, err
		}
		// Closing its input is the child's stop signal, and lets it
		// delete its table; a kill is the last resort.
		stop := sync.OnceValue(func() error {
			stdin.Close()
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			select {
			case err := <-waited:
				return err
			case <-time.After(baselineStopWait):
				cmd.Process.Kill()
				<-waited
				return fmt.Errorf("the baselines' server did not stop within %v of its input's end, and was killed", baselineStopWait)
			}
		})
		// The table is built at about a million rows a second; the
		// bound is for a child that hangs, and an interruption ends the
		// wait too.
		startWait := baselineStartWait + time.Duration(rows/100_000)*time.Second
		type answer struct {
			line string
			err  error
		}
		first := make(chan answer, 1)
		go func() {
			line, err := bufio.NewReader(stdout).ReadString('\n')
			first <- answer{line, err}
			io.Copy(io.Discard, stdout)
		}()
		var a answer
		select {
		case a = <-first:
		case <-ctx.Done():
			stop()
			return "", nil, ctx.Err()
		case <-time.After(startWait):
			werr := stop()
			return "", nil, fmt.Errorf("the baselines' server (%s --serve-baseline) did not start within %v (%v)", exe, startWait, werr)
		}
		rest, ok := strings.CutPrefix(a.line, baselineServing)
		base, _, ok2 := strings.Cut(rest, ": ")
		if !ok || !ok2 {
			werr := stop()
			return "", nil, fmt.Errorf("the baselines' server (%s --serve-baseline) did not start: %q, %v, %v", exe, a.line, a.err, werr)
		}
		return base, stop, nil
	}
}

// readJSONFile reads what command printed with --json into v.
func readJSONFile(path, command string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s is not the JSON of `%s`: %w", path, command, err)
	}
	return nil
}

func writeBenchReport(rep *bench.Report, stdout io.Writer, jsonFile string) error {
	if jsonFile == "-" {
		return rep.WriteJSON(stdout)
	}
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	if jsonFile == "" {
		return nil
	}
	f, err := os.Create(jsonFile)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// benchSelf runs the benchmark against a server built in this process the
// way serve builds one: the store flags' store (SQLite in a temporary
// directory, or --db), the service with serve's in-process rate limiter
// and replay memories, and server.NewHandler behind server.NewHTTPServer
// on a loopback port.
func benchSelf(ctx context.Context, fs *flag.FlagSet, sf *storeFlags, cfg bench.Config, level slog.Level, stderr io.Writer, withWebhook, webhookDiscard bool) (*bench.Report, error) {
	dir, err := os.MkdirTemp("", "usercenter-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := fs.Set("data", dir); err != nil {
		return nil, err
	}
	dbt, err := sf.target()
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	reg := server.NewRegistry()
	shared, err := openShared(ctx, "", log, reg)
	if err != nil {
		return nil, err
	}
	defer shared.close()
	// As serve wires it: a sender, and a wake-up after each commit that
	// wrote events (nobody listens until the webhook round).
	wake := make(chan struct{}, 1)
	sender := webhook.NewSender(webhook.SenderOptions{AllowPrivate: true})
	// The caches as serve builds them by default: entries live
	// --cache-ttl while the invalidation bus is heard, within --cache-mib.
	sf.cacheTTL = defaultCacheTTL
	sf.cacheLimits = storecache.LimitsFor(defaultCacheMiB)
	inst, err := sf.open(ctx, create, core.WithLimiter(shared.limiter), core.WithReplayMemory(shared.replays), core.WithLogger(log),
		core.WithWebhookSender(sender), core.WithEventsCommitted(func() {
			select {
			case wake <- struct{}{}:
			default:
			}
		}))
	if err != nil {
		return nil, err
	}
	defer inst.Close()
	stopListening := listenForInvalidations(ctx, inst, log, reg, sf.cacheTTL)
	defer stopListening()

	app, key, err := inst.svc.CreateApp(ctx, operator(), core.NewApp{Name: "bench " + time.Now().UTC().Format("20060102T150405.000"), RateLimit: benchRateLimit})
	if err != nil {
		return nil, fmt.Errorf("creating the bench app: %w", err)
	}
	secret, gcm := usercenter.NewSuperAppSecretKey(), usercenter.CipherAESGCMBase64
	app, err = inst.svc.UpdateApp(ctx, operator(), app.SdkAppID, core.AppPatch{SuperAppSecretKey: &secret, SuperAppCipher: &gcm})
	if err != nil {
		return nil, fmt.Errorf("setting the bench app's super-app secret: %w", err)
	}
	// The enterprise scenario reads with a key that cannot reveal, so that
	// it measures a read; with pii.read every answer is an audited write.
	entKey, err := inst.svc.CreateKey(ctx, operator(), "bench enterprise reader", []uint64{app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead})
	if err != nil {
		return nil, fmt.Errorf("creating the bench's enterprise key: %w", err)
	}

	// The SCIM scenarios read as a provider does, with a token that
	// cannot reveal: a pure read, as the enterprise key's.
	scimToken, err := inst.svc.CreateSCIMToken(ctx, operator(), app.SdkAppID, nil)
	if err != nil {
		return nil, fmt.Errorf("creating the bench's SCIM token: %w", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	srv := server.NewHTTPServer(addr, server.NewHandler(inst.svc, log, reg, server.WithSuperAppDefault(app.SdkAppID)))
	serveCtx, stopPurge := context.WithCancel(ctx)
	defer stopPurge()
	go inst.svc.PurgeExpired(serveCtx, time.Minute)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdownCtx)
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("bench server", "err", err)
		}
	}()

	cfg.Target = "http://" + addr
	cfg.InProcess = true
	cfg.Engine = dbt.engine
	cfg.RateLimiter = fmt.Sprintf("on, as in serve (in-process token buckets); the bench app's RateLimit is %d/s per action, the maximum, so it never refuses a request", benchRateLimit)
	cfg.Creds = bench.Creds{
		SdkAppId: app.SdkAppID, UserDomain: app.UserDomain, SecretId: key.SecretID, SecretKey: key.SecretKey,
		SuperAppSecretKey: app.SuperAppSecretKey, SuperAppCipher: string(app.SuperAppCipher),
	}
	cfg.EnterpriseKey = &bench.Key{SecretId: entKey.SecretID, SecretKey: entKey.SecretKey}
	cfg.SCIMToken = scimToken.Token
	cfg.TempDir = dir
	var rep *bench.Report
	if withWebhook {
		rep, err = benchWebhookRounds(ctx, inst, app, sender, wake, cfg, log, webhookDiscard)
	} else {
		rep, err = bench.Run(ctx, cfg)
	}
	if rep != nil {
		rep.Notes = append(rep.Notes,
			"--self: the app's first key (users.read, users.write, pii.read) signs LCIC and REST calls; the enterprise scenario logs in with a second key holding users.read only; the SCIM scenarios bear a SCIM token of the app without pii.read",
			fmt.Sprintf("--self: the database is %s, fresh in a temporary directory (deleted at the end)", dbt))
		if dbt.engine == enginePostgres {
			rep.Notes[len(rep.Notes)-1] = "--self: the database is " + dbt.String() + "; the bench app and its users stay in it"
		}
	}
	if err == nil && benchSelfHook != nil {
		err = benchSelfHook(ctx, inst, app, key, rep)
	}
	return rep, err
}
