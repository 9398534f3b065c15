package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCallRunsTheCommandInTheServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	done := make(chan error)
	go func() {
		done <- Serve(ctx, ln, func(ctx context.Context, req Request, out, errOut io.Writer) error {
			if req.Args[0] == "fail" {
				fmt.Fprintln(errOut, "a warning first")
				return errors.New("it failed")
			}
			for i := 0; i < 1000; i++ {
				fmt.Fprintf(out, "line %d of %s with %s\n", i, strings.Join(req.Args, " "), req.Stdin)
			}
			return nil
		})
	}()
	if _, err := Listen(path); err == nil {
		t.Error("a second server listened on a socket that answers")
	}
	var out, errOut bytes.Buffer
	if err := Call(ctx, path, Request{Args: []string{"alerts", "list"}, Stdin: "pw"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 1000 || !strings.HasPrefix(out.String(), "line 0 of alerts list with pw\n") {
		t.Errorf("%d lines: %.80q", n, out.String())
	}
	out.Reset()
	err = Call(ctx, path, Request{Args: []string{"fail"}}, &out, &errOut)
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Message != "it failed" || !strings.Contains(errOut.String(), "a warning first") {
		t.Errorf("a failing command: %v, stderr %q", err, errOut.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	if Alive(path) {
		t.Error("the socket answers after the server stopped")
	}
}

// TestListenReplacesADeadServersSocket: a socket file left by a server
// that was killed does not keep the next one from starting.
func TestListenReplacesADeadServersSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // as if killed: the file stays, nobody answers
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	ln, err = Listen(path)
	if err != nil {
		t.Fatalf("a dead server's socket blocked the next: %v", err)
	}
	ln.Close()
}
