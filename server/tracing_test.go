package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"usercenter/obs"
)

// TestTracedKeepsNoClientTraceState: a caller's traceparent makes the
// request's span a child of the caller's, but its tracestate, free text of
// the client's, is not carried into the span (nor, through it, into the
// store's spans), since nothing a client sent may reach the collector.
func TestTracedKeepsNoClientTraceState(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	var inner string
	facade := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner = trace.SpanContextFromContext(r.Context()).TraceState().String()
		obs.FromContext(r.Context()).Action = "v1.getMe"
		w.WriteHeader(http.StatusOK)
	})
	h := obs.Middleware("v1", log, nil, traced(tp, "v1", facade))
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
	req.Header.Set("Traceparent", "00-"+traceID+"-"+parentID+"-01")
	req.Header.Set("Tracestate", "vendor=mu.zhiming@tencent.com")
	h.ServeHTTP(httptest.NewRecorder(), req)

	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans ended, want 1", len(spans))
	}
	sc := spans[0].SpanContext()
	if sc.TraceID().String() != traceID || spans[0].Parent().SpanID().String() != parentID {
		t.Fatalf("span of trace %s, parent %s; want the caller's %s, %s", sc.TraceID(), spans[0].Parent().SpanID(), traceID, parentID)
	}
	if ts := sc.TraceState().String(); ts != "" {
		t.Errorf("the request's span carries the client's tracestate %q", ts)
	}
	if inner != "" {
		t.Errorf("the handler's context carries the client's tracestate %q, which the store's spans inherit", inner)
	}
}
