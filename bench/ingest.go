package bench

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"

	"golang.org/x/text/encoding/simplifiedchinese"

	"safetynet/config"
	"safetynet/ingest"
	"safetynet/jobs"
	"safetynet/store"
	"safetynet/synth"
)

// IngestOptions size the connector benchmark.
type IngestOptions struct {
	Dir      string // holds bench-data of Run (inbox/medins/…); databases go below it
	HTTPRows int    // records served by the loopback API
	BigGiB   float64
	Out      io.Writer
}

// RunIngest measures each connector against DuckDB loading the same
// medical-insurance CSV into a table of the same database, each into a
// fresh database so no row is "unchanged": the figures of issue 3.
func RunIngest(ctx context.Context, opt IngestOptions) ([]Stage, error) {
	inbox := filepath.Join(opt.Dir, "inbox")
	medins := filepath.Join(inbox, synth.MedinsFile)
	if _, err := os.Stat(medins); err != nil {
		return nil, fmt.Errorf("no %s: run the chain benchmark first (safetynet bench)", medins)
	}
	var stages []Stage
	fresh := func(name string) (*store.DB, error) {
		p := filepath.Join(opt.Dir, "ingest-"+name+".duckdb")
		os.Remove(p)
		os.Remove(p + ".wal")
		db, err := jobs.OpenStore(ctx, p)
		if err == nil {
			err = db.SetMemoryLimit(ctx, config.Default().MemoryLimit)
		}
		return db, err
	}
	measure := func(name string, fn func(db *store.DB) (int, error)) (Stage, error) {
		db, err := fresh(strconv.Itoa(len(stages)))
		if err != nil {
			return Stage{}, err
		}
		defer db.Close()
		return measureStage(name, func() (int, error) { return fn(db) })
	}
	file := func(source, path string, opt ingest.Options) func(db *store.DB) (int, error) {
		return func(db *store.DB) (int, error) {
			res, err := ingest.IngestFile(ctx, db, source, path, opt)
			if err != nil {
				return 0, err
			}
			return res.New, nil
		}
	}
	// Each line is the median of three runs, a fresh database each, and
	// the highest peak of the three: on a shared machine one run of a
	// few seconds can be a quarter off either way, the baseline's too.
	median := func(name string, fn func(db *store.DB) (int, error)) error {
		var runs []Stage
		for range 3 {
			st, err := measure(name, fn)
			if err != nil {
				return err
			}
			runs = append(runs, st)
		}
		sortStages(runs)
		mid := runs[1]
		for _, r := range runs {
			mid.PeakRSS = max(mid.PeakRSS, r.PeakRSS)
		}
		stages = append(stages, mid)
		return nil
	}
	if err := median("baseline: DuckDB read_csv → table", func(db *store.DB) (int, error) {
		var n int
		_, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE b AS SELECT * FROM read_csv(%s)`, store.Quote(medins)))
		if err == nil {
			err = db.QueryRowContext(ctx, `SELECT count(*) FROM b`).Scan(&n)
		}
		return n, err
	}); err != nil {
		return nil, err
	}

	gbFile := filepath.Join(opt.Dir, "medins-gb18030.csv")
	if err := transcode(medins, gbFile); err != nil {
		return nil, err
	}
	pqFile := filepath.Join(opt.Dir, "medins.parquet")
	if err := toParquet(ctx, fresh, medins, pqFile); err != nil {
		return nil, err
	}
	api, err := serveLoopback(medins, opt.HTTPRows)
	if err != nil {
		return nil, err
	}
	defer api.Close()
	steps := []struct {
		name string
		fn   func(db *store.DB) (int, error)
	}{
		{"CSV UTF-8 (medins)", file("medins", medins, ingest.Options{})},
		{"CSV UTF-8, Go reader only (no fast path)", file("medins", medins, ingest.Options{NoFastPath: true})},
		{"CSV GB18030 (the same rows)", file("medins", gbFile, ingest.Options{})},
		{"XLSX (education)", file("education", filepath.Join(inbox, synth.EducationFile), ingest.Options{})},
		{"JSON Lines (health)", file("health", filepath.Join(inbox, synth.HealthFile), ingest.Options{})},
		{"JSON Lines, Go reader only", file("health", filepath.Join(inbox, synth.HealthFile), ingest.Options{NoFastPath: true})},
		{"Parquet (the CSV's rows, as texts)", file("medins", pqFile, ingest.Options{})},
		{"Parquet, Go reader only", file("medins", pqFile, ingest.Options{NoFastPath: true})},
		{fmt.Sprintf("HTTP API on loopback (%d records, pages of 1,000)", api.rows), func(db *store.DB) (int, error) { return api.pull(ctx, db) }},
	}
	for _, s := range steps {
		if err := median(s.name, s.fn); err != nil {
			return nil, err
		}
	}
	if opt.BigGiB > 0 {
		big := filepath.Join(opt.Dir, "medins-big.csv")
		size, err := grow(medins, big, int64(opt.BigGiB*(1<<30)))
		if err != nil {
			return nil, err
		}
		st, err := measure(fmt.Sprintf("CSV UTF-8, %.1f GiB file", float64(size)/(1<<30)), file("medins", big, ingest.Options{}))
		if err != nil {
			return nil, err
		}
		stages = append(stages, st)
		os.Remove(big)
	}
	printIngest(opt.Out, stages)
	return stages, nil
}

func sortStages(s []Stage) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j].Elapsed < s[i].Elapsed {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

func printIngest(w io.Writer, stages []Stage) {
	fmt.Fprintln(w, "\ningest by connector (each into a fresh database; the median of three runs, the highest peak)")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "connector\trows\tseconds\trows/s\tvs baseline\tpeak RSS MiB\t")
	base := stages[0].rate()
	for _, s := range stages {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.2f×\t%d\t\n", s.Name, s.Rows, s.Elapsed.Seconds(), s.rate(), base/s.rate(), s.PeakRSS>>20)
	}
	tw.Flush()
	fmt.Fprintln(w, "targets: CSV ≥ 500,000 rows/s and ≤ 1.5× the baseline; GB18030 ≤ 2×; XLSX ≥ 150,000 rows/s; HTTP ≥ 50,000 rows/s; < 1 GiB for a 2 GB file")
}

// toParquet writes the CSV file src again as Parquet, every column as
// the text the department wrote, with DuckDB (in a database of fresh's).
func toParquet(ctx context.Context, fresh func(string) (*store.DB, error), src, dst string) error {
	db, err := fresh("parquet")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, fmt.Sprintf(`COPY (SELECT * FROM read_csv(%s, all_varchar = true)) TO %s (FORMAT parquet)`, store.Quote(src), store.Quote(dst)))
	return err
}

// transcode writes src again in GB18030.
func transcode(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	w := simplifiedchinese.GB18030.NewEncoder().Writer(out)
	if _, err := io.Copy(w, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// grow writes src's rows again and again, with new record ids, until dst
// holds size bytes.
func grow(src, dst string, size int64) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	rows, err := csv.NewReader(bufio.NewReader(in)).ReadAll()
	in.Close()
	if err != nil {
		return 0, err
	}
	out, err := os.Create(dst)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	w := csv.NewWriter(bw)
	w.Write(rows[0])
	var written int64
	for round := 0; written < size; round++ {
		for _, r := range rows[1:] {
			r := append([]string(nil), r...)
			r[0] = fmt.Sprintf("%s-%d", r[0], round)
			w.Write(r)
		}
		w.Flush()
		written = int64(bw.Buffered())
		if fi, err := out.Stat(); err == nil {
			written += fi.Size()
		}
	}
	w.Flush()
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	return written, out.Close()
}

// pullLoopback serves the first n rows of the medins CSV as a paged JSON
// API on a loopback port and pulls them with the HTTP connector.
// loopbackAPI serves the first records of the settlements file on
// loopback as the paged JSON API a department runs. Every page is encoded
// before any pull is timed: the department's server is not on our cores,
// and reading the bench's own file is not the pull's work.
type loopbackAPI struct {
	srv  *http.Server
	url  string
	rows int
}

const loopbackPage = 1000

func serveLoopback(medins string, n int) (*loopbackAPI, error) {
	in, err := os.Open(medins)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	r := csv.NewReader(bufio.NewReader(in))
	header, err := r.Read()
	if err != nil {
		return nil, err
	}
	var pages [][]byte
	rows := 0
	for rows < n {
		data := make([]map[string]string, 0, loopbackPage)
		for len(data) < loopbackPage && rows < n {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				n = rows
				break
			}
			if err != nil {
				return nil, err
			}
			m := make(map[string]string, len(header))
			for j, h := range header {
				m[h] = rec[j]
			}
			data = append(data, m)
			rows++
		}
		b, err := json.Marshal(map[string]any{"data": data})
		if err != nil {
			return nil, err
		}
		pages = append(pages, b)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/settlements", func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("page"))
		w.Header().Set("Content-Type", "application/json")
		if p < 1 || p > len(pages) {
			io.WriteString(w, `{"data": []}`)
			return
		}
		w.Write(pages[p-1])
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	api := &loopbackAPI{srv: &http.Server{Handler: mux}, url: "http://" + l.Addr().String() + "/api/settlements", rows: rows}
	go api.srv.Serve(l)
	return api, nil
}

func (a *loopbackAPI) Close() error { return a.srv.Close() }

// pull ingests every record the API serves, as a configured HTTP source would.
func (a *loopbackAPI) pull(ctx context.Context, db *store.DB) (int, error) {
	p := ingest.HTTPPull{Source: "medins", HTTP: config.HTTP{URL: a.url, Records: "data",
		PageSize: loopbackPage, RateLimit: 1e6, CommitEvery: 100_000}}
	res, err := p.Run(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return 0, err
	}
	total := 0
	for _, r := range res {
		total += r.New
	}
	if total != a.rows {
		return total, fmt.Errorf("pulled %d of %d records", total, a.rows)
	}
	return total, nil
}
