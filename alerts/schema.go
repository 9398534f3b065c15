package alerts

import (
	"embed"

	"safetynet/store"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Migrations are alerts' tables and views.
func Migrations() store.MigrationSet { return store.Migrations("alerts", schemaFS, "schema") }
