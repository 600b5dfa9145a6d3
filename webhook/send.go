package webhook

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

	"usercenter/core"
)

// DefaultTimeout is how long one delivery may take, answer included.
const DefaultTimeout = 10 * time.Second

// maxAnswer is how much of an answer's body is read (and dropped), so
// that the connection can be reused.
const maxAnswer = 64 << 10

// Sender posts signed deliveries. It is the core.WebhookSender of serve
// and of the command line.
type Sender struct {
	client       *http.Client
	resolver     Resolver
	allowPrivate bool
	now          func() time.Time
}

var _ core.WebhookSender = (*Sender)(nil)

// SenderOptions configure a Sender.
type SenderOptions struct {
	Timeout      time.Duration // DefaultTimeout when 0
	AllowPrivate bool          // reach loopback, link-local and private addresses too
	Resolver     Resolver      // net.DefaultResolver when nil
	Now          func() time.Time
}

// NewSender returns a Sender.
func NewSender(o SenderOptions) *Sender {
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	transport := &http.Transport{
		// No proxy: a proxy would dial for us, past the address check.
		Proxy:                 nil,
		DialContext:           newDialer(o.AllowPrivate).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   o.Timeout,
		ResponseHeaderTimeout: o.Timeout,
	}
	return &Sender{
		client: &http.Client{
			Transport: transport,
			Timeout:   o.Timeout,
			// A redirect is a failure: following it could lead anywhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		resolver:     o.Resolver,
		allowPrivate: o.AllowPrivate,
		now:          o.Now,
	}
}

// CheckURL refuses a URL whose host resolves to an address deliveries
// may not reach.
func (s *Sender) CheckURL(ctx context.Context, u *url.URL) error {
	return checkURL(ctx, s.resolver, u, s.allowPrivate)
}

// Send posts one message. Its outcome's Error is one of a few fixed
// phrases, never the receiver's words nor the URL, which may hold a token.
func (s *Sender) Send(ctx context.Context, m core.WebhookMessage) core.WebhookAttempt {
	start := time.Now()
	ts := s.now()
	sig, err := Sign(m.Secret, m.ID, ts, m.Payload)
	if err != nil {
		return core.WebhookAttempt{Error: "bad secret"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Payload))
	if err != nil {
		return core.WebhookAttempt{Error: "bad URL"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "usercenter-webhooks")
	req.Header.Set(HeaderID, m.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	resp, err := s.client.Do(req)
	if err != nil {
		return core.WebhookAttempt{Latency: time.Since(start), Error: failure(err)}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	a := core.WebhookAttempt{StatusCode: resp.StatusCode, Latency: time.Since(start)}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		a.OK = true
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		a.Error = "redirect not followed"
	default:
		a.Error = "status " + strconv.Itoa(resp.StatusCode)
	}
	return a
}

// failure names why a request got no answer.
func failure(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, errForbiddenAddress):
		return "address not allowed"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "host not found"
	}
	return "connection failed"
}
