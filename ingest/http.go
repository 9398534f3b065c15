package ingest

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"safetynet/config"
	"safetynet/store"
)

// HTTPPull is the connector of a source served by an HTTP API that pages
// through JSON records. Each pull asks only for the records changed since
// the watermark of the last complete pull, commits every CommitEvery
// records as a batch together with the page to go on from, and so resumes
// where a failed pull stopped, without duplicates or gaps.
type HTTPPull struct {
	Source string
	// Feed keys the pull's position and the headers its batches are
	// compared with, when one source has several pulls (a peer's
	// forwarded records: source@peer); "" is the source.
	Feed string
	config.HTTP
	Options
	Client *http.Client // nil: a client with HTTP.Timeout per request
	// Backoff is the first wait before a retry; it doubles each time, with
	// jitter, up to a minute. Zero means one second.
	Backoff time.Duration
	// Progress, when set, hears the records fetched so far in this pull.
	Progress func(source, file string, rows int)
}

// PullError is a pull connector's failure to get records from the
// department (API or database down, bad credentials, a broken response):
// nothing of it was stored beyond the batches already committed.
type PullError struct {
	Source string
	Err    error
}

func (e *PullError) Error() string { return fmt.Sprintf("ingest %s: %v", e.Source, e.Err) }
func (e *PullError) Unwrap() error { return e.Err }

// pullState is a source's row in ingest_pulls.
type pullState struct {
	connector                     string
	watermark, since, cursor, max sql.NullString
	rows                          int64
}

// Run pulls what changed since the last complete pull and stores it.
func (p HTTPPull) Run(ctx context.Context, db *store.DB, log *slog.Logger) ([]*Result, error) {
	h := p.HTTP.WithDefaults()
	token := ""
	if h.TokenEnv != "" {
		token = os.Getenv(h.TokenEnv)
		if token == "" {
			return nil, &PullError{Source: p.feed(), Err: fmt.Errorf("the API token is read from $%s, which is not set: set it in the service's environment", h.TokenEnv)}
		}
	}
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: h.Timeout}
	}
	backoff := p.Backoff
	if backoff <= 0 {
		backoff = time.Second
	}
	f := &fetcher{client: client, token: token, limiter: rate.NewLimiter(rate.Limit(h.RateLimit), 1), retries: h.Retries, backoff: backoff, log: log, source: p.Source}

	st, err := loadPull(ctx, db, p.feed())
	if err != nil {
		return nil, err
	}
	since, cursor, runMax := st.watermark, st.cursor, st.max
	resumed := st.cursor.Valid && st.connector == "http"
	if resumed {
		since = st.since
		if h.Pagination == "page" {
			// Page numbers shift when records change between requests; a
			// cursor does not. Start the same pull again from page 1: what
			// was stored already comes back unchanged and adds nothing.
			cursor = sql.NullString{String: "1", Valid: true}
		}
		log.Info("resuming pull", "source", p.feed(), "since", since.String, "from", cursor.String, "records_so_far", st.rows)
	} else {
		cursor = sql.NullString{}
		runMax = st.watermark
		if err := savePull(ctx, db, p.feed(), "http", st.watermark, since, sql.NullString{String: firstPage(h), Valid: true}, runMax, 0, false); err != nil {
			return nil, err
		}
		cursor = sql.NullString{String: firstPage(h), Valid: true}
	}
	rows := st.rows
	var out []*Result
	var pages []page
	buffered := 0
	seen := func(mark string) {
		if !runMax.Valid || laterMark(mark, runMax.String) {
			runMax = sql.NullString{String: mark, Valid: true}
		}
	}
	flush := func(next sql.NullString, done bool) error {
		newMark := st.watermark
		save := func(ctx context.Context, conn *sql.Conn, batch int64) error {
			if done {
				newMark = runMax // settled only now that every record was decoded
			}
			return savePullConn(ctx, conn, p.feed(), "http", newMark, since, next, runMax, rows, done)
		}
		if len(pages) == 0 {
			return db.Tx(ctx, func(conn *sql.Conn) error { return save(ctx, conn, 0) })
		}
		// One sheet per batch, named for its pages; a record's line is its
		// place among the batch's records.
		src, err := newObjectSource(recordsOf(pages))
		if err != nil {
			return err
		}
		src.watchKey, src.watch = h.WatermarkField, seen
		label := pages[0].label
		if len(pages) > 1 {
			label += " to " + pages[len(pages)-1].label
		}
		sheets := []sheet{{name: label, src: src}}
		res, err := storeDelivery(ctx, db, p.Source, delivery{name: redact(h.URL), connector: "http", feed: p.Feed, bytes: pagesBytes(pages), encoding: "utf-8", sheets: sheets, inTx: save}, p.Options)
		if err != nil {
			return err
		}
		out = append(out, res)
		log.Info("records pulled", "source", p.feed(), "batch", res.BatchID, "pages", len(pages), "read", res.Read, "new", res.New,
			"changed", res.Changed, "unchanged", res.Unchanged, "quarantined", res.Quarantined)
		pages, buffered = nil, 0
		return nil
	}

	ahead, stop := context.WithCancel(ctx)
	defer stop()
	for fp := range fetchAhead(ahead, f, h, since, cursor.String) {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if fp.err != nil {
			p.recordError(ctx, db, fp.err)
			return out, &PullError{Source: p.feed(), Err: fp.err}
		}
		if len(fp.pg.raws) > 0 {
			pages = append(pages, fp.pg)
			buffered += len(fp.pg.raws)
			rows += int64(len(fp.pg.raws))
		}
		if p.Progress != nil {
			p.Progress(p.Source, redact(h.URL), int(rows))
		}
		done := fp.next == ""
		if done || buffered >= h.CommitEvery {
			nc := sql.NullString{String: fp.next, Valid: !done}
			if err := flush(nc, done); err != nil {
				return out, err
			}
		}
		if done {
			return out, nil
		}
	}
	return out, ctx.Err()
}

func (p HTTPPull) recordError(ctx context.Context, db *store.DB, err error) {
	db.ExecContext(context.WithoutCancel(ctx), `UPDATE ingest_pulls SET last_error = ? WHERE source = ?`, err.Error(), p.feed())
}

// feed is the key of the pull's position: Feed, or the source.
func (p HTTPPull) feed() string { return cmp.Or(p.Feed, p.Source) }

func firstPage(h config.HTTP) string {
	if h.Pagination == "cursor" {
		return ""
	}
	return "1"
}

// pageURL adds the watermark and the page or cursor to the API's URL.
func pageURL(h config.HTTP, since sql.NullString, cursor string) (string, error) {
	u, err := url.Parse(h.URL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	if since.Valid && since.String != "" {
		q.Set(h.SinceParam, since.String)
	}
	if h.Pagination == "cursor" {
		if cursor != "" {
			q.Set(h.CursorParam, cursor)
		}
		q.Set(h.SizeParam, strconv.Itoa(h.PageSize))
	} else {
		q.Set(h.PageParam, cursor)
		q.Set(h.SizeParam, strconv.Itoa(h.PageSize))
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// page is one response's records, decoded when they are stored.
type page struct {
	label string
	raws  []json.RawMessage
	bytes int
}

// recordsOf yields the records of the pages in order.
func recordsOf(pages []page) nextObject {
	p, i, n := 0, 0, 0
	return func() (int, []byte, error) {
		for p < len(pages) && i >= len(pages[p].raws) {
			p, i = p+1, 0
		}
		if p >= len(pages) {
			return n + 1, nil, io.EOF
		}
		raw := pages[p].raws[i]
		i++
		n++
		return n, raw, nil
	}
}

func pagesBytes(pages []page) int64 {
	n := int64(0)
	for _, p := range pages {
		n += int64(p.bytes)
	}
	return n
}

// parsePage splits one response into its records and says where the
// next page is ("" when this was the last).
func parsePage(h config.HTTP, body []byte, cursor string) (page, string, error) {
	needTop := h.Records != "" || h.Pagination == "cursor"
	if !json.Valid(body) || (needTop && !objectOrNull(body)) {
		var top map[string]json.RawMessage // the decoder words what is wrong
		err := json.Unmarshal(body, &top)
		if needTop {
			return page{}, "", fmt.Errorf("the response is not a JSON object: %v", err)
		}
		return page{}, "", fmt.Errorf("%q in the response is not an array of records: %v", h.Records, err)
	}
	recs := json.RawMessage(body)
	if h.Records != "" {
		if recs = dig(body, h.Records); recs == nil {
			return page{}, "", fmt.Errorf("no %q in the response", h.Records)
		}
	}
	pg := page{bytes: len(body)}
	if t := bytes.TrimSpace(recs); len(t) > 0 && string(t) != "null" {
		var ok bool
		if pg.raws, ok = elements(t); !ok {
			var raws []json.RawMessage
			return page{}, "", fmt.Errorf("%q in the response is not an array of records: %v", h.Records, json.Unmarshal(t, &raws))
		}
	}
	next := ""
	if h.Pagination == "cursor" {
		pg.label = "cursor " + cursor
		if cursor == "" {
			pg.label = "first page"
		}
		if v := dig(body, h.NextCursor); v != nil && len(pg.raws) > 0 {
			var c any
			if err := json.Unmarshal(v, &c); err == nil {
				next = jsonText(c)
			}
		}
	} else {
		pg.label = "page " + cursor
		if len(pg.raws) >= h.PageSize {
			n, _ := strconv.Atoi(cursor)
			next = strconv.Itoa(n + 1)
		}
	}
	return pg, next, nil
}

// objectOrNull says whether the valid JSON b is an object or null (a
// page of nothing).
func objectOrNull(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && (b[0] == '{' || string(b) == "null")
}

// laterMark compares two watermark values: as times when both read as
// times, else as numbers, else as text.
func laterMark(a, b string) bool {
	if ta, ok := markTime(a); ok {
		if tb, ok := markTime(b); ok {
			return ta.After(tb)
		}
	}
	if na, err := strconv.ParseFloat(a, 64); err == nil {
		if nb, err := strconv.ParseFloat(b, 64); err == nil {
			return na > nb
		}
	}
	return a > b
}

func markTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// redact drops the query of a URL (it may carry keys) for logs and lineage.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.RawQuery, u.User = "", nil
	return u.String()
}

// fetcher gets pages politely: at most the configured rate, retrying
// failures and time-outs with growing waits, and waiting as long as a 429
// response's Retry-After asks.
type fetcher struct {
	client  *http.Client
	token   string
	limiter *rate.Limiter
	retries int
	backoff time.Duration
	log     *slog.Logger
	source  string
}

// errPermanent is a response a retry will not mend.
type errPermanent struct{ msg string }

func (e errPermanent) Error() string { return e.msg }

func (f *fetcher) get(ctx context.Context, u string) ([]byte, error) {
	var last error
	for attempt := 0; attempt <= f.retries; attempt++ {
		if err := f.limiter.Wait(ctx); err != nil {
			return nil, err
		}
		body, wait, err := f.once(ctx, u)
		if err == nil {
			return body, nil
		}
		var perm errPermanent
		if errors.As(err, &perm) || ctx.Err() != nil {
			return nil, err
		}
		last = err
		if attempt == f.retries {
			break
		}
		if wait == 0 {
			wait = f.backoff << attempt
			wait = min(wait, time.Minute)
			wait = wait/2 + rand.N(wait/2+1)
		}
		f.log.Warn("request failed, will retry", "source", f.source, "url", redact(u), "attempt", attempt+1, "of", f.retries+1, "wait", wait, "err", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return nil, fmt.Errorf("%s: gave up after %d attempts: %w", redact(u), f.retries+1, last)
}

// once makes one request; wait is what a 429 asked for.
func (f *fetcher) once(ctx context.Context, u string) ([]byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, errPermanent{err.Error()}
	}
	req.Header.Set("Accept", "application/json")
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return nil, retryAfter(resp.Header.Get("Retry-After")), fmt.Errorf("429 too many requests")
	case resp.StatusCode >= 500:
		return nil, 0, fmt.Errorf("server error %s", resp.Status)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, 0, errPermanent{fmt.Sprintf("%s: %s (check the token in the environment variable named by token_env)", redact(u), resp.Status)}
	case resp.StatusCode >= 400:
		return nil, 0, errPermanent{fmt.Sprintf("%s: %s: %s", redact(u), resp.Status, snippet(body))}
	case err != nil:
		return nil, 0, fmt.Errorf("response cut short: %w", err)
	}
	if !json.Valid(body) {
		return nil, 0, fmt.Errorf("the response is not whole JSON (%d bytes)", len(body))
	}
	return body, 0, nil
}

// retryAfter reads Retry-After as seconds or an HTTP date; at most 10 minutes.
func retryAfter(v string) time.Duration {
	d := time.Second
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	return min(max(d, 100*time.Millisecond), 10*time.Minute)
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func loadPull(ctx context.Context, db *store.DB, source string) (pullState, error) {
	var st pullState
	err := db.QueryRowContext(ctx, `SELECT connector, watermark, run_since, run_cursor, run_max, coalesce(run_rows, 0) FROM ingest_pulls WHERE source = ?`, source).
		Scan(&st.connector, &st.watermark, &st.since, &st.cursor, &st.max, &st.rows)
	if errors.Is(err, sql.ErrNoRows) {
		return pullState{}, nil
	}
	if err != nil {
		return st, fmt.Errorf("ingest %s: read pull state: %w", source, err)
	}
	return st, nil
}

func savePull(ctx context.Context, db *store.DB, source, connector string, mark, since, cursor, runMax sql.NullString, rows int64, done bool) error {
	return db.Tx(ctx, func(conn *sql.Conn) error {
		return savePullConn(ctx, conn, source, connector, mark, since, cursor, runMax, rows, done)
	})
}

// savePullConn records where a pull is. When done, the run's fields are
// cleared, the watermark moves on and last_success is set.
func savePullConn(ctx context.Context, conn *sql.Conn, source, connector string, mark, since, cursor, runMax sql.NullString, rows int64, done bool) error {
	var success any
	if done {
		since, cursor, runMax, rows = sql.NullString{}, sql.NullString{}, sql.NullString{}, 0
		success = time.Now()
	}
	_, err := conn.ExecContext(ctx, `INSERT INTO ingest_pulls (source, connector, watermark, run_since, run_cursor, run_max, run_rows, last_success, last_error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)
		ON CONFLICT (source) DO UPDATE SET connector = excluded.connector, watermark = excluded.watermark, run_since = excluded.run_since,
			run_cursor = excluded.run_cursor, run_max = excluded.run_max, run_rows = excluded.run_rows,
			last_success = coalesce(excluded.last_success, ingest_pulls.last_success), last_error = NULL`,
		source, connector, mark, since, cursor, runMax, rows, success)
	if err != nil {
		return fmt.Errorf("ingest %s: save pull state: %w", source, err)
	}
	return nil
}
