-- Every version of the registry's households and members with when it
-- held (valid_from, valid_to): what the analytic snapshot counts a month
-- by, as of its end. Published here so that no other package reads the
-- canonical tables.
CREATE VIEW household_versions AS
SELECT household_id, tier, region_code, grid_code, member_count, monthly_benefit, coalesce(status, 'active') AS status, valid_from, valid_to
FROM canon_households;

CREATE VIEW member_versions AS
SELECT household_id, id_number, name, sex, birth_date, relation, valid_from, valid_to
FROM canon_members;
