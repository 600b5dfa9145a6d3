package scim

import (
	"encoding/json"
	"strings"

	"usercenter"
)

// projection is what the attributes and excludedAttributes parameters
// (RFC 7644 §3.4.2.5) ask of the resources returned: paths of one or two
// lowercased names (an attribute and a sub-attribute), the extension's
// attributes under the extension's URN.
type projection struct {
	only, except [][2]string
}

// alwaysReturned are never left out.
var alwaysReturned = map[string]bool{"id": true, "schemas": true}

// parseProjection reads the comma-separated attribute lists; names are
// case-insensitive and may carry their schema's URN. Names of no
// attribute select nothing, as the RFC has them.
func parseProjection(attributes, excluded []string) *projection {
	p := &projection{}
	for _, list := range []struct {
		names []string
		dst   *[][2]string
	}{{attributes, &p.only}, {excluded, &p.except}} {
		for _, s := range list.names {
			for name := range strings.SplitSeq(s, ",") {
				if name = strings.TrimSpace(name); name != "" {
					*list.dst = append(*list.dst, attrPath(name))
				}
			}
		}
	}
	return p
}

// attrPath splits an attribute name into its attribute and sub-attribute.
func attrPath(name string) [2]string {
	lower := strings.ToLower(name)
	if ext := strings.ToLower(schemaExtension); strings.HasPrefix(lower, ext) {
		return [2]string{ext, strings.TrimPrefix(lower[len(ext):], ":")}
	}
	lower = strings.TrimPrefix(lower, strings.ToLower(schemaUser)+":")
	attr, sub, _ := strings.Cut(lower, ".")
	return [2]string{attr, sub}
}

func (p *projection) empty() bool { return p == nil || len(p.only) == 0 && len(p.except) == 0 }

// returns reports whether the top-level attribute attr (as spelled in
// the resource) may appear, wholly or in part.
func (p *projection) returns(attr string) bool {
	if p.empty() {
		return true
	}
	a := strings.ToLower(attr)
	if alwaysReturned[a] {
		return true
	}
	if len(p.only) > 0 && !p.selects(p.only, a) {
		return false
	}
	for _, e := range p.except {
		if e[0] == a && e[1] == "" {
			return false
		}
	}
	return true
}

func (p *projection) selects(paths [][2]string, attr string) bool {
	for _, q := range paths {
		if q[0] == attr {
			return true
		}
	}
	return false
}

// subs lists the sub-attributes of attr that paths name; nil when one
// names attr whole.
func subs(paths [][2]string, attr string) (names []string, whole bool) {
	for _, q := range paths {
		if q[0] != attr {
			continue
		}
		if q[1] == "" {
			return nil, true
		}
		names = append(names, q[1])
	}
	return names, false
}

// piiAttrs maps the personal fields to the attributes that show them.
var piiAttrs = map[usercenter.PIIField]string{
	usercenter.FieldEmail: "emails", usercenter.FieldPhone: "phoneNumbers", usercenter.FieldAddress: "addresses",
}

// apply renders v, a resource, as JSON with only what p returns.
func (p *projection) apply(v any) any {
	if p.empty() {
		return v
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return v
	}
	for key, val := range m {
		a := strings.ToLower(key)
		if alwaysReturned[a] {
			continue
		}
		if !p.returns(key) {
			delete(m, key)
			continue
		}
		if len(p.only) > 0 {
			if names, whole := subs(p.only, a); !whole {
				val = keepSubs(val, names, true)
			}
		}
		if names, whole := subs(p.except, a); !whole && len(names) > 0 {
			val = keepSubs(val, names, false)
		}
		m[key] = val
	}
	return m
}

// keepSubs keeps (keep) or drops (!keep) the named sub-attributes of a
// complex value, or of each value of a multi-valued one.
func keepSubs(v any, names []string, keep bool) any {
	filter := func(obj map[string]any) {
		for k := range obj {
			named := false
			for _, n := range names {
				if strings.EqualFold(k, n) {
					named = true
				}
			}
			if named != keep {
				delete(obj, k)
			}
		}
	}
	switch x := v.(type) {
	case map[string]any:
		filter(x)
	case []any:
		for _, e := range x {
			if obj, ok := e.(map[string]any); ok {
				filter(obj)
			}
		}
	}
	return v
}
