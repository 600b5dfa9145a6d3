package cli

import (
	"testing"

	"usercenter/uctest/spelltest"
)

// TestFieldSpelling checks the command line's one table of field names.
func TestFieldSpelling(t *testing.T) { spelltest.Check(t, fields) }
