package webhook

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"usercenter"
)

// Metrics are the dispatcher's, labelled by endpoint ID (no URL: it may
// hold a token) and outcome. A nil *Metrics records nothing.
type Metrics struct {
	deliveries *prometheus.CounterVec
	backlogN   *prometheus.GaugeVec
	oldest     *prometheus.GaugeVec
	lag        prometheus.Histogram

	mu    sync.Mutex
	known map[string]bool
}

// NewMetrics registers the dispatcher's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "usercenter_webhook_deliveries_total",
			Help: "Attempts at delivering events, by endpoint and result (delivered, failed, gave_up).",
		}, []string{"webhook", "result"}),
		backlogN: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "usercenter_webhook_backlog_events",
			Help: "Events of the endpoint's app not yet handled for the endpoint (selected by its filters or not), as of the last pass.",
		}, []string{"webhook"}),
		oldest: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "usercenter_webhook_oldest_pending_seconds",
			Help: "Age of the oldest event not yet handled for the endpoint, as of the last pass; 0 when none.",
		}, []string{"webhook"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "usercenter_webhook_delivery_lag_seconds",
			Help:    "Time from an event's change to its successful delivery.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 3600},
		}),
		known: map[string]bool{},
	}
	reg.MustRegister(m.deliveries, m.backlogN, m.oldest, m.lag)
	return m
}

func (m *Metrics) delivered(webhookID string, result usercenter.DeliveryResult, eventAt, now time.Time) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(webhookID, string(result)).Inc()
	if result == usercenter.DeliveryOK {
		m.lag.Observe(now.Sub(eventAt).Seconds())
	}
}

// backlog records one endpoint's backlog: n events after its stored
// cursor, the oldest at oldest.
func (m *Metrics) backlog(webhookID string, n int, oldest time.Time) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.known[webhookID] = true
	m.mu.Unlock()
	m.backlogN.WithLabelValues(webhookID).Set(float64(n))
	age := 0.0
	if !oldest.IsZero() {
		age = time.Since(oldest).Seconds()
	}
	m.oldest.WithLabelValues(webhookID).Set(age)
}

// forget drops the series of endpoints no longer live.
func (m *Metrics) forget(live map[string]bool) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for id := range m.known {
		if !live[id] {
			delete(m.known, id)
			m.backlogN.DeleteLabelValues(id)
			m.oldest.DeleteLabelValues(id)
			m.deliveries.DeletePartialMatch(prometheus.Labels{"webhook": id})
		}
	}
}
