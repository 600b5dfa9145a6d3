package sqlstore

import (
	"math"
	"strings"
	"testing"
	"time"

	"usercenter"
)

func TestTimeRoundTrip(t *testing.T) {
	for _, at := range []time.Time{
		time.Unix(0, 0),
		time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.FixedZone("UTC+8", 8*3600)),
		time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC), // before 1970: negative
		minTime,
		maxTime,
	} {
		ns, err := EncodeTime("sqlite", "c", at)
		if err != nil {
			t.Fatalf("EncodeTime(%v): %v", at, err)
		}
		got := DecodeTime(ns)
		if !got.Equal(at) || got.Location() != time.UTC {
			t.Errorf("DecodeTime(EncodeTime(%v)) = %v, want the same instant in UTC", at, got)
		}
		v, err := EncodeNullTime("sqlite", "c", at)
		if err != nil {
			t.Fatalf("EncodeNullTime(%v): %v", at, err)
		}
		n := v.(int64)
		if got := DecodeNullTime(&n); !got.Equal(at) {
			t.Errorf("DecodeNullTime(EncodeNullTime(%v)) = %v", at, got)
		}
	}
	if ns, _ := EncodeTime("sqlite", "c", minTime); ns != math.MinInt64 {
		t.Errorf("EncodeTime(minTime) = %d, want MinInt64", ns)
	}
	if ns, _ := EncodeTime("sqlite", "c", maxTime); ns != math.MaxInt64 {
		t.Errorf("EncodeTime(maxTime) = %d, want MaxInt64", ns)
	}
}

// The zero time is "never": NULL in a nullable column, refused in a NOT
// NULL one, where it can only be a caller that forgot to set it.
func TestZeroTime(t *testing.T) {
	v, err := EncodeNullTime("postgres", "c", time.Time{})
	if v != nil || err != nil {
		t.Errorf("EncodeNullTime(zero) = %v, %v; want nil, nil (NULL)", v, err)
	}
	if got := DecodeNullTime(nil); !got.IsZero() {
		t.Errorf("DecodeNullTime(nil) = %v, want the zero time", got)
	}
	_, err = EncodeTime("postgres", "tokens.expires_at", time.Time{})
	wantInternal(t, err, "postgres: tokens.expires_at is the zero time")
	// The zero time is out of range too, so the nullable column must not
	// pass it on.
	if _, err := EncodeNullTime("postgres", "c", time.Time{}.Add(time.Nanosecond)); usercenter.ErrorCode(err) != usercenter.EInternal {
		t.Errorf("EncodeNullTime(year 1) = %v, want EInternal", err)
	}
}

func TestTimeOutOfRange(t *testing.T) {
	for _, at := range []time.Time{minTime.Add(-time.Nanosecond), maxTime.Add(time.Nanosecond)} {
		_, err := EncodeTime("sqlite", "apps.created_at", at)
		wantInternal(t, err, "sqlite: apps.created_at "+at.String()+" is outside the years 1678 to 2262")
	}
}

func TestBoundTime(t *testing.T) {
	mid := time.Date(2030, 1, 1, 0, 0, 0, 5, time.UTC)
	for _, c := range []struct {
		at   time.Time
		want int64
	}{
		{mid, mid.UnixNano()},
		{minTime, math.MinInt64},
		{maxTime, math.MaxInt64},
		{time.Time{}, math.MinInt64}, // clamped: before every stored time
		{minTime.Add(-time.Hour), math.MinInt64},
		{maxTime.Add(time.Hour), math.MaxInt64},
		{time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64},
	} {
		if got := BoundTime(c.at); got != c.want {
			t.Errorf("BoundTime(%v) = %d, want %d", c.at, got, c.want)
		}
	}
}

func wantInternal(t *testing.T, err error, msg string) {
	t.Helper()
	e := usercenter.ErrorOf(err)
	if err == nil || e.Code != usercenter.EInternal || e.Err == nil || !strings.Contains(e.Err.Error(), msg) {
		t.Errorf("err = %v, want EInternal with cause %q", err, msg)
	}
}
