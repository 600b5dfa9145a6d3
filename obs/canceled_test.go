package obs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"usercenter"
	"usercenter/obs"
)

// records keeps every log record, at every level.
type records struct {
	mu  sync.Mutex
	all []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.all = append(h.all, r)
	return nil
}
func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

// serve runs one request through the middleware whose handler fails with
// result and cause; gone cancels the request's context first, as net/http
// does when the client hangs up.
func serve(t *testing.T, gone bool, result string, cause error) (slog.Record, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	log := &records{}
	h := obs.Middleware("test", slog.New(log), obs.NewMetrics(reg), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := obs.FromContext(r.Context())
		info.Action = "Act"
		info.SetResult(result, cause)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if gone {
		cancel()
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))
	if len(log.all) != 1 {
		t.Fatalf("%d log lines, want 1", len(log.all))
	}
	return log.all[0], reg
}

func count(t *testing.T, reg *prometheus.Registry, code string) float64 {
	t.Helper()
	n, err := testutil.GatherAndCount(reg, "usercenter_requests_total")
	if err != nil || n != 1 {
		t.Fatalf("%d request series (%v), want 1", n, err)
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "code" && l.GetValue() == code {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestCanceledRequest(t *testing.T) {
	canceled := fmt.Errorf("reading: %w", context.Canceled)
	for _, c := range []struct {
		name      string
		gone      bool
		result    string
		cause     error
		wantCode  string
		wantLevel slog.Level
	}{
		{"client gone, bare context error", true, "InternalError", canceled, obs.ResultCanceled, slog.LevelDebug},
		{"client gone, mapped to internal", true, "500", usercenter.Internal(canceled), obs.ResultCanceled, slog.LevelDebug},
		// A commit cut short has an unknown outcome: still the facade's
		// unavailable, and still worth an operator's look.
		{"client gone, commit outcome unknown", true, "ServiceUnavailable",
			&usercenter.Error{Code: usercenter.EUnavailable, Message: "the outcome is unknown", Err: canceled}, "ServiceUnavailable", slog.LevelError},
		{"client gone, another failure", true, "InternalError", errors.New("disk full"), "InternalError", slog.LevelError},
		// A context canceled inside the server while the client still
		// waits is a bug to see.
		{"client there, canceled inside", false, "InternalError", canceled, "InternalError", slog.LevelError},
		{"client gone, no failure", true, "ok", nil, "ok", slog.LevelInfo},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec, reg := serve(t, c.gone, c.result, c.cause)
			if rec.Level != c.wantLevel {
				t.Errorf("logged %q at %v, want %v", rec.Message, rec.Level, c.wantLevel)
			}
			if n := count(t, reg, c.wantCode); n != 1 {
				t.Errorf("usercenter_requests_total{code=%q} = %v, want 1", c.wantCode, n)
			}
			var result string
			rec.Attrs(func(a slog.Attr) bool {
				if a.Key == "result" {
					result = a.Value.String()
				}
				return true
			})
			if result != c.wantCode {
				t.Errorf("logged result %q, want %q", result, c.wantCode)
			}
			if c.wantLevel == slog.LevelDebug && strings.Contains(rec.Message, "failed") {
				t.Errorf("a canceled request logged as %q", rec.Message)
			}
		})
	}
}
