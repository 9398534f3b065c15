package match

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// registryTable is where scoring reads the registry's persons from.
const registryTable = "match_registry_people"

// keepRegistryPeople makes match_registry_people hold the registry of
// this version, rewriting it only when the registry changed since it was
// written: a run whose few records lack an ID then reads a table, not the
// registry's views three times over.
func keepRegistryPeople(ctx context.Context, conn *sql.Conn, regVersion string) error {
	var kept string
	err := conn.QueryRowContext(ctx, `SELECT registry_version FROM match_registry_version`).Scan(&kept)
	if err == nil && kept == regVersion {
		return nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("match: registry persons: %w", err)
	}
	for _, q := range []string{
		`DELETE FROM match_registry_people`,
		`INSERT INTO match_registry_people (id_number, household_id, name, sex, birth, pinyin, surname_py, year, head) ` + registryPeople + ` ORDER BY 1, 2`, // in one order, for the sample
		`DELETE FROM match_registry_version`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("match: registry persons: %w", err)
		}
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO match_registry_version (registry_version) VALUES (?)`, regVersion); err != nil {
		return fmt.Errorf("match: registry persons: %w", err)
	}
	return nil
}
