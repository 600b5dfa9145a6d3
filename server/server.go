// Package server assembles usercenter's HTTP surface: every facade behind
// the shared observability middleware, plus health and metrics endpoints.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"usercenter/core"
	"usercenter/enterprise"
	"usercenter/httpio"
	"usercenter/obs"
	"usercenter/restapi"
	"usercenter/superapp"
	"usercenter/tcapi"
)

// Option configures the handler.
type Option func(*config)

type config struct {
	superApp       superapp.Config
	requestTimeout time.Duration // see WithRequestTimeout
	bodies         *httpio.BodyBudget
}

// WithSuperAppDefault names the app that the unprefixed super-app paths
// serve (serve --superapp-app). Without it they serve the instance's only
// app, while there is exactly one.
func WithSuperAppDefault(sdkAppID uint64) Option {
	return func(c *config) { c.superApp.DefaultApp = sdkAppID }
}

// WithBodyBudget sets the memory that the request bodies being served may
// hold at once, across every facade (serve --body-memory-mib); a request
// whose body does not fit is answered busy at once, in its facade's
// format. The default is a budget of httpio.DefaultBodyBudget bytes.
func WithBodyBudget(b *httpio.BodyBudget) Option {
	return func(c *config) { c.bodies = b }
}

// NewHandler routes every endpoint of the instance.
func NewHandler(svc *core.Service, log *slog.Logger, reg *prometheus.Registry, opts ...Option) http.Handler {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.bodies == nil {
		cfg.bodies = httpio.NewBodyBudget(httpio.DefaultBodyBudget)
	}
	metrics := obs.NewMetrics(reg)
	mux := http.NewServeMux()
	// Tencent Cloud API 3.0 lives at the root path, whatever the method;
	// the facade answers unsupported methods in its own envelope.
	lcic := tcapi.New(svc, log)
	mux.Handle("/{$}", obs.Middleware("lcic", log, metrics, lcic))
	// The native REST API owns everything under /v1/, and answers unknown
	// routes and methods there with its own problem details.
	mux.Handle("/v1/", obs.Middleware("v1", log, metrics, restapi.New(svc, log)))
	// The super-app user API answers under /superapp/, /user/ and
	// /apps/{sdkAppId}/…, in the platform's envelope.
	sa := obs.Middleware("superapp", log, metrics, superapp.New(svc, log, cfg.superApp))
	for _, pattern := range superapp.Mounts {
		mux.Handle(pattern, sa)
	}
	mux.Handle("/v2/", obs.Middleware("enterprise", log, metrics, enterprise.New(svc, log)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := svc.Ready(ctx); err != nil {
			log.Error("readiness check failed", "err", err)
			http.Error(w, "store unavailable\n", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return withDeadline(cfg.bodies.Middleware(mux), cfg.requestTimeout)
}

// NewRegistry returns a Prometheus registry with the process and Go
// runtime collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// NewHTTPServer wraps h with timeouts that keep slow clients from holding
// connections forever.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}
