// Package tracing exports OpenTelemetry traces of requests and store
// calls over OTLP/HTTP, when the standard OTEL_* variables ask for it.
//
// Tracing is off unless OTEL_TRACES_EXPORTER is "otlp" or an OTLP
// endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and OTEL_SDK_DISABLED=true turns it
// off whatever else is set. While it is off nothing is wrapped: the
// server and the store run exactly as without this package.
//
// What a span carries is chosen here and in the server's middleware, never
// taken from a request: names of actions and store methods, status and
// result codes, the request ID. No value a client sent or a store holds,
// so no personal data and no secret, goes into a span.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// ServiceName is the service.name of the spans unless OTEL_SERVICE_NAME
// or OTEL_RESOURCE_ATTRIBUTES names another.
const ServiceName = "usercenter"

// instrumentation names the tracer of this program's spans.
const instrumentation = "usercenter"

// Enabled reports whether the variables read through getenv ask for
// traces, and refuses settings this build cannot honour: an exporter
// other than OTLP, or OTLP over gRPC or JSON (only http/protobuf is
// built in).
func Enabled(getenv func(string) string) (bool, error) {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false, nil
	}
	exporter := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))
	switch exporter {
	case "", "otlp":
	case "none":
		return false, nil
	default:
		return false, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: usercenter exports traces only over OTLP (otlp) or not at all (none)", exporter)
	}
	if exporter == "" && getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return false, nil
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		switch p := strings.TrimSpace(getenv(name)); p {
		case "", "http/protobuf":
		default:
			return false, fmt.Errorf("%s=%q: usercenter exports OTLP traces only as http/protobuf", name, p)
		}
	}
	return true, nil
}

// Tracing is a running exporter of traces.
type Tracing struct {
	provider *sdktrace.TracerProvider
}

// Start starts exporting traces as the OTEL_* variables say, or returns
// nil when they leave tracing off (see Enabled). The exporter reads the
// OTEL_EXPORTER_OTLP_* variables itself (endpoint, headers, timeout,
// TLS), the resource OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, the
// provider OTEL_TRACES_SAMPLER and OTEL_BSP_*: all from the process's
// environment, which getenv must therefore be a view of.
//
// Errors of the export itself (a collector that is down) go to log, never
// to the requests traced.
func Start(ctx context.Context, getenv func(string) string, log *slog.Logger) (*Tracing, error) {
	on, err := Enabled(getenv)
	if err != nil || !on {
		return nil, err
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing: exporting spans failed", "err", err)
	}))
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: the OTLP exporter: %w", err)
	}
	// Later options win: the environment names the service over the default.
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", ServiceName)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		exp.Shutdown(ctx)
		return nil, fmt.Errorf("tracing: the resource (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES): %w", err)
	}
	return &Tracing{provider: sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))}, nil
}

// Provider is the provider of the spans to export; nil has none.
func (t *Tracing) Provider() trace.TracerProvider {
	if t == nil {
		return nil
	}
	return t.provider
}

// Shutdown exports the spans still queued and stops the exporter, waiting
// at most until ctx ends.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.provider.Shutdown(ctx)
}

// ShutdownTimeout is how long serve lets Shutdown flush on the way out.
const ShutdownTimeout = 5 * time.Second

// Tracer is this program's tracer from tp.
func Tracer(tp trace.TracerProvider) trace.Tracer {
	return tp.Tracer(instrumentation)
}
