package redisstore

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// SetLogger sends the Redis library's own messages, such as each failed
// dial, to log at debug level. By default the library writes them to
// stderr as plain text, one for every request while Redis is down; what
// an operator needs of such an outage reaches them as core's throttled
// warning, usercenter_redis_failures_total and the refused requests' log
// lines. The library's logger is global: this sets it for the process.
func SetLogger(log *slog.Logger) { redis.SetLogger(slogLogger{log}) }

type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
