package ingest

import (
	"embed"

	"safetynet/store"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Migrations are ingest's tables and views.
func Migrations() store.MigrationSet { return store.Migrations("ingest", schemaFS, "schema") }
