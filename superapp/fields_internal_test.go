package superapp

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
		a := fromDomain(e)
		if a.status == 0 || a.code == "" {
			t.Errorf("%s: no status or code", e.Code)
		}
		return a.status == 500
	})
}
