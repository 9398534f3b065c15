package config

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
)

//go:embed starter.yaml
var starter []byte

// FileName is the name init gives the configuration file.
const FileName = "safetynet.yaml"

// Init writes a commented starter configuration into dir and makes the
// folders it names: inbox/<source>/ for every source, processed/ and
// rejected/. An existing configuration file is left as it is.
func Init(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("init: %w", err)
	}
	file := filepath.Join(dir, FileName)
	if _, err := os.Stat(file); os.IsNotExist(err) {
		if err := os.WriteFile(file, starter, 0o644); err != nil {
			return "", fmt.Errorf("init: %w", err)
		}
	}
	c, err := Load(file)
	if err != nil {
		return "", err
	}
	if err := c.MakeFolders(); err != nil {
		return "", err
	}
	return file, nil
}

// MakeFolders creates the inbox folders and processed/ and rejected/.
func (c *Config) MakeFolders() error {
	dirs := []string{c.Processed, c.Rejected, filepath.Dir(c.Database)}
	for _, s := range Sources {
		dirs = append(dirs, c.InboxDir(s))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("make folder: %w", err)
		}
	}
	return nil
}

// InboxDir is the drop folder of a source.
func (c *Config) InboxDir(source string) string { return filepath.Join(c.Inbox, source) }
