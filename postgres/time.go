package postgres

import (
	"time"

	"usercenter/sqlstore"
)

// Times are stored as sqlstore encodes them, in BIGINT columns, as in
// SQLite; see migrations/0001_init.sql. The package-local names keep the
// many call sites short.

func encodeTime(column string, t time.Time) (int64, error) {
	return sqlstore.EncodeTime("postgres", column, t)
}

func encodeNullTime(column string, t time.Time) (any, error) {
	return sqlstore.EncodeNullTime("postgres", column, t)
}

func decodeTime(ns int64) time.Time      { return sqlstore.DecodeTime(ns) }
func decodeNullTime(ns *int64) time.Time { return sqlstore.DecodeNullTime(ns) }
func boundTime(t time.Time) int64        { return sqlstore.BoundTime(t) }
