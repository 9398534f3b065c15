package analytics

import (
	"strconv"
	"strings"
	"time"
)

// View is one published analyst view: its name, what each row is, and
// the query over the store that makes it. Every view has the partition
// columns region (the 6-digit county) and month (YYYY-MM). In the
// queries, {{key}} is the pseudonym key (a checked literal) and
// {{months}} the months back from {{now}}. A person's key is the keyed
// hash of their 18-digit ID wherever it is known, so the same person has
// the same key in every view.
type View struct {
	Name, Doc, SQL string
	// Mark, for a view whose months settle (nothing that happens after a
	// month can change its rows), is a query of one text that changes
	// whenever what the view's months ending before {{at}} read changes.
	// Such a view takes its settled months from the previous snapshot
	// while their mark holds, and computes only the months from
	// {{from}} on (settled.go).
	Mark string
	// Changed, for a view each of whose rows is dated by one department
	// record and changes only with that record, its link or a revocation
	// of the same person (signals), is a query of the months (YYYY-MM)
	// whose rows may differ from the previous snapshot's. It reads what
	// that snapshot noted of the store (Watermark: {{batch}}, {{linked}})
	// and its time ({{then}}). Such a view takes its other months before
	// the previous snapshot's from it (changed.go).
	Changed string
	// Lookback is how many months before the window the view also holds
	// (signals: the 11 a 12-month look back from the window's first
	// month needs); {{lookback}} in its query.
	Lookback int
}

// Span is which months of its window a publish computes: every month
// from From on, and the months listed in Also. The zero Span is all of
// them.
type Span struct {
	From time.Time
	Also []string // YYYY-MM
}

// Render is the view's query with its placeholders filled in: the key
// (checked by Publish to be a safe literal), the months, the time, and
// the span of months to compute.
func (v View) Render(key string, months int, now time.Time, span Span) string {
	also := make([]string, len(span.Also))
	for i, m := range span.Also {
		also[i] = "'" + m + "'" // YYYY-MM, from DuckDB's strftime
	}
	return strings.NewReplacer("{{key}}", "'"+key+"'", "{{months}}", strconv.Itoa(months), "{{lookback}}", strconv.Itoa(v.Lookback),
		"{{now}}", sqlTime(now), "{{from}}", sqlTime(span.From), "{{also}}", "["+strings.Join(also, ", ")+"]::VARCHAR[]").Replace(v.SQL)
}

// sqlTime is t as a literal that casts to TIMESTAMPTZ.
func sqlTime(t time.Time) string { return "'" + t.UTC().Format(time.RFC3339Nano) + "'" }

// Views are the published analyst views.
var Views = []View{
	{
		Name: "registry_months",
		Doc:  "one row per registry member per month end of the last months: household, person (pseudonyms), village, tier, monthly benefit, sex, birth year, age, household size",
		// The pseudonyms are hashed once per household and person, not
		// once per row of each month.
		SQL: `WITH months AS (
    SELECT m AS month_start, (m + INTERVAL 1 MONTH - INTERVAL 1 MICROSECOND) AS month_end
    FROM generate_series(greatest(date_trunc('month', {{now}}::TIMESTAMPTZ) - INTERVAL ({{months}} - 1) MONTH,
                                  date_trunc('month', {{from}}::TIMESTAMPTZ)),
                         date_trunc('month', {{now}}::TIMESTAMPTZ), INTERVAL 1 MONTH) g(m)),
hh AS (
    SELECT mo.month_start, mo.month_end, h.household_id, h.tier, h.region_code, h.member_count, h.monthly_benefit
    FROM months mo JOIN household_versions h
      ON h.valid_from <= mo.month_end AND (h.valid_to IS NULL OR h.valid_to > mo.month_end)
    WHERE h.status = 'active'),
mm AS (
    SELECT mo.month_start, m.household_id, m.id_number, m.sex, m.birth_date
    FROM months mo JOIN member_versions m
      ON m.valid_from <= mo.month_end AND (m.valid_to IS NULL OR m.valid_to > mo.month_end)),
hkey AS (
    SELECT household_id, 'h' || left(sha256({{key}} || '|household|' || household_id), 16) AS household
    FROM (SELECT DISTINCT household_id FROM hh)),
sizes AS (  -- members counted only where the registry gave no household size: a window over every row cost half the view
    SELECT mm.month_start, mm.household_id, count(*) AS members
    FROM mm JOIN hh ON hh.month_start = mm.month_start AND hh.household_id = mm.household_id
    WHERE hh.member_count IS NULL
    GROUP BY mm.month_start, mm.household_id),
pkey AS (
    SELECT m.household_id, m.id_number, i.sex, i.birth_date,
           'p' || left(sha256({{key}} || '|person|' || coalesce(i.id_number, m.household_id || '|' || m.id_number)), 16) AS person
    FROM (SELECT DISTINCT household_id, id_number FROM mm) m LEFT JOIN person_ids i ON i.id_raw = m.id_number)
SELECT strftime(hh.month_start, '%Y-%m') AS month,
       left(hh.region_code, 6) AS region,
       hh.region_code AS village,
       k.household,
       p.person,
       hh.tier,
       CAST(hh.monthly_benefit AS DOUBLE) AS monthly_benefit,
       coalesce(mm.sex, p.sex) AS sex,
       year(coalesce(mm.birth_date, p.birth_date)) AS birth_year,
       date_diff('year', coalesce(mm.birth_date, p.birth_date), hh.month_end::DATE) AS age,
       coalesce(hh.member_count, sz.members) AS household_size
FROM hh JOIN mm ON mm.month_start = hh.month_start AND mm.household_id = hh.household_id
JOIN hkey k ON k.household_id = hh.household_id
LEFT JOIN sizes sz ON sz.month_start = hh.month_start AND sz.household_id = hh.household_id
JOIN pkey p ON p.household_id = mm.household_id AND p.id_number IS NOT DISTINCT FROM mm.id_number`,
		// A month's rows are the versions that held at its end and what
		// person_ids says of their IDs: the versions begun by {{at}}, each
		// with its end if it had ended by then, and those IDs.
		Mark: `SELECT (SELECT count(*) || ':' || coalesce(sum(hash(household_id, tier, region_code, member_count, monthly_benefit, status,
                       valid_from, CASE WHEN valid_to <= {{at}}::TIMESTAMPTZ THEN valid_to END)), 0)
        FROM household_versions WHERE valid_from <= {{at}}::TIMESTAMPTZ)
    || '/' || (SELECT count(*) || ':' || coalesce(sum(hash(household_id, id_number, sex, birth_date,
                       valid_from, CASE WHEN valid_to <= {{at}}::TIMESTAMPTZ THEN valid_to END)), 0)
        FROM member_versions WHERE valid_from <= {{at}}::TIMESTAMPTZ)
    || '/' || (SELECT count(*) || ':' || coalesce(sum(hash(id_raw, id_number, sex, birth_date)), 0)
        FROM person_ids WHERE id_raw IN (SELECT id_number FROM member_versions WHERE valid_from <= {{at}}::TIMESTAMPTZ))`,
	},
	{
		Name: "alerts",
		Doc:  "one row per alert: rule, severity, status, village, household or person (pseudonyms), raised, dispatched, visited, outcome, closed, due, whether visited within the SLA",
		SQL: `SELECT strftime(a.first_seen, '%Y-%m') AS month,
       left(coalesce(a.region_code, '000000'), 6) AS region,
       a.region_code AS village,
       a.alert_id, a.rule_id AS rule, a.severity, a.status,
       CASE WHEN a.household_id IS NOT NULL THEN 'h' || left(sha256({{key}} || '|household|' || a.household_id), 16) END AS household,
       CASE WHEN a.id_number IS NOT NULL THEN 'p' || left(sha256({{key}} || '|person|' || a.id_number), 16) END AS person,
       a.household_id IS NULL AS outside_registry,
       a.first_seen AS raised_at, a.dispatched_at, a.visited_at, a.outcome, a.closed_at, a.due_at,
       a.visited_at IS NOT NULL AND a.visited_at <= a.due_at AS visited_in_time
FROM alert_facts a
WHERE a.first_seen >= date_trunc('month', {{now}}::TIMESTAMPTZ) - INTERVAL ({{months}} - 1) MONTH`,
	},
	{
		Name: "signals",
		Doc:  "one row per hardship signal of a linked person (the rule pack's hardship_signals, deaths, and every out-of-pocket medical payment): person and household (pseudonyms), whether outside the registry, signal, amount (out-of-pocket yuan), date, sex and birth year from the ID; people outside the registry are placed in the county of their ID",
		SQL: `WITH s AS (
    SELECT person_id, household_id, signal, event_date, NULL::DOUBLE AS amount FROM hardship_signals
    UNION ALL
    SELECT person_id, household_id, 'death', event_date, NULL FROM linked_health
    WHERE person_id IS NOT NULL AND event_type = 'death' AND event_date <= {{now}}::DATE
    UNION ALL
    SELECT person_id, household_id, 'out_of_pocket', settle_date, CAST(out_of_pocket AS DOUBLE) FROM linked_medins
    WHERE person_id IS NOT NULL AND out_of_pocket > 0 AND settle_date <= {{now}}::DATE),
w AS (SELECT * FROM s WHERE s.event_date >= date_trunc('month', {{now}}::TIMESTAMPTZ) - INTERVAL ({{months}} - 1 + {{lookback}}) MONTH
      AND (s.event_date >= date_trunc('month', {{from}}::TIMESTAMPTZ) OR list_contains({{also}}, strftime(s.event_date, '%Y-%m')))),
-- The pseudonyms are hashed once per person and household, not once per signal.
pk AS (SELECT person_id, 'p' || left(sha256({{key}} || '|person|' || person_id), 16) AS person FROM (SELECT DISTINCT person_id FROM w)),
hk AS (SELECT household_id, 'h' || left(sha256({{key}} || '|household|' || household_id), 16) AS household
       FROM (SELECT DISTINCT household_id FROM w WHERE household_id IS NOT NULL))
SELECT strftime(w.event_date, '%Y-%m') AS month,
       left(coalesce(h.region_code, w.person_id), 6) AS region,
       coalesce(h.region_code, left(w.person_id, 6) || '000000') AS village,
       hk.household,
       pk.person,
       w.household_id IS NULL AS outside_registry,
       w.signal, w.amount, w.event_date AS "on",
       CASE WHEN TRY_CAST(substr(w.person_id, 17, 1) AS INTEGER) % 2 = 1 THEN 'male' ELSE 'female' END AS sex,
       TRY_CAST(substr(w.person_id, 7, 4) AS INTEGER) AS birth_year
FROM w JOIN pk ON pk.person_id = w.person_id
LEFT JOIN hk ON hk.household_id = w.household_id
LEFT JOIN households h ON h.household_id = w.household_id`,
		Lookback: 11,
		Changed:  signalsChanged,
	},
}

// signalsChanged are the months of the signals view that may differ from
// the previous snapshot's: the dates, old and new, of every version of a
// record delivered since; the dates of records linked or relinked since;
// and every certificate of a person with a revocation since, which takes
// back those issued before it. A household's place is read as it is now,
// so a change in the registry computes the view whole (changed.go).
const signalsChanged = `WITH delivered AS (
    SELECT v.dated FROM record_versions v SEMI JOIN (SELECT source, record_key FROM record_versions WHERE batch_id > {{batch}}) n
        ON n.source = v.source AND n.record_key = v.record_key),
linked AS (
    SELECT event_date AS dated FROM linked_health WHERE linked_at > {{linked}}::TIMESTAMPTZ
    UNION ALL SELECT settle_date FROM linked_medins WHERE linked_at > {{linked}}::TIMESTAMPTZ
    UNION ALL SELECT event_date FROM linked_education WHERE linked_at > {{linked}}::TIMESTAMPTZ
    UNION ALL SELECT issued_on FROM linked_disability WHERE linked_at > {{linked}}::TIMESTAMPTZ),
revoked AS (
    SELECT DISTINCT person_id FROM linked_disability
    WHERE "change" = 'revoked' AND person_id IS NOT NULL
      AND (linked_at > {{linked}}::TIMESTAMPTZ OR batch_id > {{batch}} OR issued_on > {{then}}::DATE)),
certified AS (SELECT issued_on AS dated FROM linked_disability d SEMI JOIN revoked r ON r.person_id = d.person_id)
SELECT DISTINCT strftime(dated, '%Y-%m') AS month
FROM (SELECT dated FROM delivered UNION ALL SELECT dated FROM linked UNION ALL SELECT dated FROM certified)
WHERE dated IS NOT NULL
ORDER BY month`
