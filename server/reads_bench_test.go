package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"usercenter"
	"usercenter/aksig"
	"usercenter/core"
	"usercenter/replay"
	"usercenter/sacipher"
	"usercenter/server"
	"usercenter/storecache"
	"usercenter/tcapi"
	"usercenter/tracing"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

// readsEnv is the handler of `usercenter serve` with its default request
// timeout, but for the rate limiter, over a cached store with readUsers
// users, each with a phone and an email, as `usercenter bench` seeds
// them, and what the four read scenarios of the bench send.
type readsEnv struct {
	h       http.Handler
	app     *usercenter.App
	key     *usercenter.APIKey
	users   []string
	tokens  []string // login tokens of the first users
	qjwt    string   // an enterprise access token of a key without pii.read
	tsSuper string
	sig     string
}

const readUsers = 10000

func newReadsEnv(b *testing.B) *readsEnv {
	b.Helper()
	ctx := context.Background()
	var base core.Store = svctest.OpenStore(b)
	tp := benchTracing(b)
	if tp != nil {
		base = tracing.NewStore(base, tp)
	}
	store := storecache.New(base, storecache.DefaultLimits)
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// No rate limiter: served in process, one goroutine outruns the
	// highest rate an app may have (100,000 requests a second).
	svc, err := core.NewService(ctx, store, ring,
		core.WithReplayMemory(replay.New(core.ReplayWindow, replay.DefaultShare)), core.WithLogger(log))
	if err != nil {
		b.Fatal(err)
	}
	app, key, err := svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: "reads", RateLimit: 100000})
	if err != nil {
		b.Fatal(err)
	}
	e := &readsEnv{app: app, key: key, users: make([]string, readUsers)}
	// serve's default --request-timeout.
	opts := []server.Option{server.WithSuperAppDefault(app.SdkAppID), server.WithRequestTimeout(10 * time.Second)}
	if tp != nil {
		opts = append(opts, server.WithTracing(tp))
	}
	e.h = server.NewHandler(svc, log, server.NewRegistry(), opts...)

	// Many at once, so that the writer commits them in groups.
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for w := range 64 {
		wg.Go(func() {
			for i := w; i < readUsers; i += 64 {
				phone, email := fmt.Sprintf("+86139%08d", i), fmt.Sprintf("reader%d@example.com", i)
				name := fmt.Sprint("Reader ", i)
				u, err := svctest.CreateUser(svc, ctx, key.Actor(), app.SdkAppID, core.UserPatch{Nickname: &name, Phone: &phone, Email: &email})
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				e.users[i] = u.ID
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	for _, id := range e.users[:1024] {
		s, err := svctest.LoginUser(svc, ctx, key.Actor(), id)
		if err != nil {
			b.Fatal(err)
		}
		e.tokens = append(e.tokens, s.Token)
	}
	reader, err := svc.CreateKey(ctx, usercenter.Operator(), "reader", []uint64{app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead})
	if err != nil {
		b.Fatal(err)
	}
	username := "ver=1&auth_mode=accessKey&sign_method=sha256&access_key=" + reader.SecretID + "&timestamp=" + strconv.FormatInt(time.Now().UnixMilli(), 10)
	sess, err := svc.AccessKeyLogin(ctx, username, aksig.Password(username, reader.SecretKey))
	if err != nil {
		b.Fatal(err)
	}
	e.qjwt = "QJWT " + sess.Token
	e.tsSuper = strconv.FormatInt(time.Now().UnixMilli(), 10)
	if e.sig, err = sacipher.Signature(app.SuperAppSecretKey, e.tsSuper); err != nil {
		b.Fatal(err)
	}
	return e
}

// benchTracing is the tracing that USERCENTER_BENCH_TRACING asks the
// read benchmarks for, as serve would install it: none (unset, as serve
// without OTEL_* variables), "unsampled" (spans made and dropped at once,
// as with OTEL_TRACES_SAMPLER=always_off) or "sampled" (every span
// recorded and handed to an exporter that drops it: the whole cost of
// tracing in this process).
func benchTracing(b *testing.B) trace.TracerProvider {
	var tp *sdktrace.TracerProvider
	switch mode := os.Getenv("USERCENTER_BENCH_TRACING"); mode {
	case "":
		return nil
	case "unsampled":
		tp = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	case "sampled":
		tp = sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	default:
		b.Fatalf("USERCENTER_BENCH_TRACING=%q: want unsampled or sampled", mode)
	}
	b.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp
}

// recorder is a ResponseWriter that keeps only what a check needs, so
// that the benchmark measures the server rather than the recording.
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) WriteHeader(s int)   { r.status = s }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) reset() {
	clear(r.h)
	r.status = 0
	r.body.Reset()
}

// prepared is a request to send again and again, body included.
type prepared struct {
	req  *http.Request
	body []byte
	want string // in the answer's body
}

func (p *prepared) serve(h http.Handler, w *recorder) {
	w.reset()
	if p.body != nil {
		p.req.Body = io.NopCloser(bytes.NewReader(p.body))
		p.req.ContentLength = int64(len(p.body))
	}
	h.ServeHTTP(w, p.req)
}

func newPrepared(method, target string, body []byte, want string) *prepared {
	req, _ := http.NewRequest(method, "http://usercenter.test"+target, nil)
	req.Host = "usercenter.test"
	req.RemoteAddr = "127.0.0.1:1"
	return &prepared{req: req, body: body, want: want}
}

// readScenario is one read scenario of `usercenter bench`: make builds
// the request for the i-th user (or token).
type readScenario struct {
	name string
	make func(i int) *prepared
}

func (e *readsEnv) scenarios() []readScenario {
	return []readScenario{
		{"describe", func(i int) *prepared {
			id := e.users[i%len(e.users)]
			body := []byte(`{"UserId":"` + id + `"}`)
			p := newPrepared("POST", "/", body, id)
			p.req.Header.Set("Content-Type", "application/json")
			p.req.Header.Set("X-TC-Action", "DescribeUser")
			p.req.Header.Set("X-TC-Version", tcapi.Version)
			uctest.SignTC3(p.req, body, e.key.SecretID, e.key.SecretKey, "", time.Now(), nil, "")
			return p
		}},
		{"me", func(i int) *prepared {
			p := newPrepared("GET", "/v1/me", nil, `"userId"`)
			p.req.Header.Set("Authorization", "Bearer "+e.tokens[i%len(e.tokens)])
			return p
		}},
		{"superapp-nick", func(i int) *prepared {
			id := e.users[i%len(e.users)]
			p := newPrepared("POST", "/superapp/user/getUserNick", []byte(`{"UserId":"`+id+`"}`), fmt.Sprint("Reader ", i%len(e.users)))
			p.req.Header.Set("Content-Type", "application/json")
			p.req.Header.Set("TC-Timestamp", e.tsSuper)
			p.req.Header.Set("TC-Signature", e.sig)
			return p
		}},
		{"enterprise-userinfo", func(i int) *prepared {
			id := e.users[i%len(e.users)]
			p := newPrepared("GET", "/v2/enduser/enterpriseapi/userInfo?uid="+id, nil, `"139****`)
			p.req.Header.Set("Authorization", e.qjwt)
			return p
		}},
	}
}

// runReads runs each scenario over its first n users (or tokens), picked
// at random.
func runReads(b *testing.B, e *readsEnv, n int) {
	for _, sc := range e.scenarios() {
		// Prepared up front, signatures included: the client's work is
		// not the server's.
		reqs := make([]*prepared, n)
		for i := range reqs {
			reqs[i] = sc.make(i)
		}
		w := &recorder{h: http.Header{}}
		for _, p := range reqs[:8] {
			p.serve(e.h, w)
			if w.status != http.StatusOK || !strings.Contains(w.body.String(), p.want) {
				b.Fatalf("%s: %d %s, want %s", sc.name, w.status, w.body.String(), p.want)
			}
		}
		b.Run(sc.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				reqs[rng.IntN(len(reqs))].serve(e.h, w)
			}
			if cpu := processCPU() - cpu; cpu > 0 {
				// The process's CPU, garbage collection included.
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
			if w.status != http.StatusOK {
				b.Fatalf("%s: %d %s", sc.name, w.status, w.body.String())
			}
		})
	}
}

// BenchmarkReads serves the read scenarios of `usercenter bench` straight
// to the handler, without a network or a client: the server's own cost of
// one request, caches included (each picks a random one of 10,000 users,
// or of 1,024 logged-in ones for me).
//
//	go test ./server -run '^$' -bench Reads -benchmem
func BenchmarkReads(b *testing.B) {
	e := newReadsEnv(b)
	runReads(b, e, len(e.users))
}

// BenchmarkSignedRequest serves the same four reads over 64 users, whose
// cards, keys, apps and tokens stay in the caches (each entry is read
// again many times within its lifetime): what is left is the request's
// own cost, its authentication, decoding, encoding and middleware,
// without the store's read that a bare lookup pays too.
//
//	go test ./server -run '^$' -bench SignedRequest -benchmem
func BenchmarkSignedRequest(b *testing.B) {
	e := newReadsEnv(b)
	runReads(b, e, 64)
}
