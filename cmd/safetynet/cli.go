package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"safetynet/config"
	"safetynet/jobs"
	"safetynet/remote"
)

// cli is where a command runs: in its own process on a database it opens,
// or inside `serve` on the server's (server set), answering over the
// admin socket. Commands print to out and errOut, never to os.Stdout.
type cli struct {
	ctx         context.Context
	log         *slog.Logger
	in          io.Reader
	out, errOut io.Writer
	tty         bool        // out is a terminal: progress lines are welcome
	server      *jobs.Chain // the running server's chain, inside serve
}

// command is a subcommand that works on a site's database.
type command func(c *cli, args []string) error

// storeCommands work on a site's database; while a server runs they run
// inside it. The others (init, serve, demo, synth, bench, restore, match
// eval) need no database or must own it.
var storeCommands = map[string]command{
	"run": cmdRun, "alerts": cmdAlerts, "quarantine": cmdQuarantine, "match": cmdMatch, "rules": cmdRules,
	"users": cmdUsers, "sql": cmdSQL, "funnel": cmdFunnel, "lake": cmdLake, "backup": cmdBackup, "check": cmdCheck,
}

// flags is a flag set that reports its errors instead of exiting: inside
// serve, a mistyped flag must not stop the server.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.errOut)
	return fs
}

// open is the site's chain: the server's own inside serve, else a new one
// on the database the config names.
func (c *cli) open(file string) (*jobs.Chain, error) {
	if c.server != nil {
		return c.server, nil
	}
	return openChain(c.ctx, c.log, file)
}

// done closes what open opened; the server's database stays open.
func (c *cli) done(chain *jobs.Chain) {
	if chain != c.server {
		chain.DB.Close()
	}
}

// runStore runs a store command here, or, when a server runs on the
// database the config names, inside that server.
func (c *cli) runStore(name string, cmd command, args []string) error {
	if c.server != nil {
		return cmd(c, args)
	}
	file := flagValue(args, "config")
	if file == "" || (name == "match" && len(args) > 0 && args[0] == "eval") {
		return cmd(c, args)
	}
	cfg, err := config.Load(file)
	if err != nil {
		return err
	}
	sock := cfg.AdminSocket()
	if !remote.Alive(sock) {
		return cmd(c, args)
	}
	req := remote.Request{Args: append([]string{name}, absolutePaths(args)...), Database: cfg.Database}
	if hasFlag(args, "password-stdin") {
		b, err := io.ReadAll(io.LimitReader(c.in, 4096))
		if err != nil {
			return err
		}
		req.Stdin = string(b)
	}
	c.log.Debug("running in the server", "socket", sock, "command", name)
	err = remote.Call(c.ctx, sock, req, c.out, c.errOut)
	var ce *remote.CommandError
	if errors.As(err, &ce) {
		return errors.New(ce.Message)
	}
	return err
}

// answer runs a request that came over the admin socket, in the server.
func answer(ctx context.Context, log *slog.Logger, chain *jobs.Chain, req remote.Request, out, errOut io.Writer) error {
	if req.Database != chain.Cfg.Database {
		return fmt.Errorf("this server serves %s, not %s: check --config", chain.Cfg.Database, req.Database)
	}
	if len(req.Args) == 0 {
		return fmt.Errorf("no command")
	}
	cmd, ok := storeCommands[req.Args[0]]
	if !ok {
		return fmt.Errorf("%q does not run inside the server", req.Args[0])
	}
	c := &cli{ctx: ctx, log: log, in: strings.NewReader(req.Stdin), out: out, errOut: errOut, server: chain}
	log.Info("admin command", "command", strings.Join(req.Args[:min(2, len(req.Args))], " "))
	return cmd(c, req.Args[1:])
}

// pathFlags name files: the server runs elsewhere, so they go absolute.
var pathFlags = map[string]bool{"config": true, "out": true, "to": true}

func absolutePaths(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i := 0; i < len(out); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(out[i], "-"), "=")
		if !strings.HasPrefix(out[i], "-") || !pathFlags[name] {
			continue
		}
		if hasValue {
			out[i] = "--" + name + "=" + absolute(value)
		} else if i+1 < len(out) {
			out[i+1] = absolute(out[i+1])
			i++
		}
	}
	return out
}

func absolute(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// flagValue finds --name V or --name=V in args without parsing the rest.
func flagValue(args []string, name string) string {
	for i, a := range args {
		k, v, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || k != name {
			continue
		}
		if hasValue {
			return v
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if strings.TrimLeft(a, "-") == name && strings.HasPrefix(a, "-") {
			return true
		}
	}
	return false
}

func stdio(ctx context.Context, log *slog.Logger) *cli {
	return &cli{ctx: ctx, log: log, in: os.Stdin, out: os.Stdout, errOut: os.Stderr, tty: isTerminal(os.Stdout)}
}
