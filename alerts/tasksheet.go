package alerts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"safetynet/i18n"
	"safetynet/match"
	"safetynet/store"
)

// The task sheet is how a grid works without a connection: one row per
// open task with what to check, and columns to fill in by hand; the
// filled sheet comes back and records the outcomes in bulk.
const (
	sheetName   = "走访任务"
	listsSheet  = "选项"
	firstFilled = 9 // column I: 走访结果
)

var sheetHeader = []any{"任务编号", "预警编号", "家庭", "家庭住址", "家庭成员", "核实事项", "办结时限", "网格",
	"走访结果", "说明", "走访人", "走访日期"}

// OutcomeLabels are the outcomes as the sheet offers them; the codes are
// accepted too.
var OutcomeLabels = map[string]string{
	"assisted_application": "已协助申请", "already_receiving": "已在享受救助", "not_eligible": "不符合条件",
	"not_found": "未找到", "refused": "拒绝", "other": "其他",
}

// WriteTaskSheet writes the open tasks as a workbook to fill in offline:
// household, address, members (IDs masked), what to check and by when,
// then 走访结果 (a drop-down), 说明, 走访人, 走访日期.
func WriteTaskSheet(ctx context.Context, db *store.DB, tasks []Task, w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetName("Sheet1", sheetName)
	f.NewSheet(listsSheet)
	for i, o := range Outcomes {
		f.SetCellValue(listsSheet, fmt.Sprintf("A%d", i+1), OutcomeLabels[o])
	}
	f.SetSheetVisible(listsSheet, false)
	widths := []float64{10, 10, 14, 30, 36, 48, 17, 12, 16, 30, 10, 12}
	for i, wd := range widths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		f.SetColWidth(sheetName, col, col, wd)
	}
	f.SetSheetRow(sheetName, "A1", &sheetHeader)
	row := 2
	for _, t := range tasks {
		if t.Status != "open" {
			continue
		}
		addr, members := "", ""
		if t.HouseholdID != "" {
			h, err := match.FindHousehold(ctx, db, t.HouseholdID)
			if err == nil {
				addr = h.Address
				var ms []string
				for _, m := range h.Members {
					ms = append(ms, strings.TrimSpace(m.Name+" "+m.Relation+" "+match.Mask(m.IDNumber)))
				}
				members = strings.Join(ms, "\n")
			}
		}
		vals := []any{t.TaskID, t.AlertID, t.HouseholdID, addr, members, t.Reason, t.DueAt.In(shanghai).Format("2006-01-02 15:04"), t.GridCode}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := f.SetSheetRow(sheetName, cell, &vals); err != nil {
			return err
		}
		row++
	}
	if row > 2 {
		dv := excelize.NewDataValidation(true)
		dv.Sqref = fmt.Sprintf("I2:I%d", row-1)
		dv.SetSqrefDropList(fmt.Sprintf("%s!$A$1:$A$%d", listsSheet, len(Outcomes)))
		if err := f.AddDataValidation(sheetName, dv); err != nil {
			return err
		}
	}
	f.SetPanes(sheetName, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
	return f.Write(w)
}

var shanghai = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

// SheetRow is one filled-in row of a task sheet as read back.
type SheetRow struct {
	Line    int // the row number in the sheet
	TaskID  int64
	Outcome string // a code of Outcomes
	Note    string
	By      string // who visited, as written
	Date    string
	Err     error // why the row cannot be read; it is refused
	Blank   bool  // no outcome filled in: skipped
}

// ReadTaskSheet reads a filled task sheet. A file that is not a task
// sheet is an error; a row that is wrong is returned with its Err.
func ReadTaskSheet(r io.Reader) ([]SheetRow, error) {
	// A task sheet is a few hundred rows: a part expanding past this is
	// not one (a zip bomb), and excelize refuses it.
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: 256 << 20, UnzipXMLSizeLimit: 64 << 20})
	if err != nil {
		return nil, fmt.Errorf("task sheet: not a readable XLSX workbook: %w", err)
	}
	defer f.Close()
	rows, err := f.GetRows(sheetName)
	if err != nil {
		return nil, fmt.Errorf("task sheet: no sheet %q: use the sheet safetynet wrote", sheetName)
	}
	if len(rows) == 0 || len(rows[0]) < len(sheetHeader) || rows[0][0] != sheetHeader[0] || rows[0][firstFilled-1] != sheetHeader[firstFilled-1] {
		return nil, fmt.Errorf("task sheet: row 1 is not the task sheet's header (%v): use the sheet safetynet wrote", sheetHeader)
	}
	byLabel := map[string]string{}
	for code, label := range OutcomeLabels {
		byLabel[label] = code
		byLabel[code] = code
	}
	cell := func(row []string, i int) string {
		if i < len(row) {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	var out []SheetRow
	for i, row := range rows[1:] {
		sr := SheetRow{Line: i + 2, Outcome: cell(row, firstFilled-1), Note: cell(row, firstFilled), By: cell(row, firstFilled+1), Date: cell(row, firstFilled+2)}
		id := cell(row, 0)
		if id == "" && sr.Outcome == "" {
			continue // an empty row
		}
		n, err := strconv.ParseInt(id, 10, 64)
		switch {
		case err != nil:
			sr.Err = i18n.Msg("sh.not_task_number", id)
		case sr.Outcome == "":
			sr.Blank = true
		case byLabel[sr.Outcome] == "":
			sr.Err = i18n.Msg("sh.bad_outcome", sr.Outcome)
		case byLabel[sr.Outcome] == "other" && sr.Note == "":
			sr.Err = i18n.Msg("sh.other_needs_note")
		}
		sr.TaskID = n
		if sr.Err == nil && !sr.Blank {
			sr.Outcome = byLabel[sr.Outcome]
		}
		out = append(out, sr)
	}
	return out, nil
}

// SheetResult is what became of one row of a task sheet.
type SheetResult struct {
	Line   int
	TaskID int64
	Result string       // taken, refused, skipped
	Why    i18n.Message // why refused or skipped, to say in the reader's language
	Reason string       // the same in English
}

// RecordTaskSheet records the outcomes of a filled sheet, row by row:
// each taken row is a visit on its alert (by actor, noting who visited
// and when as written); a row is refused when it is wrong, its task is
// not open, not the user's to record (allowed says), or already taken
// from an earlier row of the same sheet.
func RecordTaskSheet(ctx context.Context, db *store.DB, rows []SheetRow, actor string, allowed func(*Task) bool, now time.Time) []SheetResult {
	var out []SheetResult
	seen := map[int64]int{}
	for _, sr := range rows {
		res := SheetResult{Line: sr.Line, TaskID: sr.TaskID}
		refuse := func(m i18n.Message) {
			res.Result, res.Why, res.Reason = "refused", m, m.Error()
		}
		var bad i18n.Message
		switch {
		case errors.As(sr.Err, &bad):
			refuse(bad)
		case sr.Err != nil:
			refuse(i18n.Msg("q.other", sr.Err.Error()))
		case sr.Blank:
			res.Result, res.Why = "skipped", i18n.Msg("sh.no_outcome")
			res.Reason = res.Why.Error()
		case seen[sr.TaskID] > 0:
			refuse(i18n.Msg("sh.twice", sr.TaskID, seen[sr.TaskID]))
		default:
			t, err := GetTask(ctx, db, sr.TaskID)
			switch {
			case err != nil || !allowed(t):
				refuse(i18n.Msg("sh.not_yours", sr.TaskID))
			case t.Status != "open":
				refuse(i18n.Msg("sh.closed", sr.TaskID, i18n.Msg("t."+t.Status)))
			default:
				if err := Act(ctx, db, Move{AlertID: t.AlertID, Action: Visit, Actor: actor, Outcome: sr.Outcome, Note: sr.Note,
					VisitedBy: sr.By, VisitedOn: sr.Date, At: now}); err != nil {
					refuse(i18n.Msg("q.other", err.Error()))
				} else {
					res.Result = "taken"
					seen[sr.TaskID] = sr.Line
				}
			}
		}
		out = append(out, res)
	}
	return out
}
