package bench

import (
	"bytes"
	"encoding/json"
)

// A few functions that find one member of a JSON answer without decoding
// the rest and without allocating: every answer is checked, and a full
// json.Unmarshal per answer would cost the load generator more CPU than
// some of the requests cost the server. They find members by name in any
// order and with any white space, so they do not depend on how a facade
// happens to encode.

// jsonGet returns the raw value at path (object member names, outermost
// first), or false when a step is missing or the document is malformed on
// the way there.
func jsonGet(b []byte, path ...string) ([]byte, bool) {
	v := b
	for _, name := range path {
		var ok bool
		if v, ok = member(v, name); !ok {
			return nil, false
		}
	}
	end, ok := skipValue(v, skipWS(v, 0))
	if !ok {
		return nil, false
	}
	start := skipWS(v, 0)
	return v[start:end], true
}

// member returns the raw text starting at the value of member name of the
// object at the start of b.
func member(b []byte, name string) ([]byte, bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil, false
	}
	for i < len(b) {
		if b[i] != '"' {
			return nil, false
		}
		kend, ok := skipString(b, i)
		if !ok {
			return nil, false
		}
		key := b[i+1 : kend-1]
		i = skipWS(b, kend)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipWS(b, i+1)
		if string(key) == name {
			return b[i:], true
		}
		if i, ok = skipValue(b, i); !ok {
			return nil, false
		}
		// Past the last member ('}') or on malformed input: not found.
		if i = skipWS(b, i); i >= len(b) || b[i] != ',' {
			return nil, false
		}
		i = skipWS(b, i+1)
	}
	return nil, false
}

// jsonEach calls fn with each element of the array raw, until fn returns
// false. It reports whether raw was a well-formed array.
func jsonEach(raw []byte, fn func(elem []byte) bool) bool {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return false
	}
	i = skipWS(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return true
	}
	for i < len(raw) {
		end, ok := skipValue(raw, i)
		if !ok {
			return false
		}
		if !fn(raw[i:end]) {
			return true
		}
		i = skipWS(raw, end)
		if i >= len(raw) {
			return false
		}
		switch raw[i] {
		case ',':
			i = skipWS(raw, i+1)
		case ']':
			return true
		default:
			return false
		}
	}
	return false
}

// jsonStr returns the contents of the JSON string raw. A string with
// escapes is decoded, which allocates; the values the tool compares (IDs,
// codes, tokens) have none.
func jsonStr(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return s, true
	}
	var out string
	if json.Unmarshal(raw, &out) != nil {
		return nil, false
	}
	return []byte(out), true
}

// jsonStrAt is jsonGet then jsonStr.
func jsonStrAt(b []byte, path ...string) ([]byte, bool) {
	raw, ok := jsonGet(b, path...)
	if !ok {
		return nil, false
	}
	return jsonStr(raw)
}

// jsonScalar returns a number or a string's contents, for codes that one
// facade sends as 200 and another as "0".
func jsonScalar(b []byte, path ...string) ([]byte, bool) {
	raw, ok := jsonGet(b, path...)
	if !ok || len(raw) == 0 {
		return nil, false
	}
	if raw[0] == '"' {
		return jsonStr(raw)
	}
	return raw, true
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i].
func skipString(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, ok := skipString(b, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
		j++
	}
	return j, j > i
}
