package storecache

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	hitsDesc = prometheus.NewDesc("usercenter_cache_hits_total",
		"Reads answered from the cache, by cache.", []string{"cache"}, nil)
	missesDesc = prometheus.NewDesc("usercenter_cache_misses_total",
		"Reads the cache sent to the database, by cache.", []string{"cache"}, nil)
	entriesDesc = prometheus.NewDesc("usercenter_cache_entries",
		"Entries held, expired ones not yet dropped included, by cache; each cache holds at most its limit.", []string{"cache"}, nil)
	ttlDesc = prometheus.NewDesc("usercenter_cache_ttl_seconds",
		"How long an entry stored now may be served: serve's --cache-ttl while the invalidation channel is up, 0.5 otherwise.", nil, nil)
	upDesc = prometheus.NewDesc("usercenter_cache_invalidation_up",
		"1 while this node hears other processes' writes on the invalidation channel (entries live --cache-ttl), 0 while it does not (they live 0.5 s). The channel is LISTEN/NOTIFY on PostgreSQL, the polled table cache_invalidations on SQLite.", nil, nil)
	publishFailuresDesc = prometheus.NewDesc("usercenter_cache_invalidation_publish_failures_total",
		"Writes this node committed but could not announce to the others, whose caches may then serve the old rows until they expire.", nil, nil)
	receivedDesc = prometheus.NewDesc("usercenter_cache_invalidation_messages_total",
		"Invalidations heard from other nodes.", nil, nil)
	flushesDesc = prometheus.NewDesc("usercenter_cache_flushes_total",
		"Times the caches were emptied because the invalidation channel went down or came back.", nil, nil)
	resetsDesc = prometheus.NewDesc("usercenter_cache_invalidation_resets_total",
		"Times a SQLite node emptied its caches because the invalidation log changed under it, by reason: gap (messages it had not read were pruned), rewind (the log went back: the database was replaced) or restore (another message under the number of the last one read: the database was replaced and written since). 0 on PostgreSQL, whose channel keeps no log.", []string{"reason"}, nil)
)

// Describe and Collect make the Store a prometheus.Collector of its
// caches' hits, misses and sizes and of its invalidation channel.
func (s *Store) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{hitsDesc, missesDesc, entriesDesc, ttlDesc} {
		ch <- d
	}
	if s.bus != nil {
		for _, d := range []*prometheus.Desc{upDesc, publishFailuresDesc, receivedDesc, flushesDesc, resetsDesc} {
			ch <- d
		}
	}
}

// Collect implements prometheus.Collector.
func (s *Store) Collect(ch chan<- prometheus.Metric) {
	for name, st := range s.Stats() {
		ch <- prometheus.MustNewConstMetric(hitsDesc, prometheus.CounterValue, float64(st.Hits), name)
		ch <- prometheus.MustNewConstMetric(missesDesc, prometheus.CounterValue, float64(st.Misses), name)
		ch <- prometheus.MustNewConstMetric(entriesDesc, prometheus.GaugeValue, float64(st.Len), name)
	}
	ch <- prometheus.MustNewConstMetric(ttlDesc, prometheus.GaugeValue, s.TTL().Seconds())
	if b := s.bus; b != nil {
		up := 0.0
		if b.up.Load() {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up)
		ch <- prometheus.MustNewConstMetric(publishFailuresDesc, prometheus.CounterValue, float64(b.publishFailures.Load()))
		ch <- prometheus.MustNewConstMetric(receivedDesc, prometheus.CounterValue, float64(b.received.Load()))
		ch <- prometheus.MustNewConstMetric(flushesDesc, prometheus.CounterValue, float64(b.flushes.Load()))
		for i, reason := range resetReasons {
			ch <- prometheus.MustNewConstMetric(resetsDesc, prometheus.CounterValue, float64(b.resets[i].Load()), reason)
		}
	}
}
