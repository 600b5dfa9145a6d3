package obs

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TrafficWindow is how far back Traffic looks.
const TrafficWindow = time.Hour

// successResults are the results that are no error: each facade's code of
// success (the REST API's and LCIC's "ok", the super-app API's
// ReturnCode "0", the enterprise API's code 200), and a client that hung
// up.
var successResults = map[string]bool{"ok": true, "0": true, "200": true, ResultCanceled: true}

// Traffic keeps, in memory, samples of the request counters of a
// registry, so that an operator's dashboard can tell the requests and
// errors of the last hour by API without a Prometheus server: the
// counters only ever grow, and the difference between now and a sample an
// hour old is the hour's traffic.
type Traffic struct {
	g     prometheus.Gatherer
	start time.Time

	mu      sync.Mutex
	samples []trafficSample // oldest first, none older than the window and one interval
}

type trafficSample struct {
	at     time.Time
	counts map[series]float64
}

type series struct{ facade, action, code string }

// ActionTraffic is one API action's requests and errors in a window.
type ActionTraffic struct {
	Facade, Action   string
	Requests, Errors int64
}

// NewTraffic samples g's usercenter_requests_total; start is when the
// counters began (the process's start), the window's start until a sample
// an hour old exists.
func NewTraffic(g prometheus.Gatherer, start time.Time) *Traffic {
	return &Traffic{g: g, start: start}
}

// Run samples every interval until ctx ends.
func (t *Traffic) Run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			_ = t.Sample(now) // a failed gather leaves a gap; the next one fills it
		}
	}
}

// Sample records the counters as they are at now, and forgets samples
// that the window no longer needs.
func (t *Traffic) Sample(now time.Time) error {
	counts, err := t.gather()
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.samples = append(t.samples, trafficSample{at: now, counts: counts})
	// Keep the newest sample at least a window old, as the baseline.
	for len(t.samples) > 1 && !t.samples[1].at.After(now.Add(-TrafficWindow)) {
		t.samples = t.samples[1:]
	}
	return nil
}

// LastHour returns each action's requests and errors since the oldest
// sample within the window (or since start), most requests first, and
// that time.
func (t *Traffic) LastHour(now time.Time) ([]ActionTraffic, time.Time, error) {
	counts, err := t.gather()
	if err != nil {
		return nil, time.Time{}, err
	}
	since := t.start
	var base map[series]float64
	t.mu.Lock()
	for _, s := range t.samples {
		if !s.at.Before(now.Add(-TrafficWindow)) {
			since, base = s.at, s.counts
			break
		}
	}
	t.mu.Unlock()
	byAction := map[[2]string]*ActionTraffic{}
	for s, v := range counts {
		n := int64(v - base[s])
		if n <= 0 {
			continue
		}
		k := [2]string{s.facade, s.action}
		a := byAction[k]
		if a == nil {
			a = &ActionTraffic{Facade: s.facade, Action: s.action}
			byAction[k] = a
		}
		a.Requests += n
		if !successResults[s.code] {
			a.Errors += n
		}
	}
	out := make([]ActionTraffic, 0, len(byAction))
	for _, a := range byAction {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b ActionTraffic) int {
		return cmp.Or(cmp.Compare(b.Requests, a.Requests), cmp.Compare(a.Facade, b.Facade), cmp.Compare(a.Action, b.Action))
	})
	return out, since, nil
}

func (t *Traffic) gather() (map[series]float64, error) {
	families, err := t.g.Gather()
	if err != nil {
		return nil, err
	}
	counts := map[series]float64{}
	for _, f := range families {
		if f.GetName() != "usercenter_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			var s series
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "facade":
					s.facade = l.GetValue()
				case "action":
					s.action = l.GetValue()
				case "code":
					s.code = l.GetValue()
				}
			}
			counts[s] += m.GetCounter().GetValue()
		}
	}
	return counts, nil
}
