package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"usercenter/postgres"
	"usercenter/postgres/pgtest"
)

// recorder is a storecache.Subscriber that remembers what it was told.
type recorder struct {
	mu       sync.Mutex
	ups      int
	downs    []error
	messages []string
}

func (r *recorder) Up()            { r.mu.Lock(); r.ups++; r.mu.Unlock() }
func (r *recorder) Down(err error) { r.mu.Lock(); r.downs = append(r.downs, err); r.mu.Unlock() }
func (r *recorder) Message(b []byte) {
	r.mu.Lock()
	r.messages = append(r.messages, string(b))
	r.mu.Unlock()
}

func (r *recorder) state() (int, []error, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ups, append([]error(nil), r.downs...), append([]string(nil), r.messages...)
}

func poll(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not %s after 30s", what)
		}
	}
}

// TestInvalidationListenerQuiet: a listener that hears nothing checks its
// session now and then and stays up, and still hears what is published
// after; another schema's publications it never hears.
func TestInvalidationListenerQuiet(t *testing.T) {
	postgres.SetListenIdle(t, 20*time.Millisecond)
	s := pgtest.Open(t)
	other := pgtest.Open(t)
	bus := s.InvalidationBus()
	if bus.Channel() == other.InvalidationBus().Channel() {
		t.Fatal("two schemas share a channel")
	}
	var r recorder
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); bus.Subscribe(ctx, &r) }()
	poll(t, "up", func() bool { ups, _, _ := r.state(); return ups == 1 })
	poll(t, "pinged thrice", func() bool { return bus.Pings() >= 3 })
	if err := other.InvalidationBus().Publish(ctx, []byte("elsewhere")); err != nil {
		t.Fatal(err)
	}
	if err := bus.Publish(ctx, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	poll(t, "delivered", func() bool { _, _, m := r.state(); return len(m) > 0 })
	ups, downs, msgs := r.state()
	if ups != 1 || len(downs) != 0 || len(msgs) != 1 || msgs[0] != "hello" {
		t.Fatalf("ups %d, downs %v, messages %q; want one up, no down, only hello", ups, downs, msgs)
	}
	cancel()
	<-done
	if _, downs, _ := r.state(); len(downs) != 1 {
		t.Fatalf("downs after the end: %v, want one", downs)
	}
	if bus.ListenerPID() != 0 {
		t.Fatal("a listener PID after the end")
	}
}
