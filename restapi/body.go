package restapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"usercenter"
	"usercenter/core"
	"usercenter/httpio"
)

// maxDepth bounds the nesting of a body; the user object needs two levels.
const maxDepth = 16

// readOnlyFields are members of the user object a client cannot write.
var readOnlyFields = map[string]bool{
	"userId": true, "sdkAppId": true, "userDomain": true,
	"registerTime": true, "updateTime": true, "lastLoginTime": true,
}

// decodeUserBody reads a POST or PATCH body into a patch, with JSON Merge
// Patch semantics (RFC 7396): an absent member leaves the field as it is,
// null clears a text field, and in thirdPartyIds null unlinks.
func decodeUserBody(w http.ResponseWriter, r *http.Request) (core.UserPatch, error) {
	if err := checkContentType(r); err != nil {
		return core.UserPatch{}, err
	}
	body, err := readBody(w, r)
	if err != nil {
		return core.UserPatch{}, err
	}
	members, err := parseObject(body)
	if err != nil {
		return core.UserPatch{}, err
	}
	return userPatch(members)
}

// checkContentType accepts JSON and JSON Merge Patch, in UTF-8.
func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || (mt != "application/json" && mt != "application/merge-patch+json") {
		return &problem{Code: "unsupported_media_type", Detail: "send the body as application/json or application/merge-patch+json"}
	}
	for name, v := range params {
		if name != "charset" || !strings.EqualFold(v, "utf-8") {
			return &problem{Code: "unsupported_media_type", Detail: "the only media type parameter accepted is charset=utf-8"}
		}
	}
	return nil
}

// userBody is how a user's body is read. Every route that reads a body
// authenticates its caller first, from the headers, so no stranger's body
// is read at all.
var userBody = httpio.BodyRules{
	Limit:      MaxBodyBytes,
	TooLarge:   &problem{Code: "payload_too_large", Detail: fmt.Sprintf("the request body must be at most %d bytes", MaxBodyBytes)},
	Unreadable: errBodyUnreadable,
	Busy:       errBusy,
}

var (
	errBodyUnreadable = &problem{Code: "malformed_json", Detail: "the request body could not be read"}
	errBusy           = &problem{Code: "unavailable", Detail: "the server holds as many request bodies as it may at once; retry shortly"}
)

// readBody reads at most MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return httpio.ReadBody(w, r, &userBody)
}

// member is one member of the body's top-level object.
type member struct {
	name string
	raw  json.RawMessage
}

// parseObject checks that body is exactly one well-formed JSON object in
// valid UTF-8 with no duplicate names at any depth, and returns its
// members in document order.
func parseObject(body []byte) ([]member, error) {
	malformed := func(detail string) error { return &problem{Code: "malformed_json", Detail: detail} }
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, malformed("the request body is empty: send a JSON object")
	}
	if !utf8.Valid(body) {
		return nil, malformed("the request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var order []string
	if err := walk(dec, 0, &order); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, malformed(fmt.Sprintf("the body is not valid JSON (at byte %d): %s", se.Offset, se.Error()))
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, malformed("the body ends in the middle of a JSON value")
		}
		return nil, malformed(err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("the body has data after its JSON value")
	}
	if err := checkSurrogates(body); err != nil {
		return nil, malformed(err.Error())
	}
	if b := bytes.TrimSpace(body); b[0] != '{' {
		return nil, &problem{Code: "invalid_type", Detail: "the body must be a JSON object"}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, malformed("the body is not valid JSON")
	}
	out := make([]member, len(order))
	for i, name := range order {
		out[i] = member{name, m[name]}
	}
	return out, nil
}

// walk reads one JSON value from dec, refusing duplicate object names and
// deep nesting. It records the names of the top-level object in order.
func walk(dec *json.Decoder, depth int, order *[]string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if depth >= maxDepth {
		return fmt.Errorf("the body nests deeper than %d levels", maxDepth)
	}
	switch d {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return err
			}
			name, ok := t.(string)
			if !ok {
				return errors.New("the body is not valid JSON: an object name must be a string")
			}
			if seen[name] {
				return fmt.Errorf("the body repeats the member %s", quote(name))
			}
			seen[name] = true
			if depth == 0 {
				*order = append(*order, name)
			}
			if err := walk(dec, depth+1, order); err != nil {
				return err
			}
		}
	case '[':
		for dec.More() {
			if err := walk(dec, depth+1, order); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// checkSurrogates refuses \u escapes of unpaired UTF-16 surrogates, which
// encoding/json would silently turn into U+FFFD. body is valid JSON, so
// every backslash is inside a string.
func checkSurrogates(body []byte) error {
	bad := errors.New("the body escapes an unpaired UTF-16 surrogate: it is not valid Unicode")
	hex4 := func(b []byte) (rune, bool) {
		if len(b) < 4 {
			return 0, false
		}
		v, err := strconv.ParseUint(string(b[:4]), 16, 16)
		return rune(v), err == nil
	}
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		i++
		if i >= len(body) || body[i] != 'u' {
			continue
		}
		r, ok := hex4(body[i+1:])
		if !ok {
			return bad
		}
		i += 4
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return bad
		case r >= 0xD800 && r <= 0xDBFF:
			if i+2 >= len(body) || body[i+1] != '\\' || body[i+2] != 'u' {
				return bad
			}
			lo, ok := hex4(body[i+3:])
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return bad
			}
			i += 6
		}
	}
	return nil
}

// knownProviders lists the providers for messages.
var knownProviders = func() string {
	names := make([]string, len(usercenter.Providers))
	for i, p := range usercenter.Providers {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}()

// userPatch maps the members of a user body to a patch.
func userPatch(members []member) (core.UserPatch, error) {
	var p core.UserPatch
	text := map[string]**string{
		"nickname": &p.Nickname, "avatar": &p.Avatar, "phone": &p.Phone, "email": &p.Email,
		"address": &p.Address, "city": &p.City, "province": &p.Province, "nationality": &p.Nationality,
		"lang": &p.Lang, "timezone": &p.Timezone, "sex": &p.Sex, "signature": &p.Signature, "remark": &p.Remark,
	}
	for _, m := range members {
		if dst, ok := text[m.name]; ok {
			s, err := nullableString(m.name, m.raw)
			if err != nil {
				return p, err
			}
			if s == nil {
				s = new(string) // null clears
			}
			*dst = s
			continue
		}
		switch m.name {
		case "originId":
			s, err := nullableString(m.name, m.raw)
			if err != nil {
				return p, err
			}
			if s == nil {
				return p, &problem{Code: "invalid_type", Field: m.name, Detail: "originId cannot be null: every user has one"}
			}
			p.OriginID = s
		case "status":
			n, err := integer(m.name, m.raw)
			if err != nil {
				return p, err
			}
			st := usercenter.UserStatus(n)
			p.Status = &st
		case "logonMode":
			n, err := integer(m.name, m.raw)
			if err != nil {
				return p, err
			}
			lm := usercenter.LogonMode(n)
			p.LogonMode = &lm
		case "thirdPartyIds":
			links, err := thirdPartyIDs(m.raw)
			if err != nil {
				return p, err
			}
			p.ThirdParty = links
		default:
			if readOnlyFields[m.name] {
				return p, &problem{Code: "unknown_field", Field: m.name, Detail: m.name + " is read-only and cannot be written"}
			}
			return p, &problem{Code: "unknown_field", Field: clipName(m.name), Detail: "unknown field " + quote(m.name)}
		}
	}
	return p, nil
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// nullableString decodes a string or null (nil).
func nullableString(field string, raw json.RawMessage) (*string, error) {
	if isNull(raw) {
		return nil, nil
	}
	if len(raw) == 0 || raw[0] != '"' {
		return nil, &problem{Code: "invalid_type", Field: field, Detail: field + " must be a string or null"}
	}
	// raw comes from a body parseObject or scanImport checked, so it is
	// one valid JSON string in valid UTF-8: without an escape its
	// contents are the value, which spares an import a thousand decoders.
	if b := raw[1 : len(raw)-1]; bytes.IndexByte(b, '\\') < 0 {
		s := string(b)
		return &s, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, &problem{Code: "malformed_json", Field: field, Detail: field + " is not a valid JSON string"}
	}
	return &s, nil
}

// integer decodes a JSON integer written without fraction or exponent.
func integer(field string, raw json.RawMessage) (int, error) {
	if isNull(raw) {
		return 0, &problem{Code: "invalid_type", Field: field, Detail: field + " cannot be null: it has no empty value"}
	}
	s := string(raw)
	if len(s) == 0 || !(s[0] == '-' || s[0] >= '0' && s[0] <= '9') || strings.ContainsAny(s, ".eE") {
		return 0, &problem{Code: "invalid_type", Field: field, Detail: field + " must be an integer"}
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, &problem{Code: "invalid_field", Field: field, Detail: field + " is out of range"}
	}
	return int(n), nil
}

// thirdPartyIDs decodes the thirdPartyIds member: an object of provider
// to ID, where null (or "") unlinks; null for the whole member unlinks
// every provider.
func thirdPartyIDs(raw json.RawMessage) (map[usercenter.Provider]*string, error) {
	if isNull(raw) {
		all := make(map[usercenter.Provider]*string, len(usercenter.Providers))
		for _, p := range usercenter.Providers {
			all[p] = nil
		}
		return all, nil
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, &problem{Code: "invalid_type", Field: "thirdPartyIds", Detail: "thirdPartyIds must be an object of provider to ID, or null"}
	}
	members, err := parseObject(raw)
	if err != nil {
		return nil, err
	}
	out := make(map[usercenter.Provider]*string, len(members))
	for _, m := range members {
		field := "thirdPartyIds." + m.name
		if !usercenter.Provider(m.name).Known() {
			return nil, &problem{Code: "unknown_field", Field: clipName(field), Detail: "unknown third-party provider " + quote(m.name) + "; known: " + knownProviders}
		}
		s, err := nullableString(field, m.raw)
		if err != nil {
			return nil, err
		}
		out[usercenter.Provider(m.name)] = s
	}
	return out, nil
}
