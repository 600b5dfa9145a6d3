package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"usercenter/uctest/svctest"
)

// The shortcut past the mux picks, for every request it takes, the handler
// the mux would pick, and leaves to the mux every request it would
// redirect or route otherwise. Both are built by routes, as NewHandler
// builds them, so every route registered there is checked; each facade's
// handler only names its facade, so that the answers tell which route
// was taken.
func TestByPrefixRoutesAsTheMux(t *testing.T) {
	svc, _ := svctest.New(t)
	marker := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(name)) })
	}
	cfg := config{console: http.NotFoundHandler()}
	mux, prefixed := routes(svc, slog.New(slog.DiscardHandler), prometheus.NewRegistry(), &cfg,
		func(facade string, _ http.Handler) http.Handler { return marker(facade) })
	if len(prefixed) == 0 {
		t.Fatal("routes mounted no facade at a fixed prefix")
	}
	b := &byPrefix{mux: mux, routes: prefixed}

	targets := []string{
		"/v1/me", "/v1/", "/v1", "/v1/users/u1:erase", "/v1//me", "/v1/./me", "/v1/../v2/x", "/v1/me/..",
		"/v1%2Fme", "/v1/a%2Fb", "/v%31/me", "/superapp/user/getUserNick", "/user/x", "/apps/1/superapp/user/x",
		"/apps/1/user/x", "/v2/enduser/enterpriseapi/userInfo?uid=x", "/scim/v2/Users", "/scim/v2", "/scim/v2/../../v1/me",
		"/", "/healthz", "/readyz", "/metrics", "/console", "/console/", "/console/users/x", "/nothing", "/v1/me/", "/v1/me/.",
	}
	// Under every prefix, whatever facades routes mounts.
	for _, rt := range prefixed {
		p := rt.prefix
		targets = append(targets, p, p+"x", p+"x/", strings.TrimSuffix(p, "/"), p+"./x", p+"../x", p+"x/..", p+"/x",
			p+"a%2Fb", strings.TrimSuffix(p, "/")+"%2Fx", strings.ToUpper(p)+"x")
	}
	for _, target := range targets {
		for _, method := range []string{"GET", "POST", "CONNECT"} {
			u, err := url.Parse(target)
			if err != nil {
				t.Fatal(err)
			}
			r := &http.Request{Method: method, URL: u, Host: "usercenter.test", Header: http.Header{}, RequestURI: target}
			if method == "CONNECT" {
				r.URL.Host = "usercenter.test"
			}
			want := httptest.NewRecorder()
			mux.ServeHTTP(want, r)
			got := httptest.NewRecorder()
			b.ServeHTTP(got, r)
			if got.Code != want.Code || got.Body.String() != want.Body.String() || got.Header().Get("Location") != want.Header().Get("Location") {
				t.Errorf("%s %s: %d %q %q, the mux %d %q %q", method, target,
					got.Code, got.Body.String(), got.Header().Get("Location"),
					want.Code, want.Body.String(), want.Header().Get("Location"))
			}
		}
	}
	// And the shortcut is taken under every prefix: with a mux that
	// routes nothing, each request still reaches its facade.
	b.mux = http.NewServeMux()
	for _, rt := range prefixed {
		want := httptest.NewRecorder()
		mux.ServeHTTP(want, httptest.NewRequest("GET", rt.prefix+"x", nil))
		got := httptest.NewRecorder()
		b.ServeHTTP(got, httptest.NewRequest("GET", rt.prefix+"x", nil))
		if got.Code != http.StatusOK || got.Body.String() != want.Body.String() {
			t.Errorf("GET %sx past the mux: %d %q, want %q", rt.prefix, got.Code, got.Body.String(), want.Body.String())
		}
	}
}
