package households

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/pii"
)

// column is one column of the household sheet (import template and export).
type column struct {
	Key   string // the field, and what an English header may say
	Label string // the Chinese header
}

// sheetColumns are the columns of the household sheet, in order.
var sheetColumns = []column{
	{"unit", "单元号"}, {"area_m2", "面积(㎡)"}, {"layout", "户型"}, {"unit_state", "房屋状态"}, {"residency", "居住情况"}, {"butler", "管家账号"},
	{"name", "姓名"}, {"role", "身份"}, {"relation", "与业主关系"}, {"gender", "性别"}, {"phone", "手机"}, {"phone2", "其他电话"},
	{"id_number", "身份证号"}, {"birthday", "生日"}, {"elderly_alone", "独居老人"}, {"child_under_14", "未满14岁"}, {"needs_assistance", "需要协助"},
	{"notes", "偏好与习惯"}, {"plates", "车牌"}, {"pets", "宠物"}, {"id_consent", "身份证号同意书版本"}, {"birthday_consent", "生日同意书版本"},
	{"guardian_consent", "监护人同意书版本"}, {"guardian_relation", "监护人关系"},
}

// The sheet's words for choices, in Chinese; the codes are accepted too.
var (
	unitStateWords = map[string]string{"未售": "unsold", "已交付": "delivered", "装修中": "decorating", "已入住": "occupied", "空置": "vacant", "出租": "rented"}
	residencyWords = map[string]string{"自住": "living", "不在住": "absent"}
	roleWords      = map[string]string{"业主": "owner", "同住人": "co_resident", "租户": "tenant", "家庭成员": "family"}
	genderWords    = map[string]string{"男": "m", "女": "f"}
	petWords       = map[string]string{"狗": "dog", "猫": "cat", "其他": "other"}
	yesWords       = map[string]bool{"是": true, "y": true, "yes": true, "1": true, "true": true, "√": true}
	noWords        = map[string]bool{"否": true, "n": true, "no": true, "0": true, "false": true, "": true}
)

func wordOf(words map[string]string, code string) string {
	for w, c := range words {
		if c == code {
			return w
		}
	}
	return code
}

// SheetName is the name of the data sheet.
const SheetName = "住户"

// maxImportRows caps one import.
const maxImportRows = 100000

// ImportProblem is one thing wrong in an import file.
type ImportProblem struct {
	Row     int    `json:"row"`    // 1-based, as the spreadsheet shows it
	Column  string `json:"column"` // "A", "M"…; "" for the whole row
	Field   string `json:"field"`
	Key     string `json:"key"`     // i18n key of the problem
	Message string `json:"message"` // filled in the caller's language by the web layer
}

// ImportError is the EInvalid of an import, with every problem found.
func importError(problems []ImportProblem) error {
	return &errs.Error{Code: errs.EInvalid, Key: "error.import.invalid", Fields: map[string]string{"file": "error.import.invalid"},
		Args: map[string]any{"count": len(problems), "problems": problems}}
}

// ImportProblems returns the problems an import error carries.
func ImportProblems(err error) ([]ImportProblem, bool) {
	var e *errs.Error
	if !errors.As(err, &e) || e.Args == nil {
		return nil, false
	}
	p, ok := e.Args["problems"].([]ImportProblem)
	return p, ok
}

func colName(i int) string {
	name, _ := excelize.ColumnNumberToName(i + 1)
	return name
}

// Template writes the import template: the header, two example rows and a
// sheet explaining each column.
func Template(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetName); err != nil {
		return err
	}
	header := make([]any, len(sheetColumns))
	for i, c := range sheetColumns {
		header[i] = c.Label
	}
	examples := [][]any{
		{"1-0101", 89.5, "3室2厅", "已入住", "自住", "butler", "张三", "业主", "", "男", "13800000001", "", "", "1980-05-06", "否", "否", "否",
			"喜欢安静，工作日晚归", "粤B12345", "狗:旺财", "", "2026-01", "", ""},
		{"1-0101", "", "", "", "", "", "张小宝", "家庭成员", "儿子", "男", "", "", "", "2018-09-01", "否", "是", "否", "", "", "", "", "", "2026-01", "父亲"},
	}
	if err := f.SetSheetRow(SheetName, "A1", &header); err != nil {
		return err
	}
	for i, ex := range examples {
		if err := f.SetSheetRow(SheetName, fmt.Sprintf("A%d", i+2), &ex); err != nil {
			return err
		}
	}
	style, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Color: []string{"#EEF1F4"}, Pattern: 1}})
	if err != nil {
		return err
	}
	last := colName(len(sheetColumns) - 1)
	if err := f.SetCellStyle(SheetName, "A1", last+"1", style); err != nil {
		return err
	}
	_ = f.SetColWidth(SheetName, "A", last, 14)
	_ = f.SetPanes(SheetName, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
	if _, err := f.NewSheet("说明"); err != nil {
		return err
	}
	notes := [][]any{
		{"列", "说明"},
		{"单元号", "必填。楼栋-楼层门牌，如 1-0101（1 栋 01 层 01 室）。同一单元的多行属于同一户。"},
		{"房屋状态", "未售、已交付、装修中、已入住、空置、出租"},
		{"居住情况", "自住、不在住（业主不在本单元居住，管家定期问候）"},
		{"管家账号", "负责本户的管家的登录账号；留空则暂不分配"},
		{"身份", "业主、同住人、租户、家庭成员"},
		{"生日", "YYYY-MM-DD。须同时填写“生日同意书版本”"},
		{"身份证号", "须同时填写“身份证号同意书版本”"},
		{"未满14岁", "是/否。按生日自动判断；儿童的任何信息须填写“监护人同意书版本”和“监护人关系”"},
		{"车牌、宠物", "多个用“、”分隔；宠物写作 种类:名字，如 狗:旺财"},
		{"", "整个文件校验通过才会导入；有任何错误时不导入任何数据，并列出行、列和原因。"},
	}
	for i, n := range notes {
		if err := f.SetSheetRow("说明", fmt.Sprintf("A%d", i+1), &n); err != nil {
			return err
		}
	}
	_ = f.SetColWidth("说明", "A", "A", 16)
	_ = f.SetColWidth("说明", "B", "B", 90)
	return f.Write(w)
}

var personalDate = regexp.MustCompile(`^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$`)

// parseSheetDate reads a date cell: an Excel serial number or a written date.
func parseSheetDate(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.Contains(s, "-") {
		if len(s) == 8 && f > 18000000 {
			t, err := time.Parse("20060102", s)
			return t.Format("2006-01-02"), err == nil
		}
		t, err := excelize.ExcelDateToTime(f, false)
		if err != nil {
			return "", false
		}
		return t.Format("2006-01-02"), true
	}
	m := personalDate.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	d, _ := strconv.Atoi(m[3])
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if t.Month() != time.Month(mo) || t.Day() != d {
		return "", false
	}
	return t.Format("2006-01-02"), true
}

// rowParser turns one sheet row into a Row, collecting problems.
type rowParser struct {
	cols     map[string]int // field → column index
	problems []ImportProblem
	today    time.Time
}

func (p *rowParser) cell(cells []string, key string) string {
	i, ok := p.cols[key]
	if !ok || i >= len(cells) {
		return ""
	}
	return strings.TrimSpace(cells[i])
}

func (p *rowParser) fail(line int, key, problem string) {
	col := ""
	if i, ok := p.cols[key]; ok {
		col = colName(i)
	}
	p.problems = append(p.problems, ImportProblem{Row: line, Column: col, Field: key, Key: problem})
}

func (p *rowParser) choice(cells []string, line int, key string, words map[string]string, codes []string, def string) string {
	v := p.cell(cells, key)
	if v == "" {
		return def
	}
	if c, ok := words[v]; ok {
		return c
	}
	if slices.Contains(codes, strings.ToLower(v)) {
		return strings.ToLower(v)
	}
	p.fail(line, key, "error.field.invalid_choice")
	return def
}

func (p *rowParser) yes(cells []string, line int, key string) bool {
	v := strings.ToLower(p.cell(cells, key))
	if yesWords[v] {
		return true
	}
	if !noWords[v] {
		p.fail(line, key, "error.import.yes_no")
	}
	return false
}

func (p *rowParser) text(cells []string, line int, key string, max int) string {
	v := p.cell(cells, key)
	if len([]rune(v)) > max {
		p.fail(line, key, "error.field.too_long")
		return ""
	}
	return v
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '、' || r == ',' || r == '，' || r == ';' || r == '；' }) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// parse reads one data row.
func (p *rowParser) parse(cells []string, line int) Row {
	r := Row{Line: line}
	r.Unit = p.cell(cells, "unit")
	switch {
	case r.Unit == "":
		p.fail(line, "unit", "error.field.required")
	case len(r.Unit) > 20 || !unitNumberRe.MatchString(r.Unit):
		p.fail(line, "unit", "error.unit.bad_number")
	}
	if a := p.cell(cells, "area_m2"); a != "" {
		f, err := strconv.ParseFloat(a, 64)
		if err != nil || f <= 0 || f >= 100000 {
			p.fail(line, "area_m2", "error.field.bad_range")
		} else {
			r.AreaM2 = &f
		}
	}
	r.Layout = p.text(cells, line, "layout", 30)
	r.UnitState = p.choice(cells, line, "unit_state", unitStateWords, UnitStates, "")
	r.Residency = p.choice(cells, line, "residency", residencyWords, Residencies, "")
	r.butlerName = p.text(cells, line, "butler", 50)
	r.Name = p.text(cells, line, "name", maxNameLen)
	if r.Name == "" && !slices.ContainsFunc(p.problems, func(x ImportProblem) bool { return x.Row == line && x.Field == "name" }) {
		p.fail(line, "name", "error.field.required")
	}
	r.Role = p.choice(cells, line, "role", roleWords, Roles, "owner")
	r.Relation = p.text(cells, line, "relation", 20)
	r.Gender = p.choice(cells, line, "gender", genderWords, Genders, "")
	for _, key := range []string{"phone", "phone2"} {
		v := p.cell(cells, key)
		switch {
		case v == "":
		case len(v) > 30 || !phoneRe.MatchString(v):
			p.fail(line, key, "error.field.bad_phone")
		default:
			r.Phones = append(r.Phones, v)
		}
	}
	if len(r.Phones) == 2 && digits(r.Phones[0]) == digits(r.Phones[1]) {
		r.Phones = r.Phones[:1]
	}
	r.IDNumber = strings.ToUpper(strings.ReplaceAll(p.cell(cells, "id_number"), " ", ""))
	if r.IDNumber != "" && !(ValidResidentID(r.IDNumber) || (len(r.IDNumber) != 18 && otherIDRe.MatchString(r.IDNumber))) {
		p.fail(line, "id_number", "error.person.bad_id_number")
	}
	if b, ok := parseSheetDate(p.cell(cells, "birthday")); !ok {
		p.fail(line, "birthday", "error.hh.bad_date")
	} else if t, ok := parseDay(b); ok && (t.After(p.today) || t.Year() < 1890) {
		p.fail(line, "birthday", "error.field.bad_range")
	} else {
		r.Birthday = b
	}
	r.ElderlyAlone = p.yes(cells, line, "elderly_alone")
	r.ChildUnder14 = p.yes(cells, line, "child_under_14")
	r.NeedsAssistance = p.yes(cells, line, "needs_assistance")
	r.Notes = p.text(cells, line, "notes", maxNoteLen)
	for _, pl := range splitList(p.cell(cells, "plates")) {
		pl = strings.ToUpper(strings.ReplaceAll(pl, " ", ""))
		if !plateRe.MatchString(pl) {
			p.fail(line, "plates", "error.person.bad_plate")
			break
		}
		r.Plates = append(r.Plates, pl)
	}
	for _, pet := range splitList(p.cell(cells, "pets")) {
		kind, name, ok := strings.Cut(pet, ":")
		if !ok {
			kind, name, _ = strings.Cut(pet, "：")
		}
		code, known := petWords[strings.TrimSpace(kind)]
		if !known && slices.Contains(PetKinds, strings.TrimSpace(kind)) {
			code, known = strings.TrimSpace(kind), true
		}
		if !known || len([]rune(name)) > 30 {
			p.fail(line, "pets", "error.import.bad_pet")
			break
		}
		r.Pets = append(r.Pets, PetInput{Kind: code, Name: strings.TrimSpace(name)})
	}
	r.IDConsent = p.text(cells, line, "id_consent", 20)
	r.BirthdayConsent = p.text(cells, line, "birthday_consent", 20)
	r.GuardianConsent = p.text(cells, line, "guardian_consent", 20)
	r.GuardianRelation = p.text(cells, line, "guardian_relation", 20)
	// The consents each field needs (see checkConsents).
	child := isChild(r.ChildUnder14, r.Birthday, p.today)
	if child {
		if (r.IDNumber != "" || r.Birthday != "" || len(r.Phones) > 0 || r.Notes != "" || len(r.Plates) > 0 || len(r.Pets) > 0) && r.GuardianConsent == "" {
			p.fail(line, "guardian_consent", "error.consent.guardian_required")
		}
		if r.GuardianConsent != "" && r.GuardianRelation == "" {
			p.fail(line, "guardian_relation", "error.field.required")
		}
	} else {
		if r.IDNumber != "" && r.IDConsent == "" {
			p.fail(line, "id_consent", "error.consent.required")
		}
		if r.Birthday != "" && r.BirthdayConsent == "" {
			p.fail(line, "birthday_consent", "error.consent.required")
		}
	}
	return r
}

// ImportXLSX imports households and people of a site from an XLSX file in
// the template's layout. The file is validated as a whole: when any row
// has a problem nothing is imported and the EInvalid error lists every
// problem with its row and column (see ImportProblems). It needs
// household.manage on the site.
func (s *Service) ImportXLSX(ctx context.Context, siteID int64, r io.Reader) (*LoadReport, error) {
	var sitePath, kind string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT path, kind FROM org_nodes WHERE id = ?`, siteID).Scan(&sitePath, &kind)
	if siteID == 0 {
		return nil, errs.Invalid("site_id", "error.field.required")
	}
	if err != nil || kind != "site" || !canSee(ctx, sitePath) {
		return nil, errs.Invalid("site_id", "error.field.unknown_id")
	}
	if err := need(ctx, PermManage, sitePath); err != nil {
		return nil, err
	}
	rows, err := s.readSheet(ctx, siteID, sitePath, r)
	if err != nil {
		return nil, err
	}
	var rep LoadReport
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		if rep, err = s.load(ctx, tx, siteID, sitePath, rows); err != nil {
			return err
		}
		return s.record(ctx, "import", "site", siteID, sitePath, fmt.Sprintf("%d/%d/%d", rep.Units, rep.Households, rep.People), rep)
	})
	if err != nil {
		return nil, err
	}
	s.analyze(ctx)
	return &rep, nil
}

// readSheet parses and validates the whole file.
func (s *Service) readSheet(ctx context.Context, siteID int64, sitePath string, r io.Reader) ([]Row, error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return nil, importError([]ImportProblem{{Row: 0, Field: "file", Key: "error.import.not_xlsx"}})
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, importError([]ImportProblem{{Row: 0, Field: "file", Key: "error.import.not_xlsx"}})
	}
	sheet := sheets[0]
	if slices.Contains(sheets, SheetName) {
		sheet = SheetName
	}
	it, err := f.Rows(sheet)
	if err != nil {
		return nil, importError([]ImportProblem{{Row: 0, Field: "file", Key: "error.import.not_xlsx"}})
	}
	defer it.Close()
	p := &rowParser{cols: map[string]int{}, today: s.today(ctx, sitePath)}
	var rows []Row
	line := 0
	for it.Next() {
		line++
		cells, err := it.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, importError([]ImportProblem{{Row: line, Field: "file", Key: "error.import.not_xlsx"}})
		}
		if line == 1 {
			p.header(cells)
			if len(p.problems) > 0 {
				return nil, importError(p.problems)
			}
			continue
		}
		if blank(cells) {
			continue
		}
		if len(rows) == maxImportRows {
			p.problems = append(p.problems, ImportProblem{Row: line, Field: "file", Key: "error.import.too_many"})
			break
		}
		rows = append(rows, p.parse(cells, line))
		if len(p.problems) > 1000 {
			break // enough to fix first
		}
	}
	if line == 0 {
		return nil, importError([]ImportProblem{{Row: 1, Field: "file", Key: "error.import.empty"}})
	}
	if len(rows) == 0 && len(p.problems) == 0 {
		p.problems = append(p.problems, ImportProblem{Row: 2, Field: "file", Key: "error.import.empty"})
	}
	if err := s.checkRows(ctx, p, siteID, sitePath, rows); err != nil {
		return nil, err
	}
	if len(p.problems) > 0 {
		return nil, importError(p.problems)
	}
	return rows, nil
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// header maps the columns by their Chinese label or their key.
func (p *rowParser) header(cells []string) {
	for i, c := range cells {
		c = strings.TrimSpace(c)
		for _, col := range sheetColumns {
			if c == col.Label || strings.EqualFold(c, col.Key) {
				p.cols[col.Key] = i
			}
		}
	}
	for _, key := range []string{"unit", "name"} {
		if _, ok := p.cols[key]; !ok {
			p.problems = append(p.problems, ImportProblem{Row: 1, Field: key, Key: "error.import.missing_column"})
		}
	}
}

// checkRows checks what needs the database and the other rows: butlers,
// people listed twice, people the site has already.
func (s *Service) checkRows(ctx context.Context, p *rowParser, siteID int64, sitePath string, rows []Row) error {
	butlers := map[string]*int64{}
	seen := map[string]int{}
	existing := map[string]bool{}
	q := s.db.Q(ctx)
	erows, err := q.QueryContext(ctx, `SELECT u.number, pp.name FROM household_people pp JOIN households h ON h.id = pp.household_id JOIN units u ON u.id = h.unit_id
		WHERE h.site_id = ? AND h.status = 'current' AND pp.status = 'active'`, siteID)
	if err != nil {
		return fmt.Errorf("households: import existing: %w", err)
	}
	for erows.Next() {
		var unit, name string
		if err := erows.Scan(&unit, &name); err != nil {
			erows.Close()
			return err
		}
		existing[unit+"\x00"+name] = true
	}
	erows.Close()
	for i := range rows {
		r := &rows[i]
		// Butler accounts, looked up once each.
		if r.butlerName != "" {
			id, ok := butlers[r.butlerName]
			if !ok {
				var sid int64
				if err := q.QueryRowContext(ctx, `SELECT id FROM staff WHERE username = ?`, r.butlerName).Scan(&sid); err == nil && s.validButler(ctx, sid, sitePath) {
					id = &sid
				}
				butlers[r.butlerName] = id
			}
			if id == nil {
				p.fail(r.Line, "butler", "error.import.unknown_butler")
			}
			r.ButlerID = id
		}
		key := r.Unit + "\x00" + r.Name
		if r.Name != "" {
			if _, dup := seen[key]; dup {
				p.fail(r.Line, "name", "error.import.duplicate_person")
			}
			seen[key] = r.Line
			if existing[key] {
				p.fail(r.Line, "name", "error.import.person_exists")
			}
		}
	}
	return nil
}

// ExportXLSX writes the current households and people of a site in the
// template's layout, so an export can be imported elsewhere. Phones, ID
// numbers and birthdays are masked unless clear is set, which needs
// pii.export and a reason and is logged as one "bulk_export" row. It needs
// household.view on the site.
func (s *Service) ExportXLSX(ctx context.Context, w io.Writer, siteID int64, clear bool, reason string) error {
	var sitePath, kind string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT path, kind FROM org_nodes WHERE id = ?`, siteID).Scan(&sitePath, &kind)
	if err != nil || kind != "site" || !canSee(ctx, sitePath) {
		return errs.Invalid("site_id", "error.field.unknown_id")
	}
	if clear {
		var v errs.Validation
		reason = validateReason(&v, reason)
		if err := v.Err(); err != nil {
			return err
		}
		if err := need(ctx, PermExport, sitePath); err != nil {
			return err
		}
		if err := s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			return s.logAccess(ctx, tx, 0, 0, sitePath, "bulk_export", reason)
		}); err != nil {
			return err
		}
	}
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetName); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(SheetName)
	if err != nil {
		return err
	}
	header := make([]any, len(sheetColumns))
	for i, c := range sheetColumns {
		header[i] = c.Label
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	line := 2
	err = s.eachExportRow(ctx, siteID, sitePath, clear, func(cells []any) error {
		cell, _ := excelize.CoordinatesToCellName(1, line)
		line++
		return sw.SetRow(cell, cells)
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}

// eachExportRow walks the site's people in unit order, a thousand
// households at a time.
func (s *Service) eachExportRow(ctx context.Context, siteID int64, sitePath string, clear bool, emit func([]any) error) error {
	scope, scopeArgs := "h.node_path LIKE ?", []any{sitePath + "%"}
	var after string
	for {
		rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT h.id, u.number, u.area_m2, u.layout, u.state, h.residency, COALESCE(st.username, '')
			FROM households h JOIN units u ON u.id = h.unit_id LEFT JOIN staff st ON st.id = h.butler_id
			WHERE h.site_id = ? AND h.status = 'current' AND `+scope+` AND u.number > ? ORDER BY u.number LIMIT 1000`, append(append([]any{siteID}, scopeArgs...), after)...)
		if err != nil {
			return fmt.Errorf("households: export: %w", err)
		}
		type hh struct {
			id                                     int64
			number, layout, state, residency, user string
			area                                   *float64
		}
		var batch []hh
		for rows.Next() {
			var h hh
			var area *float64
			if err := rows.Scan(&h.id, &h.number, &area, &h.layout, &h.state, &h.residency, &h.user); err != nil {
				rows.Close()
				return err
			}
			h.area = area
			batch = append(batch, h)
		}
		rows.Close()
		if len(batch) == 0 {
			return nil
		}
		ids := make([]any, len(batch))
		for i, h := range batch {
			ids[i] = h.id
		}
		people, err := s.exportPeople(ctx, ids, clear)
		if err != nil {
			return err
		}
		for _, h := range batch {
			var area any
			if h.area != nil {
				area = *h.area
			}
			for _, p := range people[h.id] {
				cells := append([]any{h.number, area, h.layout, wordOf(unitStateWords, h.state), wordOf(residencyWords, h.residency), h.user}, p...)
				if err := emit(cells); err != nil {
					return err
				}
			}
		}
		after = batch[len(batch)-1].number
	}
}

// exportPeople returns the person columns (from "name" on) of the active
// people of some households.
func (s *Service) exportPeople(ctx context.Context, ids []any, clear bool) (map[int64][][]any, error) {
	in := db.Placeholders(len(ids))
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+personCols+` FROM household_people p WHERE p.household_id IN (`+in+`) AND p.status = 'active' ORDER BY p.household_id, p.id`, ids...)
	if err != nil {
		return nil, fmt.Errorf("households: export people: %w", err)
	}
	var rs []*personRow
	var pids []any
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		rs = append(rs, p)
		pids = append(pids, p.ID)
	}
	rows.Close()
	out := map[int64][][]any{}
	if len(rs) == 0 {
		return out, nil
	}
	pin := db.Placeholders(len(pids))
	phones := map[int64][]string{}
	prows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT person_id, phone_enc FROM person_phones WHERE person_id IN (`+pin+`) ORDER BY person_id, sort, id`, pids...)
	if err != nil {
		return nil, err
	}
	for prows.Next() {
		var pid int64
		var enc string
		if err := prows.Scan(&pid, &enc); err != nil {
			prows.Close()
			return nil, err
		}
		v, err := s.vault.Open(fieldPhone, enc)
		if err != nil {
			prows.Close()
			return nil, err
		}
		if !clear {
			v = pii.MaskPhone(v)
		}
		phones[pid] = append(phones[pid], v)
	}
	prows.Close()
	extras := map[int64][2][]string{}
	vrows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT person_id, 'v', plate FROM person_vehicles WHERE person_id IN (`+pin+`)
		UNION ALL SELECT person_id, 'p', kind || ':' || name FROM person_pets WHERE person_id IN (`+pin+`)`, append(pids, pids...)...)
	if err != nil {
		return nil, err
	}
	for vrows.Next() {
		var pid int64
		var kind, v string
		if err := vrows.Scan(&pid, &kind, &v); err != nil {
			vrows.Close()
			return nil, err
		}
		e := extras[pid]
		if kind == "v" {
			e[0] = append(e[0], v)
		} else {
			k, name, _ := strings.Cut(v, ":")
			e[1] = append(e[1], wordOf(petWords, k)+":"+name)
		}
		extras[pid] = e
	}
	vrows.Close()
	consents := map[int64]map[string][2]string{}
	crows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT person_id, purpose, text_version, guardian_relation FROM person_consents WHERE person_id IN (`+pin+`) AND withdrawn_at IS NULL ORDER BY id`, pids...)
	if err != nil {
		return nil, err
	}
	for crows.Next() {
		var pid int64
		var purpose, version, relation string
		if err := crows.Scan(&pid, &purpose, &version, &relation); err != nil {
			crows.Close()
			return nil, err
		}
		if consents[pid] == nil {
			consents[pid] = map[string][2]string{}
		}
		consents[pid][purpose] = [2]string{version, relation}
	}
	crows.Close()
	yn := func(b bool) string {
		if b {
			return "是"
		}
		return "否"
	}
	for _, p := range rs {
		id, err := s.vault.Open(fieldIDNumber, p.idEnc)
		if err != nil {
			return nil, err
		}
		birthday, err := s.vault.Open(fieldBirthday, p.birthdayEnc)
		if err != nil {
			return nil, err
		}
		if !clear {
			id, birthday = pii.MaskID(id), pii.MaskBirthday(birthday)
		}
		ph := append(phones[p.ID], "", "")
		c := consents[p.ID]
		out[p.HouseholdID] = append(out[p.HouseholdID], []any{p.Name, wordOf(roleWords, p.Role), p.Relation, wordOf(genderWords, p.Gender), ph[0], ph[1],
			id, birthday, yn(p.ElderlyAlone), yn(p.ChildUnder14), yn(p.NeedsAssistance), p.Notes, strings.Join(extras[p.ID][0], "、"),
			strings.Join(extras[p.ID][1], "、"), c["id_number"][0], c["birthday"][0], c["minor"][0], c["minor"][1]})
	}
	return out, nil
}
