// Package httpio reads the requests and writes the JSON answers of the
// HTTP facades, so that every facade bounds bodies, encodes JSON and sets
// the protective headers the same way. What the facades say, their codes
// and messages, stays theirs.
package httpio

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// ReadBody reads r's body, at most limit bytes. A body larger than limit
// gives tooLarge, and one that says so in its Content-Length is refused
// before it is read; a body that cannot be read gives unreadable.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64, tooLarge, unreadable error) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	rd := http.MaxBytesReader(w, r.Body, limit)
	if n := r.ContentLength; n >= 0 && n < limit && n < 64<<10 {
		// The usual small body of a known length: read into a buffer of
		// that size, one byte longer to see a body that runs past it
		// (n < limit, so the extra byte is within it), rather than through
		// io.ReadAll's 512-byte start and growth.
		body := make([]byte, n+1)
		got, err := io.ReadFull(rd, body)
		switch {
		case err == io.ErrUnexpectedEOF || err == io.EOF:
			return body[:got], nil
		case err != nil:
			return nil, readErr(err, tooLarge, unreadable)
		}
		// Longer than it said: read on, as for a body of unknown length.
		rest, err := io.ReadAll(rd)
		if err != nil {
			return nil, readErr(err, tooLarge, unreadable)
		}
		return append(body, rest...), nil
	}
	body, err := io.ReadAll(rd)
	if err != nil {
		return nil, readErr(err, tooLarge, unreadable)
	}
	return body, nil
}

func readErr(err, tooLarge, unreadable error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge
	}
	return unreadable
}

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
