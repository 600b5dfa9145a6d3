package httpio

import (
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

var (
	errTooLarge   = errors.New("too large")
	errUnreadable = errors.New("unreadable")
)

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("broken") }

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
			got, err := ReadBody(httptest.NewRecorder(), r, limit, errTooLarge, errUnreadable)
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
	if _, err := ReadBody(httptest.NewRecorder(), r, limit, errTooLarge, errUnreadable); err != errUnreadable {
		t.Errorf("a failing body: %v, want errUnreadable", err)
	}
}
