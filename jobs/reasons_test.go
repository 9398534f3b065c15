package jobs

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"safetynet/alerts"
	"safetynet/i18n"
	"safetynet/synth"
)

// TestReasonsInBothLanguages: every built-in rule's wording, filled in
// from an alert's details, reads in Chinese as the rule's query wrote it
// (with its signal codes in words), and in English without a Chinese
// character.
func TestReasonsInBothLanguages(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	chain := newSite(t, dir)
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	county, err := synth.Generate(synth.DefaultOptions(asOf))
	if err != nil {
		t.Fatal(err)
	}
	if err := county.Write(chain.Cfg.Inbox, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := chain.Run(ctx, "test", asOf); err != nil {
		t.Fatal(err)
	}
	ev := &alerts.Evaluator{DB: chain.DB, Pack: chain.Pack, Standards: chain.Cfg.Standards, SeriousIllness: chain.Cfg.SeriousIllness}
	found, _, err := ev.DryRun(ctx, asOf)
	if err != nil {
		t.Fatal(err)
	}
	var list []alerts.Case
	for _, cs := range found {
		list = append(list, cs...)
	}
	stored, err := alerts.List(ctx, chain.DB, alerts.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range stored { // stored as worded in Chinese
		if code := regexp.MustCompile(`[a-z]{3,}`).FindString(a.Reason); code != "" {
			t.Errorf("alert %d's reason has %q: %s", a.AlertID, code, a.Reason)
		}
	}
	code := regexp.MustCompile(`[a-z][a-z_]+[a-z]`)
	seen := map[string]bool{}
	for _, a := range list {
		seen[a.RuleID] = true
		want := code.ReplaceAllStringFunc(a.Reason, func(c string) string { return i18n.ZH.Value("signals", c) })
		if got := chain.Pack.Reason(a.RuleID, a.Reason, []byte(a.Details), i18n.ZH); got != want {
			t.Errorf("%s: zh %q, the query wrote %q", a.RuleID, got, want)
		}
		en := chain.Pack.Reason(a.RuleID, a.Reason, []byte(a.Details), i18n.EN)
		if strings.IndexFunc(en, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0 || strings.Contains(en, "{") {
			t.Errorf("%s: en %q", a.RuleID, en)
		}
	}
	for _, id := range chain.Pack.IDs() {
		if !seen[id] {
			t.Errorf("rule %s raised nothing in the synthetic county: its wording is untested", id)
		}
	}
}
