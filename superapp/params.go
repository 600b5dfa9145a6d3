package superapp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"usercenter/httpio"
)

// params are a request's parameters. The platform's documents spell the
// keys UserId, userId, Type, type, TemporaryCode and temporaryCode, so
// keys are matched without regard to case. Other keys are ignored: the
// platform may send more than this API reads.
type params struct {
	UserID        string
	Type          string
	TemporaryCode string
}

// field points at the parameter a key names, or nil.
func (p *params) field(key string) *string {
	switch {
	case strings.EqualFold(key, "UserId"):
		return &p.UserID
	case strings.EqualFold(key, "Type"):
		return &p.Type
	case strings.EqualFold(key, "TemporaryCode"):
		return &p.TemporaryCode
	}
	return nil
}

// canonical is a key as Tencent Cloud Super App as a Service spells it,
// for messages.
func canonical(key string) string {
	switch {
	case strings.EqualFold(key, "UserId"):
		return "UserId"
	case strings.EqualFold(key, "Type"):
		return "Type"
	}
	return "TemporaryCode"
}

func badRequest(format string, args ...any) *apiError {
	return protocol(http.StatusBadRequest, fmt.Sprintf(format, args...))
}

// readParams reads a GET's query, or a POST's JSON body. A POST with an
// empty body is read from its query, as some clients send it.
func readParams(w http.ResponseWriter, r *http.Request) (params, error) {
	if r.Method == http.MethodPost {
		body, err := readBody(w, r)
		if err != nil {
			return params{}, err
		}
		if len(bytes.TrimSpace(body)) > 0 {
			return decodeBody(body)
		}
	}
	return decodeQuery(r.URL.RawQuery)
}

// readBody reads at most MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return httpio.ReadBody(w, r, MaxBodyBytes,
		protocol(http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body must be at most %d bytes", MaxBodyBytes)),
		badRequest("the request body could not be read"))
}

// decodeBody reads a JSON object. A parameter whose value is not a string
// counts as empty (null) or malformed (anything else), and gets the return
// code of a missing or malformed value: 200002 for UserId, 200000 for Type
// and 200003 for TemporaryCode. A body that is not one JSON object in
// UTF-8, or that gives a parameter twice, is a 400.
func decodeBody(body []byte) (params, error) {
	var p params
	if !utf8.Valid(body) {
		return p, badRequest("the request body is not valid UTF-8")
	}
	malformed := badRequest("the request body must be one JSON object, such as {\"UserId\": \"…\"}")
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return p, malformed
	}
	seen := map[*string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return p, malformed
		}
		key, ok := tok.(string)
		if !ok {
			return p, malformed
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return p, malformed
		}
		dst := p.field(key)
		if dst == nil {
			continue
		}
		if seen[dst] {
			return p, badRequest("%s is given more than once", canonical(key))
		}
		seen[dst] = true
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			s = "" // a number, an object…: as malformed as a wrong string
		}
		*dst = s
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return p, malformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return p, malformed
	}
	return p, nil
}

// decodeQuery reads query parameters.
func decodeQuery(raw string) (params, error) {
	var p params
	if raw == "" {
		return p, nil
	}
	if len(raw) > MaxQueryBytes {
		return p, badRequest("the query string must be at most %d bytes", MaxQueryBytes)
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return p, badRequest("the query string is malformed")
	}
	seen := map[*string]bool{}
	for key, values := range q {
		dst := p.field(key)
		if dst == nil {
			continue
		}
		if seen[dst] || len(values) > 1 {
			return p, badRequest("%s is given more than once", canonical(key))
		}
		seen[dst] = true
		*dst = values[0]
	}
	return p, nil
}
