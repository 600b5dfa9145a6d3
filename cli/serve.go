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
	"syscall"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/ratelimit"
	"usercenter/server"
)

// shutdownGrace is how long in-flight requests may take to finish after
// SIGINT or SIGTERM.
const shutdownGrace = 30 * time.Second

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	superApp := fs.Uint64("superapp-app", 0, "SdkAppId served on the unprefixed super-app paths (default: the only app, while there is exactly one)")
	enterpriseTTL := fs.Duration("enterprise-token-ttl", core.DefaultEnterpriseTokenTTL, "lifetime of enterprise API access tokens")
	if _, err := parse(fs, args, getenv); err != nil {
		return err
	}
	if *enterpriseTTL < time.Minute || *enterpriseTTL > 366*24*time.Hour {
		return usageError{msg: "--enterprise-token-ttl must be between 1m and 8784h"}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{msg: fmt.Sprintf("invalid --log-level %q", *logLevel)}
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	inst, err := sf.open(ctx, core.WithLimiter(ratelimit.New()), core.WithLogger(log), core.WithEnterpriseTokenTTL(*enterpriseTTL))
	if err != nil {
		return err
	}
	defer inst.Close()
	unlock, err := lockDB(inst.dbPath, false)
	if errors.Is(err, errLocked) {
		return fmt.Errorf("a master-key rotation is running on %s: start the server when it has finished", inst.dbPath)
	}
	if err != nil {
		return err
	}
	defer unlock()
	if inst.keyCreated {
		fmt.Fprintf(stdout, "First start: created the master key %s (mode 0600; back it up, nothing stored can be read without it)\nand the database %s.\nCreate an app and its first API key with:\n  usercenter app create --name myapp\n\n", inst.keyPath, inst.dbPath)
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
	reg := server.NewRegistry()
	srv := server.NewHTTPServer(*addr, server.NewHandler(inst.svc, log, reg, server.WithSuperAppDefault(*superApp)))
	go inst.svc.PurgeExpired(ctx, time.Minute)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("usercenter listening", "addr", ln.Addr().String(), "db", inst.dbPath, "version", version())
	fmt.Fprintf(stdout, "usercenter %s listening on http://%s\n", version(), ln.Addr())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Error("shutdown did not finish in time", "err", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if err := inst.Close(); err != nil {
		return fmt.Errorf("closing the store: %w", err)
	}
	log.Info("stopped")
	return nil
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("migrate", stderr)
	if _, err := parse(fs, args, getenv); err != nil {
		return err
	}
	return sf.withInstance(ctx, func(inst *instance) error {
		applied := inst.store.Applied()
		v, err := inst.store.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintf(stdout, "%s is up to date at schema version %d\n", inst.dbPath, v)
		} else {
			fmt.Fprintf(stdout, "applied migrations %v to %s; schema version %d\n", applied, inst.dbPath, v)
		}
		return nil
	})
}
