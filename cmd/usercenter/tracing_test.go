package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"usercenter/uctest"
)

// otlpReceiver is an OTLP/HTTP trace receiver on loopback: it keeps every
// export's raw body and its decoded spans.
type otlpReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	raw   [][]byte
	spans []*tracepb.Span
	names []string // service.name of each export's resources
	bad   []string // what it could not decode
}

func newOTLPReceiver(t *testing.T, ln net.Listener) *otlpReceiver {
	t.Helper()
	o := &otlpReceiver{}
	o.srv = httptest.NewUnstartedServer(http.HandlerFunc(o.serve))
	if ln != nil {
		o.srv.Listener.Close()
		o.srv.Listener = ln
	}
	o.srv.Start()
	t.Cleanup(o.srv.Close)
	return o
}

func (o *otlpReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	o.mu.Lock()
	defer o.mu.Unlock()
	var req coltracepb.ExportTraceServiceRequest
	switch {
	case err != nil:
		o.bad = append(o.bad, err.Error())
	case r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf":
		o.bad = append(o.bad, fmt.Sprintf("%s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type")))
	default:
		if err := proto.Unmarshal(body, &req); err != nil {
			o.bad = append(o.bad, err.Error())
		}
	}
	o.raw = append(o.raw, body)
	for _, rs := range req.ResourceSpans {
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.Key == "service.name" {
				o.names = append(o.names, kv.Value.GetStringValue())
			}
		}
		for _, ss := range rs.ScopeSpans {
			o.spans = append(o.spans, ss.Spans...)
		}
	}
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

func (o *otlpReceiver) exports() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.raw)
}

func attr(s *tracepb.Span, key string) *commonpb.AnyValue {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value
		}
	}
	return nil
}

// authRecorder forwards the SDK's requests and keeps their Authorization
// headers, which hold the signatures.
type authRecorder struct {
	mu    sync.Mutex
	auths []string
}

func (a *authRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	a.mu.Lock()
	a.auths = append(a.auths, r.Header.Get("Authorization"))
	a.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// With the OTEL_* variables pointing at a collector, serve exports a span
// per request, named after its action and carrying its request ID, with
// the store's calls as children, continues a caller's W3C trace, and
// flushes on shutdown; and nothing it exports holds a phone number, an
// email, an address, a token, a secret or a signature.
func TestTracingExport(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	a := createApp(t, dir, "traced")
	rcv := newOTLPReceiver(t, nil)
	p := startServerEnv(t, dir, []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + rcv.srv.URL,
		"OTEL_SERVICE_NAME=usercenter-test",
	})
	base := "http://" + p.addr

	const (
		phone   = "13612346688"
		email   = "Tracy.Secret@Example.com"
		address = "42 Hidden Lane, Springfield"
	)
	body, _ := json.Marshal(map[string]any{"originId": "traced-1", "nickname": "Tracy", "phone": phone, "email": email, "address": address})
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/v1/apps/%d/users", base, a.SdkAppId), bytes.NewReader(body))
	req.SetBasicAuth(a.SecretId, a.SecretKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	created, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	createID := resp.Header.Get("X-Request-Id")
	var user struct{ UserId string }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(created, &user) != nil || user.UserId == "" {
		t.Fatalf("POST /v1 users: %d %s", resp.StatusCode, created)
	}

	rec := &authRecorder{}
	c := newClient(p.addr, a.SecretId, a.SecretKey)
	c.WithHttpTransport(rec)
	login := uctest.NewLoginUser()
	login.UserId = uctest.P(user.UserId)
	var sess struct{ UserId, Token string }
	if err := send(c, login, &sess); err != nil || sess.Token == "" {
		t.Fatalf("LoginUser: %v %+v", err, sess)
	}
	detail := uctest.NewDescribeUserDetail()
	detail.UserId = uctest.P(user.UserId)
	var described map[string]any
	if err := send(c, detail, &described); err != nil {
		t.Fatalf("DescribeUserDetail: %v", err)
	}

	// A caller's trace goes on: its trace ID, and its span as the parent.
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	code, _ := httpGet(t, base+"/v1/me", http.Header{
		"Authorization": {"Bearer " + sess.Token},
		"Traceparent":   {"00-" + traceID + "-" + parentID + "-01"},
	})
	if code != http.StatusOK {
		t.Fatalf("GET /v1/me: %d", code)
	}
	p.stop() // flushes what is queued

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.bad) > 0 {
		t.Fatalf("the receiver could not read exports: %v", rcv.bad)
	}
	if len(rcv.spans) == 0 {
		t.Fatalf("nothing exported\nstderr:\n%s", tail(p.stderr.String(), 3000))
	}
	for _, n := range rcv.names {
		if n != "usercenter-test" {
			t.Errorf("an export's service.name is %q, want OTEL_SERVICE_NAME's usercenter-test", n)
		}
	}

	byName := map[string][]*tracepb.Span{}
	children := map[string][]*tracepb.Span{} // by parent span ID
	for _, s := range rcv.spans {
		byName[s.Name] = append(byName[s.Name], s)
		children[string(s.ParentSpanId)] = append(children[string(s.ParentSpanId)], s)
	}
	names := func() []string {
		var l []string
		for n := range byName {
			l = append(l, n)
		}
		return l
	}
	one := func(name string) *tracepb.Span {
		t.Helper()
		if len(byName[name]) != 1 {
			t.Fatalf("%d spans named %q; the spans: %v", len(byName[name]), name, names())
		}
		return byName[name][0]
	}
	storeChildren := func(s *tracepb.Span) []string {
		var l []string
		for _, c := range children[string(s.SpanId)] {
			if strings.HasPrefix(c.Name, "store.") {
				l = append(l, c.Name)
			}
		}
		return l
	}

	create := one("v1.createUser")
	if create.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("the request span's kind is %v, want server", create.Kind)
	}
	if got := attr(create, "usercenter.request_id").GetStringValue(); got != createID || got == "" {
		t.Errorf("the request span's request ID is %q; the answer's X-Request-Id is %q", got, createID)
	}
	if got := attr(create, "http.response.status_code").GetIntValue(); got != http.StatusCreated {
		t.Errorf("the request span's status code is %d, want 201", got)
	}
	if got := attr(create, "usercenter.facade").GetStringValue(); got != "v1" {
		t.Errorf("the request span's facade is %q", got)
	}
	// The user was created in an Update, whose Tx calls are its children.
	var update *tracepb.Span
	for _, c := range children[string(create.SpanId)] {
		if c.Name == "store.Update" {
			update = c
		}
	}
	if update == nil {
		t.Fatalf("no store.Update span under the createUser request; its children: %v", storeChildren(create))
	}
	if !bytes.Equal(update.TraceId, create.TraceId) {
		t.Error("the store span is in another trace than its request")
	}
	var insert bool
	for _, c := range children[string(update.SpanId)] {
		if c.Name == "tx.InsertUser" && attr(c, "db.operation.name").GetStringValue() == "InsertUser" {
			insert = true
		}
	}
	if !insert {
		t.Errorf("no tx.InsertUser span under store.Update")
	}

	for _, name := range []string{"lcic.LoginUser", "lcic.DescribeUserDetail"} {
		s := one(name)
		if attr(s, "usercenter.request_id").GetStringValue() == "" || attr(s, "usercenter.result").GetStringValue() != "ok" {
			t.Errorf("%s: request ID %q, result %q", name, attr(s, "usercenter.request_id").GetStringValue(), attr(s, "usercenter.result").GetStringValue())
		}
	}
	if l := storeChildren(one("lcic.LoginUser")); len(l) == 0 {
		t.Errorf("no store span under LoginUser")
	}

	me := one("v1.getMe")
	if hex.EncodeToString(me.TraceId) != traceID || hex.EncodeToString(me.ParentSpanId) != parentID {
		t.Errorf("GET /v1/me with a traceparent: trace %x, parent %x; want %s, %s", me.TraceId, me.ParentSpanId, traceID, parentID)
	}

	// Nothing personal or secret, in any form a request carried it.
	rec.mu.Lock()
	forbidden := map[string]string{
		"phone": phone, "phone (E.164)": "8613612346688", "email": email, "email (lower case)": strings.ToLower(email),
		"address": address, "token": sess.Token, "secret key": a.SecretKey, "nickname": "Tracy",
	}
	if a.SuperAppSecretKey != "" {
		forbidden["super-app secret"] = a.SuperAppSecretKey
	}
	sigs := 0
	for i, auth := range rec.auths {
		if _, sig, ok := strings.Cut(auth, "Signature="); ok && sig != "" {
			forbidden[fmt.Sprintf("signature %d", i)] = sig
			sigs++
		}
	}
	rec.mu.Unlock()
	if sigs < 2 {
		t.Fatalf("the SDK's requests carried no TC3 signature to look for: %v", rec.auths)
	}
	basic, _ := http.NewRequest(http.MethodGet, base, nil)
	basic.SetBasicAuth(a.SecretId, a.SecretKey)
	forbidden["basic credentials"] = strings.TrimPrefix(basic.Header.Get("Authorization"), "Basic ")
	for _, raw := range rcv.raw {
		for what, v := range forbidden {
			if bytes.Contains(raw, []byte(v)) {
				t.Errorf("an export holds the %s", what)
			}
		}
	}
}

// Tracing stays off when the OTEL_* variables say so, and when none is
// set: then nothing is sent to the exporter's default endpoint either.
func TestTracingOff(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	a := createApp(t, dir, "untraced")
	rcv := newOTLPReceiver(t, nil)
	// The default endpoint of OTLP/HTTP, where an exporter with no
	// variables would send, over TLS: any connection there is an attempt.
	var dials atomic.Int32
	if ln, err := net.Listen("tcp", "127.0.0.1:4318"); err == nil {
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				dials.Add(1)
				conn.Close()
			}
		}()
	} else {
		t.Logf("cannot listen on the default OTLP port 127.0.0.1:4318 (%v): not checking that nothing is sent there", err)
	}
	for _, env := range [][]string{
		nil,
		{"OTEL_SDK_DISABLED=true", "OTEL_EXPORTER_OTLP_ENDPOINT=" + rcv.srv.URL},
		{"OTEL_TRACES_EXPORTER=none", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + rcv.srv.URL + "/v1/traces"},
	} {
		p := startServerEnv(t, dir, env)
		c := newClient(p.addr, a.SecretId, a.SecretKey)
		if _, err := register(c, a.SdkAppId, "Untraced", fmt.Sprintf("untraced-%d", time.Now().UnixNano())); err != nil {
			t.Fatalf("%v: RegisterUser: %v", env, err)
		}
		p.stop()
		if n := rcv.exports(); n != 0 {
			t.Errorf("%v: %d exports", env, n)
		}
		if n := dials.Load(); n != 0 {
			t.Errorf("%v: %d connections to the default OTLP endpoint", env, n)
		}
	}
}
