package httpio

import (
	"errors"
	"io"
	"net/http"
)

// SmallBody is how much of a request body a facade may read before it
// knows that the request comes with a live credential. A request's
// headers name its credential, but a signed body is authenticated only
// once it has been read whole; below this size that order costs nothing,
// above it a crowd of strangers could make the server hold their bodies.
const SmallBody = 64 << 10

// BodyRules say how a facade reads a request body: the most it takes,
// its answers when the body cannot be taken, and who may send more than
// SmallBody. A facade makes them once; ReadBody only reads them.
type BodyRules struct {
	Limit      int64
	TooLarge   error // the body is longer than Limit
	Unreadable error // reading the body failed
	// Busy answers a body that does not fit in what is left of the
	// BodyBudget of the request (see BodyBudget.Middleware).
	Busy error
	// Admit, when set, is asked before more than SmallBody bytes are read,
	// with the request and the bytes read so far: nil reads on; an error
	// is returned as it is, and the rest of the body is never read. It is
	// for a facade that authenticates from the body itself; one that
	// authenticates from the headers before reading needs none.
	Admit func(r *http.Request, head []byte) error
}

// ReadBody reads r's body by rules. A body that says in its
// Content-Length that it is too large is refused before it is read, and
// the memory for the rest is taken from the request's BodyBudget, if it
// has one, before it is allocated.
func ReadBody(w http.ResponseWriter, r *http.Request, rules *BodyRules) ([]byte, error) {
	if r.ContentLength > rules.Limit {
		return nil, rules.TooLarge
	}
	b := bodyReader{
		rd:       http.MaxBytesReader(w, r.Body, rules.Limit),
		rules:    rules,
		held:     heldFor(r),
		declared: r.ContentLength,
	}
	if rules.Admit != nil && rules.Limit > SmallBody {
		// One byte more than SmallBody tells a body of exactly SmallBody
		// bytes, which needs no admission, from a longer one.
		if err := b.readTo(SmallBody + 1); err != nil {
			return nil, err
		}
		if b.eof {
			return b.buf, nil
		}
		if err := rules.Admit(r, b.buf); err != nil {
			return nil, err
		}
	}
	// MaxBytesReader fails the read past Limit, so this ends at EOF.
	if err := b.readTo(rules.Limit + 1); err != nil {
		return nil, err
	}
	return b.buf, nil
}

// bodyReader reads a body into one buffer, grown as needed. Each buffer
// it allocates is taken from the budget first, and kept taken until the
// request ends, replaced ones too: they are garbage, but still memory
// until collected.
type bodyReader struct {
	rd       io.Reader
	rules    *BodyRules
	held     *held // nil: no budget
	declared int64 // Content-Length, or -1
	buf      []byte
	eof      bool
}

// readTo reads until the body ends or the buffer holds n bytes.
func (b *bodyReader) readTo(n int64) error {
	for !b.eof && int64(len(b.buf)) < n {
		if len(b.buf) == cap(b.buf) {
			if err := b.grow(n); err != nil {
				return err
			}
		}
		got, err := b.rd.Read(b.buf[len(b.buf):cap(b.buf)])
		b.buf = b.buf[:len(b.buf)+got]
		switch {
		case err == io.EOF:
			b.eof = true
		case err != nil:
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return b.rules.TooLarge
			}
			return b.rules.Unreadable
		}
	}
	return nil
}

// grow replaces the buffer by a larger one of at most n bytes: for a body
// of known length, one that holds it and a byte more, to see it end
// without another buffer (the usual case, and one allocation); for one of
// unknown length, or longer than it said, twice the size.
func (b *bodyReader) grow(n int64) error {
	c := int64(cap(b.buf))
	next := max(2*c, 512)
	if d := b.declared; d >= 0 && d+1 > c {
		next = d + 1
	}
	next = min(next, n)
	if !b.held.take(next) {
		return b.rules.Busy
	}
	buf := make([]byte, len(b.buf), next)
	copy(buf, b.buf)
	b.buf = buf
	return nil
}
