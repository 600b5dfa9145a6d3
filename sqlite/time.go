package sqlite

import (
	"time"

	"usercenter/sqlstore"
)

// Times are stored as sqlstore encodes them, in INTEGER columns. The
// package-local names keep the many call sites short.

func encodeTime(column string, t time.Time) (int64, error) {
	return sqlstore.EncodeTime("sqlite", column, t)
}

func encodeNullTime(column string, t time.Time) (any, error) {
	return sqlstore.EncodeNullTime("sqlite", column, t)
}

func decodeTime(ns int64) time.Time      { return sqlstore.DecodeTime(ns) }
func decodeNullTime(ns *int64) time.Time { return sqlstore.DecodeNullTime(ns) }
func boundTime(t time.Time) int64        { return sqlstore.BoundTime(t) }
