// Package match owns identity: it normalises and validates resident ID
// numbers, links every department record to a person of the low-income
// registry, and groups the records of people outside the registry by
// person. Its tables (match_ids, match_links) and views (linked_*,
// registry_persons) are what the rules read; it writes nothing else.
//
// This version links by normalised ID only. Records whose ID is missing
// or unusable stay unlinked, with the reason in match_ids.problem.
package match
