package sqlstore

import (
	"errors"
	"testing"

	"usercenter"
)

func TestPlaceholders(t *testing.T) {
	for _, c := range []struct {
		p        Placeholder
		from, n  int
		nth, got string
	}{
		{Question, 1, 3, "?", "?, ?, ?"},
		{Question, 5, 1, "?", "?"},
		{Dollar, 1, 3, "$1", "$1, $2, $3"},
		{Dollar, 9, 3, "$9", "$9, $10, $11"},
		{Dollar, 1, 0, "$1", ""},
	} {
		if got := c.p.List(c.from, c.n); got != c.got {
			t.Errorf("%v.List(%d, %d) = %q, want %q", c.p, c.from, c.n, got, c.got)
		}
		if got := c.p.Nth(c.from); got != c.nth {
			t.Errorf("%v.Nth(%d) = %q, want %q", c.p, c.from, got, c.nth)
		}
	}
}

func TestNullBytes(t *testing.T) {
	if NullBytes(nil) != nil || NullBytes([]byte{}) != nil {
		t.Error("NullBytes of an empty slice is not nil")
	}
	if b, ok := NullBytes([]byte("x")).([]byte); !ok || string(b) != "x" {
		t.Errorf("NullBytes(x) = %v", NullBytes([]byte("x")))
	}
}

func TestConflict(t *testing.T) {
	cause := errors.New("UNIQUE constraint failed: users.user_id; value 'u1'")
	err := Conflict(usercenter.FieldUserID, cause)
	e := usercenter.ErrorOf(err)
	if e.Code != usercenter.EConflict || e.Field != usercenter.FieldUserID || e.Message != "is already taken" || !errors.Is(err, cause) {
		t.Errorf("Conflict = %#v", e)
	}
}
