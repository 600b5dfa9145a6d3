package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"usercenter"
	"usercenter/console"
	"usercenter/core"
	"usercenter/httpio"
	"usercenter/obs"
	"usercenter/ratelimit"
	"usercenter/redisstore"
	"usercenter/replay"
	"usercenter/server"
	"usercenter/storecache"
	"usercenter/tracing"
	"usercenter/webhook"
)

// shutdownGrace is how long in-flight requests may take to finish after
// SIGINT or SIGTERM.
const shutdownGrace = 30 * time.Second

// defaultRequestTimeout is serve's --request-timeout. maxRequestTimeout
// keeps it well inside the HTTP server's write timeout (one minute), so
// that a request that runs out of time still gets its answer written.
const (
	defaultRequestTimeout = 10 * time.Second
	maxRequestTimeout     = 50 * time.Second
)

// defaultCacheTTL is serve's --cache-ttl, maxCacheTTL its bound: a day,
// past which an entry is as good as never read again anyway.
const (
	defaultCacheTTL = 5 * time.Minute
	maxCacheTTL     = 24 * time.Hour
)

// defaultCacheMiB is serve's --cache-mib, maxCacheMiB its bound: the
// default holds a working set of about 22,000 users (their entries,
// cards and a token each; see storecache.LimitsFor), and keeps a SQLite
// server's RSS near 200 MiB however many users it has (docs/deployment.md,
// Sizing). 192 MiB held 100,000, but took such a server past 400 MB.
const (
	defaultCacheMiB = 48
	maxCacheMiB     = 64 << 10
)

// maxEventsRetention bounds serve's --events-retention: ten years.
const maxEventsRetention = 10 * 366 * 24 * time.Hour

// Bounds of serve's --body-memory-mib. Below the minimum the largest body
// any facade takes (LCIC's 10 MiB, with the first 64 KiB read before it
// is admitted) could never be read.
const (
	minBodyMemoryMiB = 16
	maxBodyMemoryMiB = 64 << 10
)

// listenForInvalidations wires a serving instance's caches as serve and
// bench --self both run them: their metrics in reg, and, until stop is
// called, the other processes' writes heard on the database's
// invalidation bus, every change of the bus's state logged. Entries live
// cacheTTL while the bus is up, storecache.TTL while it is down.
func listenForInvalidations(ctx context.Context, inst *instance, log *slog.Logger, reg prometheus.Registerer, cacheTTL time.Duration) (stop func()) {
	reg.MustRegister(inst.cache)
	inst.cache.OnBusChange(func(up bool, err error) {
		switch {
		case up:
			log.Info("cache invalidation channel up: cached rows live --cache-ttl", "cache_ttl", cacheTTL.String())
		case ctx.Err() == nil && !errors.Is(err, context.Canceled): // not a shutdown
			log.Warn("cache invalidation channel lost: cached rows live 0.5s until it is back", "err", err)
		}
	})
	// The caches hear the other processes' writes until the store closes.
	listenCtx, stopListen := context.WithCancel(context.Background())
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		inst.cache.Listen(listenCtx)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			stopListen()
			<-listening
		})
	}
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("serve", stdout, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	superApp := fs.Uint64("superapp-app", 0, "SdkAppId served on the unprefixed super-app paths (default: the only app, while there is exactly one)")
	enterpriseTTL := fs.Duration("enterprise-token-ttl", core.DefaultEnterpriseTokenTTL, "lifetime of enterprise API access tokens")
	eventsRetention := fs.Duration("events-retention", core.DefaultEventRetention, fmt.Sprintf("how long events are kept before they are purged, at least %v (webhooks retry a delivery for 24 hours)", core.MinEventRetention))
	requestTimeout := fs.Duration("request-timeout", defaultRequestTimeout, "the longest any request may take: past it, what waits on the database gives up and the request fails as unavailable")
	bodyMemory := fs.Int64("body-memory-mib", httpio.DefaultBodyBudget>>20, "the most memory, in MiB, that the request bodies being served may hold at once: a request whose body would go past it is answered busy at once")
	metricsAddr := fs.String("metrics-addr", "", "serve /metrics on this address (such as 127.0.0.1:9090) instead of --addr; keep it off networks that clients reach")
	withPprof := fs.Bool("pprof", false, "also serve the Go profiler under /debug/pprof/ on --metrics-addr")
	withConsole := fs.Bool("console", true, "serve the web console at /console/ and, while it has no account, print a one-time setup link on start")
	consoleURL := fs.String("url", "", "the address browsers reach this server at, which the console's setup link starts with (default: http:// and the listening address)")
	webhooks := fs.Bool("webhooks", true, "deliver webhooks from this node (--webhooks=false leaves it to the others over the same database)")
	webhookTimeout := fs.Duration("webhook-timeout", webhook.DefaultTimeout, "how long one webhook delivery may take, answer included")
	webhookAllowPrivate := fs.Bool("webhook-allow-private", false, "let webhook deliveries reach loopback, link-local and private addresses")
	cacheTTL := fs.Duration("cache-ttl", defaultCacheTTL, "how long cached keys, apps, users and tokens may be served while this node hears the other processes' writes on the database's invalidation channel (PostgreSQL: LISTEN/NOTIFY; SQLite: the table cache_invalidations, polled every 150ms); while it is down they live 0.5s")
	cacheMiB := fs.Int("cache-mib", defaultCacheMiB, "the live Go heap, in MiB, that the caches may hold (users, their cards and tokens, and about 8 MiB of keys and apps; RSS may grow by up to twice as much, as Go collects when its heap doubles): the default holds a working set of about 22,000 users")
	redisURL := fs.String("redis", "", "Redis URL, redis://[:password@]host:port/db, shared by every node serving the database: rate limits and replay memories then hold across nodes (default: each process keeps its own)")
	if _, err := parse(fs, args, getenv); err != nil {
		return err
	}
	if *enterpriseTTL < time.Minute || *enterpriseTTL > 366*24*time.Hour {
		return usageError{msg: "--enterprise-token-ttl must be between 1m and 8784h"}
	}
	if *eventsRetention < core.MinEventRetention || *eventsRetention > maxEventsRetention {
		return usageError{msg: fmt.Sprintf("--events-retention must be between %v and %v: webhooks retry a delivery for 24 hours, and an event must be kept until its last retry", core.MinEventRetention, maxEventsRetention)}
	}
	if *requestTimeout < time.Second || *requestTimeout > maxRequestTimeout {
		return usageError{msg: fmt.Sprintf("--request-timeout must be between 1s and %v", maxRequestTimeout)}
	}
	if *bodyMemory < minBodyMemoryMiB || *bodyMemory > maxBodyMemoryMiB {
		return usageError{msg: fmt.Sprintf("--body-memory-mib must be between %d and %d", minBodyMemoryMiB, maxBodyMemoryMiB)}
	}
	if *webhookTimeout < 100*time.Millisecond || *webhookTimeout > time.Minute {
		return usageError{msg: "--webhook-timeout must be between 100ms and 1m"}
	}
	if *cacheTTL < time.Second || *cacheTTL > maxCacheTTL {
		return usageError{msg: fmt.Sprintf("--cache-ttl must be between 1s and %v", maxCacheTTL)}
	}
	if *cacheMiB < storecache.MinMiB || *cacheMiB > maxCacheMiB {
		return usageError{msg: fmt.Sprintf("--cache-mib must be between %d and %d", storecache.MinMiB, maxCacheMiB)}
	}
	if *withPprof && *metricsAddr == "" {
		return usageError{msg: "--pprof needs --metrics-addr: the profiler is never served on --addr"}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{msg: fmt.Sprintf("invalid --log-level %q", *logLevel)}
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// Tracing starts before the store opens, so that a setting it cannot
	// honour stops serve before anything is created.
	traces, err := tracing.Start(ctx, getenv, log)
	if err != nil {
		return err
	}
	defer func() {
		// The spans of the last requests, flushed on the way out.
		flushCtx, cancel := context.WithTimeout(context.Background(), tracing.ShutdownTimeout)
		defer cancel()
		if err := traces.Shutdown(flushCtx); err != nil {
			log.Warn("tracing: flushing the last spans failed", "err", err)
		}
	}()
	if traces != nil {
		sf.wrapStore = func(s core.Store) core.Store { return tracing.NewStore(s, traces.Provider()) }
		log.Info("tracing: exporting spans over OTLP/HTTP, as the OTEL_* variables say")
	}

	reg := server.NewRegistry()
	shared, err := openShared(ctx, *redisURL, log, reg)
	if err != nil {
		return err
	}
	defer shared.close()

	// The dispatcher wakes after each commit that wrote events, so that
	// a delivery need not wait for its next poll.
	wake := make(chan struct{}, 1)
	sf.cacheTTL = *cacheTTL
	sf.cacheLimits = storecache.LimitsFor(*cacheMiB)
	sender := webhook.NewSender(webhook.SenderOptions{AllowPrivate: *webhookAllowPrivate, Timeout: *webhookTimeout})
	inst, err := sf.open(ctx, create, core.WithLimiter(shared.limiter), core.WithReplayMemory(shared.replays), core.WithLogger(log), core.WithEnterpriseTokenTTL(*enterpriseTTL),
		core.WithEventRetention(*eventsRetention), core.WithWebhookSender(sender), core.WithEventsCommitted(func() {
			select {
			case wake <- struct{}{}:
			default:
			}
		}))
	if err != nil {
		return err
	}
	defer inst.Close()
	stopListening := listenForInvalidations(ctx, inst, log, reg, *cacheTTL)
	defer stopListening()
	// A server whose lock a master-key rotation took (after the database
	// restarted) holds a key that no longer opens what is stored: it stops.
	lockLost := make(chan error, 1)
	unlock, err := lockDatabase(ctx, inst.db, inst.store, false, func(err error) {
		log.Error("stopping: " + err.Error() + "; start this server again with the new master key file once the rotation has finished")
		lockLost <- err
		stop()
	})
	if errors.Is(err, errLocked) {
		return lockedOut(inst.db, lockHolder(err))
	}
	if err != nil {
		return err
	}
	defer unlock()
	for _, c := range inst.created {
		fmt.Fprintf(stdout, "usercenter: %s\n", c)
	}
	if inst.keyCreated {
		fmt.Fprintf(stdout, "First start: create an app and its first API key with:\n  usercenter app create --name myapp\n\n")
	}
	apps, err := inst.svc.Apps(ctx)
	if err != nil {
		return err
	}
	if len(apps) == 0 && !inst.keyCreated {
		fmt.Fprintf(stdout, "There are no apps yet. Create one with: usercenter app create --name myapp\n")
	}
	if *superApp != 0 {
		if !slices.ContainsFunc(apps, func(a usercenter.App) bool { return a.SdkAppID == *superApp }) {
			return fmt.Errorf("--superapp-app %d: there is no such app (see usercenter app list)", *superApp)
		}
	} else if len(apps) > 1 {
		log.Warn("several apps and no --superapp-app: the unprefixed super-app paths answer 404; the platform must call /apps/{SdkAppId}/superapp/user/<name>", "apps", len(apps))
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	handlerOpts := []server.Option{server.WithSuperAppDefault(*superApp), server.WithRequestTimeout(*requestTimeout), server.WithBodyBudget(httpio.NewBodyBudget(*bodyMemory << 20))}
	if traces != nil {
		handlerOpts = append(handlerOpts, server.WithTracing(traces.Provider()))
	}
	var (
		opsLn  net.Listener
		opsSrv *http.Server
	)
	if *metricsAddr != "" {
		if opsLn, err = net.Listen("tcp", *metricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		opsSrv = server.NewHTTPServer(*metricsAddr, server.NewOpsHandler(reg, *withPprof))
		// A CPU profile or trace runs for as long as it is asked to.
		opsSrv.WriteTimeout = 0
		handlerOpts = append(handlerOpts, server.WithoutMetrics())
	}
	if *withConsole {
		traffic := obs.NewTraffic(reg, time.Now())
		go traffic.Run(ctx, time.Minute)
		handlerOpts = append(handlerOpts, server.WithConsole(console.New(inst.svc, console.Options{Log: log, Traffic: traffic}).Handler()))
	}
	srv := server.NewHTTPServer(*addr, server.NewHandler(inst.svc, log, reg, handlerOpts...))
	go inst.svc.PurgeExpired(ctx, time.Minute)
	// Emails indexed under an older release's rules are re-indexed while
	// the server serves; lookups find them meanwhile. It must end before
	// the store closes.
	reindexCtx, stopReindex := context.WithCancel(ctx)
	reindexed := make(chan struct{})
	go func() {
		defer close(reindexed)
		inst.svc.MigrateEmailIndexInBackground(reindexCtx)
	}()
	stopReindexing := func() {
		stopReindex()
		<-reindexed
	}
	defer stopReindexing()
	stopDispatcher := func() {}
	if *webhooks {
		d := webhook.NewDispatcher(inst.svc, sender, wake, webhook.Config{Timeout: *webhookTimeout, Log: log, Metrics: webhook.NewMetrics(reg)})
		// Its own context: it stops after the last request has been
		// served, and records what it delivered before the store closes.
		dctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			d.Run(dctx)
		}()
		stopDispatcher = func() {
			cancel()
			<-done
		}
		defer stopDispatcher()
	}

	if wait := time.Until(shared.serveFrom); wait > 0 {
		select {
		case <-time.After(wait): // under a second; see sharedState.serveFrom
		case <-ctx.Done():
			return nil
		}
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if opsSrv != nil {
		go func() { errc <- opsSrv.Serve(opsLn) }()
		log.Info("usercenter serving metrics", "addr", opsLn.Addr().String(), "pprof", *withPprof)
		fmt.Fprintf(stdout, "usercenter metrics on http://%s/metrics\n", opsLn.Addr())
	}
	log.Info("usercenter listening", "addr", ln.Addr().String(), "db", inst.db.String(), "version", version())
	fmt.Fprintf(stdout, "usercenter %s listening on http://%s\n", version(), ln.Addr())
	if *withConsole {
		printSetupLink(ctx, inst.svc, log, *consoleURL, ln.Addr(), stdout, stderr)
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if opsSrv != nil {
		opsSrv.Close() // nothing there needs to finish
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Error("shutdown did not finish in time", "err", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	stopReindexing()
	stopDispatcher()
	stopListening()
	unlock()
	if err := inst.Close(); err != nil {
		return fmt.Errorf("closing the store: %w", err)
	}
	log.Info("stopped")
	select {
	case err := <-lockLost:
		return fmt.Errorf("stopped: %w", err)
	default:
		return nil
	}
}

// lockedOut says why serve cannot take the database's lock, held by
// holder (as the lock file names it, or "").
func lockedOut(db dbTarget, holder string) error {
	switch {
	case db.engine == engineSQLite && strings.HasPrefix(holder, holderServer):
		return fmt.Errorf("another server, %s, is using the SQLite database %s: a SQLite database serves one process at a time. Stop that server first, or, to run several nodes, serve them all from one PostgreSQL database (see docs/deployment.md)", holder, db)
	case db.engine == engineSQLite && !strings.HasPrefix(holder, holderRotation):
		return fmt.Errorf("another process holds the lock file %s of the SQLite database %s: a SQLite database serves one process at a time", lockPath(db.path), db)
	}
	return fmt.Errorf("a master-key rotation is running on %s: start the server when it has finished", db)
}

// sharedState is what the nodes serving one database must share to act
// as one: the rate limits and the memories of signed requests.
type sharedState struct {
	limiter core.Limiter
	replays core.ReplayMemory
	// serveFrom is the first whole second the replay memory knows all of.
	// Signature v1 and AccessKey timestamps are whole seconds, and a
	// memory refuses what was signed before it began, as possibly seen by
	// an earlier process; so a server starts answering only from this
	// second on, and a client that signs once it answers is never refused.
	serveFrom time.Time
	close     func()
}

// replayName names the replay memory in Redis, in its keys and metric
// labels.
const replayName = "signed-requests"

// openShared keeps the shared state in the Redis at redisURL, or in this
// process when it is empty. Only the server's address is ever logged,
// never the URL, which may carry a password.
func openShared(ctx context.Context, redisURL string, log *slog.Logger, reg *prometheus.Registry) (*sharedState, error) {
	if redisURL == "" {
		replays := replay.New(core.ReplayWindow, replay.DefaultShare)
		return &sharedState{
			limiter:   ratelimit.New(),
			replays:   replays,
			serveFrom: replays.Start().Truncate(time.Second).Add(time.Second),
			close:     func() {},
		}, nil
	}
	redisstore.SetLogger(log)
	rc, err := redisstore.Open(ctx, redisURL)
	if err != nil {
		return nil, fmt.Errorf("--redis: %w", err)
	}
	reg.MustRegister(rc)
	log.Info("rate limits and replay memories are shared through redis", "redis", rc.String())
	replays := redisstore.NewReplayMemory(rc, replayName, core.ReplayWindow, replay.DefaultShare)
	// A memory new to this Redis begins now, not at its first request.
	if err := replays.Begin(ctx, time.Now()); err != nil {
		rc.Close()
		return nil, fmt.Errorf("--redis: %s: %w", rc, err)
	}
	return &sharedState{
		limiter: redisstore.NewLimiter(rc),
		replays: replays,
		close:   func() { rc.Close() },
	}, nil
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("migrate", stdout, stderr)
	if _, err := parse(fs, args, getenv); err != nil {
		return err
	}
	return sf.withInstance(ctx, create, func(inst *instance) error {
		applied := inst.store.Applied()
		v, err := inst.store.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintf(stdout, "%s is up to date at schema version %d\n", inst.db, v)
		} else {
			fmt.Fprintf(stdout, "applied migrations %v to %s; schema version %d\n", applied, inst.db, v)
		}
		rep, err := inst.svc.MigrateEmailIndex(ctx)
		if err != nil {
			return fmt.Errorf("re-indexing emails under the current rules (run migrate again to resume): %w", err)
		}
		if !rep.AlreadyDone {
			fmt.Fprintf(stdout, "re-indexed the emails under the current rules: %d changed, %d already current\n", rep.Reindexed, rep.Current)
			if rep.Nonconforming > 0 {
				fmt.Fprintf(stdout, "%d stored %s the current email rules refuse (such as a local part over 64 bytes): kept as stored, but no lookup by email can find %s\n",
					rep.Nonconforming, plural(rep.Nonconforming, "address", "addresses"), plural(rep.Nonconforming, "it", "them"))
			}
		}
		return nil
	})
}

// setupLinkTimeout bounds the store's work for the setup link at start.
const setupLinkTimeout = 10 * time.Second

// printSetupLink prints, on an instance without console accounts, a
// one-time link that creates the first admin, to stderr as PocketBase
// does: whoever can read the server's output may set it up, and the link
// works once and for an hour only. It is two plain lines among the JSON
// log lines, written directly and never through the logger, so that no
// log attribute ever carries it; a log reader can tell them apart (the
// first starts "The console has no account yet"). Each start prints a
// new one while there is no account; the first one used wins. A failure
// (a full disk) is logged and the server goes on: `usercenter admin
// create` makes links too. A shutdown that begins meanwhile does not stop
// it: what a start prints must not depend on how soon a stop follows.
func printSetupLink(ctx context.Context, svc *core.Service, log *slog.Logger, base string, listening net.Addr, stdout, stderr io.Writer) {
	if base == "" {
		base = "http://" + browsable(listening)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), setupLinkTimeout)
	defer cancel()
	token, err := svc.ConsoleSetupLink(ctx)
	if err != nil {
		log.Error("the console's setup link could not be made; usercenter admin create --email E makes one", "err", err)
		return
	}
	if token == "" {
		fmt.Fprintf(stdout, "usercenter console at %s/console/\n", strings.TrimRight(base, "/"))
		return
	}
	fmt.Fprintf(stderr, "The console has no account yet. Open this one-time link within %v to create the first admin:\n  %s\n",
		core.ConsoleLinkTTL, consoleLink(base, token))
}

// browsable is a listening address a browser on this machine can open:
// an unspecified host (0.0.0.0, ::) becomes the loopback.
func browsable(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
}
