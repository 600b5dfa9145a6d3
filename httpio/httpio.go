// Package httpio reads the requests and writes the JSON answers of the
// HTTP facades, so that every facade bounds bodies, encodes JSON and sets
// the protective headers the same way. What the facades say, their codes
// and messages, stays theirs.
package httpio

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// WriteJSON sends v as the whole answer, with status and contentType.
// Answers carry users' data, so no cache may keep them, and no browser may
// read them as anything but contentType.
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) {
	h := w.Header()
	h["Content-Type"] = headerValue(contentType)
	h["Cache-Control"] = noStore
	h["X-Content-Type-Options"] = noSniff
	w.WriteHeader(status)
	EncodeJSON(w, v)
}

// The values of the headers every answer carries, made once rather than
// for every answer. net/http only reads a header's values, and Add
// appends to a full slice, which copies it, so sharing them is safe.
var (
	noStore       = []string{"no-store"}
	noSniff       = []string{"nosniff"}
	contentTypes  sync.Map // content type -> []string
	maxKnownTypes = 16
	knownTypes    atomic.Int32
)

// headerValue is []string{v}, shared for the few content types the
// facades use.
func headerValue(v string) []string {
	if s, ok := contentTypes.Load(v); ok {
		return s.([]string)
	}
	s := []string{v}
	if knownTypes.Add(1) <= int32(maxKnownTypes) {
		contentTypes.Store(v, s)
	}
	return s
}

// EncodeJSON writes v as JSON without HTML escaping, so that "<", ">" and
// "&" in users' data reach clients as they are. The facades only encode
// their own plain types, which cannot fail, and once the status is sent
// there is no way left to report an error, so none is returned.
func EncodeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
