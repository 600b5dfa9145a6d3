package jsontest

import "testing"

// The fuzz targets trust DuplicateKey to notice a repeated key; a
// checker that never fires would let every such input pass.
func TestDuplicateKey(t *testing.T) {
	for body, want := range map[string]string{
		`{}`: "-",
		`{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}`: "-",
		`{"a":{},"b":[],"c":[[],{}],"d":null}`:      "-",
		`{"a":1,"a":2}`:                             "a",
		`{"a":{"b":1,"b":2}}`:                       "b",
		`{"a":[1,{"x":[],"y":{},"x":0}]}`:           "x",
		`{"a":[{}],"b":{"c":{}},"a":1}`:             "a",
		`{"":1,"":2}`:                               "",
	} { // "-" stands for no repeated key
		got := "-"
		if k, found := DuplicateKey([]byte(body)); found {
			got = k
		}
		if got != want {
			t.Errorf("DuplicateKey(%s) = %q, want %q", body, got, want)
		}
	}
}
