package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// Reads draw from every seeded user, not from a sample the server's caches
// could hold: after seeding more users than any sample the tool ever kept,
// every one of them is kept, and the picks reach them all.
func TestPicksCoverEverySeededUser(t *testing.T) {
	const users = 70_000
	var created atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-TC-Action") == "DescribeSdkAppIdUsers" {
			fmt.Fprintf(w, `{"Response":{"Total":%d,"RequestId":"r"}}`, created.Load())
			return
		}
		// POST /v1/apps/{id}/users:import: each user gets a UserId
		// made of its originId's position.
		var in struct{ Users []struct{ OriginId string } }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || r.URL.Path != "/v1/apps/1400000001/users:import" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		type out struct {
			UserID   string `json:"userId"`
			OriginID string `json:"originId"`
		}
		var body struct {
			Users []out `json:"users"`
		}
		for _, u := range in.Users {
			body.Users = append(body.Users, out{UserID: fmt.Sprintf("%027d", created.Add(1)), OriginID: u.OriginId})
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(body)
	}))
	defer srv.Close()
	cfg := testConfig(srv.URL)
	cfg.Users = users
	e := testEnv(t, &cfg)
	res, err := e.seed(context.Background())
	if err != nil || res.Errors != 0 || res.AppUsers != users {
		t.Fatalf("seeding: %+v, %v", res, err)
	}
	if e.seeded.Len() != users {
		t.Fatalf("the scenarios pick among %d users of the %d seeded", e.seeded.Len(), users)
	}
	// 40 picks a user: the chance that a uniform pick misses any user is
	// users × e^-40, nil.
	seen := make([]bool, users)
	w := e.workers[0]
	for range 40 * users {
		u := w.pick()
		if u.idx < 0 || u.idx >= users {
			t.Fatalf("picked seeding index %d", u.idx)
		}
		seen[u.idx] = true
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("user %d of %d was never picked", i, users)
		}
	}
}
