package main

import (
	"context"
	"flag"
	"log/slog"
	"os"

	"safetynet/bench"
)

func cmdBench(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	opt := bench.Options{Out: os.Stdout}
	fs.StringVar(&opt.Dir, "dir", "bench-data", "working folder (emptied first)")
	fs.IntVar(&opt.Rows, "rows", 1_000_000, "department rows")
	fs.IntVar(&opt.Persons, "persons", 300_000, "registry persons")
	fs.Parse(args)
	_, err := bench.Run(ctx, opt)
	return err
}
