package flow_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/flow"
	"github.com/guanjia/guanjia/internal/timers"
)

// threeUserTasks is /work/shared/bench/three-user-tasks.bpmn, the model of
// the engine benchmark, used when that file is absent.
const threeUserTasks = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <process id="three" isExecutable="true">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="t1"/>
    <userTask id="t1"/>
    <sequenceFlow id="f2" sourceRef="t1" targetRef="t2"/>
    <userTask id="t2"/>
    <sequenceFlow id="f3" sourceRef="t2" targetRef="t3"/>
    <userTask id="t3"/>
    <sequenceFlow id="f4" sourceRef="t3" targetRef="e"/>
    <endEvent id="e"/>
  </process>
</definitions>
`

// benchModel reads the benchmark model: GUANJIA_BENCH_MODEL, else the
// shared file, else the same model inline.
func benchModel(b *testing.B) []byte {
	path := os.Getenv("GUANJIA_BENCH_MODEL")
	if path == "" {
		path = "../../../shared/bench/three-user-tasks.bpmn"
	}
	src, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("GUANJIA_BENCH_MODEL") != "" {
			b.Fatal(err)
		}
		return []byte(threeUserTasks)
	}
	return src
}

// benchTarget is a database to benchmark on.
type benchTarget struct {
	name string
	open func(tb testing.TB) *db.DB
}

// benchTargets are a SQLite file at synchronous=NORMAL (the default) and
// FULL, and PostgreSQL when GUANJIA_TEST_POSTGRES is set.
func benchTargets() []benchTarget {
	ts := []benchTarget{
		{"sqlite-normal", func(tb testing.TB) *db.DB { return openSQLiteFile(tb, db.SyncNormal) }},
		{"sqlite-full", func(tb testing.TB) *db.DB { return openSQLiteFile(tb, db.SyncFull) }},
	}
	if os.Getenv(dbtest.EnvPostgres) != "" {
		ts = append(ts, benchTarget{"postgres", func(tb testing.TB) *db.DB { return dbtest.Open(tb, db.Postgres) }})
	}
	return ts
}

func openSQLiteFile(tb testing.TB, sync db.Sync) *db.DB {
	tb.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{Path: filepath.Join(tb.TempDir(), "bench.db"), Sync: sync})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	if err := dbtest.MigrateAll(ctx, d); err != nil {
		tb.Fatal(err)
	}
	return d
}

// cpuTime is the CPU this process used so far (user and system). Divided
// by the operations, it measures the cost of a step even when other work
// shares the machine and wall-clock rates swing.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// taskInbox hears the engine's committed task.created events, so a
// benchmark goroutine learns its next task id as a live inbox would,
// without a query.
type taskInbox struct{ next sync.Map } // instance id → task id

func (in *taskInbox) hear(ev flow.ChangeEvent) {
	if ev.Kind == "task.created" {
		in.next.Store(ev.InstanceID, ev.TaskID)
	}
}

func (in *taskInbox) take(instanceID int64) (int64, bool) {
	v, ok := in.next.LoadAndDelete(instanceID)
	if !ok {
		return 0, false
	}
	return v.(int64), true
}

// BenchmarkThreeUserTasks starts the sequential three-user-task process
// and completes its tasks one by one through the Go API (the System entry
// points: no caller to check), each step its own transaction. One op is one
// instance from start to end: four steps, each acknowledged after its
// commit. With several goroutines, SQLite's steps that wait together share
// a commit (group commit in internal/db).
func BenchmarkThreeUserTasks(b *testing.B) {
	src := benchModel(b)
	for _, target := range benchTargets() {
		for _, par := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("%s/goroutines=%d", target.name, par), func(b *testing.B) {
				ctx := context.Background()
				s, err := newEngineStack(target.open(b), false)
				if err != nil {
					b.Fatal(err)
				}
				def, err := s.flow.DeploySystem(ctx, src)
				if err != nil {
					b.Fatal(err)
				}
				inbox := &taskInbox{}
				s.flow.Listen(inbox.hear)
				one := func() error {
					st, err := s.flow.StartSystem(ctx, flow.StartInput{DefinitionKey: def.Key})
					if err != nil {
						return err
					}
					for n := 0; ; n++ {
						task, ok := inbox.take(st.ID)
						if !ok {
							if n != 3 {
								return fmt.Errorf("instance %d: %d tasks, want 3", st.ID, n)
							}
							return nil
						}
						if err := s.flow.Complete(ctx, task, nil); err != nil {
							return err
						}
					}
				}
				var left atomic.Int64
				left.Store(int64(b.N))
				var wg sync.WaitGroup
				errc := make(chan error, par)
				b.ReportAllocs()
				b.ResetTimer()
				began, cpu0 := time.Now(), cpuTime()
				for g := 0; g < par; g++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for left.Add(-1) >= 0 {
							if err := one(); err != nil {
								errc <- err
								return
							}
						}
					}()
				}
				wg.Wait()
				elapsed, cpu := time.Since(began), cpuTime()-cpu0
				b.StopTimer()
				select {
				case err := <-errc:
					b.Fatal(err)
				default:
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "instances/s")
				b.ReportMetric(float64(3*b.N)/elapsed.Seconds(), "completions/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/instance")
			})
		}
	}
}

// The inbox benchmark's database: a million open tasks.
const (
	seedTasks     = 1_000_000
	seedPerInst   = 4 // tasks per instance
	seedRegions   = 5
	seedSites     = 50 // ten per region
	seedStaff     = 5000
	seedAssigned  = 0.7        // share of tasks with an assignee; the rest wait in pools
	seedFormat    = "tasks-v1" // bump when the seed below changes
	seedDueBefore = 7 * 24 * time.Hour
	seedDueAfter  = 53 * 24 * time.Hour
)

// seedGroups are the candidate groups of pooled tasks: roles and the
// departments' kinds.
var seedGroups = []string{"butler", "technician", "dept:customer_service", "dept:engineering"}

// inboxDB opens the database of a million open tasks, seeding it once per
// schema: the SQLite file is kept under $TMPDIR and the PostgreSQL
// database on the server, both named by the migrations they hold.
// GUANJIA_BENCH_RESEED=1 seeds anew.
func inboxDB(b *testing.B, dialect db.Dialect) *db.DB {
	b.Helper()
	ctx := context.Background()
	key := schemaKey(b)
	reseed := os.Getenv("GUANJIA_BENCH_RESEED") == "1"
	if dialect == db.SQLite {
		path := filepath.Join(os.TempDir(), "guanjia-bench-"+key+".db")
		if _, err := os.Stat(path); err != nil || reseed {
			tmp := path + ".seeding"
			for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
				os.Remove(p)
			}
			d, err := db.Open(ctx, db.Config{Path: tmp})
			if err != nil {
				b.Fatal(err)
			}
			if err := dbtest.MigrateAll(ctx, d); err != nil {
				b.Fatal(err)
			}
			seedInbox(b, d)
			if _, err := d.W.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				b.Fatal(err)
			}
			d.Close()
			if err := os.Rename(tmp, path); err != nil {
				b.Fatal(err)
			}
		}
		d, err := db.Open(ctx, db.Config{Path: path})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { d.Close() })
		return d
	}
	server := os.Getenv(dbtest.EnvPostgres)
	name := "gj_bench_" + key
	admin, err := sql.Open("pgx", server)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	var n int
	if err := admin.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil {
		b.Fatal(err)
	}
	u, err := url.Parse(server)
	if err != nil {
		b.Fatal(err)
	}
	u.Path = "/" + name
	if n == 0 || reseed {
		seeding := name + "_seeding"
		for _, dbn := range []string{seeding, name} {
			if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+dbn+` WITH (FORCE)`); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+seeding); err != nil {
			b.Fatal(err)
		}
		su := *u
		su.Path = "/" + seeding
		d, err := db.Open(ctx, db.Config{URL: su.String()})
		if err != nil {
			b.Fatal(err)
		}
		if err := dbtest.MigrateAll(ctx, d); err != nil {
			b.Fatal(err)
		}
		seedInbox(b, d)
		if _, err := d.W.ExecContext(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
		d.Close()
		if _, err := admin.ExecContext(ctx, `ALTER DATABASE `+seeding+` RENAME TO `+name); err != nil {
			b.Fatal(err)
		}
	}
	d, err := db.Open(ctx, db.Config{URL: u.String()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d
}

// schemaKey names the schema: every table and index a fresh database
// gets, and the seed's format.
func schemaKey(b *testing.B) string {
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{Path: filepath.Join(b.TempDir(), "schema.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if err := dbtest.MigrateAll(ctx, d); err != nil {
		b.Fatal(err)
	}
	schema, err := column(ctx, d, `SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name`)
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256([]byte(strings.Join(append(schema, seedFormat), "\n")))
	return hex.EncodeToString(sum[:6])
}

// seedInbox writes the org tree, 5,000 staff, 250,000 instances and a
// million open tasks (70 % assigned, 30 % in candidate pools with their
// candidate rows) with multi-row INSERTs in a few big transactions. The
// instants hang off the seed's "now", stored as the definition's
// deployed_at, so a reused seed keeps its share of overdue tasks.
func seedInbox(b *testing.B, d *db.DB) {
	ctx := context.Background()
	began := time.Now()
	now := time.Now().UTC().Truncate(time.Millisecond)
	ms := db.Ms(now)
	rng := rand.New(rand.NewPCG(1, 2))
	ins := func(tx *db.Tx, table, cols string, rows [][]any) {
		if len(rows) == 0 {
			return
		}
		per := 30000 / len(rows[0]) // under both dialects' parameter limits
		for len(rows) > 0 {
			n := min(per, len(rows))
			ph := "(" + db.Placeholders(len(rows[0])) + ")"
			q := `INSERT INTO ` + table + ` (` + cols + `) VALUES ` + strings.TrimSuffix(strings.Repeat(ph+", ", n), ", ")
			args := make([]any, 0, n*len(rows[0]))
			for _, r := range rows[:n] {
				args = append(args, r...)
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				b.Fatalf("seed %s: %v", table, err)
			}
			rows = rows[n:]
		}
	}
	inTx := func(fn func(tx *db.Tx)) {
		if err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error { fn(tx); return nil }); err != nil {
			b.Fatal(err)
		}
	}
	// Org: /1/ company, /1/r/ regions, /1/r/s/ sites; two departments per site.
	sitePath := make([]string, seedSites)
	deptOf := make([][2]int64, seedSites)
	inTx(func(tx *db.Tx) {
		nodes := [][]any{{1, nil, "company", "集团", "/1/", 0, ms, ms}}
		var depts [][]any
		for r := 0; r < seedRegions; r++ {
			id := int64(2 + r)
			nodes = append(nodes, []any{id, 1, "region", fmt.Sprintf("区域%d", r), fmt.Sprintf("/1/%d/", id), 1, ms, ms})
		}
		for s := 0; s < seedSites; s++ {
			id, region := int64(100+s), int64(2+s%seedRegions)
			sitePath[s] = fmt.Sprintf("/1/%d/%d/", region, id)
			nodes = append(nodes, []any{id, region, "site", fmt.Sprintf("项目%d", s), sitePath[s], 2, ms, ms})
			deptOf[s] = [2]int64{int64(1 + 2*s), int64(2 + 2*s)}
			depts = append(depts, []any{deptOf[s][0], id, "customer_service", "客服", ms, ms}, []any{deptOf[s][1], id, "engineering", "工程", ms, ms})
		}
		ins(tx, "org_nodes", "id, parent_id, kind, name, path, depth, created_at, updated_at", nodes)
		ins(tx, "departments", "id, node_id, kind, name, created_at, updated_at", depts)
		var staff [][]any
		for i := 0; i < seedStaff; i++ {
			s := i % seedSites
			staff = append(staff, []any{i + 1, 100 + s, sitePath[s], deptOf[s][i/seedSites%2], fmt.Sprintf("s%04d", i), fmt.Sprintf("员工%04d", i), ms, ms})
		}
		ins(tx, "staff", "id, node_id, node_path, department_id, username, name, created_at, updated_at", staff)
		ins(tx, "flow_definitions", "id, key, version, name, format, source, deployed_at", [][]any{{1, "bench", 1, "bench", "bpmn", threeUserTasks, ms}})
	})
	const perTx = 100_000
	for from := 0; from < seedTasks; from += perTx {
		inTx(func(tx *db.Tx) {
			var insts, tasks, cands [][]any
			for i := from; i < from+perTx; i++ {
				inst := int64(i/seedPerInst + 1)
				s := int(inst) % seedSites
				if i%seedPerInst == 0 {
					insts = append(insts, []any{inst, 1, "bench", fmt.Sprintf("BK-%d", inst), sitePath[s], "active", "{}", ms - 1000, ms - 1000})
				}
				due := ms - seedDueBefore.Milliseconds() + rng.Int64N((seedDueBefore + seedDueAfter).Milliseconds())
				var assignee any
				var groups string
				if rng.Float64() < seedAssigned {
					assignee = int64(1 + s + seedSites*rng.IntN(seedStaff/seedSites)) // someone at the site
				} else {
					groups = seedGroups[rng.IntN(len(seedGroups))]
					g := groups
					if strings.HasPrefix(g, "dept:") { // a department pool: dept:<id> of the site
						g = fmt.Sprintf("dept:%d", deptOf[s][map[string]int{"dept:customer_service": 0, "dept:engineering": 1}[groups]])
						groups = g
					}
					cands = append(cands, []any{i + 1, "group", g, sitePath[s], due})
				}
				tasks = append(tasks, []any{i + 1, inst, i%seedPerInst + 1, "t1", "任务", "bench", fmt.Sprintf("BK-%d", inst), sitePath[s], assignee, groups, due, ms - rng.Int64N(seedDueBefore.Milliseconds())})
			}
			ins(tx, "flow_instances", "id, definition_id, definition_key, business_key, node_path, state, machine, started_at, updated_at", insts)
			ins(tx, "flow_tasks", "id, instance_id, token_id, element_id, name, definition_key, business_key, node_path, assignee_id, candidate_groups, due_at, created_at", tasks)
			ins(tx, "flow_task_candidates", "task_id, kind, ref, node_path, due_at", cands)
		})
	}
	b.Logf("seeded %d open tasks in %v", seedTasks, time.Since(began).Round(time.Second))
}

// BenchmarkListTasks1M measures inbox queries over a million open tasks:
// a butler's own tasks, their overdue ones and the pools they may claim
// from, and a site supervisor's overdue tasks across the site. Each op is
// one ListTasks call (a page of 50) by one of 100 butlers or 50
// supervisors in turn; p50 and p99 are reported in milliseconds.
func BenchmarkListTasks1M(b *testing.B) {
	for _, dialect := range dbtest.Dialects() {
		b.Run(string(dialect), func(b *testing.B) {
			ctx := context.Background()
			d := inboxDB(b, dialect)
			s, err := newEngineStack(d, false)
			if err != nil {
				b.Fatal(err)
			}
			var seededAt int64
			if err := d.R.QueryRowContext(ctx, `SELECT deployed_at FROM flow_definitions WHERE id = 1`).Scan(&seededAt); err != nil {
				b.Fatal(err)
			}
			now := db.Time(seededAt)
			as := func(staffID int64, role string) context.Context {
				s := int(staffID-1) % seedSites
				perms := map[auth.Perm]bool{}
				for _, p := range auth.BuiltinPerms(role) {
					perms[p] = true
				}
				path := fmt.Sprintf("/1/%d/%d/", 2+s%seedRegions, 100+s)
				p := &auth.Principal{StaffID: staffID, Username: fmt.Sprintf("s%04d", staffID-1), NodePath: path,
					Grants: []auth.Grant{{RoleKey: role, NodeID: int64(100 + s), NodePath: path, Perms: perms}}}
				return auth.WithPrincipal(ctx, p)
			}
			var butlers, supervisors []context.Context
			for i := int64(0); i < 100; i++ {
				butlers = append(butlers, as(1+i*37%seedStaff, auth.RoleButler))
			}
			for i := int64(0); i < seedSites; i++ {
				supervisors = append(supervisors, as(1+i, auth.RoleSupervisor))
			}
			views := []struct {
				name string
				who  []context.Context
				f    flow.TaskFilter
			}{
				{"mine", butlers, flow.TaskFilter{View: "mine", Now: now}},
				{"mine-overdue", butlers, flow.TaskFilter{View: "mine", Overdue: true, Now: now}},
				{"claimable", butlers, flow.TaskFilter{View: "claimable", Now: now}},
				{"all-overdue", supervisors, flow.TaskFilter{View: "all", Overdue: true, Now: now}},
			}
			for _, v := range views {
				b.Run(v.name, func(b *testing.B) {
					for _, who := range v.who { // every caller once: steady state, warm caches
						if _, err := s.flow.ListTasks(who, v.f); err != nil {
							b.Fatal(err)
						}
					}
					lat := make([]time.Duration, 0, b.N)
					items := 0
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						began := time.Now()
						page, err := s.flow.ListTasks(v.who[i%len(v.who)], v.f)
						lat = append(lat, time.Since(began))
						if err != nil {
							b.Fatal(err)
						}
						items += len(page.Items)
					}
					b.StopTimer()
					if items == 0 {
						b.Fatal("every page was empty")
					}
					slices.Sort(lat)
					b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
					b.ReportMetric(float64(items)/float64(b.N), "tasks/page")
				})
			}
		})
	}
}

// timerCatchBPMN waits on a timer until the instant in its variable "at".
const timerCatchBPMN = `<?xml version="1.0"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<process id="bench_timer" isExecutable="true">
  <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="wait"/>
  <intermediateCatchEvent id="wait"><timerEventDefinition><timeDate>${at}</timeDate></timerEventDefinition></intermediateCatchEvent>
  <sequenceFlow id="f2" sourceRef="wait" targetRef="e"/><endEvent id="e"/>
</process></definitions>`

// BenchmarkTimerLag makes 100,000 timers pending, due over the next minute
// (1,667 a second), and lets the in-process scheduler fire them, each in
// its own transaction; it
// reports how late each fired: fired_at − due_at. "noop" timers have a
// handler that does nothing: the scheduler alone. "process" timers are
// timer catch events of 100,000 waiting instances: each firing is an
// engine step that ends its instance. One op is the whole run.
func BenchmarkTimerLag(b *testing.B) {
	const count, spread, lead = 100_000, 60 * time.Second, 10 * time.Second
	// dueAt spreads the timers evenly over the spread, in shuffled order.
	dueAt := func(start time.Time, k int) time.Time {
		return start.Add(time.Duration(int64(spread) * int64(k*7919%count) / count))
	}
	for _, target := range benchTargets() {
		if target.name == "sqlite-full" {
			continue
		}
		for _, kind := range []string{"noop", "process"} {
			b.Run(target.name+"/"+kind, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					ctx := context.Background()
					d := target.open(b)
					s, err := newEngineStack(d, false)
					if err != nil {
						b.Fatal(err)
					}
					began := time.Now()
					var start time.Time
					if kind == "noop" {
						start = began.Add(lead)
						seedNoopTimers(b, d, s, count, func(k int) time.Time { return dueAt(start, k) })
					} else {
						start = seedProcessTimers(b, d, s, count, lead, dueAt)
					}
					if time.Now().After(start) {
						b.Fatalf("making the timers took %v, longer than the lead", time.Since(began))
					}
					b.Logf("%d timers pending after %v", count, time.Since(began).Round(time.Millisecond))
					runCtx, stop := context.WithCancel(ctx)
					done := make(chan struct{})
					go func() { s.timers.Run(runCtx); close(done) }()
					deadline := start.Add(spread + 5*time.Minute)
					for {
						var pending int
						if err := d.R.QueryRowContext(ctx, d.Rebind(`SELECT COUNT(*) FROM timers WHERE state = 'pending'`)).Scan(&pending); err != nil {
							b.Fatal(err)
						}
						if pending == 0 {
							break
						}
						if time.Now().After(deadline) {
							b.Fatalf("%d timers still pending five minutes after the last was due", pending)
						}
						time.Sleep(250 * time.Millisecond)
					}
					stop()
					<-done
					lags, err := column(ctx, d, `SELECT fired_at - due_at FROM timers ORDER BY fired_at - due_at`)
					if err != nil {
						b.Fatal(err)
					}
					if len(lags) != count {
						b.Fatalf("%d timers, want %d", len(lags), count)
					}
					ms := func(q float64) float64 { return float64(atoi(b, lags[int(q*float64(len(lags)-1))])) }
					b.ReportMetric(ms(0.5), "p50-lag-ms")
					b.ReportMetric(ms(0.99), "p99-lag-ms")
					b.ReportMetric(ms(1), "max-lag-ms")
				}
			})
		}
	}
}

// seedNoopTimers writes the timers straight into their table, as if
// scheduled long ago (setup only: fewer, larger transactions than
// Schedule's one per timer).
func seedNoopTimers(b *testing.B, d *db.DB, s *engineStack, count int, due func(k int) time.Time) {
	ctx := context.Background()
	s.timers.Handle("bench.noop", func(context.Context, timers.Timer) error { return nil })
	const perTx, perInsert, cols = 10_000, 2000, 5
	for from := 0; from < count; from += perTx {
		err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			for k0 := from; k0 < from+perTx; k0 += perInsert {
				args := make([]any, 0, perInsert*cols)
				for k := k0; k < k0+perInsert; k++ {
					args = append(args, "bench.noop", strconv.Itoa(k), db.Ms(due(k)), "", db.Ms(tx.Now))
				}
				q := `INSERT INTO timers (kind, subject, due_at, payload, created_at) VALUES ` +
					strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", perInsert), ", ")
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// seedProcessTimers starts the instances through the engine, 5,000 to a
// transaction, each waiting on a timer an hour out; starting them takes
// longer than the lead, so their timer rows are then moved to fall due
// from lead on (the machine states keep the hour: firing does not read it).
// It returns when the first is due.
func seedProcessTimers(b *testing.B, d *db.DB, s *engineStack, count int, lead time.Duration, dueAt func(time.Time, int) time.Time) time.Time {
	ctx := context.Background()
	if _, err := s.flow.DeploySystem(ctx, []byte(timerCatchBPMN)); err != nil {
		b.Fatal(err)
	}
	far := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	const perTx = 5000
	for from := 0; from < count; from += perTx {
		err := d.WithTx(ctx, func(ctx context.Context, _ *db.Tx) error {
			for k := from; k < from+perTx; k++ {
				at := dueAt(far, k).UTC().Format("2006-01-02T15:04:05.000Z")
				if _, err := s.flow.StartSystem(ctx, flow.StartInput{DefinitionKey: "bench_timer", Variables: map[string]any{"at": at}}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now().Add(lead).Truncate(time.Millisecond)
	err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE timers SET due_at = due_at - ? WHERE state = 'pending'`, db.Ms(far)-db.Ms(start))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return start
}
