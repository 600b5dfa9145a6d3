package bench

import "testing"

func TestJSONScan(t *testing.T) {
	doc := []byte(` { "skip": {"a": [1, {"b": "}\"]"}], "c": null}, "Response" : {"RequestId":"r-1",
		"Error": {"Message": "x\"y", "Code": "InvalidParameterValue"}}, "n": -1.5e3, "ReturnCode": 0 }`)
	cases := []struct {
		path []string
		want string
		ok   bool
	}{
		{[]string{"Response", "Error", "Code"}, "InvalidParameterValue", true},
		{[]string{"Response", "RequestId"}, "r-1", true},
		{[]string{"Response", "Error", "Message"}, `x"y`, true},
		{[]string{"Response", "Missing"}, "", false},
		{[]string{"skip", "c"}, "", false}, // null is no string
		{[]string{"nope"}, "", false},
	}
	for _, c := range cases {
		got, ok := jsonStrAt(doc, c.path...)
		if ok != c.ok || string(got) != c.want {
			t.Errorf("jsonStrAt(%v) = %q, %v; want %q, %v", c.path, got, ok, c.want, c.ok)
		}
	}
	if got, ok := jsonScalar(doc, "ReturnCode"); !ok || string(got) != "0" {
		t.Errorf("ReturnCode = %q, %v", got, ok)
	}
	if got, ok := jsonScalar(doc, "n"); !ok || string(got) != "-1.5e3" {
		t.Errorf("n = %q, %v", got, ok)
	}
	if got, ok := jsonGet(doc, "skip"); !ok || string(got) != `{"a": [1, {"b": "}\"]"}], "c": null}` {
		t.Errorf("skip = %q, %v", got, ok)
	}
	for _, bad := range []string{``, `{`, `{"a":`, `{"a" 1}`, `[1]`, `{"a":"unterminated}`, `{"x":1 "a":2}`} {
		if got, ok := jsonGet([]byte(bad), "a"); ok {
			t.Errorf("jsonGet(%q, a) = %q, want not found", bad, got)
		}
	}
}

func TestJSONEach(t *testing.T) {
	var ids []string
	ok := jsonEach([]byte(` [ {"UserId":"a"} , {"UserId":"b","x":[1,2]},{"UserId":"c"} ] `), func(e []byte) bool {
		id, _ := jsonStrAt(e, "UserId")
		ids = append(ids, string(id))
		return true
	})
	if !ok || len(ids) != 3 || ids[0] != "a" || ids[2] != "c" {
		t.Fatalf("jsonEach: %v %v", ok, ids)
	}
	if !jsonEach([]byte(`[]`), func([]byte) bool { t.Fatal("called on an empty array"); return true }) {
		t.Fatal("an empty array is an array")
	}
	if jsonEach([]byte(`[1,`), func([]byte) bool { return true }) {
		t.Fatal("a truncated array is well-formed")
	}
}

func TestJSONScanDoesNotAllocate(t *testing.T) {
	doc := []byte(`{"Response":{"SdkAppId":1400000001,"UserId":"2zNkbGhJ3Rf6H4oqQ2nX5c9cVxV","Name":"bench user 1","Avatar":"","OriginId":"s1-1","RequestId":"7f1e"}}`)
	n := testing.AllocsPerRun(1000, func() {
		if _, ok := jsonStrAt(doc, "Response", "Error", "Code"); ok {
			t.Fatal("found an error")
		}
		if id, ok := jsonStrAt(doc, "Response", "UserId"); !ok || len(id) != 27 {
			t.Fatal("no UserId")
		}
	})
	if n != 0 {
		t.Fatalf("the scanner allocates %v times per answer", n)
	}
}
