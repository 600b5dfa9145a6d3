package uctest

import (
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"

	"usercenter/httpio"
	"usercenter/server"
)

// Handler is the instance's full HTTP handler again, with its own body
// budget, for tests that serve requests to it directly: with a budget
// they fill themselves, or with bodies they watch being read.
func (e *Env) Handler(bodies *httpio.BodyBudget) http.Handler {
	log := slog.New(slog.NewJSONHandler(e.Log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return server.NewHandler(e.Svc, log, server.NewRegistry(), server.WithBodyBudget(bodies))
}

// LargeBody is a request body of a given size, a head followed by 'x's,
// that counts how much of it the server read.
type LargeBody struct {
	head []byte
	size int64
	read atomic.Int64
}

// NewLargeBody returns a body of size bytes that starts with head.
func NewLargeBody(head string, size int64) *LargeBody {
	return &LargeBody{head: []byte(head), size: size}
}

func (b *LargeBody) Read(p []byte) (int, error) {
	at := b.read.Load()
	if at >= b.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), b.size-at))
	for i := range n {
		if at+int64(i) < int64(len(b.head)) {
			p[i] = b.head[at+int64(i)]
		} else {
			p[i] = 'x'
		}
	}
	b.read.Add(int64(n))
	return n, nil
}

func (b *LargeBody) Close() error { return nil }

// BytesRead is how much of the body was read.
func (b *LargeBody) BytesRead() int64 { return b.read.Load() }
