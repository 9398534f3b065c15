package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"safetynet/config"
	"safetynet/remote"
	"safetynet/store"
)

// cmdBackup copies the database, while it serves if it does, and the
// visit photos beside it into a backup folder.
func cmdBackup(c *cli, args []string) error {
	fs := c.flags("backup")
	file := fs.String("config", "", "safetynet.yaml")
	to := fs.String("to", "", "the backup folder (keep it on another disk)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" {
		return fmt.Errorf("--to DIR is needed: the folder the backups go to")
	}
	chain, err := c.open(*file)
	if err != nil {
		return err
	}
	defer c.done(chain)
	b, err := chain.DB.Backup(c.ctx, *to, time.Now())
	if err != nil {
		return err
	}
	photos, err := copyNewFiles(chain.Cfg.PhotoDir(), filepath.Join(*to, "photos"))
	if err != nil {
		return fmt.Errorf("backup: photos: %w", err)
	}
	fmt.Fprintf(c.out, "backup %s: %d MiB in %s; %d alerts, %d links, %d audit entries, %d new photos\n",
		filepath.Join(*to, b.File), b.Bytes>>20, b.Elapsed.Round(time.Millisecond),
		b.Tables["alerts"], b.Tables["match_links"], b.Tables["audit_log"], photos)
	return nil
}

// cmdRestore puts a backup in place of the database; serve must be
// stopped, and the database it replaces is kept beside it.
func cmdRestore(c *cli, args []string) error {
	fs := c.flags("restore")
	file := fs.String("config", "", "safetynet.yaml")
	from := fs.String("from", "", "a backup folder (its newest backup) or one backup's .duckdb file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" || *from == "" {
		return fmt.Errorf("usage: safetynet restore --config FILE --from DIR")
	}
	cfg, err := config.Load(*file)
	if err != nil {
		return err
	}
	if remote.Alive(cfg.AdminSocket()) {
		return fmt.Errorf("safetynet serve is running on %s: stop it first (systemctl stop safetynet), then restore", cfg.Database)
	}
	if _, err := os.Stat(cfg.Database); err == nil {
		// Another process (a run from cron) holding the file would lose its work.
		db, err := store.Open(c.ctx, cfg.Database)
		if err != nil {
			return err
		}
		db.Close()
	}
	kept, err := store.Restore(c.ctx, *from, cfg.Database, time.Now())
	if err != nil {
		return err
	}
	b, path, _ := store.LatestBackup(*from)
	photos, err := copyNewFiles(filepath.Join(filepath.Dir(path), "photos"), cfg.PhotoDir())
	if err != nil {
		return fmt.Errorf("restore: photos: %w", err)
	}
	fmt.Fprintf(c.out, "restored %s (taken %s) to %s; %d photos brought back\n", path, b.Taken.Format(time.RFC3339), cfg.Database, photos)
	if kept != "" {
		fmt.Fprintf(c.out, "the database it replaced is kept as %s\n", kept)
	}
	return nil
}

// cmdCheck reads the whole database back, so that DuckDB verifies every
// block's checksum.
func cmdCheck(c *cli, args []string) error {
	fs := c.flags("check")
	file := fs.String("config", "", "safetynet.yaml")
	if err := fs.Parse(args); err != nil {
		return err
	}
	chain, err := c.open(*file)
	if err != nil {
		return err
	}
	defer c.done(chain)
	t := time.Now()
	n, err := chain.DB.Check(c.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "%s: %d rows read back whole in %s; every block's checksum holds\n", chain.Cfg.Database, n, time.Since(t).Round(time.Millisecond))
	return nil
}

// copyNewFiles copies the files of from that to lacks (photos are named
// by their content, so one of the same name is the same photo).
func copyNewFiles(from, to string) (int, error) {
	entries, err := os.ReadDir(from)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(to, 0o700); err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		dst := filepath.Join(to, e.Name())
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		if err := copyOne(filepath.Join(from, e.Name()), dst); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func copyOne(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := to + ".partial"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, to)
}
