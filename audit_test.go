package usercenter

import "testing"

func TestAuditActionValid(t *testing.T) {
	for _, a := range AuditActions {
		if !a.Valid() {
			t.Errorf("%q.Valid() = false", a)
		}
	}
	for _, a := range []AuditAction{"", "Reveal", "read", "reveal "} {
		if a.Valid() {
			t.Errorf("%q.Valid() = true", a)
		}
	}
}
