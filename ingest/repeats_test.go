package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestRepeatsFilter: sized by the delivery's bytes, the filter never
// misses a repeat and raises few false alarms for the keys such a
// delivery can hold (a record of at least 16 bytes): none over 100,000
// keys at full size, under 1 in 1,000 at a page's size.
func TestRepeatsFilter(t *testing.T) {
	for _, c := range []struct {
		size     int64 // the delivery's bytes
		keys     int
		alarmsAt int // most false alarms allowed
	}{
		{0, 100_000, 0},           // unknown size: the largest filter
		{60 << 20, 100_000, 0},    // a 60 MiB file
		{300 << 10, 1_000, 0},     // an API's page of a thousand records
		{1 << 10, 64, 0},          // a tiny file: the smallest filter
		{16 * 20_000, 20_000, 20}, // as many keys as the bytes allow
	} {
		r := newRepeats(c.size)
		alarms := 0
		for i := 0; i < c.keys; i++ {
			r.add(fmt.Sprintf("JS%08d", i))
			if r.maybe {
				alarms++
				r.maybe = false
			}
		}
		if alarms > c.alarmsAt {
			t.Errorf("%d bytes, %d distinct keys: %d false alarms, want at most %d", c.size, c.keys, alarms, c.alarmsAt)
		}
		r.add("JS00000042")
		if !r.maybe {
			t.Errorf("%d bytes: a repeated key went unnoticed", c.size)
		}
	}
}

// A record repeated far apart, across the appender's flushes, is still
// caught: the exact one skipped, the other quarantined naming the first line.
func TestRepeatAcrossFlushes(t *testing.T) {
	var b strings.Builder
	b.WriteString(header)
	n := flushEvery + 5000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "S%07d,,王芳,2024-03-05,%d\n", i, i%100)
	}
	b.WriteString("S0000004,,王芳,2024-03-05,4\n")  // exact repeat of line 6
	b.WriteString("S0000005,,王芳,2024-03-05,99\n") // other values than line 7
	db := openDB(t)
	res, err := IngestFile(context.Background(), db, "medins", write(t, "long.csv", []byte(b.String())), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.New != n || res.Skipped != 1 || res.Quarantined != 1 {
		t.Fatalf("got %+v", res)
	}
	var reason string
	db.QueryRow(`SELECT reason FROM ingest_quarantine`).Scan(&reason)
	if !strings.Contains(reason, "first on line 7") {
		t.Errorf("reason: %s", reason)
	}
}
