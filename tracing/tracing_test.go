package tracing_test

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"usercenter"
	"usercenter/core"
	"usercenter/core/storetest"
	"usercenter/tracing"
	"usercenter/uctest/svctest"
)

func TestEnabled(t *testing.T) {
	for _, c := range []struct {
		env     map[string]string
		on      bool
		refused bool
	}{
		{env: nil},
		{env: map[string]string{"OTEL_SERVICE_NAME": "uc", "OTEL_EXPORTER_OTLP_HEADERS": "a=b"}},
		{env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, on: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, on: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, on: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "false"}, on: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "none"}},
		{env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, refused: true},
		{env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, refused: true},
		{env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, refused: true},
		{env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, on: true},
	} {
		on, err := tracing.Enabled(func(k string) string { return c.env[k] })
		if on != c.on || (err != nil) != c.refused {
			t.Errorf("%v: on %v, error %v; want on %v, refused %v", c.env, on, err, c.on, c.refused)
		}
	}
}

// TestContract runs the store contract through the tracing wrapper, with
// every span recorded: it passes every argument and result through as
// the store beneath takes and gives them.
func TestContract(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	storetest.Run(t, func(t *testing.T) core.Store { return tracing.NewStore(svctest.OpenStore(t), tp) })
	if len(rec.Ended()) == 0 {
		t.Error("the contract ran through the wrapper without a span")
	}
}

// The store's spans: one per call, a Tx's under its Update, named after
// the method with nothing but the method in their attributes; a lookup
// that finds nothing is no error, a failure is one by its code only.
func TestStoreSpans(t *testing.T) {
	ctx := context.Background()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	s := tracing.NewStore(svctest.OpenStore(t), tp)

	if _, err := s.User(ctx, "2mP4bQ0qZ8vJ3sXk1yWn7cTfR5a"); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("User of nobody: %v", err)
	}
	failure := usercenter.Invalid(usercenter.FieldNickname, "must be %q", "Secret Value")
	err := s.Update(ctx, func(tx core.Tx) error {
		if err := tx.SetMeta(ctx, "traced", []byte("Secret Value")); err != nil {
			return err
		}
		return failure
	})
	if !errors.Is(err, failure) {
		t.Fatalf("Update: %v", err)
	}

	// fn may run more than once (see core.Store.Update): SetMeta's span
	// is in every run.
	spans := rec.Ended()
	var names []string
	for _, s := range spans {
		names = append(names, s.Name())
	}
	if len(spans) < 3 || names[0] != "store.User" || names[len(names)-1] != "store.Update" {
		t.Fatalf("spans %v, want store.User, tx.SetMeta (once a run), store.Update", names)
	}
	user, setMeta, update := spans[0], spans[1], spans[len(spans)-1]
	for _, c := range []struct {
		s            sdktrace.ReadOnlySpan
		name, method string
		status       codes.Code
	}{
		{user, "store.User", "User", codes.Unset},
		{setMeta, "tx.SetMeta", "SetMeta", codes.Unset},
		{update, "store.Update", "Update", codes.Error},
	} {
		if c.s.Name() != c.name || c.s.Status().Code != c.status {
			t.Errorf("span %q, status %v; want %q, %v", c.s.Name(), c.s.Status(), c.name, c.status)
		}
		if a := c.s.Attributes(); len(a) != 1 || a[0].Key != "db.operation.name" || a[0].Value.AsString() != c.method {
			t.Errorf("%s: attributes %v, want only db.operation.name=%s", c.name, a, c.method)
		}
	}
	if d := update.Status().Description; d != string(usercenter.EInvalid) {
		t.Errorf("the failed Update's status says %q, want only the code", d)
	}
	if setMeta.Parent().SpanID() != update.SpanContext().SpanID() {
		t.Error("the Tx call's span is not a child of its Update's")
	}
}

// nobody is a store whose every read finds nothing, at no cost.
type nobody struct{ core.Store }

func (nobody) User(ctx context.Context, userID string) (*core.UserRecord, error) {
	return nil, usercenter.NotFound(usercenter.ResourceUser)
}

// BenchmarkStoreSpan measures what a store span adds to one read:
// the read unwrapped (off), and wrapped with unsampled and sampled spans.
//
//	go test ./tracing -run '^$' -bench StoreSpan -benchmem
func BenchmarkStoreSpan(b *testing.B) {
	ctx := context.Background()
	sampled := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	defer sampled.Shutdown(ctx)
	for _, c := range []struct {
		name  string
		store core.Store
	}{
		{"off", nobody{}},
		{"unsampled", tracing.NewStore(nobody{}, sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample())))},
		{"sampled", tracing.NewStore(nobody{}, sampled)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.store.User(ctx, "2mP4bQ0qZ8vJ3sXk1yWn7cTfR5a")
			}
		})
	}
}
