package ingest

import (
	"context"
	"log/slog"

	"safetynet/config"
	"safetynet/store"
)

// Connector brings one source's new records into the store, each
// delivery its own batch: the files of a drop folder, the pages of an
// HTTP API, the rows of a PostgreSQL table. Rejected counts the
// deliveries refused whole (a drop folder's unreadable files); a pull
// whose source cannot be reached fails with a *PullError.
type Connector interface {
	Pull(ctx context.Context, db *store.DB, log *slog.Logger) (results []*Result, rejected int, err error)
}

// Pull runs the drop folder: Connector.
func (d Drop) Pull(ctx context.Context, db *store.DB, log *slog.Logger) ([]*Result, int, error) {
	return d.Run(ctx, db, log)
}

// Pull runs the HTTP pull: Connector.
func (p HTTPPull) Pull(ctx context.Context, db *store.DB, log *slog.Logger) ([]*Result, int, error) {
	res, err := p.Run(ctx, db, log)
	return res, 0, err
}

// Pull runs the PostgreSQL pull: Connector.
func (p PostgresPull) Pull(ctx context.Context, db *store.DB, log *slog.Logger) ([]*Result, int, error) {
	res, err := p.Run(ctx, db, log)
	return res, 0, err
}

// NewConnector is the connector a configured source's kind names: the
// one place that maps a kind to its connector. progress, when set, hears
// the rows read so far.
func NewConnector(cfg *config.Config, name string, opt Options, progress func(source, file string, rows int)) Connector {
	src := cfg.Sources[name]
	switch src.Kind {
	case "http":
		return HTTPPull{Source: name, HTTP: *src.HTTP, Options: opt, Progress: progress}
	case "postgres":
		return PostgresPull{Source: name, Postgres: *src.Postgres, Options: opt, Progress: progress}
	}
	return Drop{Source: name, Inbox: cfg.InboxDir(name), Processed: cfg.Processed, Rejected: cfg.Rejected, Options: opt, Progress: progress}
}

// NewPeerConnector is the pull of what a peer instance forwards of one
// source (config.Peer): the HTTP connector, its position kept apart from
// the source's own feed.
func NewPeerConnector(cfg *config.Config, peer, source string, opt Options, progress func(source, file string, rows int)) Connector {
	return HTTPPull{Source: source, Feed: source + "@" + peer, HTTP: cfg.PeerHTTP(peer, source), Options: opt, Progress: progress}
}
