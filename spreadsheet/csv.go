// Package spreadsheet owns what safetynet writes for Excel and WPS to
// open. Department values are untrusted: a CSV field beginning with =, +,
// -, @, a tab or a carriage return is a formula to a spreadsheet
// (=HYPERLINK(…) leaks data, =cmd|… once ran programs), so such a field
// is written with a leading apostrophe, which the spreadsheet shows as
// text and drops. Numbers keep their sign. XLSX needs none of this:
// excelize writes a string as a text cell, never as a formula, which
// TestExportsHoldNoFormula checks for every workbook.
package spreadsheet

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// Text is s as a spreadsheet will show it, never run it.
func Text(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s // -12.5 is a number, not a formula
	}
	return "'" + s
}

// Writer is a csv.Writer whose every field goes through Text.
type Writer struct {
	*csv.Writer
	row []string
}

// NewWriter writes CSV to w; UTF-8, comma-separated, as csv.Writer.
func NewWriter(w io.Writer) *Writer { return &Writer{Writer: csv.NewWriter(w)} }

// Write writes one record, each field neutralised.
func (w *Writer) Write(record []string) error {
	w.row = w.row[:0]
	for _, f := range record {
		w.row = append(w.row, Text(f))
	}
	return w.Writer.Write(w.row)
}
