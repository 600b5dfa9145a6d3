package storecache

import (
	"errors"
	"slices"
	"testing"

	"usercenter/core"
)

// recorder is a Subscriber that keeps what it is handed.
type recorder struct{ msgs []string }

func (r *recorder) Up()              {}
func (r *recorder) Down(error)       {}
func (r *recorder) Message(m []byte) { r.msgs = append(r.msgs, string(m)) }

// TestDeliver: from the entry last on, the later messages are handed
// over in order; a read that does not begin at last (pruned) drops
// everything instead, and so does one whose entry at last's number is
// another message (the database restored, then written past last); a
// log that no longer has last, nor anything after it, went back, and the
// listener must start again. Each drop names its reason.
func TestDeliver(t *testing.T) {
	msg := func(seq int64) []byte { return []byte{byte('a' + seq)} }
	entries := func(seqs ...int64) []LogEntry {
		var es []LogEntry
		for _, s := range seqs {
			es = append(es, LogEntry{Seq: s, Msg: msg(s)})
		}
		return es
	}
	mark := func(seq int64) logMark {
		if seq == 0 {
			return logMark{}
		}
		return logMark{seq, msg(seq)}
	}
	restored := append([]LogEntry{{Seq: 4, Msg: []byte("written after the restore")}}, entries(5, 6)...)
	gap, restore, rewind := string(resetMessages[resetGap]), string(resetMessages[resetRestore]), string(resetMessages[resetRewind])
	for _, c := range []struct {
		name     string
		last     logMark
		es       []LogEntry
		want     []string
		wantNext logMark
		wantErr  error
	}{
		{"nothing new", mark(4), entries(4), nil, mark(4), nil},
		{"new messages", mark(4), entries(4, 5, 6), []string{"f", "g"}, mark(6), nil},
		{"an empty log stays empty", mark(0), nil, nil, mark(0), nil},
		{"the first messages of a log", mark(0), entries(1, 2), []string{"b", "c"}, mark(2), nil},
		{"last pruned", mark(4), entries(9, 10), []string{gap}, mark(10), nil},
		{"pruned before the first read", mark(0), entries(3, 4), []string{gap}, mark(4), nil},
		{"restored and written past last", mark(4), restored, []string{restore}, mark(6), nil},
		{"restored and written up to last", mark(4), restored[:1], []string{restore}, logMark{4, restored[0].Msg}, nil},
		{"the log went back", mark(4), nil, []string{rewind}, mark(4), errLogRewound},
	} {
		var r recorder
		next, err := deliver(&r, c.last, c.es)
		if next.seq != c.wantNext.seq || string(next.msg) != string(c.wantNext.msg) || !errors.Is(err, c.wantErr) || !slices.Equal(r.msgs, c.want) {
			t.Errorf("%s: deliver from %d = %d %q, %v, handing %q; want %d %q, %v, %q", c.name, c.last.seq, next.seq, next.msg, err, r.msgs,
				c.wantNext.seq, c.wantNext.msg, c.wantErr, c.want)
		}
	}
}

// TestResetMessagesDropAll: a reset message, whatever its reason, drops
// every entry and counts under its reason, not as a message heard.
func TestResetMessagesDropAll(t *testing.T) {
	for i, reason := range resetReasons {
		m, ok := decode(resetMessages[reason])
		if !ok || !m.All || m.Reset != reason || m.Node != "" {
			t.Errorf("the %s message decodes as %+v, %v", reason, m, ok)
		}
		s := New(nil, DefaultLimits)
		s.UseBus(nil, TTL)
		_, _, tk := s.users.lookup("u1")
		s.users.put("u1", &core.UserRecord{}, tk)
		if s.users.len() != 1 {
			t.Fatal("the test's user was not cached")
		}
		(*subscriber)(s).Message(resetMessages[reason])
		if s.users.len() != 0 {
			t.Errorf("a %s message left the users cached", reason)
		}
		for j := range resetReasons {
			want := int64(0)
			if j == i {
				want = 1
			}
			if got := s.bus.resets[j].Load(); got != want {
				t.Errorf("a %s message counted %d %s resets, want %d", reason, got, resetReasons[j], want)
			}
		}
		if got := s.bus.received.Load(); got != 0 {
			t.Errorf("a %s message counted as %d messages heard", reason, got)
		}
	}
}
