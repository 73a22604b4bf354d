package projections

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

var allStates = []State{StateCatchingUp, StateLive, StateRebuilding, StateFailed, StateFrozen, StateStopped, StateFenced}

// metrics are the runner's Prometheus collectors. Every series carries a
// "projection" label; per-build gauges also a "role" label (live, pending).
type metrics struct {
	reg        prometheus.Registerer
	collectors []prometheus.Collector

	head       prometheus.Gauge
	position   *prometheus.GaugeVec
	lagEvents  *prometheus.GaugeVec
	lagSeconds *prometheus.GaugeVec
	rate       *prometheus.GaugeVec
	state      *prometheus.GaugeVec
	events     *prometheus.CounterVec
	failures   *prometheus.CounterVec
	batch      *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		reg: reg,
		head: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hanse_projection_log_head_position",
			Help: "Global position of the last event in the event store, as last sampled by the projection runner.",
		}),
		position: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hanse_projection_position",
			Help: "Global position up to which the projection build has applied events.",
		}, []string{"projection", "role"}),
		lagEvents: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hanse_projection_lag_events",
			Help: "Log head minus the projection build's position (events for the embedded store).",
		}, []string{"projection", "role"}),
		lagSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hanse_projection_lag_seconds",
			Help: "Age of the oldest event the projection build has not applied yet (0 when caught up).",
		}, []string{"projection", "role"}),
		rate: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hanse_projection_events_per_second",
			Help: "Events processed per second by the projection build over the last sampling interval.",
		}, []string{"projection", "role"}),
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hanse_projection_state",
			Help: "1 for the current state of the projection build (catching-up, live, rebuilding, failed, frozen, stopped), 0 otherwise.",
		}, []string{"projection", "role", "state"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hanse_projection_events_total",
			Help: "Events processed (applied or skipped by declaration) by the projection's builds.",
		}, []string{"projection"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hanse_projection_failures_total",
			Help: "Times a projection build stopped on an event it could not apply.",
		}, []string{"projection"}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hanse_projection_batch_seconds",
			Help:    "Duration of one batch transaction (apply and checkpoint commit).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"projection"}),
	}
	m.collectors = []prometheus.Collector{m.head, m.position, m.lagEvents, m.lagSeconds, m.rate, m.state, m.events, m.failures, m.batch}
	if reg == nil {
		return m, nil
	}
	for i, c := range m.collectors {
		if err := reg.Register(c); err != nil {
			for _, done := range m.collectors[:i] {
				reg.Unregister(done)
			}
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("projections: metrics already registered (one runner per registry): %w", err)
			}
			return nil, fmt.Errorf("projections: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}

func (m *metrics) setState(name string, role Role, state State) {
	for _, s := range allStates {
		v := 0.0
		if s == state {
			v = 1
		}
		m.state.WithLabelValues(name, string(role), string(s)).Set(v)
	}
}

// forget removes the per-build series of a build that no longer exists.
func (m *metrics) forget(name string, role Role) {
	m.position.DeleteLabelValues(name, string(role))
	m.lagEvents.DeleteLabelValues(name, string(role))
	m.lagSeconds.DeleteLabelValues(name, string(role))
	m.rate.DeleteLabelValues(name, string(role))
	for _, s := range allStates {
		m.state.DeleteLabelValues(name, string(role), string(s))
	}
}
