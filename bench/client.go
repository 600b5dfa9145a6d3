package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// newTransport is the one transport of a run. Every connection is kept
// (MaxIdleConnsPerHost = connections), so that the closed loop measures
// requests, not handshakes, and no more than connections are opened to
// any host, so that the connection count is what the flag says.
func newTransport(connections int) *http.Transport {
	return &http.Transport{
		Proxy:                 nil, // a measurement goes straight to the target
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          4 * connections,
		MaxIdleConnsPerHost:   connections,
		MaxConnsPerHost:       connections,
		IdleConnTimeout:       2 * time.Minute,
		ResponseHeaderTimeout: time.Minute,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
}

// slot is a worker's reusable request. Building an http.Request with its
// header map and URL costs a dozen allocations; a worker has one request
// in flight at a time, so it refills the same one instead.
//
// Reuse is safe once the previous answer's body has been read to its end:
// the transport finishes writing a request before it hands over the end
// of the answer's body (the persistConn waits for the write before it
// signals EOF). After any transport error the slot starts afresh.
type slot struct {
	ctx context.Context
	tr  http.RoundTripper
	req *http.Request
	// body serves each request's body from the worker's buffer. It must be
	// a *bytes.Reader behind io.NopCloser: for those the transport knows
	// the body is in memory and writes headers and body in one write,
	// where any other reader costs a separate flush of the headers, a
	// second syscall per request.
	body   *bytes.Reader
	bodyRC io.ReadCloser
	resp   []byte
	// vals holds one value slice per header name, reused across requests.
	vals map[string][]string
}

func newSlot(ctx context.Context, tr http.RoundTripper) *slot {
	s := &slot{ctx: ctx, tr: tr, vals: map[string][]string{}, body: bytes.NewReader(nil)}
	s.bodyRC = io.NopCloser(s.body)
	s.reset()
	return s
}

func (s *slot) reset() {
	req, _ := http.NewRequestWithContext(s.ctx, http.MethodGet, "http://127.0.0.1/", nil)
	s.req = req
}

// prepare readies the slot for a request to base (scheme://host) with
// path and rawQuery, and body (nil for none). Headers are set afterwards
// with set.
func (s *slot) prepare(method string, base *url.URL, path, rawQuery string, body []byte) {
	r := s.req
	r.Method = method
	u := r.URL
	u.Scheme, u.Host, u.Path, u.RawPath, u.RawQuery = base.Scheme, base.Host, path, "", rawQuery
	r.Host = ""
	clear(r.Header)
	if body == nil {
		r.Body, r.ContentLength = nil, 0
	} else {
		s.body.Reset(body)
		r.Body, r.ContentLength = s.bodyRC, int64(len(body))
	}
	r.GetBody = nil
}

// set sets one header. name must be in canonical form.
func (s *slot) set(name, value string) {
	v := s.vals[name]
	if v == nil {
		v = make([]string, 1)
		s.vals[name] = v
	}
	v[0] = value
	s.req.Header[name] = v
}

// do sends the prepared request and reads the whole answer into s.resp.
func (s *slot) do() (status int, body []byte, err error) {
	resp, err := s.tr.RoundTrip(s.req)
	if err != nil {
		s.reset()
		return 0, nil, err
	}
	s.resp, err = readAll(resp.Body, s.resp[:0])
	resp.Body.Close()
	if err != nil {
		s.reset()
		return 0, nil, err
	}
	return resp.StatusCode, s.resp, nil
}

// readAll appends r's content to b, growing it only when an answer is
// larger than any before.
func readAll(r io.Reader, b []byte) ([]byte, error) {
	if cap(b) == 0 {
		b = make([]byte, 0, 4096)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if errors.Is(err, io.EOF) {
				return b, nil
			}
			return b, err
		}
	}
}

// transportLabel names a transport failure by kind, so that a thousand
// refused connections count as one kind of error rather than a thousand.
func transportLabel(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "transport: canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "transport: timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "transport: connection closed by the server"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return "transport: " + oe.Op + " failed"
	}
	return "transport: other"
}

func httpLabel(status int) string { return "HTTP " + strconv.Itoa(status) }
