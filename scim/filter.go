package scim

import (
	"strconv"
	"strings"

	"usercenter"

	filter "github.com/scim2/filter-parser/v2"
)

// maxFilterBytes bounds a filter: the ones this slice answers are one or
// two comparisons.
const maxFilterBytes = 1024

// userFilter is what a filter selects, in the terms the use cases answer:
// at most one exact lookup, optionally narrowed by active.
type userFilter struct {
	id, userName, externalID, email, phone string
	active                                 *bool
}

// lookups counts the exact lookups set.
func (f *userFilter) lookups() int {
	n := 0
	for _, v := range []string{f.id, f.userName, f.externalID, f.email, f.phone} {
		if v != "" {
			n++
		}
	}
	return n
}

// supportedFilters says what parseFilter answers, for its refusals.
const supportedFilters = `eq on id, userName, externalId, emails.value or phoneNumbers.value, optionally "and active eq true|false"`

// parseFilter reads a filter (RFC 7644 §3.4.2.2). Attribute names and
// operators are case-insensitive; values are compared exactly. Anything
// it cannot answer is an invalidFilter error saying what it can.
func parseFilter(s string) (f *userFilter, err error) {
	if len(s) > maxFilterBytes {
		return nil, badRequest(typeInvalidFilter, "the filter exceeds %d bytes", maxFilterBytes)
	}
	defer func() {
		// The parser is a third party's: a panic on some input must be a
		// refusal, not a failed request.
		if recover() != nil {
			f, err = nil, badRequest(typeInvalidFilter, "the filter is not valid SCIM filter syntax")
		}
	}()
	expr, perr := filter.ParseFilter([]byte(s))
	if perr != nil {
		return nil, badRequest(typeInvalidFilter, "the filter is not valid SCIM filter syntax (RFC 7644 §3.4.2.2)")
	}
	f = &userFilter{}
	if err := f.add(expr); err != nil {
		return nil, err
	}
	switch n := f.lookups(); {
	case n > 1:
		return nil, badRequest(typeInvalidFilter, "the filter may hold one of id, userName, externalId, emails.value and phoneNumbers.value")
	case n == 0:
		return nil, badRequest(typeInvalidFilter, "filtering on active alone is not supported yet; this server answers %s", supportedFilters)
	}
	return f, nil
}

// add adds one node of a filter's tree.
func (f *userFilter) add(expr filter.Expression) error {
	switch e := expr.(type) {
	case *filter.LogicalExpression:
		if !strings.EqualFold(string(e.Operator), string(filter.AND)) {
			return badRequest(typeInvalidFilter, "%q is not supported; this server answers %s", e.Operator, supportedFilters)
		}
		if err := f.add(e.Left); err != nil {
			return err
		}
		return f.add(e.Right)
	case *filter.AttributeExpression:
		return f.compare(e)
	}
	return badRequest(typeInvalidFilter, "this server answers %s", supportedFilters)
}

// compare adds one comparison.
func (f *userFilter) compare(e *filter.AttributeExpression) error {
	p := e.AttributePath
	if uri := p.URI(); uri != "" && !strings.EqualFold(uri, schemaUser) {
		return badRequest(typeInvalidFilter, "only attributes of %s can be filtered on", schemaUser)
	}
	name := strings.ToLower(p.AttributeName)
	if p.SubAttribute != nil {
		name += "." + strings.ToLower(*p.SubAttribute)
	}
	shown := clip(p.String())
	if !strings.EqualFold(string(e.Operator), string(filter.EQ)) {
		return badRequest(typeInvalidFilter, "%s %s is not supported; this server answers %s", shown, clip(string(e.Operator)), supportedFilters)
	}
	set := func(dst *string) error {
		v, ok := e.CompareValue.(string)
		if !ok {
			return badRequest(typeInvalidFilter, "%s must be compared with a string", shown)
		}
		if *dst != "" {
			return badRequest(typeInvalidFilter, "the filter names %s twice", shown)
		}
		if v == "" {
			return badRequest(typeInvalidFilter, "%s cannot be compared with an empty string", shown)
		}
		*dst = v
		return nil
	}
	switch name {
	case "id":
		return set(&f.id)
	case "username":
		return set(&f.userName)
	case "emails.value", "emails":
		return set(&f.email)
	case "phonenumbers.value", "phonenumbers":
		return set(&f.phone)
	case "active":
		v, ok := e.CompareValue.(bool)
		if !ok {
			return badRequest(typeInvalidFilter, "active must be compared with true or false")
		}
		if f.active != nil {
			return badRequest(typeInvalidFilter, "the filter names active twice")
		}
		f.active = &v
		return nil
	case "externalid":
		return set(&f.externalID)
	}
	return badRequest(typeInvalidFilter, "filtering on %s is not supported; this server answers %s", shown, supportedFilters)
}

// clip quotes a caller's text, shortened, to echo it back.
func clip(s string) string {
	return strconv.Quote(usercenter.ClipName(strings.ToValidUTF8(s, "\uFFFD"), 64))
}
