package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hanse-network/hanse/federation/delivery"
	"github.com/hanse-network/hanse/internal/config"
)

const federationDescription = `
Inspect outbound federation. "deliveries" lists the durable delivery records
(one per activity and inbox) with their state, attempts and last error, and
the hosts whose circuit breaker is not closed. It only reads the read-model
database, so it works while "hanse serve" runs.`

func runFederation(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || args[0] != "deliveries" {
		c := newProjectionsCmd("federation", "deliveries [flags]", federationDescription)
		if _, err := c.parse(env, args); err != nil {
			return err
		}
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return &usageError{fs: c.fs, err: errors.New("missing subcommand: deliveries")}
		}
		return &usageError{fs: c.fs, err: fmt.Errorf("unknown subcommand %q (want deliveries)", args[0])}
	}
	return federationDeliveries(ctx, env, args[1:])
}

type deliveriesReport struct {
	Deliveries []delivery.Delivery `json:"deliveries"`
	Hosts      []delivery.Host     `json:"hosts"`
}

func federationDeliveries(ctx context.Context, env *cliEnv, args []string) error {
	c := newProjectionsCmd("federation deliveries", "[--state pending|delivered|failed] [--host H] [--json]", federationDescription)
	var state, host string
	var asJSON bool
	var limit int
	config.Choice(c.fs, &state, "state", "", "", []string{"", "pending", "delivered", "failed"}, "only deliveries in this state")
	config.String(c.fs, &host, "host", "", "", "only deliveries to this host (host[:port])")
	config.Bool(c.fs, &asJSON, "json", "", false, "print JSON instead of a table")
	config.Int(c.fs, &limit, "limit", "", 100, "at most this many deliveries (1-1000)")
	pos, err := c.parse(env, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{fs: c.fs, err: fmt.Errorf("unexpected argument %q", pos[0])}
	}
	report := deliveriesReport{Deliveries: []delivery.Delivery{}, Hosts: []delivery.Host{}}
	db, missing, err := openReadModel(ctx, c.store)
	if err != nil {
		return err
	}
	if !missing {
		defer db.Close()
		ds, err := delivery.List(ctx, db.Reader(), delivery.Filter{State: delivery.State(state), Host: host, Limit: limit})
		if err != nil {
			return err
		}
		hs, err := delivery.Hosts(ctx, db.Reader())
		if err != nil {
			return err
		}
		report.Deliveries = append(report.Deliveries, ds...)
		report.Hosts = append(report.Hosts, hs...)
	}
	if asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tATTEMPTS\tSTATUS\tTYPE\tINBOX\tNEXT ATTEMPT\tLAST ERROR")
	for _, d := range report.Deliveries {
		next := "-"
		if d.State == delivery.Pending {
			next = d.NextAttemptAt.Format(time.RFC3339)
			if d.NextAttemptAt.IsZero() {
				next = "now"
			}
		}
		status := "-"
		if d.LastStatus != 0 {
			status = fmt.Sprint(d.LastStatus)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.State, d.Attempts, status, d.ActivityType, d.Inbox,
			next, oneLine(d.LastError, 80))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(report.Hosts) > 0 {
		fmt.Fprintln(env.stdout)
		tw = tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "HOST\tCIRCUIT\tFAILURES\tOPENS\tOPEN UNTIL")
		for _, h := range report.Hosts {
			until := "-"
			if !h.OpenUntil.IsZero() {
				until = h.OpenUntil.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", h.Host, h.Circuit, h.ConsecutiveFailures, h.Opens, until)
		}
		return tw.Flush()
	}
	return nil
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n-1] + "…"
	}
	if s == "" {
		return "-"
	}
	return s
}

// deliveryCollector exports the delivery workers' state as Prometheus
// series: hanse_federation_deliveries_total{outcome},
// hanse_federation_delivery_queue_depth, hanse_federation_deliveries_in_flight
// and hanse_federation_open_circuits.
type deliveryCollector struct {
	w                                   *delivery.Workers
	attempts, queue, inFlight, circuits *prometheus.Desc
}

// registerDeliveryMetrics registers the collector of w on reg.
func registerDeliveryMetrics(reg prometheus.Registerer, w *delivery.Workers) error {
	return reg.Register(&deliveryCollector{w: w,
		attempts: prometheus.NewDesc("hanse_federation_deliveries_total",
			"Delivery attempts finished since start, by outcome (delivered, failed, retry, gave_up, abandoned).",
			[]string{"outcome"}, nil),
		queue:    prometheus.NewDesc("hanse_federation_delivery_queue_depth", "Pending deliveries.", nil, nil),
		inFlight: prometheus.NewDesc("hanse_federation_deliveries_in_flight", "POSTs under way.", nil, nil),
		circuits: prometheus.NewDesc("hanse_federation_open_circuits", "Hosts whose circuit breaker is open or half-open.", nil, nil),
	})
}

// Describe implements prometheus.Collector.
func (c *deliveryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.attempts
	ch <- c.queue
	ch <- c.inFlight
	ch <- c.circuits
}

// Collect implements prometheus.Collector.
func (c *deliveryCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.w.Stats()
	for _, oc := range delivery.Outcomes {
		ch <- prometheus.MustNewConstMetric(c.attempts, prometheus.CounterValue, float64(s.Attempts[oc]), string(oc))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if n, err := c.w.QueueDepth(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(c.queue, prometheus.GaugeValue, float64(n))
	}
	ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(s.InFlight))
	ch <- prometheus.MustNewConstMetric(c.circuits, prometheus.GaugeValue, float64(s.OpenCircuits))
}
