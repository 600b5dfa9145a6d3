package httpio

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

var (
	errTooLarge   = errors.New("too large")
	errUnreadable = errors.New("unreadable")
	errBusy       = errors.New("busy")
	errRefused    = errors.New("refused")
)

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("broken") }

// countingReader is a body of n bytes that counts what was read of it.
type countingReader struct {
	left, read int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	n = min(n, c.left)
	for i := range p[:n] {
		p[i] = 'x'
	}
	c.left -= n
	c.read += n
	return int(n), nil
}

func rules(limit int64) *BodyRules {
	return &BodyRules{Limit: limit, TooLarge: errTooLarge, Unreadable: errUnreadable, Busy: errBusy}
}

// TestReadBody reads bodies of every length around the limit, with their
// Content-Length given, understated, overstated and unknown.
func TestReadBody(t *testing.T) {
	const limit = 16
	for size := 0; size <= limit+2; size++ {
		body := strings.Repeat("x", size)
		for _, declared := range []int64{int64(size), -1, int64(size) - 1, int64(size) + 1} {
			if declared < -1 {
				continue
			}
			r := httptest.NewRequest("POST", "/", io.NopCloser(strings.NewReader(body)))
			r.ContentLength = declared
			got, err := ReadBody(httptest.NewRecorder(), r, rules(limit))
			switch {
			case size > limit || declared > limit:
				if err != errTooLarge {
					t.Errorf("size %d declared %d: %q, %v; want errTooLarge", size, declared, got, err)
				}
			case err != nil || !bytes.Equal(got, []byte(body)):
				t.Errorf("size %d declared %d: %q, %v; want the body", size, declared, got, err)
			}
		}
	}
	r := httptest.NewRequest("POST", "/", io.NopCloser(failingReader{}))
	r.ContentLength = 5
	if _, err := ReadBody(httptest.NewRecorder(), r, rules(limit)); err != errUnreadable {
		t.Errorf("a failing body: %v, want errUnreadable", err)
	}
}

// TestReadBodyAdmit: past SmallBody bytes, a body is read on only if
// Admit lets it, whatever its Content-Length says; below, Admit is not
// asked.
func TestReadBodyAdmit(t *testing.T) {
	const limit = 1 << 20
	for _, c := range []struct {
		size     int64
		declared int64 // -2: the size
		admit    bool
	}{
		{SmallBody, -2, false},
		{SmallBody, -1, false},
		{SmallBody + 1, -2, true},
		{SmallBody + 1, -1, true},
		{SmallBody + 1, 100, true}, // understated
		{limit, -2, true},
		{limit, -1, true},
	} {
		declared := c.declared
		if declared == -2 {
			declared = c.size
		}
		for _, verdict := range []error{nil, errRefused} {
			var asked []byte
			rl := rules(limit)
			rl.Admit = func(r *http.Request, head []byte) error {
				asked = head
				return verdict
			}
			body := &countingReader{left: c.size}
			r := httptest.NewRequest("POST", "/", io.NopCloser(body))
			r.ContentLength = declared
			got, err := ReadBody(httptest.NewRecorder(), r, rl)
			switch {
			case !c.admit:
				if asked != nil || err != nil || int64(len(got)) != c.size {
					t.Errorf("size %d declared %d: admission asked %v, got %d bytes, %v; want the body unasked", c.size, declared, asked != nil, len(got), err)
				}
			case len(asked) != SmallBody+1:
				t.Errorf("size %d declared %d: admission asked with %d bytes, want %d", c.size, declared, len(asked), SmallBody+1)
			case verdict == nil && (err != nil || int64(len(got)) != c.size):
				t.Errorf("size %d declared %d, admitted: %d bytes, %v; want the body", c.size, declared, len(got), err)
			case verdict != nil && (err != errRefused || body.read > SmallBody+1):
				t.Errorf("size %d declared %d, refused: %v after reading %d bytes; want errRefused after at most %d", c.size, declared, err, body.read, SmallBody+1)
			}
		}
	}
}

// TestBodyBudget: bodies take their memory from the budget while their
// request is served, and one that does not fit is answered busy at once.
func TestBodyBudget(t *testing.T) {
	const budget = 10 << 10
	b := NewBodyBudget(budget)
	type result struct {
		n   int
		err error
	}
	reading, release := make(chan struct{}), make(chan struct{})
	h := b.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := ReadBody(w, r, rules(1<<20))
		if r.Header.Get("Hold") != "" {
			reading <- struct{}{}
			<-release
		}
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, err.Error())
			return
		}
		w.Write(body)
	}))
	serve := func(size int, hold bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", size)))
		if hold {
			r.Header.Set("Hold", "1")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	// A body that fits is read, and gives back what it took.
	if w := serve(6<<10, false); w.Code != http.StatusOK || w.Body.Len() != 6<<10 {
		t.Fatalf("a body within the budget: %d, %d bytes", w.Code, w.Body.Len())
	}
	if n := b.InUse(); n != 0 {
		t.Fatalf("%d bytes still taken after the request ended", n)
	}

	// While one body is held, another that does not fit beside it is busy.
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- serve(6<<10, true) }()
	<-reading
	if n := b.InUse(); n <= 6<<10 || n > budget {
		t.Fatalf("%d bytes taken while a 6 KiB body is held; want just over 6 KiB", n)
	}
	if w := serve(6<<10, false); w.Code != http.StatusServiceUnavailable || w.Body.String() != errBusy.Error() {
		t.Fatalf("a body beside a held one, beyond the budget: %d %q; want busy", w.Code, w.Body)
	}
	if w := serve(1<<10, false); w.Code != http.StatusOK {
		t.Fatalf("a small body that fits beside the held one: %d %q", w.Code, w.Body)
	}
	close(release)
	if w := <-done; w.Code != http.StatusOK || w.Body.Len() != 6<<10 {
		t.Fatalf("the held body: %d, %d bytes", w.Code, w.Body.Len())
	}
	if n := b.InUse(); n != 0 {
		t.Fatalf("%d bytes still taken after every request ended", n)
	}
	// The room is back.
	if w := serve(6<<10, false); w.Code != http.StatusOK {
		t.Fatalf("a body after the held one ended: %d %q", w.Code, w.Body)
	}

	// A body larger than the whole budget is busy, of unknown length too.
	if w := serve(budget+1, false); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("a body larger than the budget: %d", w.Code)
	}
	r := httptest.NewRequest("POST", "/", io.NopCloser(&countingReader{left: budget * 4}))
	r.ContentLength = -1
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("a chunked body larger than the budget: %d", w.Code)
	}
	if n := b.InUse(); n != 0 {
		t.Fatalf("%d bytes still taken after busy answers", n)
	}
}

func TestBodyBudgetAcquire(t *testing.T) {
	b := NewBodyBudget(100)
	if !b.TryAcquire(60) || b.TryAcquire(41) || !b.TryAcquire(40) || b.TryAcquire(1) {
		t.Fatal("TryAcquire does not fill exactly 100 bytes")
	}
	b.Release(60)
	if b.InUse() != 40 || !b.TryAcquire(60) {
		t.Fatalf("after Release: %d in use", b.InUse())
	}
}
