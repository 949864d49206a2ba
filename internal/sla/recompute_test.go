package sla_test

import (
	"context"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/sla"
)

// TestCalendarAndPolicyChangesRecompute checks that open cycles follow a
// changed calendar and a changed policy, in batches, with their timers.
func TestCalendarAndPolicyChangesRecompute(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, true)
		ctx := admin(t.Context())
		pid := e.policy("office-fix", calendar.KeyCNWorkday, sla.TargetInput{Metric: sla.MetricResolution, Minutes: 8 * 60, Business: true, WarnPct: 75,
			PauseStates: []string{"等待业主"}}, sla.DefaultLadder())
		e.now = at("2025-09-26 16:00").UTC()
		var ids []int64
		for _, subject := range []string{"case:1", "case:2", "case:3"} {
			c, err := e.sla.Start(ctx, sla.StartInput{Subject: subject, Metric: sla.MetricResolution, PolicyID: pid})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		// An elapsed-time cycle does not depend on the calendar.
		if _, err := e.sla.Start(ctx, sla.StartInput{Subject: "case:9", Metric: sla.MetricFirstResponse, Match: sla.Match{CaseType: sla.CaseComplaint}}); err != nil {
			t.Fatal(err)
		}
		// The admin finds the make-up Sunday was a mistake and removes it.
		rec, err := e.cals.Record(ctx, calendar.KeyCNWorkday)
		if err != nil {
			t.Fatal(err)
		}
		var y2025 calendar.YearData
		for _, y := range rec.Spec.Years {
			if y.Year == 2025 {
				y2025 = y
			}
		}
		var kept []calendar.NamedDate
		for _, w := range y2025.Workdays {
			if w.Date.String() != "2025-09-28" {
				kept = append(kept, w)
			}
		}
		y2025.Workdays = kept
		if _, err := e.cals.SetYear(ctx, calendar.KeyCNWorkday, y2025); err != nil {
			t.Fatal(err)
		}
		if n := e.count(`SELECT COUNT(*) FROM sla_recomputes WHERE reason = 'calendar' AND calendar = 'cn-workday' AND total = 3 AND finished_at IS NULL`); n != 1 {
			t.Fatalf("recompute not recorded with the change: %d", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM river_job WHERE kind = 'sla.recompute'`); n != 1 {
			t.Fatalf("recompute job not enqueued with the change: %d", n)
		}
		e.sla.Batch = 2
		rs, _ := e.sla.Recomputes(ctx, 1)
		if err := e.sla.RunRecompute(ctx, rs[0].ID); err != nil {
			t.Fatal(err)
		}
		rs, _ = e.sla.Recomputes(ctx, 1)
		if r := rs[0]; r.Processed != 3 || r.Changed != 3 || r.FinishedAt == nil {
			t.Fatalf("progress: %+v", r)
		}
		for _, id := range ids {
			c, _ := e.sla.Cycle(ctx, id)
			// Friday 16–18, Monday 29: 09–12 and 13:30–16:30.
			if local(c.DueAt) != "2025-09-29 16:30" {
				t.Fatalf("cycle %d due %s after the calendar change", id, local(c.DueAt))
			}
			if tm := e.pendingTimers(id); len(tm) != 1 || !tm[0].Equal(*c.WarnAt) {
				t.Fatalf("cycle %d timers %v, warn %s", id, tm, local(c.WarnAt))
			}
		}
		// Running it again changes nothing (a retried job is harmless).
		if err := e.sla.RunRecompute(ctx, rs[0].ID); err != nil {
			t.Fatal(err)
		}
		if n := e.count(`SELECT COUNT(*) FROM sla_events WHERE kind = 'recomputed'`); n != 3 {
			t.Fatalf("recomputed events: %d", n)
		}

		// The policy shrinks to 4 working hours; case:3 is paused meanwhile.
		e.now = at("2025-09-26 17:00").UTC()
		if n, _ := e.sla.Pause(ctx, "case:3", "等待业主"); n != 1 {
			t.Fatal("pause")
		}
		p, _ := e.sla.Policy(ctx, pid)
		in := p.Input()
		in.Targets[0].Minutes = 4 * 60
		if _, err := e.sla.UpdatePolicy(ctx, pid, in); err != nil {
			t.Fatal(err)
		}
		rs, _ = e.sla.Recomputes(ctx, 1)
		if rs[0].Reason != "policy" || rs[0].Total != 3 {
			t.Fatalf("policy recompute: %+v", rs[0])
		}
		if err := e.sla.RunRecompute(ctx, rs[0].ID); err != nil {
			t.Fatal(err)
		}
		c1, _ := e.sla.Cycle(ctx, ids[0])
		c3, _ := e.sla.Cycle(ctx, ids[2])
		if c1.TargetMinutes != 240 || local(c1.DueAt) != "2025-09-29 11:00" {
			t.Fatalf("after the policy change: %d min, due %s", c1.TargetMinutes, local(c1.DueAt))
		}
		if c3.State != sla.StatePaused || c3.TargetMinutes != 240 || c3.DueAt != nil || len(e.pendingTimers(c3.ID)) != 0 {
			t.Fatalf("paused cycle after the policy change: %+v", c3)
		}
		e.now = at("2025-09-29 09:00").UTC()
		e.sla.Resume(ctx, "case:3")
		if c3, _ = e.sla.Cycle(ctx, ids[2]); local(c3.DueAt) != "2025-09-29 12:00" {
			t.Fatalf("resumed on the new target: due %s", local(c3.DueAt))
		}
	})
}

// TestRecomputeRunsAsAJob lets River run the recomputation a calendar change
// enqueues.
func TestRecomputeRunsAsAJob(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnvWith(t, d, true, true)
		ctx := admin(t.Context())
		pid := e.policy("office-fix", calendar.KeyCNWorkday, sla.TargetInput{Metric: sla.MetricResolution, Minutes: 60, Business: true}, nil)
		e.now = at("2025-09-26 17:30").UTC()
		c, err := e.sla.Start(ctx, sla.StartInput{Subject: "case:1", Metric: sla.MetricResolution, PolicyID: pid})
		if err != nil || local(c.DueAt) != "2025-09-28 09:30" {
			t.Fatalf("start: %v %s", err, local(c.DueAt))
		}
		runCtx, cancel := context.WithCancel(t.Context())
		defer cancel()
		if err := e.q.Start(runCtx); err != nil {
			t.Fatal(err)
		}
		defer e.q.Stop(context.Background())
		spec := (func() calendar.Spec { r, _ := e.cals.Record(ctx, calendar.KeyCNWorkday); return r.Spec })()
		spec.Week[time.Friday] = []calendar.Interval{{Start: 9 * 60, End: 12 * 60}, {Start: 13*60 + 30, End: 19 * 60}}
		if _, err := e.cals.Update(ctx, calendar.KeyCNWorkday, spec); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if c, _ = e.sla.Cycle(ctx, c.ID); local(c.DueAt) == "2025-09-26 18:30" {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("the job did not recompute: due %s", local(c.DueAt))
	})
}
