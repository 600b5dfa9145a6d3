package scim

import (
	"strconv"
	"strings"
	"time"

	"usercenter"

	filter "github.com/scim2/filter-parser/v2"
)

// maxFilterBytes bounds a filter: the ones this server answers are a few
// comparisons.
const maxFilterBytes = 1024

// userFilter is what a filter selects, in the terms the use cases answer:
// at most one exact lookup, a window of the last change [modifiedSince,
// modifiedUntil) (zero for no bound), and active.
type userFilter struct {
	id, userName, externalID, email, phone string
	active                                 *bool
	modifiedSince, modifiedUntil           time.Time
}

// byModification reports whether the filter bounds meta.lastModified.
func (f *userFilter) byModification() bool {
	return !f.modifiedSince.IsZero() || !f.modifiedUntil.IsZero()
}

// keeps reports whether a user passes the filter's active and
// lastModified conditions.
func (f *userFilter) keeps(u *usercenter.User) bool {
	return (f.active == nil || (u.Status == usercenter.UserActive) == *f.active) &&
		(f.modifiedSince.IsZero() || !u.UpdatedAt.Before(f.modifiedSince)) &&
		(f.modifiedUntil.IsZero() || u.UpdatedAt.Before(f.modifiedUntil))
}

// binding is the filter in a canonical form, which a cursor is bound to:
// the same filter spelled otherwise has the same binding.
func (f *userFilter) binding() string {
	active := "-"
	if f.active != nil {
		active = strconv.FormatBool(*f.active)
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return strconv.FormatInt(t.UnixNano(), 10)
	}
	return "active=" + active + ";since=" + at(f.modifiedSince) + ";until=" + at(f.modifiedUntil)
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
const supportedFilters = `eq on one of id, userName, externalId, emails.value and phoneNumbers.value, active eq true|false, and gt, ge, lt or le on meta.lastModified, joined by and`

// parseFilter reads a filter (RFC 7644 §3.4.2.2). Attribute names and
// operators are case-insensitive; values are compared exactly. Anything
// it cannot answer is an invalidFilter error saying what it can.
func parseFilter(s string) (f *userFilter, err error) {
	if len(s) > maxFilterBytes {
		return nil, badRequest(typeInvalidFilter, "the filter exceeds %d bytes", maxFilterBytes)
	}
	if f := lookupFilter(s); f != nil {
		return f, nil
	}
	return parseFilterTree(s)
}

// lookupFilter reads, without the general parser, the one shape that
// providers send before each create and that leads to one point lookup:
// `attr eq "value"` on id, userName or externalId, the value printable
// ASCII with nothing escaped. The parser costs more than the lookup
// itself (docs/performance.md, "SCIM"). It returns nil for anything else,
// which parseFilterTree then reads; the two agree on every filter that
// lookupFilter reads (FuzzLookupFilter).
func lookupFilter(s string) *userFilter {
	name, rest, _ := strings.Cut(s, " ")
	op, value, _ := strings.Cut(rest, " ")
	if !strings.EqualFold(op, "eq") || len(value) < 3 || value[0] != '"' || value[len(value)-1] != '"' {
		return nil
	}
	value = value[1 : len(value)-1]
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return nil
		}
	}
	f := &userFilter{}
	switch strings.ToLower(name) {
	case "id":
		f.id = value
	case "username":
		f.userName = value
	case "externalid":
		f.externalID = value
	default:
		return nil
	}
	return f
}

// parseFilterTree reads any filter through the general parser.
func parseFilterTree(s string) (f *userFilter, err error) {
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
	if f.lookups() > 1 {
		return nil, badRequest(typeInvalidFilter, "the filter may hold one of id, userName, externalId, emails.value and phoneNumbers.value")
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
	if name == "meta.lastmodified" {
		return f.modified(e, shown)
	}
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

// modified adds a comparison of meta.lastModified, a bound of the window:
// gt and le move the bound by the nanosecond the stored times count in,
// so that every bound is inclusive below and exclusive above. Of two
// bounds on one side the narrower holds.
func (f *userFilter) modified(e *filter.AttributeExpression, shown string) error {
	op := strings.ToLower(string(e.Operator))
	if op != "gt" && op != "ge" && op != "lt" && op != "le" {
		return badRequest(typeInvalidFilter, "%s %s is not supported: meta.lastModified is compared with gt, ge, lt or le", shown, clip(op))
	}
	v, ok := e.CompareValue.(string)
	if !ok {
		return badRequest(typeInvalidValue, "%s must be compared with a dateTime string, such as \"2026-12-07T01:17:29Z\"", shown)
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return badRequest(typeInvalidValue, "%s must be compared with a dateTime (RFC 3339, such as \"2026-12-07T01:17:29Z\"), not %s", shown, clip(v))
	}
	t = t.UTC()
	since := func(t time.Time) {
		if t.After(f.modifiedSince) {
			f.modifiedSince = t
		}
	}
	until := func(t time.Time) {
		if f.modifiedUntil.IsZero() || t.Before(f.modifiedUntil) {
			f.modifiedUntil = t
		}
	}
	switch op {
	case "gt":
		since(t.Add(time.Nanosecond))
	case "ge":
		since(t)
	case "lt":
		until(t)
	case "le":
		until(t.Add(time.Nanosecond))
	}
	return nil
}

// clip quotes a caller's text, shortened, to echo it back.
func clip(s string) string {
	return strconv.Quote(usercenter.ClipName(strings.ToValidUTF8(s, "\uFFFD"), 64))
}
