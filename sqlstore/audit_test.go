package sqlstore

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"

	"usercenter"
)

// appsArg stands for an engine's encoding of a list of apps.
func appsArg(apps []uint64) string {
	s := ""
	for _, a := range apps {
		s += strconv.FormatUint(a, 10) + ";"
	}
	return s
}

func TestAuditWhere(t *testing.T) {
	since := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, c := range []struct {
		name     string
		f        usercenter.AuditFilter
		question string // the clause in SQLite's style
		dollar   string // in PostgreSQL's
		args     []any
		none     bool
	}{
		{name: "all", f: usercenter.AuditFilter{Limit: 10}},
		{name: "no apps", f: usercenter.AuditFilter{Apps: []uint64{}}, none: true},
		{
			name:     "apps",
			f:        usercenter.AuditFilter{Apps: []uint64{3, 1}},
			question: " WHERE sdk_app_id IN (?)",
			dollar:   " WHERE sdk_app_id IN ($1)",
			args:     []any{"3;1;"},
		},
		{
			// One app is asked as an equality, so that the index is read
			// in ID order.
			name:     "one app",
			f:        usercenter.AuditFilter{Apps: []uint64{7}, UserID: "u"},
			question: " WHERE sdk_app_id = ? AND user_id = ?",
			dollar:   " WHERE sdk_app_id = $1 AND user_id = $2",
			args:     []any{int64(7), "u"},
		},
		{
			name:     "one app and the same SdkAppID",
			f:        usercenter.AuditFilter{Apps: []uint64{7}, SdkAppID: 7},
			question: " WHERE sdk_app_id = ?",
			dollar:   " WHERE sdk_app_id = $1",
			args:     []any{int64(7)},
		},
		{name: "one app and another SdkAppID", f: usercenter.AuditFilter{Apps: []uint64{7}, SdkAppID: 8}, none: true},
		{
			// SdkAppID 0 in a list would match every app as an equality.
			name:     "app 0",
			f:        usercenter.AuditFilter{Apps: []uint64{0}},
			question: " WHERE sdk_app_id IN (?)",
			dollar:   " WHERE sdk_app_id IN ($1)",
			args:     []any{"0;"},
		},
		{
			name: "every field",
			f: usercenter.AuditFilter{
				Apps: []uint64{1, math.MaxUint64}, SdkAppID: math.MaxUint64, UserID: "u", Field: "phone",
				Action: usercenter.AuditAction("update"), Actor: "key:k", Since: since, Until: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC),
				AfterID: 42, Limit: 5,
			},
			question: " WHERE sdk_app_id IN (?) AND sdk_app_id = ? AND user_id = ? AND field = ? AND action = ? AND actor = ?" +
				" AND at >= ? AND at < ? AND id > ?",
			dollar: " WHERE sdk_app_id IN ($1) AND sdk_app_id = $2 AND user_id = $3 AND field = $4 AND action = $5 AND actor = $6" +
				" AND at >= $7 AND at < $8 AND id > $9",
			args: []any{"1;18446744073709551615;", int64(-1), "u", "phone", "update", "key:k",
				since.UnixNano(), int64(math.MaxInt64), int64(42)},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range []struct {
				p    Placeholder
				want string
			}{{Question, c.question}, {Dollar, c.dollar}} {
				where, args, none := AuditWhere(c.f, p.p, `sdk_app_id IN (?)`, appsArg)
				if where != p.want || !reflect.DeepEqual(args, c.args) || none != c.none {
					t.Errorf("AuditWhere(%v) = %q, %#v, %v; want %q, %#v, %v", p.p, where, args, none, p.want, c.args, c.none)
				}
			}
		})
	}
}

func TestScanAuditEvent(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	e, err := ScanAuditEvent(row{int64(9), at.UnixNano(), int64(-1), "u", "update", "phone", "key:k", "r", "why"})
	want := usercenter.AuditEvent{ID: 9, At: at, SdkAppID: math.MaxUint64, UserID: "u", Action: "update",
		Field: "phone", Actor: "key:k", RequestID: "r", Reason: "why"}
	if err != nil || !reflect.DeepEqual(e, want) {
		t.Errorf("ScanAuditEvent = %+v, %v; want %+v", e, err, want)
	}
}

// row is a Scanner over values of the types the drivers return: nil is
// NULL, which leaves its destination zero (a nil pointer), a value scanned
// into a pointer's address is stored behind a new pointer, and an integer
// is stored into any integer type, as both drivers do.
type row []any

func (r row) Scan(dest ...any) error {
	if len(dest) != len(r) {
		return fmt.Errorf("scanning %d columns into %d destinations", len(r), len(dest))
	}
	for i, d := range dest {
		to := reflect.ValueOf(d).Elem()
		switch v := reflect.ValueOf(r[i]); {
		case !v.IsValid():
			to.SetZero()
		case to.Kind() == reflect.Pointer && v.Kind() != reflect.Pointer:
			p := reflect.New(v.Type())
			p.Elem().Set(v)
			to.Set(p)
		case v.CanInt() && to.CanInt() && v.Type() != to.Type(): // an int64 into an int, or a named integer type
			to.SetInt(v.Int())
		default:
			to.Set(v)
		}
	}
	return nil
}
