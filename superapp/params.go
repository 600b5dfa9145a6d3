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

// Answers made once: they are passed or returned on every request, and
// never changed.
var (
	errBodyTooLarge   = protocol(http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body must be at most %d bytes", MaxBodyBytes))
	errBodyUnreadable = badRequest("the request body could not be read")
	errMalformedBody  = badRequest("the request body must be one JSON object, such as {\"UserId\": \"…\"}")
	errBodyNotUTF8    = badRequest("the request body is not valid UTF-8")
	errBusy           = protocol(http.StatusServiceUnavailable, "the server holds as many request bodies as it may at once; retry shortly")
)

// bodyRules is how a body is read: after authentication, and never more
// than httpio.SmallBody, so it needs no admission of its own.
var bodyRules = httpio.BodyRules{Limit: MaxBodyBytes, TooLarge: errBodyTooLarge, Unreadable: errBodyUnreadable, Busy: errBusy}

// readBody reads at most MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return httpio.ReadBody(w, r, &bodyRules)
}

// decodeBody reads a JSON object. A parameter whose value is not a string
// counts as empty (null) or malformed (anything else), and gets the return
// code of a missing or malformed value: 200002 for UserId, 200000 for Type
// and 200003 for TemporaryCode. A body that is not one JSON object in
// UTF-8, or that gives a parameter twice, is a 400.
func decodeBody(body []byte) (params, error) {
	var p params
	if !utf8.Valid(body) {
		return p, errBodyNotUTF8
	}
	if json.Valid(body) {
		return decodeValidBody(body)
	}
	return decodeBodyTokens(body)
}

// decodeBodyTokens is decodeBody through a json.Decoder, which tells a
// malformed body from a well-formed one.
func decodeBodyTokens(body []byte) (params, error) {
	var p params
	malformed := errMalformedBody
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return p, malformed
	}
	var seen seenParams
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
		if seen.mark(&p, dst) {
			return p, badRequest("%s is given more than once", canonical(key))
		}
		*dst = jsonString(raw)
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
	var seen seenParams
	for key, values := range q {
		dst := p.field(key)
		if dst == nil {
			continue
		}
		if seen.mark(&p, dst) || len(values) > 1 {
			return p, badRequest("%s is given more than once", canonical(key))
		}
		*dst = values[0]
	}
	return p, nil
}

// seenParams records which parameters a request has given.
type seenParams struct{ userID, typ, code bool }

// mark records dst, a field of p, and reports whether it was given before.
func (s *seenParams) mark(p *params, dst *string) bool {
	var b *bool
	switch dst {
	case &p.UserID:
		b = &s.userID
	case &p.Type:
		b = &s.typ
	default:
		b = &s.code
	}
	was := *b
	*b = true
	return was
}

// jsonString is the string a JSON value raw holds, "" when it is no
// string (a number, an object…: as malformed as a wrong string). raw is
// valid JSON, so a string without escapes is its bytes between the quotes.
func jsonString(raw json.RawMessage) string {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return ""
	}
	return s
}

// decodeValidBody is decodeBody for a body json.Valid accepts, with the
// same result and the same errors, without json.Decoder: its tokens cost
// more than the rest of a getUserNick request's decoding.
func decodeValidBody(body []byte) (params, error) {
	var (
		p    params
		seen seenParams
	)
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return p, errMalformedBody
	}
	i++
	for {
		i = skipSpace(body, i)
		switch body[i] {
		case '}':
			return p, nil
		case ',':
			i = skipSpace(body, i+1)
		}
		end := skipValue(body, i)
		key := jsonString(body[i:end])
		i = skipSpace(body, end)
		i = skipSpace(body, i+1) // ':'
		end = skipValue(body, i)
		raw := body[i:end]
		i = end
		dst := p.field(key)
		if dst == nil {
			continue
		}
		if seen.mark(&p, dst) {
			return p, badRequest("%s is given more than once", canonical(key))
		}
		*dst = jsonString(raw)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns where the valid JSON value at b[i] ends.
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
			if depth < 0 {
				return i
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}
