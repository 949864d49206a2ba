package e2e_test

import (
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/e2e"
	"github.com/guanjia/guanjia/internal/i18n"
)

// An admin working in Chinese creates a staff member through the form,
// finds them with the staff list's search box, and the same list fits a
// phone.
func TestStaffCreateInChinese(t *testing.T) {
	b := e2e.Start(t)
	keys := i18n.MustLoad().Keys(i18n.Default)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		env := apptest.Start(t, d)
		p := b.NewPage(t, env.URL, e2e.Desktop)
		p.LoginAs("admin")
		if lang := p.Lang(); lang != "zh-CN" {
			t.Fatalf("html lang = %q, want zh-CN", lang)
		}

		p.GoOK("/staff/new")
		if h := p.Text("h1"); h != "新建员工" {
			t.Errorf("form heading = %q, want 新建员工", h)
		}
		p.Fill("#f-username", "e2e.zhang")
		p.Fill("#f-name", "张晓明")
		p.Fill("#f-phone", "13812345678")
		p.Select("#f-node_id", "示例花园")
		p.Select("#f-department_id", "客服中心")
		p.Fill("#f-password", "Kaishi-2026")
		if st := p.Submit(`#staff-form button[type=submit]`); st != 200 {
			t.Fatalf("create: status %d; errors: %q", st, p.Texts(".field-error, .flash-error"))
		}
		if path := p.Path(); !strings.HasPrefix(path, "/staff/") || !strings.HasSuffix(path, "?saved=1") {
			t.Fatalf("after create: at %s, want /staff/{id}?saved=1", path)
		}
		if msg := p.Text(".flash-ok"); msg != "员工已保存。" {
			t.Errorf("flash = %q, want 员工已保存。", msg)
		}

		p.GoOK("/staff")
		if h := p.Text("h1"); h != "员工" {
			t.Errorf("list heading = %q, want 员工", h)
		}
		p.Fill("#f-q", "张晓明")
		if st := p.Submit(`form[action="/staff"] button[type=submit]`); st != 200 {
			t.Fatalf("search: status %d", st)
		}
		if path := p.Path(); !strings.Contains(path, "q=") {
			t.Errorf("the search is not in the URL (%s): a view must be bookmarkable", path)
		}
		rows := p.Texts("#staff-table tbody tr")
		if len(rows) != 1 {
			t.Fatalf("search 张晓明: %d rows %q, want 1", len(rows), rows)
		}
		for _, want := range []string{"张晓明", "e2e.zhang", "138****5678", "示例花园", "客服中心", "在职"} {
			if !strings.Contains(rows[0], want) {
				t.Errorf("row %q lacks %q", rows[0], want)
			}
		}
		headers := strings.Join(p.Texts("#staff-table thead th"), " ")
		for _, want := range []string{"姓名", "用户名", "手机", "状态"} {
			if !strings.Contains(headers, want) {
				t.Errorf("table headers %q lack %q", headers, want)
			}
		}
		if k := p.UntranslatedKeys(keys); len(k) > 0 {
			t.Errorf("untranslated keys on the staff list: %v", k)
		}

		phone := b.NewPage(t, env.URL, e2e.Phone)
		phone.LoginAs("admin")
		phone.GoOK("/staff")
		phone.AssertNoHorizontalScroll()
		phone.GoOK("/staff?q=" + "e2e.zhang")
		if rows := phone.Texts("#staff-table tbody tr"); len(rows) != 1 || !strings.Contains(rows[0], "张晓明") {
			t.Errorf("phone search: rows %q", rows)
		}
		phone.AssertNoHorizontalScroll()
	})
}
