package ingest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"safetynet/config"
	"safetynet/store"
)

// apiServer is a department's settlement API on loopback: it pages (by
// page number or by keyset cursor), filters by updated_since, wants a
// bearer token, and fails, throttles and stalls when told to.
type apiServer struct {
	t     *testing.T
	mu    sync.Mutex
	recs  map[string]apiRecord
	clock time.Time
	token string

	requests  int
	failEvery int          // every n-th request answers 500
	throttle  map[int]bool // these requests answer 429 with Retry-After: 1
	garble    map[int]bool // these requests answer 200 with half a JSON body
	downFrom  int          // from this request on, everything answers 503 (0: never)
	log       []apiRequest
}

type apiRecord struct {
	ID        string
	Cost      int
	UpdatedAt time.Time
}

type apiRequest struct {
	n             int
	page, cursor  string
	since         string
	status, count int
	at            time.Time
}

func newAPIServer(t *testing.T, n int) (*apiServer, *httptest.Server) {
	a := &apiServer{t: t, recs: map[string]apiRecord{}, clock: time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC), token: "s3cret",
		throttle: map[int]bool{}, garble: map[int]bool{}}
	for i := 0; i < n; i++ {
		a.upsert(fmt.Sprintf("R%05d", i), 100+i)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return a, srv
}

// upsert adds or changes a record; every change gets a later updated_at,
// several records share a second (as real clocks do).
func (a *apiServer) upsert(id string, cost int) {
	if len(a.recs)%3 == 0 {
		a.clock = a.clock.Add(time.Second)
	}
	a.recs[id] = apiRecord{ID: id, Cost: cost, UpdatedAt: a.clock}
}

func (a *apiServer) change(f func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.clock = a.clock.Add(time.Minute)
	f()
}

func (a *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	q := r.URL.Query()
	req := apiRequest{n: a.requests, page: q.Get("page"), cursor: q.Get("cursor"), since: q.Get("updated_since"), at: time.Now()}
	reply := func(status int, body string) {
		req.status = status
		a.log = append(a.log, req)
		w.Header().Set("Content-Type", "application/json")
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	}
	switch {
	case r.Header.Get("Authorization") != "Bearer "+a.token:
		reply(http.StatusUnauthorized, `{"error":"bad token"}`)
		return
	case a.downFrom > 0 && a.requests >= a.downFrom:
		reply(http.StatusServiceUnavailable, `{"error":"down"}`)
		return
	case a.failEvery > 0 && a.requests%a.failEvery == 0:
		reply(http.StatusInternalServerError, `{"error":"oops"}`)
		return
	case a.throttle[a.requests]:
		reply(http.StatusTooManyRequests, `{"error":"slow down"}`)
		return
	}
	var since time.Time
	if req.since != "" {
		var err error
		if since, err = time.Parse(time.RFC3339, req.since); err != nil {
			reply(http.StatusBadRequest, `{"error":"updated_since"}`)
			return
		}
	}
	var sel []apiRecord
	for _, rec := range a.recs {
		if !rec.UpdatedAt.Before(since) {
			sel = append(sel, rec)
		}
	}
	sort.Slice(sel, func(i, j int) bool {
		if !sel[i].UpdatedAt.Equal(sel[j].UpdatedAt) {
			return sel[i].UpdatedAt.Before(sel[j].UpdatedAt)
		}
		return sel[i].ID < sel[j].ID
	})
	size, _ := strconv.Atoi(q.Get("page_size"))
	var out []apiRecord
	next := ""
	if q.Has("page") {
		p, _ := strconv.Atoi(req.page)
		lo := min((p-1)*size, len(sel))
		out = sel[lo:min(lo+size, len(sel))]
	} else {
		start := 0
		if req.cursor != "" {
			raw, _ := base64.RawURLEncoding.DecodeString(req.cursor)
			at, id, _ := strings.Cut(string(raw), "|")
			ts, _ := time.Parse(time.RFC3339, at)
			start = sort.Search(len(sel), func(i int) bool {
				return sel[i].UpdatedAt.After(ts) || (sel[i].UpdatedAt.Equal(ts) && sel[i].ID > id)
			})
		}
		out = sel[start:min(start+size, len(sel))]
		if start+size < len(sel) {
			last := out[len(out)-1]
			next = base64.RawURLEncoding.EncodeToString([]byte(last.UpdatedAt.Format(time.RFC3339) + "|" + last.ID))
		}
	}
	req.count = len(out)
	type wire struct {
		RecordID  string `json:"record_id"`
		IDNumber  string `json:"id_number"`
		Name      string `json:"name"`
		Date      string `json:"settle_date"`
		Total     int    `json:"total_cost"`
		OOP       string `json:"out_of_pocket"`
		UpdatedAt string `json:"updated_at"`
	}
	data := make([]wire, 0, len(out))
	for _, rec := range out {
		data = append(data, wire{rec.ID, "11010519491231002X", "王芳", "2024-03-05", rec.Cost * 10, strconv.Itoa(rec.Cost) + "元", rec.UpdatedAt.Format(time.RFC3339)})
	}
	body, _ := json.Marshal(map[string]any{"code": 0, "data": data, "next_cursor": next})
	if a.garble[a.requests] {
		body = body[:len(body)/2]
	}
	reply(http.StatusOK, string(body))
}

func (a *apiServer) requestsSince(n int) []apiRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []apiRequest
	for _, r := range a.log {
		if r.n > n {
			out = append(out, r)
		}
	}
	return out
}

func (a *apiServer) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests
}

func pull(srv *httptest.Server, pagination string) HTTPPull {
	return HTTPPull{Source: "medins", HTTP: config.HTTP{
		URL: srv.URL + "/api/settlements?region=330110", TokenEnv: "TEST_MEDINS_TOKEN", Records: "data", Pagination: pagination,
		PageSize: 100, CommitEvery: 500, RateLimit: 1000, Timeout: 2 * time.Second, Retries: 3,
	}, Backoff: 5 * time.Millisecond}
}

// checkMirror asserts the current medins rows are exactly the API's records.
func checkMirror(t *testing.T, db *store.DB, a *apiServer) {
	t.Helper()
	a.mu.Lock()
	want := map[string]float64{}
	for id, rec := range a.recs {
		want[id] = float64(rec.Cost)
	}
	a.mu.Unlock()
	rows, err := db.Query(`SELECT record_id, out_of_pocket FROM medins`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]float64{}
	for rows.Next() {
		var id string
		var oop float64
		rows.Scan(&id, &oop)
		if _, dup := got[id]; dup {
			t.Errorf("record %s is current twice", id)
		}
		got[id] = oop
	}
	missing, wrong := 0, 0
	for id, v := range want {
		g, ok := got[id]
		switch {
		case !ok:
			missing++
		case g != v:
			wrong++
		}
	}
	if missing > 0 || wrong > 0 || len(got) != len(want) {
		t.Errorf("store has %d current records, the API %d: %d missing, %d with other values", len(got), len(want), missing, wrong)
	}
}

func TestHTTPPullPagesRetriesAndWatermark(t *testing.T) {
	t.Setenv("TEST_MEDINS_TOKEN", "s3cret")
	for _, pagination := range []string{"page", "cursor"} {
		t.Run(pagination, func(t *testing.T) {
			a, srv := newAPIServer(t, 2345)
			a.failEvery = 7
			a.throttle[3] = true
			a.garble[5] = true
			db := openDB(t)
			p := pull(srv, pagination)
			res, err := p.Run(context.Background(), db, discard())
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 5 { // 2,345 records, a batch per 500
				t.Errorf("%d batches, want 5", len(res))
			}
			checkMirror(t, db, a)
			var mark string
			db.QueryRow(`SELECT watermark FROM ingest_pulls WHERE source = 'medins' AND run_cursor IS NULL`).Scan(&mark)
			if want := a.clock.Format(time.RFC3339); mark != want {
				t.Errorf("watermark %q, want the latest updated_at %q", mark, want)
			}
			throttled := a.requestsSince(0)
			if throttled[2].status != 429 || throttled[3].at.Sub(throttled[2].at) < 900*time.Millisecond {
				t.Errorf("Retry-After not honoured: %+v then %+v", throttled[2], throttled[3])
			}

			// Between runs the department changes 10 records and adds 5.
			a.change(func() {
				for i := 0; i < 10; i++ {
					id := fmt.Sprintf("R%05d", i*100)
					a.upsert(id, a.recs[id].Cost+1)
				}
				for i := 0; i < 5; i++ {
					a.upsert(fmt.Sprintf("N%05d", i), 7)
				}
			})
			before := a.count()
			res, err = p.Run(context.Background(), db, discard())
			if err != nil {
				t.Fatal(err)
			}
			served := 0
			for _, r := range a.requestsSince(before) {
				if r.since != mark {
					t.Errorf("second pull asked since %q, want %q", r.since, mark)
				}
				served += r.count
			}
			if served > 15+3 { // the changed ones, plus those sharing the old watermark's second
				t.Errorf("second pull fetched %d records for 15 changes", served)
			}
			if len(res) != 1 || res[0].New != 5 || res[0].Changed != 10 {
				t.Errorf("second pull: %+v", res)
			}
			checkMirror(t, db, a)
			if n := count(t, db, `SELECT count(*) FROM canon_medins WHERE valid_to IS NOT NULL`); n != 10 {
				t.Errorf("%d earlier versions kept, want 10", n)
			}
		})
	}
}

// A pull that dies in the middle goes on from its last committed batch
// next time, even when records changed in between, without duplicates or
// gaps.
func TestHTTPPullResumes(t *testing.T) {
	t.Setenv("TEST_MEDINS_TOKEN", "s3cret")
	for _, pagination := range []string{"cursor", "page"} {
		t.Run(pagination, func(t *testing.T) {
			a, srv := newAPIServer(t, 1234)
			a.downFrom = 9 // pages 1–8 arrive, then the API goes down
			db := openDB(t)
			p := pull(srv, pagination)
			res, err := p.Run(context.Background(), db, discard())
			if err == nil {
				t.Fatal("a pull against a dead API succeeded")
			}
			if !strings.Contains(err.Error(), "goes on from this page") {
				t.Errorf("error does not say the pull will go on: %v", err)
			}
			if len(res) != 1 || res[0].New != 500 {
				t.Fatalf("committed before the failure: %+v", res)
			}
			var cursor, lastErr string
			db.QueryRow(`SELECT run_cursor, last_error FROM ingest_pulls WHERE source = 'medins'`).Scan(&cursor, &lastErr)
			if cursor == "" || lastErr == "" {
				t.Fatalf("no resume point (%q) or error (%q) saved", cursor, lastErr)
			}
			// The API comes back; meanwhile a stored record and a pending one change.
			a.mu.Lock()
			a.downFrom = 0
			a.mu.Unlock()
			a.change(func() {
				a.upsert("R00001", 1)
				a.upsert("R01000", 2)
			})
			before := a.count()
			if _, err := p.Run(context.Background(), db, discard()); err != nil {
				t.Fatal(err)
			}
			first := a.requestsSince(before)[0]
			if pagination == "cursor" && first.cursor != cursor {
				t.Errorf("resumed at cursor %q, want the saved %q", first.cursor, cursor)
			}
			if pagination == "page" && first.page != "1" {
				t.Errorf("a page pull resumes from page 1, got %q", first.page)
			}
			if first.since != "" {
				t.Errorf("the resumed pull changed its watermark to %q", first.since)
			}
			// R00001 changed after it was stored: the next pull brings it.
			if _, err := p.Run(context.Background(), db, discard()); err != nil {
				t.Fatal(err)
			}
			checkMirror(t, db, a)
			if n := count(t, db, `SELECT count(*) - count(DISTINCT record_key || row_hash) FROM canon_medins`); n != 0 {
				t.Errorf("%d duplicate versions", n)
			}
		})
	}
}

func TestHTTPPullAuthAndRate(t *testing.T) {
	a, srv := newAPIServer(t, 300)
	db := openDB(t)
	p := pull(srv, "page")
	t.Setenv("TEST_MEDINS_TOKEN", "")
	if _, err := p.Run(context.Background(), db, discard()); err == nil || !strings.Contains(err.Error(), "$TEST_MEDINS_TOKEN") {
		t.Errorf("missing token: %v", err)
	}
	t.Setenv("TEST_MEDINS_TOKEN", "wrong")
	if _, err := p.Run(context.Background(), db, discard()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("bad token: %v", err)
	}
	if n := a.count(); n != 1 {
		t.Errorf("a 401 was retried: %d requests", n)
	}
	t.Setenv("TEST_MEDINS_TOKEN", "s3cret")
	p.RateLimit = 20
	p.PageSize = 50
	before := a.count()
	if _, err := p.Run(context.Background(), db, discard()); err != nil {
		t.Fatal(err)
	}
	// Single gaps jitter with the scheduler (a late first wake-up shortens
	// the second gap), but the limiter's reservations are 50 ms apart, so n
	// requests span at least n-1 intervals; one interval is left as slack
	// for the first request's connection setup.
	reqs := a.requestsSince(before)
	if len(reqs) < 6 {
		t.Fatalf("%d requests, want at least 6 pages of 50", len(reqs))
	}
	span := reqs[len(reqs)-1].at.Sub(reqs[0].at)
	if least := time.Duration(len(reqs)-2) * 50 * time.Millisecond; span < least {
		t.Errorf("%d requests in %v, faster than 20 a second (want at least %v)", len(reqs), span, least)
	}
	checkMirror(t, db, a)
}
