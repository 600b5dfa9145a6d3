package httpio

import (
	"io"
	"net/http"
	"sync/atomic"
)

// DefaultBodyBudget is the memory a server lets request bodies hold at
// once unless told otherwise (serve --body-memory-mib): six of the largest
// bodies any facade takes (LCIC's 10 MiB), or a thousand usual ones.
const DefaultBodyBudget = 64 << 20

// BodyBudget bounds the bytes that the bodies ReadBody reads hold at
// once, across every request served through its Middleware: a semaphore
// of bytes that never waits. A body that does not fit is answered busy
// at once (BodyRules.Busy): queued, it would hold its connection and its
// client's patience while the bodies ahead of it are served, and whoever
// sent the crowd could send more.
type BodyBudget struct {
	limit int64
	used  atomic.Int64
}

// NewBodyBudget returns a budget of limit bytes.
func NewBodyBudget(limit int64) *BodyBudget {
	return &BodyBudget{limit: limit}
}

// TryAcquire takes n bytes if they fit, and reports whether they did.
func (b *BodyBudget) TryAcquire(n int64) bool {
	for {
		used := b.used.Load()
		if n > b.limit-used {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// Release gives back n bytes taken with TryAcquire.
func (b *BodyBudget) Release(n int64) { b.used.Add(-n) }

// InUse is how many bytes are taken.
func (b *BodyBudget) InUse() int64 { return b.used.Load() }

// Middleware makes the bodies that next reads with ReadBody draw on b:
// what a request's body took is given back when next returns, when
// nothing can hold the body any more. A request that says it has no body
// passes as it is, at no cost.
//
// The account travels with the body itself, which the middleware wraps:
// one allocation, where a context value would cost a copy of the request
// as well.
func (b *BodyBudget) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		body := &accountedBody{ReadCloser: r.Body, held: held{budget: b}}
		defer body.release()
		r.Body = body
		next.ServeHTTP(w, r)
	})
}

// held is what one request's body took from a budget.
type held struct {
	budget *BodyBudget
	n      atomic.Int64
}

// accountedBody is a request body with the account of what reading it
// took from a budget.
type accountedBody struct {
	io.ReadCloser
	held
}

// heldFor returns the account of r's body, or nil outside a budget.
func heldFor(r *http.Request) *held {
	if b, ok := r.Body.(*accountedBody); ok {
		return &b.held
	}
	return nil
}

// take takes n more bytes from the budget; without one, it always can.
func (h *held) take(n int64) bool {
	if h == nil {
		return true
	}
	if !h.budget.TryAcquire(n) {
		return false
	}
	h.n.Add(n)
	return true
}

func (h *held) release() { h.budget.Release(h.n.Swap(0)) }
