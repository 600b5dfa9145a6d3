package redisstore

import "github.com/redis/go-redis/v9"

// NewClient builds a Client without the ping of Open, for tests of a
// Redis that is down.
var NewClient = newClient

// Raw is the underlying client, for tests that inspect the keys.
func (c *Client) Raw() *redis.Client { return c.rdb }
