package sla_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/calendars"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/demo"
	"github.com/guanjia/guanjia/internal/jobs"
	"github.com/guanjia/guanjia/internal/org"
	"github.com/guanjia/guanjia/internal/sla"
	"github.com/guanjia/guanjia/internal/timers"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// env is one application instance's SLA stack on a test database.
type env struct {
	t      testing.TB
	d      *db.DB
	q      *jobs.Queue
	timers *timers.Service
	cals   *calendars.Service
	sla    *sla.Service
	now    time.Time
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEnv builds an instance on d. The first one loads the demo organisation
// and the shipped policies.
func newEnv(t *testing.T, d *db.DB, first bool) *env { return newEnvWith(t, d, first, false) }

// newEnvWith is newEnv whose job queue runs workers when workers is true.
func newEnvWith(t testing.TB, d *db.DB, first, workers bool) *env {
	t.Helper()
	ctx := t.Context()
	log := quiet()
	al := audit.New(d)
	e := &env{t: t, d: d, q: jobs.New(d, log)}
	e.timers = timers.New(d, e.q, log, timers.DefaultConfig())
	e.cals = calendars.NewService(d, al, log)
	e.sla = sla.New(d, e.q, e.timers, e.cals, al, log)
	e.sla.Now = func() time.Time { return e.now }
	e.now = time.Now().UTC().Truncate(time.Millisecond)
	if err := e.q.Build(workers); err != nil {
		t.Fatal(err)
	}
	if first {
		if err := e.cals.EnsureBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		o := org.NewService(d, al, auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1})
		if err := o.EnsureBuiltinRoles(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := demo.Load(ctx, d, o); err != nil {
			t.Fatal(err)
		}
		if err := e.sla.EnsureDefaults(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// admin is a caller holding every permission at the root.
func admin(ctx context.Context) context.Context {
	perms := map[auth.Perm]bool{}
	for _, p := range auth.AllPerms() {
		perms[p] = true
	}
	return auth.WithPrincipal(ctx, &auth.Principal{Username: "test", Grants: []auth.Grant{{RoleKey: auth.RoleAdmin, NodePath: "/", Perms: perms}}})
}

func (e *env) staff(username string) int64 {
	e.t.Helper()
	var id int64
	if err := e.d.Q(e.t.Context()).QueryRowContext(e.t.Context(), `SELECT id FROM staff WHERE username = ?`, username).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) sitePath(code string) string {
	e.t.Helper()
	var p string
	if err := e.d.Q(e.t.Context()).QueryRowContext(e.t.Context(), `SELECT path FROM org_nodes WHERE code = ?`, code).Scan(&p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.d.Q(e.t.Context()).QueryRowContext(e.t.Context(), q, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// policy stores a one-metric policy on a calendar and returns its id.
func (e *env) policy(key, cal string, t sla.TargetInput, ladder []sla.Step) int64 {
	e.t.Helper()
	p, err := e.sla.CreatePolicy(admin(e.t.Context()), sla.PolicyInput{Key: key, Name: key, Enabled: true, CaseType: key, Calendar: cal, Targets: []sla.TargetInput{t}, Ladder: ladder})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.ID
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func local(t *time.Time) string {
	if t == nil {
		return "<nil>"
	}
	return t.In(shanghai).Format("2006-01-02 15:04")
}

func (e *env) pendingTimers(cycleID int64) []time.Time {
	e.t.Helper()
	rows, err := e.d.Q(e.t.Context()).QueryContext(e.t.Context(), `SELECT due_at FROM timers WHERE kind = ? AND subject = ? AND state = 'pending' ORDER BY due_at`,
		sla.TimerKind, "cycle:"+itoa(cycleID))
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var ms int64
		rows.Scan(&ms)
		out = append(out, db.Time(ms))
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestPauseResumeOnBusinessCalendar walks a resolution clock of 8 working
// hours across a weekend, a make-up Sunday and National Day 2025, with a
// pause in the middle.
func TestPauseResumeOnBusinessCalendar(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, true)
		ctx := t.Context()
		pid := e.policy("office-fix", calendar.KeyCNWorkday, sla.TargetInput{Metric: sla.MetricResolution, Minutes: 8 * 60, Business: true, WarnPct: 75,
			PauseStates: []string{"等待业主"}}, sla.DefaultLadder())
		e.now = at("2025-09-26 16:00").UTC() // a Friday
		c, err := e.sla.Start(ctx, sla.StartInput{Subject: "case:1", Metric: sla.MetricResolution, PolicyID: pid})
		if err != nil {
			t.Fatal(err)
		}
		// Friday 16–18 (2h), Saturday off, Sunday 28 a make-up day: 09–12 and
		// 13:30–16:30 (6h).
		if local(c.DueAt) != "2025-09-28 16:30" || local(c.WarnAt) != "2025-09-28 14:30" {
			t.Fatalf("no pause: due %s warn %s", local(c.DueAt), local(c.WarnAt))
		}
		if tm := e.pendingTimers(c.ID); len(tm) != 1 || !tm[0].Equal(*c.WarnAt) {
			t.Fatalf("timer at the warning: %v", tm)
		}
		// A state that is not a pause state changes nothing.
		if n, err := e.sla.Pause(ctx, "case:1", "处理中"); err != nil || n != 0 {
			t.Fatalf("pause on another state: %d %v", n, err)
		}
		// Paused at Friday 17:00 with 1h counted; the timers go.
		e.now = at("2025-09-26 17:00").UTC()
		if n, err := e.sla.Pause(ctx, "case:1", "等待业主"); err != nil || n != 1 {
			t.Fatalf("pause: %d %v", n, err)
		}
		c, _ = e.sla.Cycle(ctx, c.ID)
		if c.State != sla.StatePaused || c.DueAt != nil || c.WarnAt != nil || c.NextEscalAt != nil || len(e.pendingTimers(c.ID)) != 0 {
			t.Fatalf("paused: %+v timers %v", c, e.pendingTimers(c.ID))
		}
		// Resumed Tuesday 30 September 10:00 with 7h left: 10–12, 13:30–18
		// (6.5h), 1–8 October off, then 9 October 09:00–09:30.
		e.now = at("2025-09-30 10:00").UTC()
		if n, err := e.sla.Resume(ctx, "case:1"); err != nil || n != 1 {
			t.Fatalf("resume: %d %v", n, err)
		}
		c, _ = e.sla.Cycle(ctx, c.ID)
		if c.State != sla.StateRunning || local(c.DueAt) != "2025-10-09 09:30" || local(c.WarnAt) != "2025-09-30 16:30" {
			t.Fatalf("resumed: due %s warn %s", local(c.DueAt), local(c.WarnAt))
		}
		if len(c.Pauses) != 1 || local(&c.Pauses[0].From) != "2025-09-26 17:00" || c.Pauses[0].Reason != "等待业主" {
			t.Fatalf("pauses: %+v", c.Pauses)
		}
		if tm := e.pendingTimers(c.ID); len(tm) != 1 || !tm[0].Equal(*c.WarnAt) {
			t.Fatalf("timer after resume: %v", tm)
		}
		// A second pause on the holiday counts nothing extra: resume on 9
		// October 09:00 keeps the deadline where it was.
		e.now = at("2025-10-02 12:00").UTC()
		e.sla.Pause(ctx, "case:1", "等待业主")
		e.now = at("2025-10-09 09:00").UTC()
		e.sla.Resume(ctx, "case:1")
		c, _ = e.sla.Cycle(ctx, c.ID)
		if local(c.DueAt) != "2025-10-09 09:30" {
			t.Fatalf("pause over a holiday moved the deadline to %s", local(c.DueAt))
		}
		// Stopped in time: met.
		e.now = at("2025-10-09 09:20").UTC()
		c, err = e.sla.Stop(ctx, "case:1", sla.MetricResolution)
		if err != nil || c.State != sla.StateMet || c.BreachedAt != nil || len(e.pendingTimers(c.ID)) != 0 {
			t.Fatalf("stop: %v %+v", err, c)
		}
		ev, _ := e.sla.Events(ctx, "case:1", 0, 0)
		var kinds []string
		for _, x := range ev {
			kinds = append(kinds, x.Kind)
		}
		if got := join(kinds); got != "started paused resumed paused resumed met" {
			t.Fatalf("timeline: %s", got)
		}
	})
}

func join(ss []string) string { return strings.Join(ss, " ") }

func TestReopenStartsANewCycleAndKeepsHistory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, true)
		ctx := t.Context()
		garden := e.sitePath("GARDEN")
		butler := e.staff("butler")
		e.now = at("2025-06-02 10:00").UTC()
		res, err := e.sla.Signal(ctx, sla.SignalInput{Subject: "case:7", Event: "created", HolderID: &butler,
			Match: sla.Match{CaseType: sla.CaseComplaint, NodePath: garden}})
		if err != nil || len(res.Started) != 2 {
			t.Fatalf("signal created: %v %+v", err, res)
		}
		e.now = e.now.Add(time.Hour)
		if res, err = e.sla.Signal(ctx, sla.SignalInput{Subject: "case:7", Event: "responded"}); err != nil || len(res.Stopped) != 1 || res.Stopped[0].State != sla.StateMet {
			t.Fatalf("signal responded: %v %+v", err, res)
		}
		e.now = e.now.Add(48 * time.Hour)
		if _, err := e.sla.Stop(ctx, "case:7", sla.MetricResolution); err != nil {
			t.Fatal(err)
		}
		// The owner is not satisfied: the case reopens three days later.
		e.now = e.now.Add(72 * time.Hour)
		again, err := e.sla.Reopen(ctx, "case:7", sla.MetricResolution)
		if err != nil || len(again) != 1 || again[0].Seq != 2 || again[0].State != sla.StateRunning || *again[0].HolderID != butler {
			t.Fatalf("reopen: %v %+v", err, again)
		}
		if !again[0].DueAt.Equal(e.now.Add(7 * 24 * time.Hour)) {
			t.Fatalf("new cycle due %v, want seven days after the reopen", again[0].DueAt)
		}
		all, _ := e.sla.Cycles(ctx, "case:7")
		if len(all) != 3 {
			t.Fatalf("history: %d cycles", len(all))
		}
		for _, c := range all {
			if c.Metric == sla.MetricResolution && c.Seq == 1 && (c.State != sla.StateMet || c.MetAt == nil) {
				t.Fatalf("first resolution cycle changed: %+v", c)
			}
		}
		// Reopening while a cycle runs cancels it and starts the next one.
		if again, err = e.sla.Reopen(ctx, "case:7"); err != nil || len(again) != 2 {
			t.Fatalf("reopen all: %v %d", err, len(again))
		}
		if e.count(`SELECT COUNT(*) FROM sla_cycles WHERE subject = 'case:7' AND state = 'cancelled'`) != 1 ||
			e.count(`SELECT COUNT(*) FROM sla_cycles WHERE subject = 'case:7' AND state IN ('running', 'paused')`) != 2 {
			t.Fatal("reopen over an open cycle")
		}
		if e.count(`SELECT COUNT(*) FROM sla_events WHERE subject = 'case:7' AND kind = 'reopened'`) != 3 {
			t.Fatal("reopen events")
		}
	})
}

// TestWarningBreachAndManagerEscalation drives the repair acknowledgement
// (10 minutes on 24×7, warning at 80 %) with a fake clock.
func TestWarningBreachAndManagerEscalation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, true)
		ctx := t.Context()
		garden := e.sitePath("GARDEN")
		butler, supervisor, manager := e.staff("butler"), e.staff("supervisor"), e.staff("manager")
		t0 := time.Date(2025, 6, 7, 23, 0, 0, 0, shanghai).UTC() // a Saturday night: 24×7 counts it
		e.now = t0
		c, err := e.sla.Start(ctx, sla.StartInput{Subject: "case:42", Metric: sla.MetricFirstResponse, HolderID: &butler,
			Match: sla.Match{CaseType: sla.CaseRepair, Priority: "normal", NodePath: garden}})
		if err != nil {
			t.Fatal(err)
		}
		if c.Calendar != calendar.Key24x7 || !c.DueAt.Equal(t0.Add(10*time.Minute)) || !c.WarnAt.Equal(t0.Add(8*time.Minute)) {
			t.Fatalf("started: %+v", c)
		}
		sweep := func(after time.Duration) int {
			t.Helper()
			n, err := e.sla.Sweep(ctx, t0.Add(after), 100)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		notes := func(who int64) []string {
			t.Helper()
			ns, err := e.sla.Notifications(ctx, who, 10)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, n := range ns {
				kinds = append(kinds, n.Kind)
			}
			return kinds
		}
		if sweep(7*time.Minute+59*time.Second) != 0 {
			t.Fatal("escalated before the warning")
		}
		sweep(8 * time.Minute)
		if got := notes(butler); len(got) != 1 || got[0] != "sla.warning" || len(notes(supervisor)) != 0 {
			t.Fatalf("after the warning: butler %v supervisor %v", got, notes(supervisor))
		}
		if sweep(8*time.Minute+30*time.Second) != 0 {
			t.Fatal("warning fired twice")
		}
		sweep(10 * time.Minute)
		if got := notes(supervisor); len(got) != 1 || got[0] != "sla.breach" || len(notes(manager)) != 0 {
			t.Fatalf("after the breach: supervisor %v manager %v", got, notes(manager))
		}
		c, _ = e.sla.Cycle(ctx, c.ID)
		if c.BreachedAt == nil || !c.BreachedAt.Equal(t0.Add(10*time.Minute)) || !c.NextEscalAt.Equal(t0.Add(40*time.Minute)) {
			t.Fatalf("breached: %+v", c)
		}
		e.now = t0.Add(20 * time.Minute)
		over, err := e.sla.Overdue(ctx, []string{garden}, 1, 10)
		if err != nil || over.Total != 1 || over.Items[0].ID != c.ID || over.Items[0].HolderName != "赵管家" || *over.Items[0].LeftSeconds != -600 {
			t.Fatalf("overdue: %v %+v", err, over)
		}
		if other, _ := e.sla.Overdue(ctx, []string{e.sitePath("HOTEL")}, 1, 10); other.Total != 0 {
			t.Fatal("another site's manager sees the garden's case")
		}
		if sweep(39*time.Minute) != 0 {
			t.Fatal("manager told early")
		}
		sweep(40 * time.Minute)
		if got := notes(manager); len(got) != 1 || got[0] != "sla.escalation" {
			t.Fatalf("manager: %v", got)
		}
		c, _ = e.sla.Cycle(ctx, c.ID)
		if c.NextEscalAt != nil || len(e.pendingTimers(c.ID)) != 0 {
			t.Fatalf("after the last step: next %v timers %v", c.NextEscalAt, e.pendingTimers(c.ID))
		}
		ev, _ := e.sla.Events(ctx, "case:42", 0, 0)
		var kinds []string
		for _, x := range ev {
			kinds = append(kinds, x.Kind)
		}
		if got := join(kinds); got != "started warning escalated breach escalated escalated" {
			t.Fatalf("timeline: %s", got)
		}
		if n := e.count(`SELECT COUNT(*) FROM audit_log WHERE entity = 'sla_cycle' AND action = 'escalate' AND entity_id = ?`, itoa(c.ID)); n != 3 {
			t.Fatalf("system log: %d escalation rows", n)
		}
		// Acknowledged at last: late.
		e.now = t0.Add(45 * time.Minute)
		if c, err = e.sla.Stop(ctx, "case:42", sla.MetricFirstResponse); err != nil || c.State != sla.StateLate {
			t.Fatalf("late stop: %v %+v", err, c)
		}
	})
}
