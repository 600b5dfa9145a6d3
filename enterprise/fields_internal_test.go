package enterprise

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
		if _, ok := messages[a.Code]; !ok {
			t.Errorf("%s: code %d has no message", e.Code, a.Code)
		}
		return a.Code == codeInternal
	})
}
