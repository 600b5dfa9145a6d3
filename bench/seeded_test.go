package bench

import (
	"fmt"
	"testing"
	"time"

	"usercenter"
)

func mustSeeded(tb testing.TB, users ...sampleUser) *seededUsers {
	tb.Helper()
	s, err := seededOf(users...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// Every UserId comes back exactly as the server spelled it, beside its
// seeding index, in 20 bytes a user.
func TestSeededUsersKeepEveryID(t *testing.T) {
	const n = 5000
	s := newSeededUsers(n)
	want := make([]string, n)
	start := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	for i := range n {
		want[i] = usercenter.NewUserID(start.Add(time.Duration(i) * time.Millisecond))
		if err := s.set(i, []byte(want[i])); err != nil {
			t.Fatalf("set %q: %v", want[i], err)
		}
	}
	s.keepSeeded()
	if s.Len() != n || s.idxs != nil {
		t.Fatalf("%d users kept (idxs %v), want %d and slot = index", s.Len(), s.idxs != nil, n)
	}
	if got := len(s.ids); got != n*20 {
		t.Fatalf("%d bytes for %d users, want %d", got, n, n*20)
	}
	for i := range n {
		if u := s.at(i); u.id != want[i] || u.idx != i {
			t.Fatalf("slot %d is %+v, want {%s %d}", i, u, want[i], i)
		}
	}
}

// Users whose seeding failed (never set, or dropped after their contacts
// failed) are not picked, and the others keep their seeding index.
func TestSeededUsersDropFailed(t *testing.T) {
	const n = 10
	s := newSeededUsers(n)
	ids := map[int]string{}
	for i := range n {
		if i == 3 || i == 7 {
			continue // a failed import
		}
		ids[i] = fmt.Sprintf("%027d", 1000+i)
		if err := s.set(i, []byte(ids[i])); err != nil {
			t.Fatal(err)
		}
	}
	s.drop(0) // its phone and email could not be set
	delete(ids, 0)
	s.keepSeeded()
	if s.Len() != len(ids) {
		t.Fatalf("%d users kept, want %d", s.Len(), len(ids))
	}
	prev := -1
	for k := range s.Len() {
		u := s.at(k)
		if ids[u.idx] != u.id || u.idx <= prev {
			t.Fatalf("slot %d is %+v; want the users in order, each with its own id (%v)", k, u, ids)
		}
		prev = u.idx
	}
}

// A userId that is not a KSUID is a bad answer, not a user kept wrong.
func TestSeededUsersRefuseNonKSUID(t *testing.T) {
	s := newSeededUsers(1)
	for _, id := range []string{"", "short", "2zNkbGhJ3Rf6H4oqQ2nX5c9cVx!", "zzzzzzzzzzzzzzzzzzzzzzzzzzz", "000000000000000000000000000"} {
		if err := s.set(0, []byte(id)); err == nil {
			t.Errorf("set(%q) = nil, want an error", id)
		}
	}
	if s.has(0) {
		t.Fatal("a refused id was kept")
	}
}
