package bench

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"usercenter/tcsig"
)

// --emit-wrk writes what bench/wrk's scripts send: tokens of logged-in
// users, and LCIC requests whose TC3 signatures the server's own verifier
// accepts, with the header values, host and body the scripts use.
func TestEmitWrk(t *testing.T) {
	var logins atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"Response":{"Token":"tok%d","RequestId":"r"}}`, logins.Add(1))
	}))
	defer srv.Close()
	cfg := testConfig(srv.URL)
	e := testEnv(t, &cfg)
	e.seeded = mustSeeded(t, sampleUser{id: "2zNkbGhJ3Rf6H4oqQ2nX5c9cVxV", idx: 0}, sampleUser{id: "2zNkbGhJ3Rf6H4oqQ2nX5c9cVxW", idx: 1}, sampleUser{id: "2zNkbGhJ3Rf6H4oqQ2nX5c9cVxX", idx: 2})
	dir := t.TempDir()
	if err := e.emitWrk(dir, 7); err != nil {
		t.Fatal(err)
	}
	lines := func(name string) []string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			out = append(out, sc.Text())
		}
		return out
	}
	if me := lines("me.txt"); len(me) != 3 || !strings.HasPrefix(me[0], "Bearer tok") {
		t.Errorf("me.txt: %q, want the 3 users' Bearer tokens", me)
	}
	host, _ := url.Parse(srv.URL)
	for _, c := range []struct{ file, want string }{{"describe.txt", `{"UserId":"2zNkbGhJ3Rf6H4oqQ2nX5c9cVx`}, {"register.txt", `{"SdkAppId":1400000001,"Name":"wrk register","OriginId":"w`}} {
		got := lines(c.file)
		if len(got) != 7 {
			t.Fatalf("%s: %d requests, want 7", c.file, len(got))
		}
		bodies := map[string]bool{}
		for _, l := range got {
			f := strings.Split(l, "\t")
			if len(f) != 3 || !strings.HasPrefix(f[2], c.want) {
				t.Fatalf("%s: %q is not timestamp, Authorization and body", c.file, l)
			}
			bodies[f[2]] = true
			h := http.Header{}
			h.Set("Content-Type", "application/json")
			h.Set("X-TC-Timestamp", f[0])
			h.Set("Authorization", f[1])
			signed, err := tcsig.Parse(&tcsig.Request{Method: "POST", Host: host.Host, Path: "/", Header: h, Body: []byte(f[2])}, time.Now())
			if err != nil {
				t.Fatalf("%s: %v", c.file, err)
			}
			if err := signed.Verify(cfg.Creds.SecretKey); err != nil {
				t.Fatalf("%s: the server would refuse %q: %v", c.file, l, err)
			}
		}
		if c.file == "register.txt" && len(bodies) != 7 {
			t.Errorf("register.txt repeats an OriginId: %d bodies of 7", len(bodies))
		}
		if c.file == "describe.txt" && len(bodies) != 3 {
			t.Errorf("describe.txt covers %d of the 3 users", len(bodies))
		}
	}
}
