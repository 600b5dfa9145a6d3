package server

import (
	"context"
	"net/http"
	"time"
)

// WithRequestTimeout bounds how long any request may take (serve
// --request-timeout): its context ends after d, the store gives up on what
// it is waiting for, and the facade answers its own "unavailable" code.
// Without a deadline a request waits on a database that hangs for as long
// as the client does, holding a connection slot all along. Zero, the
// default, sets no deadline.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *config) { c.requestTimeout = d }
}

// withDeadline gives a request a context that ends after d. The facades'
// requests get theirs from obs.MiddlewareWithTimeout; a /metrics scrape
// gets none, as it reads no store and its collectors take no context, so
// a deadline could only cut it short.
func withDeadline(next http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
