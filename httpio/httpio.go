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
)

// ReadBody reads r's body, at most limit bytes. A body larger than limit
// gives tooLarge, and one that says so in its Content-Length is refused
// before it is read; a body that cannot be read gives unreadable.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64, tooLarge, unreadable error) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge
		}
		return nil, unreadable
	}
	return body, nil
}

// WriteJSON sends v as the whole answer, with status and contentType.
// Answers carry users' data, so no cache may keep them, and no browser may
// read them as anything but contentType.
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	EncodeJSON(w, v)
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
