package alerts

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"safetynet/config"
)

// TestIsSerious: is_serious reads a diagnosis code as the configured
// ranges say (spaces and case aside, a range's bounds cut to their
// length), whatever form the expression takes in SQL.
func TestIsSerious(t *testing.T) {
	db := fixture(t, map[string]string{"registry1": households, "registry2": members})
	ev := evaluator(db, nil)
	ev.Pack, _ = LoadPack(nil)
	ev.SeriousIllness = []string{"C00-C97", "N18.5", "I60-I64", "D61"}
	inRange := func(code string) bool {
		c := strings.ToUpper(strings.ReplaceAll(code, " ", ""))
		for _, r := range ev.SeriousIllness {
			lo, hi, ok := strings.Cut(r, "-")
			if !ok {
				hi = lo
			}
			if cut := c[:min(len(c), len(lo))]; cut >= lo && cut <= hi {
				return true
			}
		}
		return false
	}
	codes := []string{"C00", "C34.1", "c50.9", "C 97", "C97.9", "C98", "B99", "N18.5", "N18.4", "n18.50", "N18", "I60", "I64.0", "I65",
		"D61", "D61.9", "D62", "Z94", "", "C", "9"}
	err := db.Tx(context.Background(), func(conn *sql.Conn) error {
		if err := ev.Prepare(context.Background(), conn, asOf); err != nil {
			return err
		}
		for _, code := range codes {
			var got bool
			if err := conn.QueryRowContext(context.Background(), `SELECT is_serious(?)`, code).Scan(&got); err != nil {
				return err
			}
			if got != inRange(code) {
				t.Errorf("is_serious(%q) = %v, want %v", code, got, !got)
			}
		}
		var null sql.NullBool
		if err := conn.QueryRowContext(context.Background(), `SELECT is_serious(NULL)`).Scan(&null); err != nil {
			return err
		}
		if null.Valid && null.Bool {
			t.Error("is_serious(NULL) is true")
		}
		ev.SeriousIllness = nil
		if err := ev.Prepare(context.Background(), conn, asOf); err != nil {
			return err
		}
		var none bool
		if err := conn.QueryRowContext(context.Background(), `SELECT is_serious('C34')`).Scan(&none); err != nil {
			return err
		}
		if none {
			t.Error("is_serious with no ranges configured is true")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStandardOf: standard_of is the monthly standard of the longest
// configured prefix of a region code, else the default, as a DOUBLE.
func TestStandardOf(t *testing.T) {
	db := fixture(t, map[string]string{"registry1": households, "registry2": members})
	ev := evaluator(db, nil)
	ev.Pack, _ = LoadPack(nil)
	ev.Standards = config.Standards{DefaultMonthly: 480, ByRegion: map[string]float64{"33": 700, "3301": 900, "330110": 1000, "330110001": 1100.5}}
	want := map[string]float64{"330110001001": 1100.5, "330110002001": 1000, "330102001001": 900, "330200000000": 700, "110105001001": 480, "": 480}
	err := db.Tx(context.Background(), func(conn *sql.Conn) error {
		if err := ev.Prepare(context.Background(), conn, asOf); err != nil {
			return err
		}
		for rc, w := range want {
			var got float64
			var typ string
			if err := conn.QueryRowContext(context.Background(), `SELECT standard_of(?), typeof(standard_of(?))`, rc, rc).Scan(&got, &typ); err != nil {
				return err
			}
			if got != w || typ != "DOUBLE" {
				t.Errorf("standard_of(%q) = %v (%s), want %v (DOUBLE)", rc, got, typ, w)
			}
		}
		var null float64
		if err := conn.QueryRowContext(context.Background(), `SELECT standard_of(NULL)`).Scan(&null); err != nil || null != 480 {
			t.Errorf("standard_of(NULL) = %v, %v; want the default, 480", null, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
