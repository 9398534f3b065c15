// Package match owns identity: it normalises and validates resident ID
// numbers, links every department record to a person of the low-income
// registry, and groups the records of people outside the registry by
// person. Its tables (match_ids, match_links) and views (linked_*,
// registry_persons, person_ids) are what the rules read; it writes
// nothing else.
//
// A record links by its normalised ID (id_exact); by an ID one typo from a
// registry person's with the same name (id_repaired); by completing a
// registry ID Excel broke into a number (id_completed); or, without a
// usable ID, by a Fellegi–Sunter model over name, sex and birth date,
// scored in Go against the registry persons sharing a blocking key with
// it (probabilistic, or review below the link threshold). Records of people
// outside the registry are grouped the same way. Each outcome keeps its
// weights (match_links.weights) so that a reviewer sees why. A run after
// department deliveries links only their records (match_state); a
// registry delivery rebuilds every link.
package match
