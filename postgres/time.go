package postgres

import (
	"fmt"
	"math"
	"time"

	"usercenter"
)

// Times are stored as Unix nanoseconds in BIGINT columns, as in SQLite; see
// migrations/0001_init.sql.

// The range of times a nanosecond int64 can hold.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// encodeTime converts a time for a NOT NULL column.
func encodeTime(column string, t time.Time) (int64, error) {
	if t.Before(minTime) || t.After(maxTime) {
		if t.IsZero() {
			return 0, usercenter.Internal(fmt.Errorf("postgres: %s is the zero time", column))
		}
		return 0, usercenter.Internal(fmt.Errorf("postgres: %s %v is outside the years 1678 to 2262", column, t))
	}
	return t.UnixNano(), nil
}

// encodeNullTime converts a time for a nullable column, where the zero time
// means "never" and is stored as NULL.
func encodeNullTime(column string, t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	return encodeTime(column, t)
}

func decodeTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func decodeNullTime(ns *int64) time.Time {
	if ns == nil {
		return time.Time{}
	}
	return decodeTime(*ns)
}

// boundTime converts a time for comparison with a time column. Unlike
// encodeTime it cannot fail: a bound beyond what a column can hold is
// clamped, which selects the same rows.
func boundTime(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}
