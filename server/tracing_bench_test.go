package server

import (
	"context"
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

// BenchmarkTracingMiddleware measures what the request span adds to a
// request that does nothing else, behind obs.Middleware as serve stacks
// them: off (no middleware, as serve without OTEL_* variables), unsampled
// (a span made and dropped) and sampled (recorded and handed to an
// exporter that drops it).
//
//	go test ./server -run '^$' -bench TracingMiddleware -benchmem
func BenchmarkTracingMiddleware(b *testing.B) {
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	facade := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := obs.FromContext(r.Context())
		req.Action, req.Result = "v1.getMe", "ok"
		w.WriteHeader(http.StatusOK)
	})
	sampled := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	defer sampled.Shutdown(context.Background())
	for _, c := range []struct {
		name string
		tp   trace.TracerProvider
	}{
		{"off", nil},
		{"unsampled", sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))},
		{"sampled", sampled},
	} {
		h := obs.Middleware("v1", log, nil, traced(c.tp, "v1", facade))
		req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(discardWriter{}, req)
			}
		})
	}
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}
