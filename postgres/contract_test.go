package postgres_test

import (
	"testing"

	"usercenter/core"
	"usercenter/core/storetest"
	"usercenter/postgres/pgtest"
)

// TestContract runs the engine-agnostic behaviour of core.Store against
// PostgreSQL, each case on a fresh schema; the other tests here cover what
// only this engine does.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) core.Store { return pgtest.Open(t) })
}
