// Package remote carries a CLI command to the running server over its
// admin socket, so that `safetynet alerts list` and the rest work while
// `serve` holds the database: the server runs the same command on its own
// open database and streams back what it prints. The socket is a Unix
// socket beside the database, readable and writable by the service user
// only; whoever can reach it can already read the database file.
package remote

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Request is what the CLI sends: its arguments after the program name,
// and the database its config names, so that a server of another site
// refuses rather than answers for the wrong one.
type Request struct {
	Args     []string `json:"args"`
	Database string   `json:"database"`
	Stdin    string   `json:"stdin,omitempty"` // for --password-stdin: read by the CLI, not the server
}

// frame is one message of the answer: output, error output, or the end.
type frame struct {
	Out   string `json:"out,omitempty"`
	Err   string `json:"err,omitempty"`
	Done  bool   `json:"done,omitempty"`
	Error string `json:"error,omitempty"` // the command's error, when Done
}

// Handler runs one command, writing what it prints to out and errOut.
type Handler func(ctx context.Context, req Request, out, errOut io.Writer) error

// Listen opens the admin socket at path, for the service user only. A
// socket left by a server that died is removed first; one that answers
// belongs to a running server and is an error.
func Listen(path string) (net.Listener, error) {
	if Alive(path) {
		return nil, fmt.Errorf("remote: %s answers: another safetynet serve runs on this database", path)
	}
	os.Remove(path)
	old := umask(0o177)
	ln, err := net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, fmt.Errorf("remote: admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// Serve answers requests on ln until ctx ends, one goroutine each.
func Serve(ctx context.Context, ln net.Listener, h Handler) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			answer(ctx, conn, h)
		}()
	}
}

func answer(ctx context.Context, conn net.Conn, h Handler) {
	defer conn.Close()
	var req Request
	if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&req); err != nil {
		return
	}
	w := &frames{enc: json.NewEncoder(conn)}
	err := h(ctx, req, stream{w, false}, stream{w, true})
	end := frame{Done: true}
	if err != nil {
		end.Error = err.Error()
	}
	w.send(end)
}

// frames writes frames from the command's two outputs, one at a time.
type frames struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (f *frames) send(fr frame) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.enc.Encode(fr)
}

type stream struct {
	f     *frames
	isErr bool
}

func (s stream) Write(p []byte) (int, error) {
	fr := frame{Out: string(p)}
	if s.isErr {
		fr = frame{Err: string(p)}
	}
	if err := s.f.send(fr); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Alive says whether a server answers on the socket at path.
func Alive(path string) bool {
	conn, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// CommandError is the error a command returned on the server.
type CommandError struct{ Message string }

func (e *CommandError) Error() string { return e.Message }

// Call sends req to the server at path and copies what the command
// prints to out and errOut; the command's own error comes back as a
// *CommandError.
func Call(ctx context.Context, path string, req Request, out, errOut io.Writer) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("remote: the server's admin socket %s: %w", path, err)
	}
	defer conn.Close()
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return fmt.Errorf("remote: send: %w", err)
	}
	dec := json.NewDecoder(bufio.NewReader(conn))
	for {
		var fr frame
		if err := dec.Decode(&fr); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("remote: the server stopped answering: %w", err)
		}
		switch {
		case fr.Done && fr.Error != "":
			return &CommandError{fr.Error}
		case fr.Done:
			return nil
		case fr.Err != "":
			io.WriteString(errOut, fr.Err)
		default:
			io.WriteString(out, fr.Out)
		}
	}
}
