package web

import (
	"fmt"
	"slices"
	"strings"
)

// Role is what a user may do; the one list of roles is Roles.
type Role string

const (
	Admin      Role = "admin"      // everything, in every region
	Operator   Role = "operator"   // the alerts, reviews and visit queue of one region
	GridWorker Role = "gridworker" // the visit tasks of one grid
	// Analyst sees aggregates only: cohorts, counts, series, the funnel
	// and charts, all with small cells suppressed.
	Analyst Role = "analyst"
	// RecordAnalyst also runs record-level SQL over the analyst views,
	// exports rows and connects over Flight SQL: people as pseudonyms.
	RecordAnalyst Role = "record_analyst"
	// Peer is another safetynet instance: with a token, it pulls the
	// records forwarded to the people of its region (forward), and nothing
	// else; it cannot log in.
	Peer Role = "peer"
)

// Roles are every role a user can have.
var Roles = []Role{Admin, Operator, GridWorker, Analyst, RecordAnalyst, Peer}

// ParseRole checks a role's name.
func ParseRole(s string) (Role, error) {
	if r := Role(s); slices.Contains(Roles, r) {
		return r, nil
	}
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return "", fmt.Errorf("role %q is not one of %s", s, strings.Join(names, ", "))
}

// Acts: reads and changes alerts, decides reviews, assigns visits.
func (r Role) Acts() bool { return r == Admin || r == Operator }

// Analyses: the analyst pages, aggregates at least.
func (r Role) Analyses() bool { return r == Admin || r == Analyst || r == RecordAnalyst }

// RecordLevel: record-level SQL, row exports and Flight SQL over the
// analytic snapshot, and counts without suppression.
func (r Role) RecordLevel() bool { return r == Admin || r == RecordAnalyst }

// Home is where the role's work is, the page a login lands on.
func (r Role) Home() string {
	switch r {
	case GridWorker:
		return "/tasks"
	case Analyst, RecordAnalyst:
		return "/analytics"
	}
	return "/alerts"
}
