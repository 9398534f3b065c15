package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestRepeatsFilter(t *testing.T) {
	r := newRepeats()
	for i := 0; i < 100_000; i++ {
		r.add(fmt.Sprintf("JS%08d", i))
	}
	if r.maybe {
		t.Fatal("100,000 distinct keys raised a repeat (false alarms should be about 1 in 10⁷)")
	}
	r.add("JS00000042")
	if !r.maybe {
		t.Fatal("a repeated key went unnoticed")
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
