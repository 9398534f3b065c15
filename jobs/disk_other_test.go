//go:build !linux

package jobs

func limitFileSize() {}
