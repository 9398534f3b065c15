package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"safetynet/match"
	"safetynet/synth"
)

// demoDeliveries adds what a real county's inbox also holds, so that the
// demo shows what the README explains: a hospital bill whose ID has two
// digits swapped (linked by repairing the ID, and large enough to raise
// an alert), a row whose amount nobody can read (quarantined, with the
// department's workbook to fix it), and an Excel 97–2003 file (refused
// whole, with how to send it).
func demoDeliveries(inbox string, county *synth.County, asOf time.Time) error {
	var name, id string
	for _, h := range county.Households {
		if h.Tier != "dibao" || len(h.Members) == 0 {
			continue
		}
		if typo := swapped(string(h.Members[0].ID)); typo != "" {
			name, id = h.Members[0].Name, typo
			break
		}
	}
	if id == "" {
		return fmt.Errorf("demo: no dibao household to send a bill for")
	}
	day := asOf.AddDate(0, 0, -3).Format("2006-01-02")
	csv := "结算编号,姓名,身份证号,结算日期,就诊类型,个人自付,诊断编码\n" +
		fmt.Sprintf("DEMO-R1,%s,%s,%s,住院,38600,I21.0\n", name, id, day) +
		fmt.Sprintf("DEMO-Q1,%s,%s,%s,门诊,约三千,J18.9\n", name, id, day)
	if err := os.WriteFile(filepath.Join(inbox, "medins", "医保结算补报.csv"), []byte(csv), 0o644); err != nil {
		return err
	}
	ole := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 504)...)
	return os.WriteFile(filepath.Join(inbox, "health", "死亡登记（旧版Excel）.xls"), ole, 0o644)
}

// swapped is an ID with two neighbouring digits of its sequence code
// swapped, so that its check character fails: the typo a clerk makes.
func swapped(id string) string {
	b := []byte(id)
	for i := 14; i < 16; i++ {
		if b[i] == b[i+1] {
			continue
		}
		b[i], b[i+1] = b[i+1], b[i]
		if _, err := match.ParseID(string(b)); err != nil {
			return string(b)
		}
		b[i], b[i+1] = b[i+1], b[i]
	}
	return ""
}
