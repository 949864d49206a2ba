package households

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/errs"
)

// sheet builds an import file from rows keyed by column.
func sheet(t testing.TB, rows []map[string]any) *bytes.Buffer {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	_ = f.SetSheetName("Sheet1", SheetName)
	header := make([]any, len(sheetColumns))
	for i, c := range sheetColumns {
		header[i] = c.Label
	}
	if err := f.SetSheetRow(SheetName, "A1", &header); err != nil {
		t.Fatal(err)
	}
	for r, row := range rows {
		cells := make([]any, len(sheetColumns))
		for i, c := range sheetColumns {
			cells[i] = row[c.Key]
		}
		if err := f.SetSheetRow(SheetName, fmt.Sprintf("A%d", r+2), &cells); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func tableCounts(t *testing.T, d *db.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tb := range []string{"units", "households", "household_people", "person_phones", "person_consents", "person_vehicles", "person_pets",
		"household_search", "household_butlers", "audit_log"} {
		out[tb] = count(t, d, tb)
	}
	return out
}

func TestImportAllOrNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := w.as("butler")
		good := []map[string]any{
			{"unit": "1-0101", "area_m2": 89.5, "layout": "3室2厅", "unit_state": "已入住", "residency": "自住", "butler": "butler", "name": "张伟", "role": "业主",
				"gender": "男", "phone": "13812345678", "id_number": "11010519491231002X", "id_consent": "v1", "birthday": "1949-12-31", "birthday_consent": "v1",
				"plates": "粤B12345、粤B54321", "pets": "狗:旺财", "elderly_alone": "否"},
			{"unit": "1-0101", "name": "王芳", "role": "同住人", "relation": "配偶", "phone": "139 8765 4321"},
			{"unit": "1-0101", "name": "张小宝", "role": "家庭成员", "relation": "儿子", "birthday": "2019-06-01", "guardian_consent": "v1", "guardian_relation": "父亲"},
			{"unit": "2-0502", "name": "李奶奶", "role": "业主", "elderly_alone": "是", "needs_assistance": "是", "butler": "butler2", "residency": "自住"},
		}
		bad := append([]map[string]any{}, good...)
		bad = append(bad,
			map[string]any{"unit": "1_0101", "name": "坏单元"},                                                     // row 6: unit
			map[string]any{"unit": "1-0201", "name": "坏电话", "phone": "call me"},                                 // row 7: phone
			map[string]any{"unit": "1-0202", "name": "无同意", "id_number": "11010519491231002X"},                  // row 8: id without consent
			map[string]any{"unit": "1-0203", "name": "小孩", "birthday": "2020-01-01", "phone": "13800001111"},    // row 9: child without guardian
			map[string]any{"unit": "1-0204", "name": "谁管", "butler": "nobody"},                                  // row 10: unknown butler
			map[string]any{"unit": "1-0101", "name": "张伟"},                                                      // row 11: twice in the file
			map[string]any{"unit": "1-0205", "name": "坏日期", "birthday": "2020-02-30", "birthday_consent": "v1"}, // row 12: date
			map[string]any{"unit": "1-0206", "name": "", "phone": "13800002222"},                                // row 13: no name
		)
		before := tableCounts(t, d)
		_, err := w.svc.ImportXLSX(ctx, w.site, sheet(t, bad))
		if errs.CodeOf(err) != errs.EInvalid {
			t.Fatalf("bad file: %v", err)
		}
		problems, _ := ImportProblems(err)
		got := map[string]bool{}
		for _, p := range problems {
			got[fmt.Sprintf("%d %s %s", p.Row, p.Column, p.Key)] = true
		}
		for _, want := range []string{"6 A error.unit.bad_number", "7 K error.field.bad_phone", "8 U error.consent.required",
			"9 W error.consent.guardian_required", "10 F error.import.unknown_butler", "11 G error.import.duplicate_person", "12 N error.hh.bad_date",
			"13 G error.field.required"} {
			if !got[want] {
				t.Errorf("problem %q not reported; got %v", want, problems)
			}
		}
		if len(problems) != 8 {
			t.Errorf("%d problems: %+v", len(problems), problems)
		}
		if after := tableCounts(t, d); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("a refused import wrote: %v → %v", before, after)
		}
		// The good rows alone go in.
		rep, err := w.svc.ImportXLSX(ctx, w.site, sheet(t, good))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Units != 2 || rep.Households != 2 || rep.People != 4 {
			t.Errorf("report %+v", rep)
		}
		page, err := w.svc.ListHouseholds(ctx, HouseholdFilter{Q: "zw"})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("imported person not found by initials: %v %+v", err, page)
		}
		hh := page.Items[0]
		if *hh.ButlerID != w.staff["butler"] || !hh.HasChild || len(hh.People) != 3 {
			t.Errorf("household %+v", hh)
		}
		p, _ := w.svc.Person(ctx, hh.People[0].ID)
		if p.IDNumberMasked != "110***********002X" || len(p.Vehicles) != 2 || len(p.Pets) != 1 || len(p.Consents) != 2 {
			t.Errorf("imported owner %+v", p)
		}
		if page, _ := w.svc.ListHouseholds(ctx, HouseholdFilter{Q: "4321"}); len(page.Items) != 1 {
			t.Error("a phone written with spaces is not found by its suffix")
		}
		if page, _ := w.svc.ListHouseholds(ctx, HouseholdFilter{Flag: "elderly_alone"}); len(page.Items) != 1 || *page.Items[0].ButlerID != w.staff["butler2"] {
			t.Errorf("elderly household %+v", page.Items)
		}
		// The same file again: every person exists, nothing is written.
		before = tableCounts(t, d)
		_, err = w.svc.ImportXLSX(ctx, w.site, sheet(t, good))
		if ps, _ := ImportProblems(err); len(ps) != 4 || ps[0].Key != "error.import.person_exists" {
			t.Errorf("re-import: %v", err)
		}
		if after := tableCounts(t, d); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("a refused re-import wrote: %v → %v", before, after)
		}
		// Not a spreadsheet at all.
		if _, err := w.svc.ImportXLSX(ctx, w.site, strings.NewReader("姓名,电话\n")); errs.CodeOf(err) != errs.EInvalid {
			t.Errorf("csv: %v", err)
		}
		// A technician may not import.
		if _, err := w.svc.ImportXLSX(w.as("tech"), w.site, sheet(t, good)); errs.CodeOf(err) != errs.EInvalid && errs.CodeOf(err) != errs.EForbidden {
			t.Errorf("technician: %v", err)
		}
		// Export, masked and in clear, reads back as the same rows.
		var masked, clear bytes.Buffer
		if err := w.svc.ExportXLSX(ctx, &masked, w.site, false, ""); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.ExportXLSX(ctx, &clear, w.site, true, "迁移到新系统"); errs.CodeOf(err) != errs.EForbidden {
			t.Errorf("a butler's clear export: %v", err)
		}
		if err := w.svc.ExportXLSX(w.as("admin"), &clear, w.site, true, "迁移到新系统"); err != nil {
			t.Fatal(err)
		}
		for name, buf := range map[string]*bytes.Buffer{"masked": &masked, "clear": &clear} {
			f, err := excelize.OpenReader(buf)
			if err != nil {
				t.Fatal(err)
			}
			rows, _ := f.GetRows(SheetName)
			text := fmt.Sprint(rows)
			if len(rows) != 5 {
				t.Errorf("%s export: %d rows", name, len(rows))
			}
			if strings.Contains(text, "13812345678") != (name == "clear") || strings.Contains(text, "138****5678") != (name == "masked") {
				t.Errorf("%s export: %s", name, text)
			}
		}
		log, _ := w.svc.AccessLog(w.as("admin"), AccessFilter{Field: "bulk_export"})
		if len(log.Items) != 1 {
			t.Errorf("clear export not logged: %+v", log.Items)
		}
		_ = context.Background()
	})
}
