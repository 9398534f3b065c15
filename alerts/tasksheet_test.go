package alerts

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"safetynet/match"
)

// The offline task sheet: written with excelize, filled in as a grid
// worker would (labels from the drop-down, codes, mistakes), read back and
// recorded with a row-by-row report; only the right rows move alerts on.
func TestTaskSheetRoundTrip(t *testing.T) {
	ctx := context.Background()
	id4 := string(match.NewID("330110", time.Date(1960, 3, 1, 0, 0, 0, 0, time.UTC), 21))
	id5 := string(match.NewID("330110", time.Date(1962, 5, 9, 0, 0, 0, 0, time.UTC), 32))
	db := fixture(t, map[string]string{
		"registry1": households + "H4,低保,330110001003,6000,1,在保\nH5,低保,330110001003,6000,1,在保\n",
		"registry2": members + "H4,赵敏," + id4 + "\nH5,钱进," + id5 + "\n",
		"medins": "结算编号,身份证号,结算日期,个人自付\nS1,11010519491231002X,2026-06-20,10000\nS2,440524188001010014,2026-06-21,800\n" +
			"S4," + id4 + ",2026-06-22,30000\nS5," + id5 + ",2026-06-23,9000\n"})
	pack, _ := LoadPack(nil)
	at := asOf.Add(12 * time.Hour)
	if _, err := evaluator(db, pack).Run(ctx, asOf, at); err != nil {
		t.Fatal(err)
	}
	all, _ := List(ctx, db, Filter{})
	for _, a := range all {
		if err := Act(ctx, db, Move{AlertID: a.AlertID, Action: Dispatch, Actor: "op1", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	tasks, err := QueueTasks(ctx, db, "")
	if err != nil || len(tasks) != 4 {
		t.Fatalf("tasks: %d %v", len(tasks), err)
	}
	var buf bytes.Buffer
	if err := WriteTaskSheet(ctx, db, tasks, &buf); err != nil {
		t.Fatal(err)
	}

	// What the grid worker sees, read with excelize.
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows(sheetName)
	if len(rows) != len(tasks)+1 || rows[0][8] != "走访结果" {
		t.Fatalf("sheet has %d rows, header %v", len(rows), rows[0])
	}
	byTask := map[string]int{}
	for i, r := range rows[1:] {
		byTask[r[0]] = i + 2
		if strings.Contains(r[4], "11010519491231002X") {
			t.Errorf("row %d shows a whole ID: %q", i+2, r[4])
		}
	}
	if dvs, _ := f.GetDataValidations(sheetName); len(dvs) != 1 {
		t.Errorf("data validations: %d", len(dvs))
	}
	id := func(i int) string { return fmt.Sprint(tasks[i].TaskID) }
	set := func(line int, vals ...any) {
		cell, _ := excelize.CoordinatesToCellName(9, line)
		f.SetSheetRow(sheetName, cell, &vals)
	}
	set(byTask[id(0)], "已协助申请", "帮助填写申请表", "张网格", "2026-07-01")
	set(byTask[id(1)], "其他") // other without a note
	set(byTask[id(2)], "not_found", "", "张网格", "2026-07-02")
	set(byTask[id(3)], "拒绝")
	// A copy of the first row lower down, a made-up task, a bad outcome,
	// a row with no task number, and a task of another grid.
	extra := len(rows) + 1
	f.SetSheetRow(sheetName, fmt.Sprintf("A%d", extra), &[]any{tasks[0].TaskID, "", "", "", "", "", "", "", "不符合条件"})
	f.SetSheetRow(sheetName, fmt.Sprintf("A%d", extra+1), &[]any{99999, "", "", "", "", "", "", "", "拒绝"})
	f.SetSheetRow(sheetName, fmt.Sprintf("A%d", extra+2), &[]any{tasks[1].TaskID, "", "", "", "", "", "", "", "maybe"})
	f.SetSheetRow(sheetName, fmt.Sprintf("A%d", extra+3), &[]any{"第三户", "", "", "", "", "", "", "", "拒绝"})
	f.SetSheetRow(sheetName, fmt.Sprintf("A%d", extra+4), &[]any{tasks[1].TaskID})
	var filled bytes.Buffer
	f.Write(&filled)

	read, err := ReadTaskSheet(bytes.NewReader(filled.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	notMine := tasks[3].TaskID
	report := RecordTaskSheet(ctx, db, read, "gw1", func(t *Task) bool { return t.TaskID != notMine }, at.Add(24*time.Hour))
	got := map[int]string{}
	for _, r := range report {
		got[r.Line] = r.Result + ": " + r.Reason
	}
	want := map[int]string{
		byTask[id(0)]: "taken",
		byTask[id(1)]: "refused: column J 说明",
		byTask[id(2)]: "taken",
		extra:         "refused: task " + id(0) + " is already on row",
		extra + 1:     "refused: no task 99999",
		extra + 2:     "refused: column I 走访结果 \"maybe\"",
		extra + 3:     "refused: column A 任务编号",
	}
	want[byTask[fmt.Sprint(notMine)]] = fmt.Sprintf("refused: no task %d among yours", notMine)
	want[extra+4] = "skipped: no outcome"
	for line, w := range want {
		if !strings.HasPrefix(got[line], w) {
			t.Errorf("row %d: %q, want %q", line, got[line], w)
		}
	}
	a0, _ := Get(ctx, db, tasks[0].AlertID)
	a1, _ := Get(ctx, db, tasks[1].AlertID)
	if a0.Status != StatusVisited || a1.Status != StatusDispatched {
		t.Errorf("alerts after the sheet: %s, %s", a0.Status, a1.Status)
	}
	h, _ := History(ctx, db, tasks[0].AlertID)
	if last := h[len(h)-1]; last.Actor != "gw1" || last.Event != EventVisited || fmt.Sprint(last.Args) != "[assisted_application 张网格 2026-07-01]" || last.Note != "帮助填写申请表" {
		t.Errorf("history: %+v", last)
	}
	// The same sheet again takes nothing twice.
	again := RecordTaskSheet(ctx, db, read, "gw1", func(t *Task) bool { return t.TaskID != notMine }, at.Add(25*time.Hour))
	for _, r := range again {
		if r.Result == "taken" {
			t.Errorf("row %d taken twice", r.Line)
		}
	}

	// Files that are not the sheet are refused whole, saying what to do.
	if _, err := ReadTaskSheet(strings.NewReader("任务编号,走访结果\n1,拒绝\n")); err == nil || !strings.Contains(err.Error(), "XLSX") {
		t.Errorf("a CSV: %v", err)
	}
	other := excelize.NewFile()
	var ob bytes.Buffer
	other.Write(&ob)
	if _, err := ReadTaskSheet(&ob); err == nil || !strings.Contains(err.Error(), sheetName) {
		t.Errorf("a workbook without the sheet: %v", err)
	}
}
