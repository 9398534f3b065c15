// Package deploy holds what a server needs beside the binary: the systemd
// units, the Prometheus rules and the Grafana dashboard; its tests check
// them with the tools that read them.
package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnits: the units pass systemd-analyze verify (with the
// binary where ExecStart says), and the service keeps its sandbox.
func TestSystemdUnits(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze is missing: make deps installs Debian's systemd")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "safetynet")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/safetynet").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	units, _ := filepath.Glob("systemd/*")
	var paths []string
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Base(u))
		os.WriteFile(p, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/safetynet", bin)), 0o644)
		paths = append(paths, p)
	}
	if len(paths) < 3 {
		t.Fatalf("units: %v", units)
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, paths...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	service, _ := os.ReadFile("systemd/safetynet.service")
	for _, want := range []string{"User=safetynet", "NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/srv/safetynet",
		"PrivateTmp=yes", "CapabilityBoundingSet=\n", "SystemCallFilter=@system-service", "KillSignal=SIGTERM"} {
		if !strings.Contains(string(service), want) {
			t.Errorf("safetynet.service lacks %q", strings.TrimSpace(want))
		}
	}
}
