// Package redisstore keeps in Redis the state that every node serving one
// database must share: the per-(app, action) rate limits and the memories
// of signed requests that refuse replays. Its types satisfy core.Limiter
// and core.ReplayMemory; core does not import it, so the domain does not
// depend on Redis.
//
// Every key lives under "usercenter:", and no request data is stored in
// the clear.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Timeouts of every Redis call unless the URL sets its own
// (dial_timeout, read_timeout, write_timeout, pool_timeout). They are
// short because each request waits for Redis: a dead Redis must cost a
// request a fraction of a second, never the client's whole patience.
const (
	DialTimeout = 300 * time.Millisecond
	IOTimeout   = 300 * time.Millisecond
	// openTimeout bounds the ping of Open.
	openTimeout = 3 * time.Second
)

// Client is a connection pool to one Redis.
type Client struct {
	rdb *redis.Client
	// addr names the server for logs and errors: host, port and database,
	// never the credentials.
	addr     string
	failures *prometheus.CounterVec
}

// Open connects to the Redis at rawURL (redis://[user:password@]host[:port][/db],
// rediss:// for TLS, or unix:///path) and pings it. Its errors never
// contain the URL's password.
func Open(ctx context.Context, rawURL string) (*Client, error) {
	c, err := newClient(rawURL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis at %s does not answer: %w", c.addr, err)
	}
	return c, nil
}

// newClient builds a Client without contacting Redis, so that tests can
// point one at a dead port.
func newClient(rawURL string) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error repeats the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("invalid Redis URL: %v", err)
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
	default:
		return nil, errors.New("invalid Redis URL: it must start with redis://, rediss:// or unix://")
	}
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("invalid Redis URL: %v", err)
	}
	q := u.Query()
	if !q.Has("dial_timeout") {
		opt.DialTimeout = DialTimeout
	}
	if !q.Has("read_timeout") {
		opt.ReadTimeout = IOTimeout
	}
	if !q.Has("write_timeout") {
		opt.WriteTimeout = IOTimeout
	}
	if !q.Has("pool_timeout") {
		opt.PoolTimeout = IOTimeout
	}
	if !q.Has("max_retries") {
		// A retried SET NX whose first reply was lost would find its own
		// key and report a replay, and a retried limit would charge twice;
		// retries would also multiply the time a dead Redis costs.
		opt.MaxRetries = -1
	}
	// One dial per call: the default five with backoff would hold each
	// request half a second while Redis is down.
	opt.DialerRetries = 1
	// Maintenance notifications are for managed Redis clusters; the
	// handshake for them is a wasted round trip on every other server.
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	addr := opt.Addr
	if opt.Network != "unix" {
		addr += "/" + strconv.Itoa(opt.DB)
	}
	return &Client{
		rdb:  redis.NewClient(opt),
		addr: addr,
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "usercenter_redis_failures_total",
			Help: "Redis calls that failed, by use: a failed rate limit lets its request through, a failed replay check refuses it.",
		}, []string{"use"}),
	}, nil
}

// String names the server, without credentials: safe to log.
func (c *Client) String() string { return c.addr }

// Ping checks that Redis answers.
func (c *Client) Ping(ctx context.Context) error { return c.rdb.Ping(ctx).Err() }

// Close closes the connections.
func (c *Client) Close() error { return c.rdb.Close() }

// Describe and Collect make the Client a prometheus.Collector of
// usercenter_redis_failures_total.
func (c *Client) Describe(ch chan<- *prometheus.Desc) { c.failures.Describe(ch) }

// Collect implements prometheus.Collector.
func (c *Client) Collect(ch chan<- prometheus.Metric) { c.failures.Collect(ch) }
