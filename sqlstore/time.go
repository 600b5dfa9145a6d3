package sqlstore

import (
	"fmt"
	"math"
	"time"

	"usercenter"
)

// Times are stored as Unix nanoseconds in 64-bit integer columns, which is
// exact, sorts as the times do, and compares without time zones.

// The range of times a nanosecond int64 can hold.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// EncodeTime converts a time for a NOT NULL column. core sets every time a
// store writes, so one the column cannot hold is a bug: Internal, naming
// the engine and column for the log.
func EncodeTime(engine, column string, t time.Time) (int64, error) {
	if t.Before(minTime) || t.After(maxTime) {
		if t.IsZero() {
			return 0, usercenter.Internal(fmt.Errorf("%s: %s is the zero time", engine, column))
		}
		return 0, usercenter.Internal(fmt.Errorf("%s: %s %v is outside the years 1678 to 2262", engine, column, t))
	}
	return t.UnixNano(), nil
}

// EncodeNullTime converts a time for a nullable column, where the zero time
// means "never" and is stored as NULL.
func EncodeNullTime(engine, column string, t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	return EncodeTime(engine, column, t)
}

// DecodeTime returns times in UTC, so that a time read back does not
// depend on the local zone of the process that reads it.
func DecodeTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// DecodeNullTime reads a column EncodeNullTime wrote.
func DecodeNullTime(ns *int64) time.Time {
	if ns == nil {
		return time.Time{}
	}
	return DecodeTime(*ns)
}

// BoundTime converts a time for comparison with a time column. Unlike
// EncodeTime it cannot fail: a bound beyond what a column can hold is
// clamped, which selects the same rows.
func BoundTime(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// rowTimes encodes the times of one row for an engine, keeping the first
// error, so that a function building a row's values reads as the row.
type rowTimes struct {
	engine string
	err    error
}

// at encodes t for a NOT NULL column, as EncodeTime.
func (r *rowTimes) at(column string, t time.Time) int64 {
	if r.err != nil {
		return 0
	}
	v, err := EncodeTime(r.engine, column, t)
	r.err = err
	return v
}

// null encodes t for a nullable column, as EncodeNullTime.
func (r *rowTimes) null(column string, t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return r.at(column, t)
}

// row returns values, or the first error.
func (r *rowTimes) row(values ...any) ([]any, error) {
	if r.err != nil {
		return nil, r.err
	}
	return values, nil
}
