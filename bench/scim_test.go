package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestSCIMScenarios drives the SCIM scenarios against a server that
// checks what a provider would send (the token, the path, the filter on
// the picked user's OriginId) and answers as usercenter does; then
// against servers that answer wrongly, each failure counted under its
// kind.
func TestSCIMScenarios(t *testing.T) {
	const userID, token = "2zNkbGhJ3Rf6H4oqQ2nX5c9cVxV", "scim_secret"
	right := func(run *string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/scim+json")
			if r.Header.Get("Authorization") != "Bearer "+token {
				w.WriteHeader(401)
				fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401","detail":"no"}`)
				return
			}
			switch {
			case r.URL.Path == "/scim/v2/1400000001/Users" && r.URL.Query().Get("filter") == `userName eq "s`+*run+`-7"`:
				fmt.Fprintf(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"startIndex":1,"itemsPerPage":1,"Resources":[{"id":%q,"userName":"s%s-7"}]}`, userID, *run)
			case r.URL.Path == "/scim/v2/1400000001/Users/"+userID && r.URL.RawQuery == "":
				fmt.Fprintf(w, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":%q}`, userID)
			default:
				w.WriteHeader(400)
				fmt.Fprintf(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidFilter","detail":%q}`, r.URL.String())
			}
		}
	}
	answer := func(status int, body string) func(*string) http.HandlerFunc {
		return func(*string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(status)
				fmt.Fprint(w, body)
			}
		}
	}
	cases := []struct {
		name     string
		scenario string
		token    string
		handler  func(run *string) http.HandlerFunc
		label    string // "" for success
	}{
		{"filter", ScenarioSCIMFilter, token, right, ""},
		{"get", ScenarioSCIMGet, token, right, ""},
		{"filter, the wrong token", ScenarioSCIMFilter, "other", right, "HTTP 401"},
		{"get, the wrong token", ScenarioSCIMGet, "other", right, "HTTP 401"},
		{"filter, nobody", ScenarioSCIMFilter, token, answer(200, `{"totalResults":0,"Resources":[]}`), "bad answer: not one user"},
		{"filter, another user", ScenarioSCIMFilter, token, answer(200, `{"totalResults":1,"Resources":[{"id":"someoneElse"}]}`), "bad answer: another user"},
		{"filter, a SCIM error", ScenarioSCIMFilter, token, answer(400, `{"status":"400","scimType":"invalidFilter"}`), "HTTP 400 invalidFilter"},
		{"get, another user", ScenarioSCIMGet, token, answer(200, `{"id":"someoneElse"}`), "bad answer: another user"},
		{"get, not found", ScenarioSCIMGet, token, answer(404, `{"status":"404"}`), "HTTP 404"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var run string
			srv := httptest.NewServer(c.handler(&run))
			defer srv.Close()
			cfg := testConfig(srv.URL)
			cfg.SCIMToken = c.token
			e := testEnv(t, &cfg)
			run = e.run
			e.seeded = mustSeeded(t, sampleUser{id: userID, idx: 7})
			res := e.measure(context.Background(), scenarios[c.scenario])
			if res.SetupError != "" {
				t.Fatal(res.SetupError)
			}
			if c.label == "" {
				if res.OK != 40 || res.Errors != 0 {
					t.Fatalf("%d ok, %d errors %v; want 40 ok", res.OK, res.Errors, res.ErrorCodes)
				}
				return
			}
			if res.OK != 0 || res.Errors != 40 || res.ErrorCodes[c.label] != 40 {
				t.Fatalf("%d ok, %d errors %v; want 40 × %q", res.OK, res.Errors, res.ErrorCodes, c.label)
			}
		})
	}
}

// Without a SCIM token the SCIM scenarios do not run, and say how to give
// one.
func TestSCIMScenariosNeedAToken(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	e := testEnv(t, &cfg)
	e.seeded = mustSeeded(t, sampleUser{id: "2zNkbGhJ3Rf6H4oqQ2nX5c9cVxV", idx: 1})
	for _, name := range []string{ScenarioSCIMFilter, ScenarioSCIMGet} {
		res := e.measure(context.Background(), scenarios[name])
		if !strings.Contains(res.SetupError, "--scim-token") || res.Ops != 0 {
			t.Errorf("%s: setup error %q after %d ops", name, res.SetupError, res.Ops)
		}
	}
}
