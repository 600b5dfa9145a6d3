package superapp

import (
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"testing"
	"unicode/utf8"

	"usercenter/uctest/jsontest"
)

// FuzzDecode checks the request decoders alone, fast: they never panic,
// fail only with a 4xx, and read back what a well-formed request holds.
//
//	go test ./superapp -run '^$' -fuzz FuzzDecode -fuzztime 30s
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"UserId":"u","Type":"phone","TemporaryCode":"c"}`), "u", "phone", "c")
	f.Add([]byte(`{"userid":1,"TYPE":null}`), "", "", "")
	f.Add([]byte("{\"a\":\xff}"), "\xff", "", "")
	f.Add([]byte(`{"UserId":"a","UserId":"b"}`), "a", "b", "")
	f.Fuzz(func(t *testing.T, body []byte, user, kind, code string) {
		for _, decode := range []func() (params, error){
			func() (params, error) { return decodeBody(body) },
			func() (params, error) { return decodeQuery(string(body)) },
		} {
			if _, err := decode(); err != nil {
				e, ok := err.(*apiError)
				if !ok || e.status < 400 || e.status >= 500 {
					t.Fatalf("decode error %v", err)
				}
			}
		}
		// A request made by a correct client reads back exactly.
		if !utf8.ValidString(user) || !utf8.ValidString(kind) || !utf8.ValidString(code) {
			return
		}
		want := params{UserID: user, Type: kind, TemporaryCode: code}
		b, _ := json.Marshal(map[string]string{"UserId": user, "type": kind, "TEMPORARYCODE": code, "other": code})
		if got, err := decodeBody(b); err != nil || got != want {
			t.Fatalf("body %s: %+v, %v", b, got, err)
		}
		q := url.Values{"userId": {user}, "Type": {kind}, "temporarycode": {code}, "x": {user}}
		if len(q.Encode()) <= MaxQueryBytes {
			if got, err := decodeQuery(q.Encode()); err != nil || got != want {
				t.Fatalf("query %s: %+v, %v", q.Encode(), got, err)
			}
		}
	})
}

// FuzzDecodeValidBody checks the fast path of decodeBody against the
// json.Decoder path on every valid JSON document.
//
//	go test ./superapp -run '^$' -fuzz FuzzDecodeValidBody -fuzztime 30s
func FuzzDecodeValidBody(f *testing.F) {
	for _, s := range []string{
		`{"UserId":"u","Type":"phone","TemporaryCode":"c"}`, ` { "userid" : 1 , "TYPE" : null, "x": {"UserId": "no"}, "y": [1, "]", {}] } `,
		`{"UserId":"a","userId":"b"}`, `[]`, `"x"`, `{"UserId":"\u00e9\"\\","Type":"a\"b"}`, `{}`, `{"a":{"b":[{"c":"}"}]},"UserId":"z"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !utf8.Valid(body) || !json.Valid(body) {
			return
		}
		want, werr := decodeBodyTokens(body)
		got, gerr := decodeValidBody(body)
		if got != want || (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("%q: fast %+v, %v; Decoder %+v, %v", body, got, gerr, want, werr)
		}
	})
}

// TestDecodeValidBodyRandom runs the check of FuzzDecodeValidBody on
// generated documents, every time the tests run.
func TestDecodeValidBodyRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	keys := []string{"UserId", "userid", "USERID", "Type", "type", "TemporaryCode", "temporaryCode", "x", ""}
	for range 20000 {
		body := jsontest.RandomDocument(rng, keys, 3)
		want, werr := decodeBodyTokens(body)
		got, gerr := decodeValidBody(body)
		if got != want || (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("%q: fast %+v, %v; Decoder %+v, %v", body, got, gerr, want, werr)
		}
	}
}
