package main

import (
	"context"
	"log/slog"
)

func cmdBench(ctx context.Context, log *slog.Logger, args []string) error {
	return nil
}
