package datamove

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// SetBeforeVerify runs f on the destination between the copy and its
// verification, until the returned function undoes it.
func SetBeforeVerify(f func(ctx context.Context, dst *pgx.Conn) error) func() {
	testHookBeforeVerify = f
	return func() { testHookBeforeVerify = nil }
}

// UseValues switches the writer to multi-row INSERT, for comparing it with
// COPY.
func UseValues(v bool) func() {
	old := useValues
	useValues = v
	return func() { useValues = old }
}
