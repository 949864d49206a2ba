package calendars_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/calendars"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/errs"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func newService(t *testing.T, d *db.DB) *calendars.Service {
	t.Helper()
	s := calendars.NewService(d, audit.New(d), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := s.EnsureBuiltins(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// admin is a caller holding every permission at a root node.
func admin(ctx context.Context) context.Context {
	perms := map[auth.Perm]bool{}
	for _, p := range auth.AllPerms() {
		perms[p] = true
	}
	return auth.WithPrincipal(ctx, &auth.Principal{StaffID: 0, Username: "test", Grants: []auth.Grant{{RoleKey: auth.RoleAdmin, NodePath: "/", Perms: perms}}})
}

func TestBuiltinsAreSeededOnceAndEditable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := admin(t.Context())
		s := newService(t, d)
		if err := s.EnsureBuiltins(ctx); err != nil { // a second start changes nothing
			t.Fatal(err)
		}
		list, err := s.List(ctx)
		if err != nil || len(list) != 2 {
			t.Fatalf("list: %v %+v", err, list)
		}
		rec, err := s.Record(ctx, calendar.KeyCNWorkday)
		if err != nil || !rec.Builtin || rec.Version != 1 || len(rec.Spec.Years) < 3 {
			t.Fatalf("cn-workday: %v %+v", err, rec)
		}
		// The stored copy is what Get compiles: drop 2025 and National Day is
		// an ordinary week again.
		if _, err := s.DeleteYear(ctx, calendar.KeyCNWorkday, 2025); err != nil {
			t.Fatal(err)
		}
		cal, err := s.Get(ctx, calendar.KeyCNWorkday)
		if err != nil {
			t.Fatal(err)
		}
		oct1 := time.Date(2025, 10, 1, 10, 0, 0, 0, cal.Location())
		if !cal.IsWorking(oct1) {
			t.Fatal("2025-10-01 still a holiday after its year was deleted")
		}
		// A restart puts a shipped year back that the stored copy lacks.
		if err := s.EnsureBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		if cal, _ = s.Get(ctx, calendar.KeyCNWorkday); cal.IsWorking(oct1) {
			t.Fatal("shipped 2025 not restored on start")
		}
	})
}

func TestCacheFollowsChangesOnOtherInstances(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := admin(t.Context())
		a, b := newService(t, d), newService(t, d)
		calB, err := b.Get(ctx, calendar.KeyCNWorkday)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := b.Get(ctx, calendar.KeyCNWorkday); again != calB {
			t.Fatal("compiled calendar not cached")
		}
		sat := time.Date(2025, 6, 7, 10, 0, 0, 0, calB.Location()) // a Saturday
		if calB.IsWorking(sat) {
			t.Fatal("Saturday working before the change")
		}
		// Instance a opens Saturdays.
		spec := calB.Spec()
		spec.Week[time.Saturday] = []calendar.Interval{{Start: 9 * 60, End: 12 * 60}}
		if _, err := a.Update(ctx, calendar.KeyCNWorkday, spec); err != nil {
			t.Fatal(err)
		}
		if cal, _ := a.Get(ctx, calendar.KeyCNWorkday); !cal.IsWorking(sat) {
			t.Fatal("the changing instance still has the old calendar")
		}
		// Fresh sees it at once on the other instance.
		if cal, err := b.Fresh(ctx, calendar.KeyCNWorkday); err != nil || !cal.IsWorking(sat) {
			t.Fatalf("Fresh on the other instance: %v", err)
		}
	})
}

func TestCalendarForResolvesUpTheTree(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		s := newService(t, d)
		node := func(parent int64, parentPath, kind, siteKind, cal string) (int64, string) {
			t.Helper()
			var id int64
			err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
				var p any
				if parent != 0 {
					p = parent
				}
				if err := tx.QueryRowContext(ctx, `INSERT INTO org_nodes (parent_id, kind, site_kind, name, calendar, created_at, updated_at) VALUES (?, ?, ?, 'n', ?, 0, 0) RETURNING id`,
					p, kind, siteKind, cal).Scan(&id); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `UPDATE org_nodes SET path = ?, depth = ? WHERE id = ?`, parentPath+itoa(id)+"/", len(parentPath)/2, id)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return id, parentPath + itoa(id) + "/"
		}
		_, company := node(0, "/", "company", "", "")
		_, garden := node(1, company, "site", "residential", "")
		_, building := node(2, garden, "area", "", "")
		_, office := node(1, company, "site", "utility", "")
		_, hotel := node(1, company, "site", "hotel", "cn-workday")
		_, floor := node(5, hotel, "area", "", "no-such-calendar")
		for _, tc := range []struct {
			path, want string
		}{
			{company, calendar.KeyCNWorkday}, // no site: office hours
			{garden, calendar.Key24x7},       // residential default
			{building, calendar.Key24x7},     // inherits its site
			{office, calendar.KeyCNWorkday},  // utility default
			{hotel, calendar.KeyCNWorkday},   // the site's own choice beats its kind
			{floor, calendar.KeyCNWorkday},   // unknown key skipped, the site's choice applies
		} {
			got, err := s.CalendarKeyFor(ctx, tc.path)
			if err != nil || got != tc.want {
				t.Errorf("%s: %q %v, want %q", tc.path, got, err, tc.want)
			}
		}
		if _, err := s.CalendarKeyFor(ctx, "/999/"); errs.CodeOf(err) != errs.ENotFound {
			t.Fatalf("unknown node: %v", err)
		}
		if cal, err := s.CalendarForNode(ctx, 3); err != nil || !cal.AlwaysOpen() {
			t.Fatalf("CalendarForNode(building): %v", err)
		}
	})
}

func TestImportDetectsFormatAndRefusesBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := admin(t.Context())
		s := newService(t, d)
		s.Now = func() time.Time { return time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC) }
		if m, _ := s.MissingYears(ctx); len(m[calendar.KeyCNWorkday]) != 1 {
			t.Fatalf("2027 not flagged: %v", m)
		}
		res, err := s.Import(ctx, calendar.KeyCNWorkday, []byte(holidayCN2027))
		if err != nil || len(res) != 1 || res[0].Year != 2027 || res[0].Format != "holiday-cn json" || res[0].Holidays != 3 || res[0].Workdays != 1 || res[0].Replaced {
			t.Fatalf("json import: %v %+v", err, res)
		}
		if m, _ := s.MissingYears(ctx); len(m) != 0 {
			t.Fatalf("still missing after import: %v", m)
		}
		res, err = s.Import(ctx, calendar.KeyCNWorkday, []byte(ics2027))
		if err != nil || len(res) != 1 || res[0].Format != "ics" || !res[0].Replaced || res[0].Holidays != 2 {
			t.Fatalf("ics import: %v %+v", err, res)
		}
		before, _ := s.Record(ctx, calendar.KeyCNWorkday)
		for _, bad := range []string{"", "{\"year\": 2027, \"days\": [", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:2027XX01\nEND:VEVENT\nEND:VCALENDAR\n"} {
			if _, err := s.Import(ctx, calendar.KeyCNWorkday, []byte(bad)); errs.CodeOf(err) != errs.EInvalid {
				t.Errorf("import %q: %v, want invalid", bad, err)
			}
		}
		// A 24x7 calendar takes no holidays.
		if _, err := s.Import(ctx, calendar.Key24x7, []byte(holidayCN2027)); errs.CodeOf(err) != errs.EInvalid {
			t.Fatalf("holidays into 24x7: %v", err)
		}
		after, _ := s.Record(ctx, calendar.KeyCNWorkday)
		if after.Version != before.Version {
			t.Fatal("a refused import changed the calendar")
		}
		// Without calendar.manage: forbidden.
		if _, err := s.Import(t.Context(), calendar.KeyCNWorkday, []byte(holidayCN2027)); errs.CodeOf(err) != errs.EForbidden {
			t.Fatalf("import without permission: %v", err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

const holidayCN2027 = `{"year":2027,"papers":["https://example.invalid/2027"],"days":[
 {"name":"元旦","date":"2027-01-01","isOffDay":true},
 {"name":"春节","date":"2027-02-06","isOffDay":true},
 {"name":"春节","date":"2027-02-07","isOffDay":true},
 {"name":"春节","date":"2027-02-13","isOffDay":false}]}`

const ics2027 = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-WR-CALNAME:2027 holidays\r\n" +
	"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\nDTEND;VALUE=DATE:20270103\r\nSUMMARY:元旦\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270213\r\nSUMMARY:上班(补春节假期)\r\nEND:VEVENT\r\n" +
	"END:VCALENDAR\r\n"
