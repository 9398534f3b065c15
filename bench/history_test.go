package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestHistoryStoppedAndResumed: a history run stopped after generating,
// then after a month, then in the middle of its next month (delivered,
// not run), goes on with --resume each time: every month runs once, in order, every staged file is
// read exactly once, and the growth is printed over all the months.
func TestHistoryStoppedAndResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and runs a small history")
	}
	ctx := context.Background()
	var out bytes.Buffer
	opt := HistoryOptions{Dir: t.TempDir(), Persons: 3000, Months: 3, Rows: 1500, MemoryLimit: "1GB", StopAfter: 1, Out: &out}
	dir := filepath.Join(opt.Dir, "history")
	root := filepath.Join(dir, "staged")

	if _, err := RunHistory(ctx, HistoryOptions{Dir: opt.Dir, Resume: true, Out: &out}); err == nil || !strings.Contains(err.Error(), "without --resume") {
		t.Fatalf("resuming where nothing ran: %v", err)
	}
	// Generated, then stopped before anything ran; then one month run.
	if _, _, err := newHistory(dir, root, opt); err != nil {
		t.Fatal(err)
	}
	staged := filesUnder(t, root)
	opt.Resume = true
	ran, err := RunHistory(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if tags := monthTags(ran); !slices.Equal(tags, []string{"2026-04"}) {
		t.Fatalf("the first process ran %v, want the first month only", tags)
	}
	if !strings.Contains(out.String(), "`--resume` goes on from 2026-05") {
		t.Errorf("the stop does not say how to go on:\n%s", out.String())
	}

	// Stopped again, in the middle of the next month: its files delivered,
	// its run not ended.
	prov, err := loadPlan(root)
	if err != nil {
		t.Fatal(err)
	}
	if !prov.Registry.Ran || !prov.Months[0].Ran || prov.Months[1].Ran {
		t.Fatalf("the plan after one month: registry %v, months %v %v", prov.Registry.Ran, prov.Months[0].Ran, prov.Months[1].Ran)
	}
	if err := prov.Months[1].deliver(filepath.Join(dir, "inbox")); err != nil {
		t.Fatal(err)
	}

	out.Reset()
	opt.StopAfter = 0
	ran, err = RunHistory(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if tags := monthTags(ran); !slices.Equal(tags, []string{"2026-05", "2026-06"}) {
		t.Errorf("the resumed run ran %v, want the two months left", tags)
	}
	if !strings.Contains(out.String(), "month 3 against month 1") {
		t.Errorf("the resumed run does not print the growth over all three months:\n%s", out.String())
	}
	if left := filesUnder(t, filepath.Join(dir, "inbox")); len(left) > 0 {
		t.Errorf("files left unread in the inbox: %v", left)
	}
	var read []string
	for _, f := range filesUnder(t, filepath.Join(dir, "processed")) {
		_, name, _ := strings.Cut(filepath.Base(f), "_") // processed/<source>/<time>_<county>-<file>
		read = append(read, filepath.Base(filepath.Dir(f))+"/"+name)
	}
	var want []string
	for _, f := range staged {
		parts := strings.Split(f, string(filepath.Separator)) // <tag>/<county>/<source>/<file>
		want = append(want, parts[2]+"/"+parts[1]+"-"+parts[3])
	}
	slices.Sort(read)
	slices.Sort(want)
	if !slices.Equal(read, want) {
		t.Errorf("files read: %d, staged: %d; each staged file must be read exactly once\nread:   %v\nstaged: %v", len(read), len(want), read, want)
	}

	out.Reset()
	if ran, err = RunHistory(ctx, opt); err != nil || len(ran) != 0 {
		t.Errorf("resuming an ended run ran %v (%v)", monthTags(ran), err)
	}
}

func monthTags(ms []Month) []string {
	var tags []string
	for _, m := range ms {
		tags = append(tags, m.Tag)
	}
	return tags
}

// filesUnder lists the files under root, relative to it.
func filesUnder(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() != planFile {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return files
}
