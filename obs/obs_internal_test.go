package obs

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"

	"usercenter"
)

// The request ID is a random version 4 UUID, and the handler finds its
// Request and ID through contexts derived from the request's.
func TestRequestIDAndContext(t *testing.T) {
	seen := map[string]bool{}
	var got *Request
	var gotID string
	h := Middleware("test", slog.New(slog.DiscardHandler), nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		got, gotID = FromContext(ctx), usercenter.RequestID(ctx)
		got.Action = "act"
		if ctx.Value("other") != "value" {
			t.Error("a value of the caller's context is lost")
		}
	}))
	for range 100 {
		req := httptest.NewRequest("GET", "/", nil)
		req = req.WithContext(context.WithValue(req.Context(), "other", "value"))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		id := w.Header().Get("X-Request-Id")
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 4 || u.Variant() != uuid.RFC4122 || u.String() != id {
			t.Fatalf("X-Request-Id %q: not a version 4 UUID (%v)", id, err)
		}
		if seen[id] {
			t.Fatalf("X-Request-Id %q twice", id)
		}
		seen[id] = true
		if got == nil || got.ID != id || gotID != id || got.Facade != "test" {
			t.Fatalf("handler saw %+v and ID %q, header %q", got, gotID, id)
		}
	}
}
