package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// The shortcut past the mux picks, for every request it takes, the handler
// the mux would pick, and leaves to the mux every request it would
// redirect or route otherwise.
func TestByPrefixRoutesAsTheMux(t *testing.T) {
	mux := http.NewServeMux()
	marker := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(name)) })
	}
	var routes []prefixRoute
	for _, p := range []string{"/v1/", "/superapp/", "/user/", "/v2/", "/scim/v2/"} {
		h := marker(p)
		mux.Handle(p, h)
		routes = append(routes, prefixRoute{p, h})
	}
	mux.Handle("/apps/{sdkAppId}/superapp/", marker("apps"))
	mux.Handle("/{$}", marker("root"))
	mux.Handle("GET /healthz", marker("healthz"))
	b := &byPrefix{mux: mux, routes: routes}

	for _, target := range []string{
		"/v1/me", "/v1/", "/v1", "/v1/users/u1:erase", "/v1//me", "/v1/./me", "/v1/../v2/x", "/v1/me/..",
		"/v1%2Fme", "/v1/a%2Fb", "/v%31/me", "/superapp/user/getUserNick", "/user/x", "/apps/1/superapp/user/x",
		"/v2/enduser/enterpriseapi/userInfo?uid=x", "/scim/v2/Users", "/scim/v2", "/scim/v2/../../v1/me",
		"/", "/healthz", "/nothing", "/v1/me/", "/v1/me/.",
	} {
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
	// And the shortcut is taken where it can be.
	r := httptest.NewRequest("GET", "/v1/me", nil)
	w := httptest.NewRecorder()
	b.routes = []prefixRoute{{"/v1/", marker("shortcut")}}
	b.ServeHTTP(w, r)
	if !strings.Contains(w.Body.String(), "shortcut") {
		t.Fatalf("GET /v1/me went to %q", w.Body.String())
	}
}
