package match

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"safetynet/store"
)

// Member is a registry member as the alert page shows them.
type Member struct {
	Name      string
	IDNumber  string // normalised when usable, else as sent
	Sex       string
	BirthDate *time.Time
	Relation  string
	Phone     string
}

// Household is a registry household with its members.
type Household struct {
	ID, Tier, Region, Grid, Address, Status string
	Income, Benefit                         float64
	MemberCount                             int
	Members                                 []Member
}

// FindHousehold returns a registry household and its members, or sql.ErrNoRows.
func FindHousehold(ctx context.Context, db *store.DB, id string) (*Household, error) {
	h := &Household{ID: id}
	var income, benefit sql.NullFloat64
	var count sql.NullInt64
	var tier, region, grid, addr, status sql.NullString
	err := db.QueryRowContext(ctx, `SELECT tier, region_code, grid_code, address, coalesce(status, 'active'),
		CAST(annual_income AS DOUBLE), CAST(monthly_benefit AS DOUBLE), member_count FROM households WHERE household_id = ?`, id).
		Scan(&tier, &region, &grid, &addr, &status, &income, &benefit, &count)
	if err != nil {
		return nil, err
	}
	h.Tier, h.Region, h.Grid, h.Address, h.Status = tier.String, region.String, grid.String, addr.String, status.String
	h.Income, h.Benefit, h.MemberCount = income.Float64, benefit.Float64, int(count.Int64)
	rows, err := db.QueryContext(ctx, `SELECT coalesce(p.name, ''), coalesce(p.id_number, m.id_number, ''), coalesce(p.sex, ''), p.birth_date,
		coalesce(p.relation, ''), coalesce(p.phone, '')
		FROM registry_persons p JOIN members m USING (record_key) WHERE p.household_id = ? ORDER BY p.relation = '户主' DESC, p.birth_date`, id)
	if err != nil {
		return nil, fmt.Errorf("match: members of %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Member
		var birth sql.NullTime
		if err := rows.Scan(&m.Name, &m.IDNumber, &m.Sex, &birth, &m.Relation, &m.Phone); err != nil {
			return nil, err
		}
		if birth.Valid {
			m.BirthDate = &birth.Time
		}
		h.Members = append(h.Members, m)
	}
	return h, rows.Err()
}
