package restapi

import (
	"testing"

	"usercenter"
	"usercenter/uctest/spelltest"
)

// TestFieldSpelling checks this facade's one table of field names.
func TestFieldSpelling(t *testing.T) { spelltest.Check(t, fields) }

// TestDomainCodes checks that every domain code maps to one of this
// facade's answers, and only EInternal to its internal error.
func TestDomainCodes(t *testing.T) {
	spelltest.Codes(t, func(e *usercenter.Error) bool {
		p := fromDomain(e)
		if _, ok := problemTypes[p.Code]; !ok {
			t.Errorf("%s: problem code %q is not in problemTypes", e.Code, p.Code)
		}
		return p.Code == "internal"
	})
}
