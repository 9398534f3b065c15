package web

import (
	"bytes"
	"fmt"
	"net/http"
	"safetynet/i18n"
	"strconv"
	"strings"
	"time"

	"safetynet/alerts"
)

type queueData struct {
	Rows  []queueRow
	Grids []string
}

// queueRow is an open task with the grid workers who may take it.
type queueRow struct {
	alerts.Task
	Workers []UserInfo // the grid workers of its township
}

// servesTownship: a grid worker whose region is the task's township, a
// village in it, or a wider region holding it.
func servesTownship(w UserInfo, regionCode string) bool {
	township := regionCode[:min(len(regionCode), 9)]
	if strings.HasSuffix(township, "000") { // placed by the county of an ID only: any of the county's
		township = township[:6]
	}
	return w.Role == GridWorker && !w.Disabled && w.RegionPrefix != "" &&
		(strings.HasPrefix(w.RegionPrefix, township) || strings.HasPrefix(township, w.RegionPrefix))
}

// regionOf is the region a user's tasks come from: an operator's prefix,
// everything for an administrator.
func regionOf(u *User) (string, bool) {
	switch u.Role {
	case Admin:
		return "", true
	case Operator:
		return u.RegionPrefix, true
	}
	return "", false
}

// queuePage is the open visit tasks of the operator's region: the
// township queue (tasks of households without a grid) first, to assign to
// a named grid worker, then each grid's, with its offline task sheet.
func (s *Server) queuePage(w http.ResponseWriter, r *http.Request, u *User) {
	region, ok := regionOf(u)
	if !ok {
		s.fail(w, r, u, http.StatusForbidden, "e.operators_only")
		return
	}
	ts, err := alerts.QueueTasks(r.Context(), s.DB, region)
	if err != nil {
		s.internal(w, r, u, fmt.Errorf("queue: %w", err))
		return
	}
	users, err := ListUsers(r.Context(), s.DB)
	if err != nil {
		s.Log.Error("queue users", "err", err)
	}
	var d queueData
	seen := map[string]bool{}
	for _, t := range ts {
		row := queueRow{Task: t}
		for _, x := range users {
			if servesTownship(x, t.RegionCode) && strings.HasPrefix(x.RegionPrefix, region[:min(len(region), len(x.RegionPrefix))]) {
				row.Workers = append(row.Workers, x)
			}
		}
		d.Rows = append(d.Rows, row)
		if t.GridCode != "" && !seen[t.GridCode] {
			seen[t.GridCode] = true
			d.Grids = append(d.Grids, t.GridCode)
		}
	}
	s.render(w, r, "queue", u, http.StatusOK, d)
}

// inRegion says whether a task belongs to the operator's region.
func inRegion(u *User, t *alerts.Task) bool {
	region, ok := regionOf(u)
	return ok && strings.HasPrefix(t.RegionCode, region)
}

// assign gives a township-queue task to a grid worker of the region.
func (s *Server) assign(w http.ResponseWriter, r *http.Request, u *User) {
	id, err := strconv.ParseInt(r.PostFormValue("task"), 10, 64)
	if err != nil {
		s.failBack(w, r, u, http.StatusBadRequest, "e.no_task", "/queue")
		return
	}
	t, err := alerts.GetTask(r.Context(), s.DB, id)
	if err != nil || !inRegion(u, t) {
		s.failBack(w, r, u, http.StatusNotFound, "e.no_such_task", "/queue")
		return
	}
	worker := r.PostFormValue("worker")
	users, err := ListUsers(r.Context(), s.DB)
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	ok := false
	for _, x := range users {
		ok = ok || (x.Name == worker && servesTownship(x, t.RegionCode))
	}
	if !ok {
		s.failBack(w, r, u, http.StatusBadRequest, "e.not_grid_worker_plain", "/queue", worker)
		return
	}
	if err := alerts.Assign(r.Context(), s.DB, id, worker, u.Name, time.Now()); err != nil {
		s.refuse(w, r, u, err, "/queue")
		return
	}
	s.audit(r.Context(), u.Name, "assign_task", "alert:"+strconv.FormatInt(t.AlertID, 10), fmt.Sprintf("task %d to %s", id, worker))
	setFlash(w, r, flash{Msg: i18n.Msg("flash.assigned", id, worker)})
	http.Redirect(w, r, "/queue", http.StatusSeeOther)
}

// taskSheet downloads the offline task sheet: a grid worker's own tasks,
// or for an operator one grid's (?grid=) or the township queue's
// (?grid=-) open tasks in their region.
func (s *Server) taskSheet(w http.ResponseWriter, r *http.Request, u *User) {
	var ts []alerts.Task
	var err error
	name := u.Grid
	switch u.Role {
	case GridWorker:
		ts, err = alerts.WorkerTasks(r.Context(), s.DB, u.Grid, u.Name)
	case Admin, Operator:
		region, _ := regionOf(u)
		grid := r.URL.Query().Get("grid")
		var all []alerts.Task
		all, err = alerts.QueueTasks(r.Context(), s.DB, region)
		for _, t := range all {
			if grid == "" || t.GridCode == grid || (grid == "-" && t.GridCode == "") {
				ts = append(ts, t)
			}
		}
		name = strings.NewReplacer("-", "township", "", "all").Replace(grid)
	default:
		s.fail(w, r, u, http.StatusForbidden, "e.sheets_only")
		return
	}
	if err != nil {
		s.internal(w, r, u, fmt.Errorf("task sheet: %w", err))
		return
	}
	var buf bytes.Buffer
	if err := alerts.WriteTaskSheet(r.Context(), s.DB, ts, &buf); err != nil {
		s.internal(w, r, u, fmt.Errorf("task sheet: %w", err))
		return
	}
	s.audit(r.Context(), u.Name, "export_task_sheet", "grid:"+name, fmt.Sprintf("%d tasks", len(ts)))
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="tasks-%s-%s.xlsx"`, name, time.Now().In(shanghai).Format("20060102")))
	w.Write(buf.Bytes())
}

type sheetData struct {
	File    string
	Results []alerts.SheetResult
	Taken   int
	Error   string
}

// maxSheet is the largest task sheet accepted (a grid's sheet is a few
// hundred kilobytes).
const maxSheet = 20 << 20

// uploadSheet records a filled-in task sheet and shows what became of
// each row. A grid worker records their own tasks; an operator those of
// their region.
func (s *Server) uploadSheet(w http.ResponseWriter, r *http.Request, u *User) {
	var allowed func(*alerts.Task) bool
	switch u.Role {
	case GridWorker:
		allowed = func(t *alerts.Task) bool { return mine(u, t) }
	case Admin, Operator:
		allowed = func(t *alerts.Task) bool { return inRegion(u, t) }
	default:
		s.fail(w, r, u, http.StatusForbidden, "e.sheets_only")
		return
	}
	file, hdr, err := r.FormFile("sheet")
	if err != nil {
		s.render(w, r, "sheet", u, http.StatusBadRequest, sheetData{Error: "no file: choose the filled-in task sheet (.xlsx)"})
		return
	}
	defer file.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, file, maxSheet)); err != nil {
		s.render(w, r, "sheet", u, http.StatusBadRequest, sheetData{File: hdr.Filename, Error: "the file is too large or was cut off: send the task sheet again"})
		return
	}
	rows, err := alerts.ReadTaskSheet(&buf)
	if err != nil {
		s.render(w, r, "sheet", u, http.StatusBadRequest, sheetData{File: hdr.Filename, Error: err.Error()})
		return
	}
	res := alerts.RecordTaskSheet(r.Context(), s.DB, rows, u.Name, allowed, time.Now())
	d := sheetData{File: hdr.Filename, Results: res}
	for _, x := range res {
		if x.Result == "taken" {
			d.Taken++
		}
	}
	s.audit(r.Context(), u.Name, "import_task_sheet", "", fmt.Sprintf("%s: %d rows, %d taken", hdr.Filename, len(res), d.Taken))
	s.render(w, r, "sheet", u, http.StatusOK, d)
}
