package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"usercenter/storecache"
)

// InvalidationBus carries storecache's invalidations between nodes over
// Redis pub/sub, on one channel. Redis delivers a message to the
// connections subscribed when it is published; one published while a
// node's subscription was down is lost to it, which is why storecache
// empties its caches whenever the subscription comes back.
type InvalidationBus struct {
	c       *Client
	channel string
	// name is the subscribing connection's CLIENT SETNAME, which CLIENT
	// LIST shows: usercenter-cache- and a random suffix per bus.
	name string
}

var _ storecache.Bus = (*InvalidationBus)(nil)

// Timings of the subscription: it waits subscribeIdle for a message,
// then pings; a connection lost without a word is found within their
// sum. Resubscriptions back off as storecache.Resubscribe does.
const (
	subscribeIdle = 15 * time.Second
)

// ChannelPrefix begins every invalidation channel's name.
const ChannelPrefix = "usercenter:cache:"

// NewInvalidationBus returns a bus on the channel ChannelPrefix+name of
// c's Redis: name must be the same on every node serving one database,
// and differ between databases.
func NewInvalidationBus(c *Client, name string) *InvalidationBus {
	var b [6]byte
	rand.Read(b[:])
	return &InvalidationBus{c: c, channel: ChannelPrefix + name, name: "usercenter-cache-" + hex.EncodeToString(b[:])}
}

// ClientName is the name the subscribing connection gives itself.
func (b *InvalidationBus) ClientName() string { return b.name }

// Publish sends msg.
func (b *InvalidationBus) Publish(ctx context.Context, msg []byte) error {
	err := b.c.rdb.Publish(ctx, b.channel, msg).Err()
	if err != nil {
		b.c.failures.WithLabelValues("cache-invalidation").Inc()
	}
	return err
}

// Subscribe listens until ctx ends, on a connection of its own that it
// opens again whenever it is lost.
func (b *InvalidationBus) Subscribe(ctx context.Context, sub storecache.Subscriber) {
	opt := *b.c.rdb.Options()
	opt.ClientName = b.name
	// A subscription waits for messages as long as it likes; subscribeIdle
	// bounds each wait instead.
	opt.ReadTimeout = -1
	rdb := redis.NewClient(&opt)
	defer rdb.Close()
	storecache.Resubscribe(ctx, sub, func(ctx context.Context, subscribed func()) error { return b.listen(ctx, rdb, sub, subscribed) })
}

func (b *InvalidationBus) listen(ctx context.Context, rdb *redis.Client, sub storecache.Subscriber, subscribed func()) error {
	ps := rdb.Subscribe(ctx)
	defer ps.Close()
	// A receive does not end with ctx; closing the connection ends it.
	defer context.AfterFunc(ctx, func() { ps.Close() })()
	// Subscribe answers once Redis confirms, so messages published from
	// then on reach this connection.
	if err := ps.Subscribe(ctx, b.channel); err != nil {
		return err
	}
	if _, err := ps.ReceiveTimeout(ctx, subscribeIdle); err != nil { // the confirmation
		return err
	}
	subscribed()
	sub.Up()
	pinged := false
	for {
		m, err := ps.ReceiveTimeout(ctx, subscribeIdle)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var ne net.Error
			if pinged || !errors.As(err, &ne) || !ne.Timeout() {
				return err
			}
			// Quiet for subscribeIdle: is the connection still there? The
			// pong comes back as a message.
			if err := ps.Ping(ctx); err != nil {
				return err
			}
			pinged = true
			continue
		}
		pinged = false
		switch m := m.(type) {
		case *redis.Message:
			sub.Message([]byte(m.Payload))
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				return errors.New("redis: unsubscribed from " + m.Channel)
			}
		}
	}
}
