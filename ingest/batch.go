package ingest

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"safetynet/i18n"
	"safetynet/store"
)

// delivery is what a connector hands over to be stored as one batch: the
// sheets of a file, a run of API pages, or the rows of a query.
type delivery struct {
	name      string // file path, URL or query, for lineage and errors
	connector string // file, http, postgres
	feed      string // source@peer for a peer's records; "": the source
	sha256    string // content hash, when the same content can be recognised again
	bytes     int64
	encoding  string
	sheets    []sheet
	// inTx runs in the batch's transaction just before it commits, so a
	// pull connector saves its position together with the rows it covers.
	inTx func(ctx context.Context, conn *sql.Conn, batch int64) error
}

// storeDelivery stores a delivery as one batch in one transaction: every
// row lands in its canonical table or in quarantine, or nothing does.
func storeDelivery(ctx context.Context, db *store.DB, source string, d delivery, opt Options) (*Result, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	tables := TablesOf(source)
	if len(tables) == 0 {
		return nil, fmt.Errorf("ingest: unknown source %q", source)
	}
	res := &Result{Source: source, File: d.name, Encoding: d.encoding}
	started := opt.Now()
	err := db.Tx(ctx, func(conn *sql.Conn) error {
		var batch int64
		if err := conn.QueryRowContext(ctx, `SELECT nextval('ingest_batch_seq')`).Scan(&batch); err != nil {
			return err
		}
		res.BatchID = batch
		l := &loader{ctx: ctx, conn: conn, batch: batch, source: source, file: d.name, size: d.bytes, opt: opt, res: res, stages: map[*Table]*stage{}, now: started, feed: cmp.Or(d.feed, source),
			keepLatest: d.connector != "file"}
		var headerErrs []*FileError
		for _, sh := range d.sheets {
			if err := l.loadSheet(tables, sh); err != nil {
				var fe *FileError
				if errors.As(err, &fe) {
					headerErrs = append(headerErrs, fe)
					continue
				}
				return err
			}
		}
		if len(l.stages) == 0 {
			if len(headerErrs) == 0 {
				if d.connector == "file" {
					return fileErr(d.name, i18n.Msg("fe.no_rows"))
				}
				return nil // a pull that brought nothing new
			}
			reasons := make([]string, len(headerErrs))
			for i, fe := range headerErrs {
				reasons[i] = fe.Reason
			}
			return &FileError{File: d.name, Reason: strings.Join(reasons, "; "), Why: headerErrs[0].Why}
		}
		for _, fe := range headerErrs {
			res.Notes = append(res.Notes, "skipped: "+fe.Reason)
		}
		if err := l.merge(); err != nil {
			return err
		}
		if d.connector != "file" && res.New+res.Changed+res.Quarantined == 0 {
			// A pull that found nothing new (rows at the watermark come
			// again by design) records no batch, only its position.
			res.BatchID, res.Tables = 0, nil
			if d.inTx != nil {
				return d.inTx(ctx, conn, 0)
			}
			return nil
		}
		if err := l.recordHeaders(); err != nil {
			return err
		}
		if d.connector == "file" {
			if err := l.releaseQuarantine(); err != nil {
				return err
			}
		}
		if err := l.recordBatch(d, started); err != nil {
			return err
		}
		if d.inTx != nil {
			return d.inTx(ctx, conn, batch)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
