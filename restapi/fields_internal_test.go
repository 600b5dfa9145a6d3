package restapi

import (
	"testing"

	"usercenter"
)

// TestFieldSpelling checks this facade's one table of field names: every
// domain field has a name, no two share one, and a field the table does
// not know is never passed through under its domain name.
func TestFieldSpelling(t *testing.T) {
	names := map[string]usercenter.Field{}
	for _, f := range usercenter.Fields {
		name, ok := fields.Spell(f)
		if !ok || name == "" {
			t.Errorf("field %q has no name in this facade's table", f)
			continue
		}
		if other, dup := names[name]; dup {
			t.Errorf("fields %q and %q are both spelled %q", f, other, name)
		}
		names[name] = f
	}
	if len(fields) != len(usercenter.Fields) {
		t.Errorf("the table spells %d fields; the domain has %d", len(fields), len(usercenter.Fields))
	}
	if name, ok := fields.Spell(usercenter.Field("noSuchField")); ok || name != "" {
		t.Errorf("an unknown field is spelled %q", name)
	}
	e := usercenter.Invalid(usercenter.Field("noSuchField"), "must be x")
	if got := e.Describe(fields); got != "the value must be x" {
		t.Errorf("an unknown field is described as %q", got)
	}
}

// TestDomainCodes checks that every domain code maps to one of this
// facade's answers, and only EInternal to its internal error.
func TestDomainCodes(t *testing.T) {
	for _, code := range usercenter.Codes {
		e := &usercenter.Error{Code: code, Field: usercenter.FieldOriginID, Message: "must be x"}
		p := fromDomain(e)
		if _, ok := problemTypes[p.Code]; !ok {
			t.Errorf("%s: problem code %q is not in problemTypes", e.Code, p.Code)
		}
		internal := p.Code == "internal"
		if internal != (code == usercenter.EInternal) {
			t.Errorf("%s: answered as internal: %v", code, internal)
		}
	}
}
