package scim

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"usercenter"
	"usercenter/core"

	filter "github.com/scim2/filter-parser/v2"
)

// PATCH (RFC 7644 §3.5.2) is computed here, in the facade: every
// operation of a request is applied, in order, to one core.UserPatch over
// the user as read, and the result goes to core in one UpdateUser, so that
// a request is written whole or not at all, and a request that changes
// nothing writes nothing.

const schemaPatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// schemaEnterprise is RFC 7643's enterprise extension. usercenter keeps
// none of it, but providers (Entra) send it: its attributes are accepted
// and ignored, as a POST ignores them.
const schemaEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// maxPatchOperations bounds the operations of one PATCH. A provider sends
// one per changed attribute; a User has a few dozen. RFC 7644 defines
// tooMany for filters that select too much, so more operations are
// invalidValue.
const maxPatchOperations = 100

// maxPathBytes bounds an operation's path; the longest real one is an
// extension attribute's full name with a value filter.
const maxPathBytes = 512

type patchRequest struct {
	Schemas    []string         `json:"schemas"`
	Operations []patchOperation `json:"Operations"`
}

type patchOperation struct {
	Op    string          `json:"op"`
	Path  *string         `json:"path"`
	Value json.RawMessage `json:"value"`
}

// The errors of PATCH that name no attribute.
var (
	errPatchSyntax = badRequest(typeInvalidSyntax, "the body must be a JSON object of the PatchOp schema ("+schemaPatchOp+") with an Operations list")
)

// patcher turns PATCH operations into one core.UserPatch over cur, the
// user as read. cur's personal data is masked (or, without pii.read,
// whatever core returned): it tells only whether a value is there.
type patcher struct {
	cur *usercenter.User
	p   core.UserPatch
}

// parsePatch reads a PATCH body and computes its patch over cur.
func parsePatch(body []byte, cur *usercenter.User) (core.UserPatch, error) {
	var req patchRequest
	if !isJSONObject(body) || json.Unmarshal(body, &req) != nil {
		return core.UserPatch{}, errPatchSyntax
	}
	if req.Schemas != nil && !slices.ContainsFunc(req.Schemas, func(s string) bool { return strings.EqualFold(s, schemaPatchOp) }) {
		return core.UserPatch{}, errPatchSyntax
	}
	switch n := len(req.Operations); {
	case n == 0:
		return core.UserPatch{}, badRequest(typeInvalidValue, "Operations must hold at least one operation")
	case n > maxPatchOperations:
		return core.UserPatch{}, badRequest(typeInvalidValue, "Operations may hold at most %d operations; send more in several requests", maxPatchOperations)
	}
	pt := &patcher{cur: cur}
	for i := range req.Operations {
		if err := pt.operation(&req.Operations[i]); err != nil {
			return core.UserPatch{}, err
		}
	}
	return pt.p, nil
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

// opKind is an operation's op, which providers capitalise at will
// (Entra sends "Replace").
type opKind int

const (
	opAdd opKind = iota
	opReplace
	opRemove
)

func (pt *patcher) operation(o *patchOperation) error {
	var op opKind
	switch strings.ToLower(o.Op) {
	case "add":
		op = opAdd
	case "replace":
		op = opReplace
	case "remove":
		op = opRemove
	default:
		return badRequest(typeInvalidSyntax, "op must be add, replace or remove, not %s", clip(o.Op))
	}
	if o.Path == nil || strings.TrimSpace(*o.Path) == "" {
		if op == opRemove {
			// RFC 7644 §3.5.2.2.
			return badRequest(typeNoTarget, "remove needs a path")
		}
		return pt.object(op, "", o.Value)
	}
	if op != opRemove && len(o.Value) == 0 {
		return badRequest(typeInvalidValue, "%s needs a value", strings.ToLower(o.Op))
	}
	return pt.path(op, *o.Path, o.Value)
}

// object applies add or replace of a partial resource (no path, as Okta
// sends them): each member as if it were named by a path. prefix is the
// extension's URN and a colon for the members of the extension object.
func (pt *patcher) object(op opKind, prefix string, raw json.RawMessage) error {
	var members map[string]json.RawMessage
	if !isJSONObject(raw) || json.Unmarshal(raw, &members) != nil {
		return badRequest(typeInvalidValue, "an operation without a path needs an object of attributes as its value")
	}
	// In a stable order, so that of two bad members the same one is
	// reported.
	for _, key := range slices.Sorted(maps.Keys(members)) {
		val := members[key]
		switch lower := strings.ToLower(key); {
		case prefix == "" && lower == "schemas", prefix == "" && lower == "meta":
			continue // the resource's own description, not attributes to set
		case prefix == "" && lower == "id":
			var id string
			if json.Unmarshal(val, &id) != nil || id != pt.cur.ID {
				return badRequest(typeMutability, "id cannot be changed")
			}
			continue
		case prefix == "" && lower == strings.ToLower(schemaExtension):
			if err := pt.object(op, schemaExtension+":", val); err != nil {
				return err
			}
			continue
		case prefix == "" && lower == strings.ToLower(schemaEnterprise):
			continue
		}
		if err := pt.path(op, prefix+key, val); err != nil {
			return err
		}
	}
	return nil
}

// path applies one operation on the attribute a path names.
func (pt *patcher) path(op opKind, text string, val json.RawMessage) (err error) {
	if len(text) > maxPathBytes {
		return badRequest(typeInvalidPath, "a path may have at most %d bytes", maxPathBytes)
	}
	switch {
	case strings.EqualFold(text, schemaEnterprise):
		return nil
	case strings.EqualFold(text, schemaExtension) && op == opRemove:
		for _, attr := range []string{"city", "province", "nationality", "sex", "signature", "remark", "thirdPartyIds"} {
			if err := pt.extension(op, strings.ToLower(attr), "", clip(text), nil); err != nil {
				return err
			}
		}
		return nil
	case strings.EqualFold(text, schemaExtension):
		return pt.object(op, schemaExtension+":", val)
	}
	p, err := parsePath(text)
	if err != nil {
		return err
	}
	uri := strings.ToLower(p.AttributePath.URI())
	attr := strings.ToLower(p.AttributePath.AttributeName)
	sub := ""
	if s := p.AttributePath.SubAttribute; s != nil {
		sub = strings.ToLower(*s)
	}
	if p.SubAttribute != nil {
		sub = strings.ToLower(*p.SubAttribute)
	}
	shown := clip(text)
	switch uri {
	case "", strings.ToLower(schemaUser):
	case strings.ToLower(schemaExtension):
		if p.ValueExpression != nil {
			return badRequest(typeInvalidPath, "%s: the extension has no multi-valued attributes to filter", shown)
		}
		return pt.extension(op, attr, sub, shown, val)
	case strings.ToLower(schemaEnterprise):
		return nil
	default:
		return badRequest(typeInvalidPath, "%s: unknown schema; this server keeps %s and %s", shown, schemaUser, schemaExtension)
	}
	if p.ValueExpression != nil {
		return pt.multi(op, attr, p.ValueExpression, sub, shown, val)
	}
	switch attr {
	case "id", "meta", "schemas", "groups":
		return badRequest(typeMutability, "%s is read-only", shown)
	case "username":
		if op == opRemove {
			return badRequest(typeMutability, "userName is required: it can be replaced, not removed")
		}
		return setText(&pt.p.OriginID, op, shown, val)
	case "externalid":
		return setText(&pt.p.ExternalID, op, shown, val)
	case "displayname", "nickname":
		return setText(&pt.p.Nickname, op, shown, val)
	case "preferredlanguage", "locale":
		return setText(&pt.p.Lang, op, shown, val)
	case "timezone":
		return setText(&pt.p.Timezone, op, shown, val)
	case "active":
		if op == opRemove {
			return badRequest(typeMutability, "active cannot be removed: replace it with true or false")
		}
		var b flexBool
		if err := json.Unmarshal(val, &b); err != nil {
			return badRequest(typeInvalidValue, "%s must be true or false", shown)
		}
		st := usercenter.UserDisabled
		if b {
			st = usercenter.UserActive
		}
		pt.p.Status = &st
		return nil
	case "name":
		return pt.name(op, sub, shown, val)
	case "emails", "phonenumbers", "photos", "addresses":
		return pt.multi(op, attr, nil, sub, shown, val)
	case "title", "usertype", "profileurl", "ims", "x509certificates", "entitlements", "roles", "password":
		return nil // RFC 7643 attributes usercenter does not keep; a POST ignores them too
	}
	return badRequest(typeInvalidPath, "%s: no such attribute; /Schemas lists them", shown)
}

// parsePath parses a PATCH path, refusing what the parser cannot read.
func parsePath(text string) (p filter.Path, err error) {
	defer func() {
		// The parser is a third party's: a panic on some input must be a
		// refusal, not a failed request.
		if recover() != nil {
			err = badRequest(typeInvalidPath, "the path is not valid SCIM path syntax")
		}
	}()
	p, perr := filter.ParsePath([]byte(text))
	if perr != nil {
		return p, badRequest(typeInvalidPath, "%s is not valid SCIM path syntax (RFC 7644 §3.5.2)", clip(text))
	}
	return p, nil
}

// setText applies an operation to a text field of the patch: remove and
// null clear it.
func setText(dst **string, op opKind, shown string, val json.RawMessage) error {
	if op == opRemove || isNull(val) {
		*dst = new(string)
		return nil
	}
	var s string
	if err := json.Unmarshal(val, &s); err != nil {
		return badRequest(typeInvalidValue, "%s must be a string", shown)
	}
	*dst = &s
	return nil
}

func isNull(val json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(val), []byte("null")) }

// name applies an operation to name or one of its sub-attributes; of
// them usercenter keeps formatted.
func (pt *patcher) name(op opKind, sub, shown string, val json.RawMessage) error {
	switch sub {
	case "formatted":
		return setText(&pt.p.FullName, op, shown, val)
	case "":
		if op == opRemove || isNull(val) {
			pt.p.FullName = new(string)
			return nil
		}
		var n struct {
			Formatted *string `json:"formatted"`
		}
		if !isJSONObject(val) || json.Unmarshal(val, &n) != nil {
			return badRequest(typeInvalidValue, "%s must be an object", shown)
		}
		if n.Formatted != nil {
			pt.p.FullName = n.Formatted
		} else if op == opReplace {
			pt.p.FullName = new(string) // replace sets the whole of name
		}
		return nil
	case "givenname", "familyname", "middlename", "honorificprefix", "honorificsuffix":
		return nil // not kept, as in a POST
	}
	return badRequest(typeInvalidPath, "%s: name has no such sub-attribute", shown)
}

// multiAttr describes a multi-valued attribute of which usercenter keeps
// one value.
type multiAttr struct {
	valueName string // the sub-attribute that holds the value
	field     func(*core.UserPatch) **string
	current   func(*usercenter.User) string
}

var multiAttrs = map[string]multiAttr{
	"emails":       {"value", func(p *core.UserPatch) **string { return &p.Email }, func(u *usercenter.User) string { return u.Email }},
	"phonenumbers": {"value", func(p *core.UserPatch) **string { return &p.Phone }, func(u *usercenter.User) string { return u.Phone }},
	"photos":       {"value", func(p *core.UserPatch) **string { return &p.Avatar }, func(u *usercenter.User) string { return u.Avatar }},
	"addresses":    {"formatted", func(p *core.UserPatch) **string { return &p.Address }, func(u *usercenter.User) string { return u.Address }},
}

// multi applies an operation to a multi-valued attribute, through a value
// filter (expr) or not, to the whole values or to one sub-attribute. The
// one value kept has no type and is the primary one, so a filter on type
// selects it whatever the type named, and primary eq true selects it.
func (pt *patcher) multi(op opKind, attr string, expr filter.Expression, sub, shown string, val json.RawMessage) error {
	m, ok := multiAttrs[attr]
	if !ok {
		return badRequest(typeInvalidPath, "%s: value filters apply to emails, phoneNumbers, addresses and photos", shown)
	}
	dst := m.field(&pt.p)
	has := m.current(pt.cur) != ""
	if *dst != nil {
		has = **dst != ""
	}
	if expr != nil {
		match, err := selects(expr, shown)
		if err != nil {
			return err
		}
		if !match || !has {
			if op == opAdd {
				if !match {
					return badRequest(typeNoTarget, "%s selects no value", shown)
				}
			} else {
				return badRequest(typeNoTarget, "%s selects no value", shown)
			}
		}
	}
	switch {
	case sub == m.valueName:
		return setText(dst, op, shown, val)
	case sub == "":
	case attr == "addresses" || sub == "type" || sub == "primary" || sub == "display":
		// Not kept: addresses keep formatted only (Entra sends
		// streetAddress, locality, … apart), values no type.
		if op == opRemove && sub == "" {
			*dst = new(string)
		}
		return nil
	default:
		return badRequest(typeInvalidPath, "%s: no such sub-attribute", shown)
	}
	if op == opRemove || isNull(val) {
		*dst = new(string)
		return nil
	}
	// The values themselves: a list, or, through a filter, one value.
	var values []multiValueInput
	trimmed := bytes.TrimSpace(val)
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		if err := decodeValues(attr, trimmed, &values); err != nil {
			return badRequest(typeInvalidValue, "%s must be a list of objects", shown)
		}
	case isJSONObject(trimmed):
		var one []multiValueInput
		if err := decodeValues(attr, append(append([]byte("["), trimmed...), ']'), &one); err != nil {
			return badRequest(typeInvalidValue, "%s must be an object", shown)
		}
		values = one
	default:
		return badRequest(typeInvalidValue, "%s must be a list of objects", shown)
	}
	if len(values) == 0 {
		if op == opReplace {
			*dst = new(string)
		}
		return nil
	}
	v, err := oneValue(attr, values)
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

// decodeValues reads a list of values of attr: addresses hold formatted,
// the others value.
func decodeValues(attr string, raw []byte, out *[]multiValueInput) error {
	if attr != "addresses" {
		return json.Unmarshal(raw, out)
	}
	var addrs []addressInput
	if err := json.Unmarshal(raw, &addrs); err != nil {
		return err
	}
	for _, a := range addrs {
		*out = append(*out, multiValueInput{Value: a.Formatted, Type: a.Type, Primary: a.Primary})
	}
	return nil
}

// selects evaluates a value filter against the one value kept: typeless
// and primary.
func selects(expr filter.Expression, shown string) (bool, error) {
	switch e := expr.(type) {
	case *filter.LogicalExpression:
		l, err := selects(e.Left, shown)
		if err != nil {
			return false, err
		}
		r, err := selects(e.Right, shown)
		if err != nil {
			return false, err
		}
		if strings.EqualFold(string(e.Operator), string(filter.OR)) {
			return l || r, nil
		}
		return l && r, nil
	case *filter.NotExpression:
		m, err := selects(e.Expression, shown)
		return !m, err
	case *filter.AttributeExpression:
		switch strings.ToLower(e.AttributePath.AttributeName) {
		case "type":
			return true, nil
		case "primary":
			b, ok := e.CompareValue.(bool)
			if !ok || !strings.EqualFold(string(e.Operator), string(filter.EQ)) {
				return false, badRequest(typeInvalidPath, "%s: primary can be compared with eq true or false", shown)
			}
			return b, nil
		}
	}
	return false, badRequest(typeInvalidPath, "%s: a value filter here may test type and primary", shown)
}

// extension applies an operation to an attribute of the usercenter
// extension, or to the extension as a whole (attr "").
func (pt *patcher) extension(op opKind, attr, sub, shown string, val json.RawMessage) error {
	text := map[string]**string{
		"city": &pt.p.City, "province": &pt.p.Province, "nationality": &pt.p.Nationality,
		"sex": &pt.p.Sex, "signature": &pt.p.Signature, "remark": &pt.p.Remark,
	}
	if dst, ok := text[attr]; ok && sub == "" {
		return setText(dst, op, shown, val)
	}
	switch attr {
	case "logonmode":
		if sub != "" {
			break
		}
		if op == opRemove || isNull(val) {
			return badRequest(typeMutability, "logonMode cannot be removed: replace it with a number")
		}
		var n int
		if err := json.Unmarshal(val, &n); err != nil {
			return badRequest(typeInvalidValue, "%s must be an integer", shown)
		}
		m := usercenter.LogonMode(n)
		pt.p.LogonMode = &m
		return nil
	case "thirdpartyids":
		return pt.links(op, sub, shown, val)
	}
	return badRequest(typeInvalidPath, "%s: no such attribute of %s", shown, schemaExtension)
}

// links applies an operation to the third-party IDs, or to one
// provider's (sub). replace of the whole sets exactly the IDs given; add
// merges them.
func (pt *patcher) links(op opKind, sub, shown string, val json.RawMessage) error {
	if pt.p.ThirdParty == nil {
		pt.p.ThirdParty = map[usercenter.Provider]*string{}
	}
	unlinkAll := func() {
		for prov := range pt.cur.ThirdParty {
			pt.p.ThirdParty[prov] = nil
		}
		for prov := range pt.p.ThirdParty {
			pt.p.ThirdParty[prov] = nil
		}
	}
	if sub != "" {
		prov := providerNamed(sub)
		if op == opRemove || isNull(val) {
			pt.p.ThirdParty[prov] = nil
			return nil
		}
		var id string
		if err := json.Unmarshal(val, &id); err != nil {
			return badRequest(typeInvalidValue, "%s must be a string", shown)
		}
		pt.p.ThirdParty[prov] = &id
		return nil
	}
	if op == opRemove || isNull(val) {
		unlinkAll()
		return nil
	}
	var ids map[string]*string
	if !isJSONObject(val) || json.Unmarshal(val, &ids) != nil {
		return badRequest(typeInvalidValue, "%s must be an object of IDs by provider", shown)
	}
	if op == opReplace {
		unlinkAll()
	}
	for name, id := range ids {
		pt.p.ThirdParty[providerNamed(name)] = id
	}
	return nil
}

// providerNamed finds a provider by its name in any case, as attribute
// names are; an unknown name is kept as sent, for core to refuse.
func providerNamed(name string) usercenter.Provider {
	for _, p := range usercenter.Providers {
		if strings.EqualFold(string(p), name) {
			return p
		}
	}
	return usercenter.Provider(name)
}
