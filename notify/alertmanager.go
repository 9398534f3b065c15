// Package notify pushes alerts to the people who act on them outside
// safetynet: a Prometheus Alertmanager, through its v2 API, so an office
// reuses its routing, grouping and silences. It reads alerts through the
// alerts package and owns only the record of what it sent (notify_sent).
package notify

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"safetynet/alerts"
	"safetynet/config"
	"safetynet/store"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Migrations are notify's tables.
func Migrations() store.MigrationSet { return store.Migrations("notify", schemaFS, "schema") }

var (
	pushes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "safetynet_alertmanager_pushes_total",
		Help: "Pushes to Alertmanager, by result (ok, error).",
	}, []string{"result"})
	sent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "safetynet_alertmanager_alerts_sent_total",
		Help: "Alerts sent to Alertmanager, by state (firing, resolved).",
	}, []string{"state"})
)

// Collectors are notify's metrics.
func Collectors() []prometheus.Collector { return []prometheus.Collector{pushes, sent} }

// Alertmanager pushes the notable alerts (open and critical, or past due)
// to an Alertmanager.
type Alertmanager struct {
	Conf   config.Alertmanager
	DB     *store.DB
	Pack   *alerts.Pack // rule titles for the annotations
	Client *http.Client // nil: a client with a 30 s time-out
}

// amAlert is an alert as Alertmanager's v2 API takes it.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Labels are what Alertmanager routes, groups and silences on: the rule
// (as alertname), severity, the region and its county, whether overdue.
// No names or ID numbers leave safetynet.
func Labels(a alerts.Alert) map[string]string {
	county := a.RegionCode
	if len(county) > 6 {
		county = county[:6]
	}
	return map[string]string{
		"alertname": a.RuleID,
		"rule":      a.RuleID,
		"severity":  a.Severity,
		"region":    a.RegionCode,
		"county":    county,
		"overdue":   strconv.FormatBool(a.Overdue),
		"alert_id":  strconv.FormatInt(a.AlertID, 10),
		"source":    "safetynet",
	}
}

// Result is what one push did.
type Result struct{ Firing, Resolved int }

const batch = 500

// Push sends every notable alert as firing until now plus 4 resends, and
// every alert sent before that is no longer notable (closed, or its labels
// changed) as resolved now. What was sent is recorded after Alertmanager
// took it, so a failed push is sent whole again next time.
func (am *Alertmanager) Push(ctx context.Context, now time.Time) (Result, error) {
	var res Result
	if am.Conf.URL == "" {
		return res, nil
	}
	open, err := alerts.List(ctx, am.DB, alerts.Filter{Notable: true})
	if err != nil {
		return res, err
	}
	before := map[int64]string{}
	rows, err := am.DB.QueryContext(ctx, `SELECT alert_id, labels FROM notify_sent`)
	if err != nil {
		return res, err
	}
	for rows.Next() {
		var id int64
		var l string
		if err := rows.Scan(&id, &l); err != nil {
			rows.Close()
			return res, err
		}
		before[id] = l
	}
	rows.Close()

	ends := now.Add(4 * am.Conf.Resend)
	var out []amAlert
	current := map[int64]string{}
	for _, a := range open {
		labels := Labels(a)
		lj, _ := json.Marshal(labels)
		current[a.AlertID] = string(lj)
		link := strings.TrimRight(am.Conf.ExternalURL, "/") + "/alerts/" + strconv.FormatInt(a.AlertID, 10)
		out = append(out, amAlert{Labels: labels, StartsAt: a.FirstSeen, EndsAt: ends, GeneratorURL: link,
			Annotations: map[string]string{"summary": am.Pack.Title(a.RuleID, "zh"), "description": a.Reason,
				"due_at": a.DueAt.Format(time.RFC3339), "url": link}})
		res.Firing++
	}
	for id, l := range before {
		if current[id] == l {
			continue
		}
		var labels map[string]string
		if json.Unmarshal([]byte(l), &labels) != nil {
			continue
		}
		out = append(out, amAlert{Labels: labels, StartsAt: now.Add(-time.Second), EndsAt: now})
		res.Resolved++
	}
	for i := 0; i < len(out); i += batch {
		if err := am.post(ctx, out[i:min(i+batch, len(out))]); err != nil {
			pushes.WithLabelValues("error").Inc()
			return Result{}, err
		}
	}
	pushes.WithLabelValues("ok").Inc()
	sent.WithLabelValues("firing").Add(float64(res.Firing))
	sent.WithLabelValues("resolved").Add(float64(res.Resolved))
	err = am.DB.Tx(ctx, func(conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, `DELETE FROM notify_sent`); err != nil {
			return err
		}
		app, err := store.NewAppender(conn, "notify_sent")
		if err != nil {
			return err
		}
		for id, l := range current {
			if err := app.AppendRow(id, l, now); err != nil {
				return err
			}
		}
		return app.Close()
	})
	return res, err
}

func (am *Alertmanager) post(ctx context.Context, as []amAlert) error {
	body, err := json.Marshal(as)
	if err != nil {
		return err
	}
	u := strings.TrimRight(am.Conf.URL, "/") + "/api/v2/alerts"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	c := am.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("notify: alertmanager at %s: %w (is it running? see alertmanager.url in the config)", am.Conf.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("notify: alertmanager at %s answered %s: %s", am.Conf.URL, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
