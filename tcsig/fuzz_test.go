package tcsig_test

import (
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"usercenter/tcsig"
)

func FuzzParse(f *testing.F) {
	add := func(r *tcsig.Request, now time.Time) {
		f.Add(r.Method, r.Host, r.Path, r.RawQuery, r.Header.Get("Authorization"), r.Header.Get("X-TC-Timestamp"),
			r.Header.Get("Content-Type"), r.Header.Get("X-TC-Content-SHA256"), r.Body, now.Unix())
	}
	add(tc3Req{ts: testTS, body: []byte(testBody)}.request(), testNow)
	add(tc3Req{method: "GET", ts: testTS, query: "Limit=10&Users.0.Name=%E5%BC%A0"}.request(), testNow)
	add(tc3Req{ts: testTS, body: []byte(testBody), unsigned: true, sentHost: "[::1]:8080", signHost: "[::1]"}.request(), testNow)
	add(tc3Req{ts: testTS, body: []byte(testBody), service: "127", path: "/api"}.request(), testNow)
	add(v1Req{sigMethod: "HmacSHA256", params: v1Params(testTS, v1Action)}.request(), testNow)
	add(v1Req{method: "GET", sigMethod: "HmacSHA1", params: v1Params(testTS, v1Action)}.request(), testNow)
	add(v1Req{inQuery: true, params: v1Params(testTS, nil)}.request(), testNow)
	add(&tcsig.Request{Method: "GET", RawQuery: "Signature=&SecretId=%zz&Signature=1"}, testNow)

	f.Fuzz(func(t *testing.T, method, host, path, query, authz, ts, ct, sha string, body []byte, now int64) {
		h := http.Header{}
		for k, v := range map[string]string{"Authorization": authz, "X-TC-Timestamp": ts, "Content-Type": ct, "X-TC-Content-SHA256": sha} {
			if v != "" {
				h.Set(k, v)
			}
		}
		// The fuzzer also gets to set arbitrary signed headers, by naming
		// them in SignedHeaders and sending them under the same names.
		if _, names, ok := strings.Cut(authz, "SignedHeaders="); ok {
			names, _, _ = strings.Cut(names, ",")
			for _, n := range strings.Split(names, ";") {
				if n != "" && n != "host" && len(n) < 40 && h.Get(n) == "" {
					h.Set(n, ct)
				}
			}
		}
		r := &tcsig.Request{Method: method, Host: host, Path: path, RawQuery: query, Header: h, Body: body}
		s, err := tcsig.Parse(r, time.Unix(now, 0))
		if err != nil {
			e, ok := err.(*tcsig.Error)
			if !ok || s != nil || e.Kind < tcsig.InvalidAuthorization || e.Kind > tcsig.SignatureFailure || e.Msg == "" {
				t.Fatalf("Parse = %+v, %#v", s, err)
			}
			if e.Kind == tcsig.SignatureFailure {
				t.Fatalf("Parse reported a signature failure without a key: %v", e)
			}
			return
		}
		if s.Scheme != tcsig.SchemeTC3 && s.Scheme != tcsig.SchemeV1 {
			t.Fatalf("Scheme = %v", s.Scheme)
		}
		if s.SecretID == "" {
			t.Fatalf("accepted without SecretId: %+v", s)
		}
		if d := new(big.Int).Sub(big.NewInt(now), big.NewInt(s.Timestamp)); d.CmpAbs(big.NewInt(300)) > 0 {
			t.Fatalf("accepted timestamp %d at %d", s.Timestamp, now)
		}
		for _, k := range []string{"Signature", "SignatureMethod", "SecretId", "Timestamp", "Nonce"} {
			if _, ok := s.Params[k]; ok && s.Scheme == tcsig.SchemeV1 {
				t.Fatalf("v1 Params contains %s", k)
			}
		}
		for _, key := range []string{"", "fuzz-key"} {
			if err := s.Verify(key); err != nil {
				if e, ok := err.(*tcsig.Error); !ok || e.Kind != tcsig.SignatureFailure {
					t.Fatalf("Verify = %#v", err)
				}
			} else if key == "" {
				t.Fatal("verified with the empty key")
			}
		}
	})
}
