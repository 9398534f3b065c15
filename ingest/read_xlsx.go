package ingest

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// xlsxSheet streams one worksheet's rows with their raw cell values, so
// dates arrive as serials and long numbers are not reformatted.
type xlsxSheet struct {
	name string
	rows *excelize.Rows
	line int
}

func openXLSX(r io.Reader) (*excelize.File, []string, error) {
	f, err := excelize.OpenReader(r, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, nil, fmt.Errorf("not a readable XLSX workbook: %v", err)
	}
	return f, f.GetSheetList(), nil
}

func newXLSXSheet(f *excelize.File, sheet string) (*xlsxSheet, error) {
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("sheet %q: %v", sheet, err)
	}
	return &xlsxSheet{name: sheet, rows: rows}, nil
}

func (s *xlsxSheet) Line() int { return s.line }

func (s *xlsxSheet) Next() ([]string, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return nil, fmt.Errorf("sheet %q after row %d: %v", s.name, s.line, err)
		}
		s.rows.Close()
		return nil, io.EOF
	}
	s.line++
	cols, err := s.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, &rowError{line: s.line, reason: err.Error()}
	}
	return cols, nil
}
