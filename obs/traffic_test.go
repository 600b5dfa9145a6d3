package obs

import (
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Traffic reports the requests and errors of the last hour from the
// counters' samples, not everything since the start.
func TestTrafficLastHour(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := NewTraffic(reg, start)
	count := func(facade, action, code string, n int) {
		for range n {
			m.observe(labels{facade, action, code}, time.Millisecond)
		}
	}
	count("restapi", "GetUser", "ok", 5)
	count("restapi", "GetUser", "not_found", 2)
	count("tcapi", "LoginUser", "ok", 1)

	got, since, err := tr.LastHour(start.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := []ActionTraffic{{"restapi", "GetUser", 7, 2}, {"tcapi", "LoginUser", 1, 0}}
	if !reflect.DeepEqual(got, want) || !since.Equal(start) {
		t.Fatalf("before any sample: %+v since %v, want %+v since the start", got, since, want)
	}

	for i := 1; i <= 90; i++ {
		now := start.Add(time.Duration(i) * time.Minute)
		if err := tr.Sample(now); err != nil {
			t.Fatal(err)
		}
		if i == 60 {
			count("superapp", "checkUser", "0", 3)
			count("superapp", "checkUser", "1001", 1)
			count("restapi", "GetUser", "canceled", 1)
		}
	}
	if n := len(tr.samples); n > 62 {
		t.Fatalf("%d samples kept, want at most an hour's", n)
	}
	now := start.Add(90 * time.Minute)
	got, since, err = tr.LastHour(now)
	if err != nil {
		t.Fatal(err)
	}
	want = []ActionTraffic{{"superapp", "checkUser", 4, 1}, {"restapi", "GetUser", 1, 0}}
	if !reflect.DeepEqual(got, want) || !since.Equal(now.Add(-time.Hour)) {
		t.Fatalf("after 90 minutes: %+v since %v, want %+v since %v", got, since, want, now.Add(-time.Hour))
	}
}
