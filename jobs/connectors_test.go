package jobs

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A department API that is down does not stop the run: the other sources
// are ingested, the rules run, and the run is recorded as partial with the
// reason.
func TestRunGoesOnWhenAnAPIIsDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close() // nothing listens here now
	dir := t.TempDir()
	cfg := "sources:\n  medins:\n    kind: http\n    http:\n      url: http://" + dead + "/api\n      retries: 1\n      timeout: 1s\n"
	if err := os.WriteFile(filepath.Join(dir, "safetynet.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	chain := newSite(t, dir)
	os.WriteFile(filepath.Join(chain.Cfg.InboxDir("health"), "h.jsonl"),
		[]byte(`{"病案号":"H1","身份证号":"11010519491231002X","姓名":"王芳","类型":"住院","日期":"2024-03-05"}`+"\n"), 0o644)
	rep, err := chain.Run(context.Background(), "test", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stored != 1 || len(rep.SourceErrors) != 1 || !strings.Contains(rep.SourceErrors[0], "medins") {
		t.Fatalf("report: stored %d, source errors %v", rep.Stored, rep.SourceErrors)
	}
	var status, msg string
	chain.DB.QueryRow(`SELECT status, error FROM job_runs WHERE run_id = ?`, rep.RunID).Scan(&status, &msg)
	if status != "partial" || !strings.Contains(msg, "connection refused") {
		t.Errorf("run recorded as %s: %s", status, msg)
	}
}
