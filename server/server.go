// Package server assembles usercenter's HTTP surface: every facade behind
// the shared observability middleware, plus health and metrics endpoints.
package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"usercenter/core"
	"usercenter/enterprise"
	"usercenter/httpio"
	"usercenter/obs"
	"usercenter/restapi"
	"usercenter/scim"
	"usercenter/superapp"
	"usercenter/tcapi"
)

// Option configures the handler.
type Option func(*config)

type config struct {
	superApp       superapp.Config
	requestTimeout time.Duration // see WithRequestTimeout
	bodies         *httpio.BodyBudget
	noMetrics      bool                 // see WithoutMetrics
	tracer         trace.TracerProvider // see WithTracing; nil: no tracing
	console        http.Handler
}

// WithConsole mounts the web console's handler at /console/, and makes
// the root page a browser gets point to it (serve --console, on unless
// false).
func WithConsole(h http.Handler) Option {
	return func(c *config) { c.console = h }
}

// WithoutMetrics leaves /metrics out of the handler, for a server that
// serves it on a listener of its own (serve --metrics-addr, NewOpsHandler).
func WithoutMetrics() Option {
	return func(c *config) { c.noMetrics = true }
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
	mux, prefixed := routes(svc, log, reg, &cfg, func(facade string, h http.Handler) http.Handler {
		return obs.MiddlewareWithTimeout(facade, log, metrics, cfg.requestTimeout, traced(cfg.tracer, facade, h))
	})
	return cfg.bodies.Middleware(&byPrefix{mux: mux, routes: prefixed})
}

// routes registers every endpoint on a new mux, and returns it with the
// routes of the facades mounted at a fixed prefix, for byPrefix. Each
// facade's handler is served through serve(its name, handler): the
// shared middleware in NewHandler, which the routing test replaces with
// handlers that only name the facade, so that it checks byPrefix against
// the routes served.
func routes(svc *core.Service, log *slog.Logger, reg *prometheus.Registry, cfg *config, serve func(facade string, h http.Handler) http.Handler) (*http.ServeMux, []prefixRoute) {
	mux := http.NewServeMux()
	// Tencent Cloud API 3.0 lives at the root path, whatever the method;
	// the facade answers unsupported methods in its own envelope.
	lcic := tcapi.New(svc, log)
	// Facades mounted at a fixed prefix, for the shortcut past the mux.
	var prefixed []prefixRoute
	mount := func(prefix string, h http.Handler) {
		mux.Handle(prefix, h)
		prefixed = append(prefixed, prefixRoute{prefix, h})
	}
	mux.Handle("/{$}", browserPage(serve("lcic", lcic), cfg.console != nil))
	if cfg.console != nil {
		mux.Handle("/console/", serve("console", cfg.console))
		mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
	}
	// The native REST API owns everything under /v1/, and answers unknown
	// routes and methods there with its own problem details.
	mount("/v1/", serve("v1", restapi.New(svc, log)))
	// The super-app user API answers under /superapp/, /user/ and
	// /apps/{sdkAppId}/…, in the platform's envelope.
	sa := serve("superapp", superapp.New(svc, log, cfg.superApp))
	for _, pattern := range superapp.Mounts {
		if strings.Contains(pattern, "{") {
			mux.Handle(pattern, sa)
		} else {
			mount(pattern, sa)
		}
	}
	mount("/v2/", serve("enterprise", enterprise.New(svc, log)))
	// SCIM 2.0 answers everything under /scim/v2/ in its own error format.
	mount(scim.Prefix, serve("scim", scim.New(svc, log)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	// The facades' requests get their deadline from the middleware above;
	// of the rest only readiness waits on the store.
	mux.Handle("GET /readyz", withDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := svc.Ready(ctx); err != nil {
			log.Error("readiness check failed", "err", err)
			http.Error(w, "store unavailable\n", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	}), cfg.requestTimeout))
	if !cfg.noMetrics {
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	}
	return mux, prefixed
}

// byPrefix sends a request whose path starts with a facade's fixed prefix
// straight to that facade, as mux would, without mux's matching: it
// allocates, on every request, what it matched ("/v1/" and the rest of
// the path), and the facade's own router matches the path again anyway.
// Only requests that mux routes by their prefix alone take the shortcut:
// not CONNECT, a path mux would not redirect to its clean form, and no
// escaped form of their own (mux matches "/v1%2Fme" as one segment). The
// prefixes are the only patterns under them.
type byPrefix struct {
	mux    *http.ServeMux
	routes []prefixRoute
}

type prefixRoute struct {
	prefix  string
	handler http.Handler
}

func (b *byPrefix) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; r.Method != http.MethodConnect && r.URL.RawPath == "" && isCleanPath(p) {
		for _, rt := range b.routes {
			if strings.HasPrefix(p, rt.prefix) {
				rt.handler.ServeHTTP(w, r)
				return
			}
		}
	}
	b.mux.ServeHTTP(w, r)
}

// isCleanPath reports whether ServeMux would serve p as it is rather than
// redirect to its clean form: path.Clean(p), with p's trailing slash.
func isCleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	np := path.Clean(p)
	if np == p {
		return true
	}
	return p[len(p)-1] == '/' && len(p) == len(np)+1 && p[:len(np)] == np
}

// NewOpsHandler serves what is for operators only, on a listener of its
// own (serve --metrics-addr): /metrics, and with pprof the profiles of
// net/http/pprof under /debug/pprof/ (serve --pprof), which show the
// program's internals and cost CPU while they run.
func NewOpsHandler(reg *prometheus.Registry, withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// browserPage answers a browser's GET of the root, which would otherwise
// get the LCIC envelope saying that the request is not signed, with a
// page saying what this server is and where its documentation is. API
// clients, which do not ask for HTML first, keep the envelope.
func browserPage(lcic http.Handler, console bool) http.Handler {
	page := rootPage(console)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.URL.RawQuery != "" ||
			r.Header.Get("Authorization") != "" || !wantsHTML(r.Header.Get("Accept")) {
			lcic.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'")
		if r.Method == http.MethodHead {
			return
		}
		io.WriteString(w, page)
	})
}

// wantsHTML reports whether an Accept header asks for HTML, as browsers'
// do ("text/html,application/xhtml+xml,…").
func wantsHTML(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		media, _, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(media), "text/html") {
			return true
		}
	}
	return false
}

// rootPage is what a browser gets at /: with the console on, a link to it.
func rootPage(console bool) string {
	consoleLine := `<p>The admin console is off on this server (serve --console=false).</p>`
	if console {
		consoleLine = `<p><a href="/console/">Open the admin console</a>.</p>`
	}
	return strings.Replace(rootPageTemplate, "<!--console-->", consoleLine, 1)
}

const rootPageTemplate = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>usercenter</title></head>
<body>
<h1>usercenter</h1>
<p>This is a usercenter server: a user identity and profile service, for programs to call.</p>
<!--console-->
<p>What it serves, documented in the docs folder of usercenter's source:</p>
<ul>
<li>the REST API under <a href="/v1/openapi.json">/v1</a> (docs/api.md; its OpenAPI document is <a href="/v1/openapi.json">/v1/openapi.json</a>),</li>
<li>the LCIC user actions of Tencent Cloud API 3.0, at this address, signed (docs/lcic.md),</li>
<li>the super-app user API under /superapp/ (docs/superapp.md),</li>
<li>the enterprise end-user API under /v2/ (docs/enterprise.md),</li>
<li>SCIM 2.0 for identity providers under /scim/v2/ (docs/scim.md),</li>
<li>health checks at <a href="/healthz">/healthz</a> and <a href="/readyz">/readyz</a> (docs/deployment.md).</li>
</ul>
</body>
</html>
`

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
