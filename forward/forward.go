// Package forward owns what one safetynet instance sends another: the
// department records about people this instance is not responsible for,
// served to the instance that is (docs/scale.md). A hospital bill in
// county A of a family registered in county B links to nobody in A's
// registry; B pulls it from A's forwarding endpoint with ingest's HTTP
// connector (config.ForwardProtocol), stores it as a batch of its own,
// links it to the family and raises its alert there.
//
// A record is forwarded when it links to nobody in this instance's
// registry (id_outside_registry), to the peer whose directory names its
// person (directory.go), or, when no directory does, to the peer whose
// region its ID begins with (the county where the ID was issued); never
// back to the instance it came from. A province's hub (config hub) holds
// no registry, so it forwards all it holds, and relays the counties'
// directories to each other (HubDirectory).
package forward

import (
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"safetynet/ingest"
	"safetynet/store"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Migrations are forward's tables: the directories peers sent.
func Migrations() store.MigrationSet { return store.Migrations("forward", schemaFS, "schema") }

// Overlap is how far before the peer's watermark a pull starts again. A
// linking run stamps its links with its start and commits minutes later,
// so a link can commit behind a watermark a pull already passed; what
// comes again the peer's store keeps as unchanged.
const Overlap = time.Hour

// MaxPage is the most records one page holds.
const MaxPage = 5000

// Request is one page a peer asks for.
type Request struct {
	Source   string   // education, health, medins or disability
	Peer     string   // the peer's name: records of the people its directory names
	Direct   []string // instances the peer pulls from directly: what came from them is not relayed
	Region   string   // the peer's: records of no directory's people whose ID begins with it
	Key      string   // the pseudonym key the directories are hashed with
	Instance string   // this instance's name, put before each record's own ID
	Since    string   // the watermark (linked_at: when due) of the peer's last complete pull; "" for everything
	Cursor   string   // where the previous page of the same pull ended; "" for the first
	Size     int
}

// Page is one response: the records in the source's own columns, each
// with the time it became due to the peer as linked_at (the peer's
// watermark), and the cursor of the next page ("" after the last).
type Page struct {
	Records []map[string]string
	Next    string
}

// ErrSource is a source that has no records to forward.
var ErrSource = errors.New("forward: not a department source (education, health, medins, disability)")

// ErrRequest is a watermark or cursor that cannot be read.
var ErrRequest = errors.New("forward: the since or cursor parameter cannot be read: start the pull again without them")

// Read is the page of records a peer asked for, in the order they became
// due to it: when they were linked, or when its directory named their
// person anew.
func Read(ctx context.Context, db *store.DB, req Request) (Page, error) {
	q, err := pageQuery(req.Source)
	if err != nil {
		return Page{}, err
	}
	since := time.Time{}
	if req.Since != "" {
		t, err := time.Parse(time.RFC3339Nano, req.Since)
		if err != nil {
			return Page{}, fmt.Errorf("%w: since %q", ErrRequest, req.Since)
		}
		since = t.Add(-Overlap)
	}
	after, key, err := readCursor(req.Cursor)
	if err != nil {
		return Page{}, err
	}
	size := min(max(req.Size, 1), MaxPage)
	// Never back to the peer itself, nor what it gets from the source directly.
	notFrom := strings.Join(append([]string{req.Peer}, req.Direct...), ",")
	rows, err := db.QueryContext(ctx, q, req.Instance, req.Region, since, after, after, key, size+1, req.Key, req.Peer, notFrom)
	if err != nil {
		return Page{}, fmt.Errorf("forward %s: %w", req.Source, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return Page{}, err
	}
	var page Page
	var last time.Time
	var lastKey string
	for rows.Next() {
		var linked time.Time
		var recordKey string
		vals := make([]*string, len(cols)-2)
		dest := []any{&linked, &recordKey}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return Page{}, fmt.Errorf("forward %s: %w", req.Source, err)
		}
		if len(page.Records) == size { // one more than the page: there is a next one
			page.Next = cursor(last, lastKey)
			break
		}
		rec := map[string]string{"linked_at": linked.UTC().Format(time.RFC3339Nano)}
		for i, v := range vals {
			if v != nil {
				rec[cols[i+2]] = *v
			}
		}
		page.Records = append(page.Records, rec)
		last, lastKey = linked, recordKey
	}
	return page, rows.Err()
}

// pageQuery selects a source's forwarded records in its own columns, as
// text: the ID normalised, the record's ID prefixed with this instance's
// name. A record is due to the peer when it was linked, or, when its
// person's records were due again later (resend.go), then; the pull
// follows that time. A record never goes back to the instance it came
// from (its ID begins with that instance's name): through a hub, a
// county's own region would otherwise bring it home again; nor, from a
// hub, what came from an instance the peer also pulls directly (the same
// record under two names). Its arguments: instance, region, since, the
// cursor's time twice and key, the limit, the pseudonym key, the peer,
// and the instances whose records not to serve, joined by commas.
func pageQuery(source string) (string, error) {
	tables := ingest.TablesOf(source)
	if len(tables) != 1 || source == "registry" {
		return "", fmt.Errorf("%w: %q", ErrSource, source)
	}
	cols := []string{"due_at", "record_key"}
	for _, c := range tables[0].Columns {
		switch c.Name {
		case "id_number":
			cols = append(cols, "person_id AS id_number")
		case "record_id":
			cols = append(cols, "$1 || ':' || coalesce(record_id, record_key) AS record_id")
		default:
			cols = append(cols, fmt.Sprintf(`CAST(%q AS VARCHAR) AS %q`, c.Name, c.Name))
		}
	}
	return fmt.Sprintf(`WITH resend AS (SELECT person_id, due_at FROM forward_resend WHERE peer = $9),
due AS (
    SELECT x.*, greatest(x.linked_at, coalesce(r.due_at, x.linked_at)) AS due_at
    FROM linked_%[2]s x LEFT JOIN resend r ON r.person_id = x.person_id
    WHERE x.link_method = 'id_outside_registry' AND x.linked_at > $3
    UNION ALL
    SELECT x.*, r.due_at
    FROM linked_%[2]s x JOIN resend r ON r.person_id = x.person_id
    WHERE x.link_method = 'id_outside_registry' AND x.linked_at <= $3 AND r.due_at > $3),
outside AS (
    SELECT *, %[1]s AS person_hash FROM due
    WHERE (due_at > $4 OR (due_at = $5 AND record_key > $6))
      AND NOT coalesce(contains(record_id, ':') AND list_contains(string_split($10, ','), split_part(record_id, ':', 1)), false))
SELECT %[3]s FROM outside o
WHERE EXISTS (SELECT 1 FROM forward_directory d WHERE d.person = o.person_hash AND d.peer = $9)
   OR (starts_with(person_id, $2) AND NOT EXISTS (SELECT 1 FROM forward_directory d WHERE d.person = o.person_hash))
ORDER BY due_at, record_key
LIMIT $7`, hashSQL("$8", "person_id"), tables[0].Name, strings.Join(cols, ", ")), nil
}

// cursor is where a page ended: the last record's link time and key.
func cursor(at time.Time, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + key))
}

func readCursor(c string) (time.Time, string, error) {
	if c == "" {
		return time.Time{}, "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%w: cursor", ErrRequest)
	}
	at, key, ok := strings.Cut(string(raw), "|")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil {
		return time.Time{}, "", fmt.Errorf("%w: cursor", ErrRequest)
	}
	return t, key, nil
}
