package tcapi

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"reflect"
	"testing"
	"unicode/utf8"

	"usercenter/uctest/jsontest"
)

// slowObject is the Decoder path of bindJSON, up to the tree.
func slowObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, invalid("the request body is not valid JSON")
	}
	if tok != json.Delim('{') {
		return nil, invalid("the request body must be a JSON object")
	}
	tree, err := decodeObject(dec, 1)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid("the request body has data after the JSON object")
	}
	return tree, nil
}

// FuzzFastObject checks that fastObject builds what the Decoder builds,
// and fails as it fails, on every valid JSON document.
func FuzzFastObject(f *testing.F) {
	for _, s := range []string{
		`{"UserId":"u"}`, ` { "a" : [1, -2.5e3, true, false, null, {"b": "\u00e9\"\\"}], "c": {} } `,
		`{"a":1,"a":2}`, `[1]`, `"x"`, `{"a":[[[[[[[[[1]]]]]]]]]}`, `{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":1}}}}}}}}`,
		`{"a":{"a":{"a":{"a":{"a":{"a":{"a":{}}}}}}}}`, `{"\ud800":"\ud800x", "k\n":"v\t"}`, `{"":""}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !utf8.Valid(body) || !json.Valid(body) {
			return
		}
		want, werr := slowObject(body)
		got, gerr := fastObject(body)
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("%q: fast error %v, Decoder error %v", body, gerr, werr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: fast tree %#v, Decoder tree %#v", body, got, want)
		}
	})
}

// TestFastObjectRandom runs the check of FuzzFastObject on generated
// documents, every time the tests run.
func TestFastObjectRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	keys := []string{"UserId", "OriginId", "a", "A", ""}
	for depth := range 10 {
		for range 3000 {
			body := jsontest.RandomDocument(rng, keys, depth)
			want, werr := slowObject(body)
			got, gerr := fastObject(body)
			if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
				t.Fatalf("%q: fast error %v, Decoder error %v", body, gerr, werr)
			}
			if werr == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("%q: fast tree %#v, Decoder tree %#v", body, got, want)
			}
		}
	}
}
