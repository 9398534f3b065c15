package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"safetynet/alerts"
	"safetynet/i18n"
	"safetynet/match"
)

// exportLimit caps one export; a filter that finds more says so in the
// file's last row rather than building a sheet no one can open.
const exportLimit = 100_000

// masked says whether a user sees resident IDs masked in exports and the
// API: analysts always do; operators and administrators, who act on the
// alerts, get them whole (the UI masks them for everyone).
func masked(u *User) bool { return !u.Role.Acts() }

// exportAlerts writes what the inbox filter shows as an XLSX workbook.
func (s *Server) exportAlerts(w http.ResponseWriter, r *http.Request, u *User) {
	f, ok := s.filterFrom(w, r, u)
	if !ok {
		return
	}
	f.Limit = exportLimit + 1
	list, err := alerts.List(r.Context(), s.DB, f)
	if err != nil {
		s.internal(w, r, u, fmt.Errorf("export: %w", err))
		return
	}
	l := lang(w, r)
	t := translator(l)
	mask := masked(u)
	header := []any{t("alert_no"), t("rule"), t("severity"), t("status"), t("household"), t("id_number"), t("region_code"), t("region_name"),
		t("reason"), t("first_seen"), t("due"), t("overdue"), t("county_queue"), t("evidence")}
	rows := make([][]any, 0, len(list))
	for i, a := range list {
		if i == exportLimit {
			rows = append(rows, []any{fmt.Sprintf(t("export_more"), exportLimit)})
			break
		}
		id := a.IDNumber
		if mask {
			id = match.Mask(id)
		}
		ev := ""
		for j, e := range a.Evidence {
			if j > 0 {
				ev += "; "
			}
			ev += t("src."+e.Source) + " " + e.RecordID
		}
		queue := ""
		if a.EscalatedAt != nil {
			queue = a.EscalatedAt.In(shanghai).Format("2006-01-02 15:04")
		}
		rows = append(rows, []any{a.AlertID, s.Pack.Title(a.RuleID, l), t(a.Severity), t(a.Status), a.HouseholdID, id, a.RegionCode, regionNames(a.RegionCode),
			s.Pack.Reason(a.RuleID, a.Reason, a.Details, i18n.Parse(l)), a.FirstSeen.In(shanghai).Format("2006-01-02 15:04"), a.DueAt.In(shanghai).Format("2006-01-02 15:04"),
			yesNo(t, a.Overdue), queue, ev})
	}
	s.audit(r.Context(), u.Name, "export_alerts", "", fmt.Sprintf("%d alerts, filter %s, ids masked %t", min(len(list), exportLimit), query(f).Encode(), mask))
	s.sendXLSX(w, r, "alerts", t("inbox"), header, rows)
}

// yesNo is a yes-or-no cell in words.
func yesNo(t func(string) string, b bool) string {
	if b {
		return t("yes")
	}
	return t("no")
}

// sendXLSX answers with a one-sheet workbook, streamed row by row.
func (s *Server) sendXLSX(w http.ResponseWriter, r *http.Request, name, sheet string, header []any, rows [][]any) {
	book := excelize.NewFile()
	defer book.Close()
	book.SetSheetName("Sheet1", sheet)
	sw, err := book.NewStreamWriter(sheet)
	if err == nil {
		err = sw.SetRow("A1", header)
	}
	for i := 0; err == nil && i < len(rows); i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		err = sw.SetRow(cell, rows[i])
	}
	if err == nil {
		err = sw.Flush()
	}
	if err != nil {
		s.internal(w, r, nil, fmt.Errorf("xlsx %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.xlsx"`, name, time.Now().In(shanghai).Format("20060102-1504")))
	if err := book.Write(w); err != nil {
		s.Log.Error("xlsx write", "name", name, "err", err)
	}
}

// apiAlerts is the inbox as JSON, for analysts' tools and scripts: the
// same filter, scope and masking as the export. ?limit= caps it (1,000 by
// default, at most the export's cap).
func (s *Server) apiAlerts(w http.ResponseWriter, r *http.Request, u *User) {
	f, ok := s.filterFrom(w, r, u)
	if !ok {
		return
	}
	f.Limit = 1000
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > exportLimit {
			s.fail(w, r, u, http.StatusBadRequest, "e.bad_limit_plain", translator(lang(w, r))("e.bad_limit_n")+" "+strconv.Itoa(exportLimit))
			return
		}
		f.Limit = n
	}
	list, err := alerts.List(r.Context(), s.DB, f)
	if err != nil {
		s.internal(w, r, u, fmt.Errorf("api alerts: %w", err))
		return
	}
	mask := masked(u)
	if list == nil {
		list = []alerts.Alert{}
	}
	for i := range list {
		if mask {
			list[i].IDNumber = match.Mask(list[i].IDNumber)
		}
	}
	s.audit(r.Context(), u.Name, "api_alerts", "", fmt.Sprintf("%d alerts, filter %s, ids masked %t", len(list), query(f).Encode(), mask))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{"alerts": list, "count": len(list), "limit": f.Limit})
}
