package ingest

import (
	"context"
	"database/sql"
	"fmt"

	"safetynet/config"
)

// A pull fetches a page while the pages before it are stored: the
// request, the server's answer and its decoding go on beside DuckDB's
// append and commit instead of after them. Pages still reach the store in
// order, and the pull's position is saved as before, only with what was
// stored, so a pull stopped with a page fetched and not stored fetches it
// again next time.

// fetched is one page as the fetching goroutine got it.
type fetched struct {
	pg   page
	next string // "" after the last page
	err  error  // what stopped the fetching, wrapped for the run's error
}

// fetchAhead gets and splits the pages from cursor on, one ahead of the
// caller, until the last page, an error (sent last), or ctx's end.
func fetchAhead(ctx context.Context, f *fetcher, h config.HTTP, since sql.NullString, cursor string) <-chan fetched {
	ch := make(chan fetched, 1)
	go func() {
		defer close(ch)
		for {
			fp := fetchPage(ctx, f, h, since, cursor)
			select {
			case ch <- fp:
			case <-ctx.Done():
				return
			}
			if fp.err != nil || fp.next == "" {
				return
			}
			cursor = fp.next
		}
	}()
	return ch
}

// fetchPage gets one page and splits it into its records.
func fetchPage(ctx context.Context, f *fetcher, h config.HTTP, since sql.NullString, cursor string) fetched {
	u, err := pageURL(h, since, cursor)
	if err != nil {
		return fetched{err: err}
	}
	body, err := f.get(ctx, u)
	if err != nil {
		return fetched{err: fmt.Errorf("%w (the pull goes on from this page next time)", err)}
	}
	pg, next, err := parsePage(h, body, cursor)
	if err != nil {
		return fetched{err: fmt.Errorf("%s: %w", redact(u), err)}
	}
	return fetched{pg: pg, next: next}
}
