// Package spelltest checks a facade's table of field names, the one
// place each facade spells the domain's fields.
package spelltest

import (
	"testing"

	"usercenter"
)

// Check fails t unless fields names every domain field, no two alike,
// and never passes an unknown field through under its domain name.
func Check(t *testing.T, fields usercenter.Spelling) {
	t.Helper()
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

// Codes calls answer for an error of every domain code and fails t
// unless only EInternal is answered as the facade's internal error.
func Codes(t *testing.T, internal func(*usercenter.Error) bool) {
	t.Helper()
	for _, code := range usercenter.Codes {
		e := &usercenter.Error{Code: code, Field: usercenter.FieldOriginID, Message: "must be x"}
		if got := internal(e); got != (code == usercenter.EInternal) {
			t.Errorf("%s: answered as internal: %v", code, got)
		}
	}
}
