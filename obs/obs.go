// Package obs gives every HTTP request an ID, a structured log line and
// Prometheus metrics, whatever facade serves it.
package obs

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"usercenter"
)

// Request is what a facade tells the middleware about the request it
// served. Facades fill Action and Result; nothing personal goes in here.
type Request struct {
	ID     string
	Facade string
	Action string
	Result string // the facade's own result code, e.g. "ok" or "AuthFailure.SignatureFailure"
	Err    error  // an internal error to log; never shown to callers
}

// ResultCanceled is the result, in the log and the metrics' code label, of
// a request whose client went away before it ended (its context was
// canceled), whatever the facade.
const ResultCanceled = "canceled"

type ctxKey struct{}

// FromContext returns the request being served, or a throwaway one.
func FromContext(ctx context.Context) *Request {
	if r, ok := ctx.Value(ctxKey{}).(*Request); ok {
		return r
	}
	return &Request{}
}

// requestContext is the request's context, carrying its Request, as
// context.WithValue would but without an allocation of its own: it lives
// in the request's served.
type requestContext struct {
	context.Context
	req *Request
}

func (c *requestContext) Value(key any) any {
	if key == (ctxKey{}) {
		return c.req
	}
	return c.Context.Value(key)
}

// served is what the middleware keeps of one request, allocated at once.
type served struct {
	req      Request
	sw       statusWriter
	ctx      requestContext
	idHeader [1]string // the X-Request-Id header's values
}

// newRequestID returns a random (version 4) UUID, as uuid.NewString does
// but with one allocation instead of two: the random bytes stay on the
// stack (crypto/rand.Read keeps them there for its default Reader).
func newRequestID() string {
	var u uuid.UUID
	rand.Read(u[:])         // never fails: it crashes the program instead
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // variant 10 (RFC 9562)
	return u.String()
}

// SetResult records how the request ended: the facade's result code and,
// when it failed inside the server, the internal error behind it, which is
// logged and never shown to the caller. A nil cause leaves an error
// recorded earlier in place.
func (r *Request) SetResult(result string, cause error) {
	r.Result = result
	if cause != nil {
		r.Err = cause
	}
}

// Metrics holds the collectors shared by all facades.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// children caches each label set's counter and histogram: resolving
	// one through the vector hashes and checks its labels on every
	// request. Labels are only known actions and result codes, so the
	// cache stays as small as the series themselves.
	children sync.Map // labels -> *child
}

// labels are the labels of one request's series.
type labels struct{ facade, action, code string }

type child struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// NewMetrics registers the request metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "usercenter_requests_total",
			Help: "Requests served, by facade, action and result code.",
		}, []string{"facade", "action", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "usercenter_request_duration_seconds",
			Help:    "Time to serve a request, by facade and action.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"facade", "action"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// observe counts one request and records how long it took.
func (m *Metrics) observe(l labels, elapsed time.Duration) {
	c, ok := m.children.Load(l)
	if !ok {
		c, _ = m.children.LoadOrStore(l, &child{
			requests: m.requests.WithLabelValues(l.facade, l.action, l.code),
			latency:  m.latency.WithLabelValues(l.facade, l.action),
		})
	}
	ch := c.(*child)
	ch.requests.Inc()
	ch.latency.Observe(elapsed.Seconds())
}

// Middleware wraps a facade's handler: it assigns the request ID (also
// sent as the X-Request-Id header), then logs and measures the request.
func Middleware(facade string, log *slog.Logger, m *Metrics, next http.Handler) http.Handler {
	return MiddlewareWithTimeout(facade, log, m, 0, next)
}

// MiddlewareWithTimeout is Middleware that also ends the request's
// context timeout after the request began (serve --request-timeout),
// unless timeout is 0: with the context this middleware gives the request
// anyway, which spares a copy of the request for the deadline alone.
func MiddlewareWithTimeout(facade string, log *slog.Logger, m *Metrics, timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sv := &served{}
		req, sw := &sv.req, &sv.sw
		*req = Request{ID: newRequestID(), Facade: facade}
		sv.idHeader[0] = req.ID
		w.Header()["X-Request-Id"] = sv.idHeader[:] // canonical already: Set would allocate the slice
		*sw = statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				// A handler bug must not kill the process or leak a stack
				// trace to the caller.
				log.Error("panic serving request", "request_id", req.ID, "facade", facade, "panic", p)
				if !sw.wrote {
					http.Error(sw, "internal error", http.StatusInternalServerError)
				}
				req.Result = "panic"
			}
			elapsed := time.Since(start)
			// A client that went away is no failure of the server: it is
			// counted apart and logged for debugging only, whatever the
			// facade answered the connection nobody reads any more.
			canceled := req.Err != nil && r.Context().Err() != nil && usercenter.Canceled(req.Err)
			if canceled {
				req.Result = ResultCanceled
			}
			action := req.Action
			if action == "" {
				action = "unknown"
			}
			if m != nil {
				m.observe(labels{facade, action, req.Result}, elapsed)
			}
			level, msg := slog.LevelInfo, "request"
			switch {
			case canceled:
				level, msg = slog.LevelDebug, "request canceled by the client"
			case req.Err != nil:
				level, msg = slog.LevelError, "request failed"
			}
			// The attributes cost a dozen allocations: build them only for
			// a line that will be written (serve --log-level warn skips
			// every successful request).
			ctx := r.Context()
			if !log.Enabled(ctx, level) {
				return
			}
			attrs := []any{
				"request_id", req.ID, "facade", facade, "action", req.Action, "result", req.Result,
				"status", sw.status, "duration_ms", strconv.FormatFloat(float64(elapsed.Microseconds())/1000, 'f', 3, 64),
				"remote", r.RemoteAddr,
			}
			if req.Err != nil {
				attrs = append(attrs, "err", req.Err)
			}
			log.Log(ctx, level, msg, attrs...)
		}()
		parent := r.Context()
		if timeout > 0 {
			var cancel context.CancelFunc
			parent, cancel = context.WithTimeout(parent, timeout)
			defer cancel()
		}
		sv.ctx = requestContext{Context: parent, req: req}
		ctx := usercenter.WithRequestID(&sv.ctx, req.ID)
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}
