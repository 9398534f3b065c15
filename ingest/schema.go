package ingest

import (
	"embed"
	"io/fs"

	"safetynet/store"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Migrations are ingest's tables and views.
func Migrations() store.MigrationSet {
	sub, _ := fs.Sub(schemaFS, "schema")
	return store.MigrationSet{Component: "ingest", FS: sub}
}
