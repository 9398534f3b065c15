// Package alerts owns the rule pack and the alerts it raises. Rules are
// data (rules.yaml, overridable in config): SQL over the views ingest and
// match publish, evaluated in DuckDB as of a date. The lifecycle keeps one
// open alert per rule and household (or person outside the registry),
// adds evidence when a rule fires again, and sets due_at from the SLA of
// the severity. Its tables are alerts, alert_evidence and alert_history.
package alerts
