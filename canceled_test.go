package usercenter

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// A cancellation is told apart from every error the domain classified,
// however the engine wrapped it.
func TestCanceled(t *testing.T) {
	commit := fmt.Errorf("commit: %w", context.Canceled) // a driver's error around the context's
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"bare, as SQLite returns it", context.Canceled, true},
		{"wrapped by a driver", commit, true},
		{"internal, as PostgreSQL maps it", Internal(context.Canceled), true},
		{"commit outcome unknown", &Error{Code: EUnavailable, Message: "the outcome is unknown", Err: commit}, false},
		{"deadline", context.DeadlineExceeded, false},
		{"internal, not canceled", Internal(errors.New("disk full")), false},
		{"not found", NotFound(ResourceUser), false},
		{"nil", nil, false},
	} {
		if got := Canceled(c.err); got != c.want {
			t.Errorf("%s: Canceled(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
