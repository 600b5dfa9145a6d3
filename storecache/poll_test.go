package storecache

import (
	"errors"
	"slices"
	"testing"
)

// recorder is a Subscriber that keeps what it is handed.
type recorder struct{ msgs []string }

func (r *recorder) Up()              {}
func (r *recorder) Down(error)       {}
func (r *recorder) Message(m []byte) { r.msgs = append(r.msgs, string(m)) }

// TestDeliver: from the entry last on, the later messages are handed
// over in order; a read that does not begin at last (pruned) drops
// everything instead; a log that no longer has last, nor anything
// after it, went back, and the listener must start again.
func TestDeliver(t *testing.T) {
	entries := func(seqs ...int64) []LogEntry {
		var es []LogEntry
		for _, s := range seqs {
			es = append(es, LogEntry{Seq: s, Msg: []byte{byte('a' + s)}})
		}
		return es
	}
	all := string(allMessage)
	for _, c := range []struct {
		name     string
		last     int64
		es       []LogEntry
		want     []string
		wantNext int64
		wantErr  error
	}{
		{"nothing new", 4, entries(4), nil, 4, nil},
		{"new messages", 4, entries(4, 5, 6), []string{"f", "g"}, 6, nil},
		{"an empty log stays empty", 0, nil, nil, 0, nil},
		{"the first messages of a log", 0, entries(1, 2), []string{"b", "c"}, 2, nil},
		{"last pruned", 4, entries(9, 10), []string{all}, 10, nil},
		{"pruned before the first read", 0, entries(3, 4), []string{all}, 4, nil},
		{"the log went back", 4, nil, nil, 4, errLogRewound},
	} {
		var r recorder
		next, err := deliver(&r, c.last, c.es)
		if next != c.wantNext || !errors.Is(err, c.wantErr) || !slices.Equal(r.msgs, c.want) {
			t.Errorf("%s: deliver from %d = %d, %v, handing %q; want %d, %v, %q", c.name, c.last, next, err, r.msgs, c.wantNext, c.wantErr, c.want)
		}
	}
}
