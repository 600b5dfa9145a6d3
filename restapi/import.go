package restapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"
	"usercenter"

	"usercenter/core"
	"usercenter/httpio"
)

// MaxImportBodyBytes caps the body of POST /v1/apps/{sdkAppId}/users:import:
// a thousand users of ordinary size take a few hundred kilobytes, and a
// thousand with every field at its longest about 6 MiB.
const MaxImportBodyBytes = 8 << 20

// importedJSON is one user of an import's answer.
type importedJSON struct {
	UserID   string `json:"userId"`
	OriginID string `json:"originId"`
}

// importResult is the answer of an import: the users created, in the
// order of the request.
type importResult struct {
	Users []importedJSON `json:"users"`
}

func (a *api) handleImportUsers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		appID, err := parseAppID(r.PathValue("sdkAppId"))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		patches, err := decodeImportBody(w, r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		users, err := a.svc.CreateUsers(r.Context(), actorFrom(r.Context()), appID, patches)
		if err != nil {
			a.fail(w, r, itemsOf(len(patches), err))
			return
		}
		out := importResult{Users: make([]importedJSON, len(users))}
		for i, u := range users {
			out.Users[i] = importedJSON{UserID: u.ID, OriginID: u.OriginID}
		}
		respond(w, r, http.StatusCreated, out)
	})
}

// importBody is how an import's body is read, after authentication.
var importBody = httpio.BodyRules{
	Limit:      MaxImportBodyBytes,
	TooLarge:   &problem{Code: "payload_too_large", Detail: fmt.Sprintf("the body of an import must be at most %d bytes; import fewer users a request", MaxImportBodyBytes)},
	Unreadable: errBodyUnreadable,
	Busy:       errBusy,
}

// decodeImportBody reads {"users": [user, …]}, each user a body as
// POST /v1/apps/{sdkAppId}/users takes it, into patches. A problem with
// one user names it: field users.<index>.<member>, detail "users.<index>: …".
//
// The body is held to exactly the rules of a single user's body (one
// well-formed object, valid UTF-8, no repeated names at any depth, no
// unpaired surrogate escapes, at most maxDepth levels). Checking them the
// way decodeUserBody does, token by token, costs about 5 µs a user; so a
// body of the usual shape is checked by a scan of its bytes instead, and
// any body that scan does not vouch for goes the slow way, which then
// finds and reports its problem exactly as for a single user.
func decodeImportBody(w http.ResponseWriter, r *http.Request) ([]core.UserPatch, error) {
	if err := checkContentType(r); err != nil {
		return nil, err
	}
	body, err := httpio.ReadBody(w, r, &importBody)
	if err != nil {
		return nil, err
	}
	users, ok := scanImport(body)
	if !ok {
		if users, err = splitImport(body); err != nil {
			return nil, err
		}
	}
	if len(users) > core.MaxBatchUsers {
		return nil, &problem{Code: "invalid_field", Field: "users", Detail: "users must list at most " + strconv.Itoa(core.MaxBatchUsers) + " users; import more in several requests"}
	}
	patches := make([]core.UserPatch, len(users))
	for i, members := range users {
		p, err := userPatch(members)
		if err != nil {
			return nil, itemProblem(i, err)
		}
		patches[i] = p
	}
	return patches, nil
}

// DecodeUser reads one user object, as POST /v1/apps/{sdkAppId}/users
// takes its body, into a patch over an empty profile, under the same
// rules; the error names the member at fault and is only the problem's
// detail, without the API's code, since the command line reports it in
// its own words. It is how `usercenter user import` reads each line of
// its file.
func DecodeUser(body []byte) (core.UserPatch, error) {
	members, err := parseObject(body)
	if err == nil {
		var p core.UserPatch
		if p, err = userPatch(members); err == nil {
			return p, nil
		}
	}
	if p, ok := err.(*problem); ok {
		return core.UserPatch{}, errors.New(p.Detail)
	}
	return core.UserPatch{}, err
}

// itemProblem names user i in a problem about its body.
func itemProblem(i int, err error) error {
	p, ok := err.(*problem)
	if !ok {
		return err
	}
	out := *p
	prefix := "users." + strconv.Itoa(i)
	out.Field = prefix
	if p.Field != "" {
		out.Field += "." + p.Field
	}
	out.Detail = prefix + ": " + p.Detail
	return &out
}

// splitImport is the slow way: the whole body through parseObject, which
// finds and describes any problem, then each user's object.
func splitImport(body []byte) ([][]member, error) {
	top, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	for _, m := range top {
		if m.name != "users" {
			return nil, &problem{Code: "unknown_field", Field: clipName(m.name), Detail: "unknown field " + quote(m.name) + "; an import's body has only users"}
		}
		raw = m.raw
	}
	if raw == nil {
		return nil, &problem{Code: "invalid_field", Field: "users", Detail: "users is required: the array of users to import"}
	}
	if raw[0] != '[' {
		return nil, &problem{Code: "invalid_type", Field: "users", Detail: "users must be an array of user objects"}
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, &problem{Code: "malformed_json", Field: "users", Detail: "users is not a valid JSON array"}
	}
	if len(items) > core.MaxBatchUsers {
		return nil, &problem{Code: "invalid_field", Field: "users", Detail: "users must list at most " + strconv.Itoa(core.MaxBatchUsers) + " users; import more in several requests"}
	}
	out := make([][]member, len(items))
	for i, it := range items {
		if it[0] != '{' {
			return nil, &problem{Code: "invalid_type", Field: "users." + strconv.Itoa(i), Detail: "users." + strconv.Itoa(i) + ": a user must be a JSON object"}
		}
		if out[i], err = parseObject(it); err != nil {
			return nil, itemProblem(i, err)
		}
	}
	return out, nil
}

// scanImport splits a body of the usual shape into each user's members,
// and reports false for any body it cannot vouch for: not valid JSON or
// UTF-8, an unpaired surrogate escape, a member name with an escape, a
// repeated name, a member besides users, an item that is not an object, or
// an object or array as the value of a user's member (but for
// thirdPartyIds, an object of scalars). What it accepts, splitImport would
// accept and split the same way.
func scanImport(body []byte) ([][]member, bool) {
	if !utf8.Valid(body) || !json.Valid(body) || checkSurrogates(body) != nil {
		return nil, false
	}
	s := scanner{b: body}
	if !s.expect('{') {
		return nil, false
	}
	if name, ok := s.name(); !ok || name != "users" || !s.expect('[') {
		return nil, false
	}
	var users [][]member
	if s.expect(']') {
		return users, s.expect('}') && s.end()
	}
	for {
		if !s.expect('{') {
			return nil, false
		}
		members, ok := s.object(false)
		if !ok {
			return nil, false
		}
		users = append(users, members)
		if len(users) > core.MaxBatchUsers {
			// Too many: splitImport says so, without splitting the rest.
			return nil, false
		}
		if s.expect(',') {
			continue
		}
		if !s.expect(']') {
			return nil, false
		}
		return users, s.expect('}') && s.end()
	}
}

// scanner walks a body that json.Valid accepted, so it only checks what
// it must decide on.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// expect consumes c, after white space, if it comes next.
func (s *scanner) expect(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// name reads a member name without escapes and the colon after it.
func (s *scanner) name() (string, bool) {
	if !s.expect('"') {
		return "", false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			return "", false
		case '"':
			name := memberName(s.b[start:s.i])
			s.i++
			return name, s.expect(':')
		}
	}
	return "", false
}

// object reads the members of an object whose '{' has been consumed. Its
// values must be scalars, but for a thirdPartyIds object (of scalars) in
// a user's object (nested false).
func (s *scanner) object(nested bool) ([]member, bool) {
	members := make([]member, 0, 8)
	if s.expect('}') {
		return members, true
	}
	for {
		name, ok := s.name()
		if !ok {
			return nil, false
		}
		for _, m := range members {
			if m.name == name {
				return nil, false
			}
		}
		s.ws()
		start := s.i
		switch {
		case s.i >= len(s.b):
			return nil, false
		case s.b[s.i] == '{':
			if nested || name != "thirdPartyIds" {
				return nil, false
			}
			s.i++
			if _, ok := s.object(true); !ok {
				return nil, false
			}
		case s.b[s.i] == '[':
			return nil, false
		default:
			s.scalar()
		}
		members = append(members, member{name, json.RawMessage(s.b[start:s.i])})
		if s.expect(',') {
			continue
		}
		return members, s.expect('}')
	}
}

// scalar skips a string, number or literal.
func (s *scanner) scalar() {
	if s.b[s.i] == '"' {
		for s.i++; s.i < len(s.b); s.i++ {
			switch s.b[s.i] {
			case '\\':
				s.i++
			case '"':
				s.i++
				return
			}
		}
		return
	}
	for ; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return
		}
	}
}

// memberName returns the name of a member, without allocating for the
// names of the user object (a thousand users a body, each with several).
func memberName(b []byte) string {
	switch string(b) {
	case "users":
		return "users"
	case "originId":
		return "originId"
	case "status":
		return "status"
	case "nickname":
		return "nickname"
	case "avatar":
		return "avatar"
	case "phone":
		return "phone"
	case "email":
		return "email"
	case "address":
		return "address"
	case "city":
		return "city"
	case "province":
		return "province"
	case "nationality":
		return "nationality"
	case "lang":
		return "lang"
	case "timezone":
		return "timezone"
	case "sex":
		return "sex"
	case "signature":
		return "signature"
	case "remark":
		return "remark"
	case "logonMode":
		return "logonMode"
	case "thirdPartyIds":
		return "thirdPartyIds"
	}
	return string(b)
}

// itemsOf is an import's error: an error about the only user of a
// one-user import names it too, as it would in a larger one.
func itemsOf(n int, err error) error {
	if e := usercenter.ErrorOf(err); n == 1 && e.Item == 0 && e.Field != "" && e.Field != usercenter.FieldUsers {
		return usercenter.AtItem(0, err)
	}
	return err
}
