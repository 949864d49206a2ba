package households

import (
	"context"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/errs"
)

func consented(in PersonInput) PersonInput {
	in.Consents = append(in.Consents, ConsentInput{Purpose: "birthday", TextVersion: "v1", Channel: "paper"})
	return in
}

func tasksOf(t *testing.T, d *db.DB, householdID int64, kind string) []CareTask {
	t.Helper()
	s := &Service{db: d}
	ts, err := s.tasksWhere(context.Background(), "t.household_id = ? AND t.kind = ?", []any{householdID, kind}, 100)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestCareGeneration(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := w.as("butler")
		h1 := w.household("1-0101")
		h2 := w.household("1-0102")
		h3 := w.household("2-0101")
		p, err := w.svc.CreatePerson(ctx, h1.ID, consented(PersonInput{Role: "owner", Name: "李雷", Birthday: strp("1990-03-07")}))
		if err != nil {
			t.Fatal(err)
		}
		leap, err := w.svc.CreatePerson(ctx, h2.ID, consented(PersonInput{Role: "owner", Name: "韩梅梅", Birthday: strp("1988-02-29")}))
		if err != nil {
			t.Fatal(err)
		}
		elderly, err := w.svc.CreatePerson(ctx, h3.ID, PersonInput{Role: "owner", Name: "王奶奶", ElderlyAlone: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.UpdateHousehold(ctx, h2.ID, HouseholdInput{Residency: "absent"}); err != nil {
			t.Fatal(err)
		}

		// 7 March: 李雷's birthday, 王奶奶's first visit, the absent owner's greeting.
		rep, err := w.svc.GenerateCare(context.Background(), at("2026-03-07 06:00"))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Birthdays != 1 || rep.Elderly != 1 || rep.Absent != 1 || rep.Holidays != 0 {
			t.Fatalf("7 March: %+v", rep)
		}
		bt := tasksOf(t, d, h1.ID, "birthday")
		if len(bt) != 1 || *bt[0].PersonID != p.ID || *bt[0].ButlerID != w.staff["butler"] ||
			!bt[0].DueAt.Equal(at("2026-03-08 00:00").Add(-time.Millisecond)) || !bt[0].ShowFrom.Equal(at("2026-03-07 00:00")) {
			t.Errorf("birthday task %+v", bt)
		}
		// Hourly runs create nothing twice.
		if rep, _ := w.svc.GenerateCare(context.Background(), at("2026-03-07 18:00")); rep.Total() != 0 {
			t.Errorf("second run: %+v", rep)
		}
		// The butler's inbox sees them.
		due, err := w.svc.DueCareTasks(context.Background(), w.staff["butler"], at("2026-03-07 12:00"), 50)
		if err != nil || len(due) != 3 {
			t.Fatalf("inbox: %d %v", len(due), err)
		}
		// The visit is done: nothing until 7 days later.
		visit := tasksOf(t, d, h3.ID, "elderly_visit")
		if len(visit) != 1 || visit[0].PersonID == nil || *visit[0].PersonID != elderly.ID {
			t.Fatalf("visit %+v", visit)
		}
		if err := d.WithTxAt(ctx, at("2026-03-07 10:00"), func(ctx context.Context, tx *db.Tx) error {
			_, err := w.svc.CompleteTask(ctx, visit[0].ID, CareDoneInput{Channel: "visit", Note: "身体不错"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, day := range []string{"2026-03-08", "2026-03-13"} {
			if rep, _ := w.svc.GenerateCare(context.Background(), at(day+" 06:00")); rep.Elderly != 0 {
				t.Errorf("%s: a visit again %+v", day, rep)
			}
		}
		if rep, _ := w.svc.GenerateCare(context.Background(), at("2026-03-14 06:00")); rep.Elderly != 1 {
			t.Errorf("14 March: no visit after 7 days %+v", rep)
		}
		// 29 February is greeted on 28 February in a common year.
		if rep, _ := w.svc.GenerateCare(context.Background(), at("2027-02-28 06:00")); rep.Birthdays != 1 {
			t.Errorf("28 Feb 2027: %+v", rep)
		}
		if bt := tasksOf(t, d, h2.ID, "birthday"); len(bt) != 1 || *bt[0].PersonID != leap.ID {
			t.Errorf("leap-day birthday %+v", bt)
		}
	})
}

func TestHolidayGreetings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		for _, n := range []string{"1-0101", "1-0102", "2-0101"} {
			w.household(n)
		}
		cases := []struct {
			day     string
			created int
			subject string
		}{
			{"2026-02-14 08:00", 3, "春节"},      // the eve of the Spring Festival holiday
			{"2026-02-15 08:00", 0, ""},        // its first day: greeted already
			{"2026-04-03 08:00", 0, ""},        // 清明节 brings no greeting
			{"2025-09-30 08:00", 3, "国庆节、中秋节"}, // one combined holiday
			{"2026-09-24 08:00", 3, "中秋节"},     // Mid-Autumn 2026
		}
		for _, c := range cases {
			rep, err := w.svc.GenerateCare(context.Background(), at(c.day))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Holidays != c.created {
				t.Errorf("%s: %d holiday tasks, want %d", c.day, rep.Holidays, c.created)
			}
		}
		var subjects []string
		rows, _ := d.Q(context.Background()).QueryContext(context.Background(), `SELECT DISTINCT subject FROM care_tasks WHERE kind = 'holiday' ORDER BY subject`)
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			subjects = append(subjects, s)
		}
		rows.Close()
		if len(subjects) != 3 {
			t.Errorf("subjects %v", subjects)
		}
	})
}

func TestEventsKeysAndArrival(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		h := w.household("1-1204")
		ctx := w.as("butler")
		owner, err := w.svc.CreatePerson(ctx, h.ID, PersonInput{Role: "owner", Name: "周先生"})
		if err != nil {
			t.Fatal(err)
		}
		today := localDay(time.Now(), defaultZone)
		day := today.AddDate(0, 0, 10)
		ev, err := w.svc.AddEvent(ctx, h.ID, EventInput{Kind: "wedding", StartsOn: day.Format("2006-01-02")})
		if err != nil {
			t.Fatal(err)
		}
		ts := tasksOf(t, d, h.ID, "event")
		if len(ts) != 4 {
			t.Fatalf("wedding tasks: %+v", ts)
		}
		want := map[string]time.Time{"wedding.parking": day.AddDate(0, 0, -2), "wedding.guidance": day.AddDate(0, 0, -1), "wedding.flowers": day, "wedding.cleanup": day.AddDate(0, 0, 1)}
		for _, tk := range ts {
			_, end := dayBounds(want[tk.Subject], defaultZone)
			if !tk.DueAt.Equal(end) {
				t.Errorf("%s due %v, want %v", tk.Subject, tk.DueAt, end)
			}
		}
		if _, err := w.svc.CancelEvent(ctx, ev.ID); err != nil {
			t.Fatal(err)
		}
		for _, tk := range tasksOf(t, d, h.ID, "event") {
			if tk.Status != "cancelled" {
				t.Errorf("task of a cancelled event: %s", tk.Status)
			}
		}
		// "I'm coming back" needs a key in custody.
		arrive := time.Now().Add(72 * time.Hour).Truncate(time.Minute)
		in := ArrivalInput{ArriveAt: &arrive, Prepare: []string{"airing", "ac_on"}}
		if _, err := w.svc.AddArrival(ctx, h.ID, in); errs.CodeOf(err) != errs.EConflict {
			t.Fatalf("arrival without a key: %v", err)
		}
		k, err := w.svc.ReceiveKey(ctx, h.ID, KeyInput{Label: "入户门钥匙", Purposes: []string{"airing"}, ReceivedFromPersonID: &owner.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.AddArrival(ctx, h.ID, in); err != nil {
			t.Fatal(err)
		}
		for _, tk := range tasksOf(t, d, h.ID, "arrival") {
			lead := map[string]time.Duration{"airing": 24 * time.Hour, "ac_on": 2 * time.Hour}[tk.Subject]
			if !tk.DueAt.Equal(arrive.Add(-lead)) {
				t.Errorf("%s due %v, want %v before %v", tk.Subject, tk.DueAt, lead, arrive)
			}
		}
		if _, err := w.svc.LogKeyUse(ctx, k.ID, KeyUseInput{Purpose: "airing", AccompaniedBy: "秩序部王师傅", Note: "开窗通风"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.ReturnKey(ctx, k.ID, KeyReturnInput{ReturnedToPersonID: &owner.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.LogKeyUse(ctx, k.ID, KeyUseInput{Purpose: "airing", Note: "再通风"}); errs.CodeOf(err) != errs.EConflict {
			t.Errorf("use after return: %v", err)
		}
		pr, err := w.svc.Profile(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(pr.Keys) != 1 || len(pr.Keys[0].Uses) != 1 || pr.Keys[0].Status != "returned" || len(pr.Timeline) == 0 {
			t.Errorf("profile keys %+v", pr.Keys)
		}
	})
}

func TestHandover(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		var ids []int64
		for _, n := range []string{"1-0101", "1-0102", "1-0103"} {
			h := w.household(n)
			ids = append(ids, h.ID)
			if _, err := w.svc.CreatePerson(w.as("butler"), h.ID, PersonInput{Role: "owner", Name: "业主" + n, ElderlyAlone: true}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.svc.GenerateCare(context.Background(), time.Now()); err != nil {
			t.Fatal(err)
		}
		in := HandoverInput{FromButlerID: w.staff["butler"], ToButlerID: w.staff["butler2"], HouseholdIDs: ids[:2], Reason: "片区调整"}
		if _, err := w.svc.HandOver(w.as("butler"), in); errs.CodeOf(err) != errs.EForbidden {
			t.Fatalf("a butler handing over: %v", err)
		}
		ho, err := w.svc.HandOver(w.as("supervisor"), in)
		if err != nil {
			t.Fatal(err)
		}
		if ho.Households != 2 || ho.TasksMoved != 2 {
			t.Errorf("handover %+v", ho)
		}
		for i, id := range ids {
			h, _ := w.svc.Household(w.as("admin"), id)
			want := w.staff["butler2"]
			if i == 2 {
				want = w.staff["butler"]
			}
			if *h.ButlerID != want {
				t.Errorf("household %d: butler %d", i, *h.ButlerID)
			}
			for _, tk := range tasksOf(t, d, id, "elderly_visit") {
				if *tk.ButlerID != want {
					t.Errorf("task of household %d stays with %d", i, *tk.ButlerID)
				}
			}
		}
		pr, _ := w.svc.Profile(w.as("admin"), ids[0])
		if len(pr.Butlers) != 2 || pr.Butlers[1].To == nil || pr.Butlers[0].To != nil {
			t.Errorf("history %+v", pr.Butlers)
		}
		cov, err := w.svc.Coverage(w.as("supervisor"), 0)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, r := range cov.Items {
			got[r.ButlerName] = r.Households
		}
		if got["butler"] != 1 || got["butler2"] != 2 || len(cov.Handovers) != 1 {
			t.Errorf("coverage %+v", cov)
		}
		// Households not theirs are refused, nothing moves.
		in = HandoverInput{FromButlerID: w.staff["butler2"], ToButlerID: w.staff["butler"], HouseholdIDs: ids[2:]}
		if _, err := w.svc.HandOver(w.as("supervisor"), in); errs.CodeOf(err) != errs.EInvalid {
			t.Errorf("not theirs: %v", err)
		}
	})
}
