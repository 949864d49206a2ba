package households

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// ExportPersonXLSX writes a person's export as a workbook: one sheet of
// the person's own fields and one per kind of record. t translates labels.
func ExportPersonXLSX(w io.Writer, e *PersonExport, t func(key string, args ...any) string) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := t("hh.export.sheet_person")
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	p := e.Person
	var phones []string
	for _, ph := range p.Phones {
		phones = append(phones, ph.Number)
	}
	yn := func(b bool) string {
		if b {
			return t("hh.yes")
		}
		return t("hh.no")
	}
	rows := [][]any{
		{t("hh.export.field"), t("hh.export.value")},
		{t("hh.person.name"), p.Name}, {t("hh.person.role"), t("hh.role." + p.Role)}, {t("hh.person.relation"), p.Relation},
		{t("hh.person.phones"), strings.Join(phones, "、")}, {t("hh.person.id_number"), p.IDNumber}, {t("hh.person.birthday"), p.Birthday},
		{t("hh.person.notes"), p.Notes}, {t("hh.flag.elderly_alone"), yn(p.ElderlyAlone)}, {t("hh.flag.child_under_14"), yn(p.ChildUnder14)},
		{t("hh.flag.needs_assistance"), yn(p.NeedsAssistance)}, {t("hh.unit"), e.Household.UnitNumber}, {t("hh.butler"), e.Household.Butler},
		{t("hh.export.exported_at"), e.ExportedAt.In(defaultZone).Format("2006-01-02 15:04")},
	}
	if err := setRows(f, sheet, rows); err != nil {
		return err
	}
	add := func(name string, header []any, data [][]any) error {
		if _, err := f.NewSheet(name); err != nil {
			return err
		}
		return setRows(f, name, append([][]any{header}, data...))
	}
	var data [][]any
	for _, c := range e.Consents {
		withdrawn := ""
		if c.WithdrawnAt != nil {
			withdrawn = c.WithdrawnAt.In(defaultZone).Format("2006-01-02 15:04")
		}
		data = append(data, []any{t("hh.consent.purpose." + c.Purpose), c.TextVersion, t("hh.consent.channel." + c.Channel), t("hh.consent.by." + c.GivenBy),
			c.GivenAt.In(defaultZone).Format("2006-01-02 15:04"), withdrawn})
	}
	if err := add(t("hh.consents"), []any{t("hh.consent.purpose"), t("hh.consent.text_version"), t("hh.consent.channel"), t("hh.consent.given_by"),
		t("hh.consent.given_at"), t("hh.consent.withdrawn_at")}, data); err != nil {
		return err
	}
	data = nil
	for _, v := range e.Vehicles {
		data = append(data, []any{v.Plate, v.Model, v.Parking})
	}
	for _, pt := range e.Pets {
		data = append(data, []any{t("hh.pet." + pt.Kind), pt.Name, pt.Notes})
	}
	if err := add(t("hh.export.sheet_things"), []any{t("hh.export.what"), t("hh.person.name"), t("hh.person.notes")}, data); err != nil {
		return err
	}
	data = nil
	for _, c := range e.Contacts {
		data = append(data, []any{c.At.In(defaultZone).Format("2006-01-02 15:04"), t("hh.channel." + c.Channel), c.StaffName, c.Note})
	}
	if err := add(t("hh.contacts"), []any{t("hh.contact.at"), t("hh.contact.channel"), t("hh.contact.staff"), t("hh.contact.note")}, data); err != nil {
		return err
	}
	data = nil
	for _, a := range e.Access {
		data = append(data, []any{a.At.In(defaultZone).Format("2006-01-02 15:04"), a.StaffName, t("hh.unmask.field." + a.Field), a.Reason})
	}
	if err := add(t("hh.export.sheet_access"), []any{t("hh.log.at"), t("hh.log.staff"), t("hh.log.field"), t("hh.log.reason")}, data); err != nil {
		return err
	}
	return f.Write(w)
}

func setRows(f *excelize.File, sheet string, rows [][]any) error {
	for i, r := range rows {
		row := r
		if err := f.SetSheetRow(sheet, fmt.Sprintf("A%d", i+1), &row); err != nil {
			return err
		}
	}
	return f.SetColWidth(sheet, "A", "F", 20)
}
