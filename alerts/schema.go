package alerts

import (
	"embed"
	"io/fs"

	"safetynet/store"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Migrations are alerts' tables and views.
func Migrations() store.MigrationSet {
	sub, _ := fs.Sub(schemaFS, "schema")
	return store.MigrationSet{Component: "alerts", FS: sub}
}
