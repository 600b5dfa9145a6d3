package redisstore

import (
	"context"
	"strconv"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
)

// Limiter is ratelimit.Limiter shared by every node on one Redis: per (app,
// action), perSecond requests per second sustained, in bursts of up to
// perSecond. It runs GCRA in a Redis script on Redis's own clock, so nodes
// whose clocks disagree still share one budget.
//
// Its keys are rate:usercenter:rl:<SdkAppId>:<action>; redis_rate puts
// the "rate:" in front of every key it writes. Each expires once its
// bucket would be full again.
type Limiter struct {
	rl       *redis_rate.Limiter
	failures prometheus.Counter
}

// NewLimiter returns the limiter on c.
func NewLimiter(c *Client) *Limiter {
	return &Limiter{rl: redis_rate.NewLimiter(c.rdb), failures: c.failures.WithLabelValues("ratelimit")}
}

// Allow takes one request from the (app, action) budget if there is one.
// When Redis fails it returns the error and true: the caller decides, and
// one that looks only at the answer lets the request through, as core
// does, since a limiter that is down must not become an outage.
func (l *Limiter) Allow(ctx context.Context, sdkAppID uint64, action string, perSecond int) (bool, error) {
	if perSecond < 1 {
		// As a token bucket that holds nothing; the GCRA script would
		// divide by zero.
		return false, nil
	}
	res, err := l.rl.Allow(ctx, "usercenter:rl:"+strconv.FormatUint(sdkAppID, 10)+":"+action, redis_rate.PerSecond(perSecond))
	if err != nil {
		l.failures.Inc()
		return true, err
	}
	return res.Allowed > 0, nil
}
