package sqlite

import (
	"testing"

	"usercenter/core"
	"usercenter/core/storetest"
)

// TestContract runs the engine-agnostic behaviour of core.Store against
// SQLite; the other tests here cover what only SQLite does.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) core.Store { return openStore(t) })
}
