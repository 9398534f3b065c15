package jobs

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"safetynet/alerts"
	"safetynet/config"
)

// newSite initialises a site in dir (keeping a config already there) and
// returns a chain over its database, closed when the test ends.
func newSite(t *testing.T, dir string) *Chain {
	t.Helper()
	file, err := config.Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	db, err := OpenStore(context.Background(), cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	pack, err := alerts.LoadPack(cfg.Rules)
	if err != nil {
		t.Fatal(err)
	}
	return &Chain{Cfg: cfg, DB: db, Pack: pack, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}
