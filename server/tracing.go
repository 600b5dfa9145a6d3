package server

import (
	"context"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"usercenter"
	"usercenter/obs"
	"usercenter/tracing"
)

// WithTracing makes a span of every request a facade serves, with tp's
// tracer (serve, when the OTEL_* variables turn tracing on). Without it
// nothing is traced and nothing is wrapped.
func WithTracing(tp trace.TracerProvider) Option {
	return func(c *config) { c.tracer = tp }
}

// traceContext reads the W3C traceparent header, so that a caller's
// trace goes on through this server. It reads tracestate too, which
// callerSpan drops.
var traceContext = propagation.TraceContext{}

// callerSpan is the context of the caller's span that r names in its
// traceparent, if any, without its tracestate: that is free text of the
// client's, which every span of the request would otherwise carry to the
// collector, and nothing a client sent may go into a span.
func callerSpan(r *http.Request) context.Context {
	ctx := traceContext.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	if sc := trace.SpanContextFromContext(ctx); sc.TraceState().Len() > 0 {
		ctx = trace.ContextWithRemoteSpanContext(ctx, sc.WithTraceState(trace.TraceState{}))
	}
	return ctx
}

// traced wraps a facade's handler, inside obs.Middleware, which has given
// the request its ID and which the facade tells its action and result.
// The span is named after the action, as the metrics label it, with its
// facade ("lcic.RegisterUser", "v1.createUser"), never after the path,
// which holds IDs. It carries
// those names, the request ID, the HTTP status, the facade's result code
// and, for a request that failed inside the server, the domain error
// code: nothing the client sent but the method.
func traced(tp trace.TracerProvider, facade string, next http.Handler) http.Handler {
	if tp == nil {
		return next
	}
	tracer := tracing.Tracer(tp)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := callerSpan(r)
		ctx, span := tracer.Start(ctx, facade, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", method(r.Method))))
		sw := &tracedWriter{ResponseWriter: w, status: http.StatusOK}
		// Deferred, so that a request whose handler panics (obs answers
		// it) still ends its span.
		defer func() {
			if !span.IsRecording() { // not sampled: nothing to describe
				span.End()
				return
			}
			req := obs.FromContext(ctx)
			if req.Action != "" {
				span.SetName(spanName(facade, req.Action))
			}
			attrs := []attribute.KeyValue{
				attribute.String("usercenter.facade", facade),
				attribute.String("usercenter.request_id", req.ID),
				attribute.String("usercenter.action", req.Action),
				attribute.String("usercenter.result", req.Result),
				attribute.Int("http.response.status_code", sw.status),
			}
			if req.Err != nil {
				code := string(usercenter.ErrorCode(req.Err))
				attrs = append(attrs, attribute.String("error.type", code))
				span.SetStatus(codes.Error, code)
			} else if sw.status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(sw.status))
			}
			span.SetAttributes(attrs...)
			span.End()
		}()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

// spanName names a request's span: its action, which every facade but
// LCIC already prefixes with its name.
func spanName(facade, action string) string {
	if strings.HasPrefix(action, facade+".") {
		return action
	}
	return facade + "." + action
}

// method is r.Method, or "_OTHER" for one HTTP does not define, which a
// client may spell however it likes.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// tracedWriter remembers the status a facade answered.
type tracedWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *tracedWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *tracedWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}
