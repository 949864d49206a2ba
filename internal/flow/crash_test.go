package flow_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow"
	"github.com/guanjia/guanjia/internal/flow/machine"
	"github.com/guanjia/guanjia/internal/jobs"
	"github.com/guanjia/guanjia/internal/timers"
)

// The crash test's models: three user tasks in a row; a timer catch event
// before a task; a task with an interrupting boundary timer.
const (
	crashSeqBPMN = `<?xml version="1.0"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<process id="crash_seq" isExecutable="true">
  <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t1"/>
  <userTask id="t1"/><sequenceFlow id="f2" sourceRef="t1" targetRef="t2"/>
  <userTask id="t2"/><sequenceFlow id="f3" sourceRef="t2" targetRef="t3"/>
  <userTask id="t3"/><sequenceFlow id="f4" sourceRef="t3" targetRef="e"/>
  <endEvent id="e"/>
</process></definitions>`
	crashCatchBPMN = `<?xml version="1.0"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<process id="crash_catch" isExecutable="true">
  <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="tc"/>
  <intermediateCatchEvent id="tc"><timerEventDefinition><timeDuration>PT3S</timeDuration></timerEventDefinition></intermediateCatchEvent>
  <sequenceFlow id="f2" sourceRef="tc" targetRef="after"/>
  <userTask id="after"/><sequenceFlow id="f3" sourceRef="after" targetRef="e"/>
  <endEvent id="e"/>
</process></definitions>`
	crashBoundaryBPMN = `<?xml version="1.0"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<process id="crash_boundary" isExecutable="true">
  <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="wait"/>
  <userTask id="wait"/><sequenceFlow id="f2" sourceRef="wait" targetRef="e"/>
  <boundaryEvent id="tb" attachedToRef="wait" cancelActivity="true">
    <timerEventDefinition><timeDuration>PT4S</timeDuration></timerEventDefinition></boundaryEvent>
  <sequenceFlow id="f3" sourceRef="tb" targetRef="late"/>
  <userTask id="late"/><sequenceFlow id="f4" sourceRef="late" targetRef="e2"/>
  <endEvent id="e"/><endEvent id="e2"/>
</process></definitions>`
)

// crashTimerMark is, per timer model, the history row a firing leaves.
var crashTimerMark = map[string][2]string{
	"crash_catch":    {"element_completed", "tc"},
	"crash_boundary": {"element_started", "tb"},
}

// The child process is this test binary re-executed with these variables.
const (
	envCrashChild = "GUANJIA_CRASH_CHILD"
	envCrashPath  = "GUANJIA_CRASH_SQLITE"
	envCrashURL   = "GUANJIA_CRASH_POSTGRES"
)

// engineStack is the process engine as the app wires it: the job queue,
// the timers service and the engine on one database.
type engineStack struct {
	db     *db.DB
	jobs   *jobs.Queue
	timers *timers.Service
	flow   *flow.Engine
}

func newEngineStack(d *db.DB, workers bool) (*engineStack, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q := jobs.New(d, log)
	tm := timers.New(d, q, log, timers.DefaultConfig())
	eng := flow.New(d, q, tm, audit.New(d), log)
	if err := q.Build(workers); err != nil {
		return nil, err
	}
	return &engineStack{db: d, jobs: q, timers: tm, flow: eng}, nil
}

// TestCrashRecovery kills a process in the middle of a load of task
// completions and instance starts with timers, then checks that every
// acknowledged step is in the database, that tokens and task rows agree,
// and that after a restart every pending timer fires exactly once.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: about a minute")
	}
	for _, dialect := range dbtest.Dialects() {
		t.Run(string(dialect), func(t *testing.T) {
			cfg := crashDatabase(t, dialect)
			crashRun(t, cfg)
		})
	}
}

// TestCrashChild is the process that gets killed: it is a no-op unless the
// parent test started it.
func TestCrashChild(t *testing.T) {
	if os.Getenv(envCrashChild) != "1" {
		t.Skip("run by TestCrashRecovery")
	}
	if err := crashChild(); err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(2)
	}
}

// crashDatabase makes an empty migrated database the child can open too
// and returns how to open it.
func crashDatabase(t *testing.T, dialect db.Dialect) db.Config {
	ctx := context.Background()
	if dialect == db.SQLite {
		cfg := db.Config{Path: filepath.Join(t.TempDir(), "crash.db")}
		d, err := db.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := dbtest.MigrateAll(ctx, d); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	server := os.Getenv(dbtest.EnvPostgres)
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// dbtest's naming, so its orphan sweep drops it if this process dies.
	name := fmt.Sprintf("gj_t_%d_%d", os.Getpid(), rand.Uint32())
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if a, err := sql.Open("pgx", server); err == nil {
			_, _ = a.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
			a.Close()
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	cfg := db.Config{URL: u.String()}
	d, err := db.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := dbtest.MigrateAll(ctx, d); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func crashRun(t *testing.T, cfg db.Config) {
	ctx := context.Background()
	seqInstances, timerInstances := 8000, 200
	began := time.Now()

	// Setup: deploy, and start instances for the child to work on.
	d, err := db.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newEngineStack(d, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{crashSeqBPMN, crashCatchBPMN, crashBoundaryBPMN} {
		if _, err := s.flow.DeploySystem(ctx, []byte(src)); err != nil {
			t.Fatal(err)
		}
	}
	// One transaction for the bulk: each start joins it.
	err = d.WithTx(ctx, func(ctx context.Context, _ *db.Tx) error {
		for i := 0; i < seqInstances; i++ {
			if _, err := s.flow.StartSystem(ctx, flow.StartInput{DefinitionKey: "crash_seq", BusinessKey: "seq-" + strconv.Itoa(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < timerInstances; i++ {
		key := []string{"crash_catch", "crash_boundary"}[i%2]
		if _, err := s.flow.StartSystem(ctx, flow.StartInput{DefinitionKey: key}); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	t.Logf("setup: %d instances in %v", seqInstances+timerInstances, time.Since(began).Round(time.Millisecond))

	// The load, killed in the middle.
	began = time.Now()
	acks := crashLoad(t, cfg)
	t.Logf("acknowledged before SIGKILL after %v: %d completions, %d starts", time.Since(began).Round(time.Millisecond), len(acks.completed), len(acks.started))
	if len(acks.completed) < 500 {
		t.Fatalf("only %d completions acknowledged", len(acks.completed))
	}

	// Restart: a new engine on the same database.
	d, err = db.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	states := checkCrashInstances(t, d)
	checkAcknowledged(t, d, acks, states)
	pending, err := column(ctx, d, `SELECT id FROM timers WHERE state = 'pending'`)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pending timers at restart: %d", len(pending))
	if len(pending) == 0 {
		t.Fatal("no timer was pending at the crash: the test proves nothing about timers")
	}
	s, err = newEngineStack(d, true)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if err := s.jobs.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.timers.Run(runCtx); close(done) }()
	began = time.Now()
	waitTimers(t, d, pending)
	t.Logf("after restart: pending timers fired in %v", time.Since(began).Round(time.Millisecond))
	stop()
	<-done
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = s.jobs.Stop(sctx)
	checkTimersOnce(t, d)
	checkCrashInstances(t, d)
}

type crashAcks struct {
	completed []int64
	started   []int64
}

// crashLoad runs the child, kills it with SIGKILL after a few seconds of
// load and returns what it acknowledged.
func crashLoad(t *testing.T, cfg db.Config) crashAcks {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashChild+"=1", envCrashPath+"="+cfg.Path, envCrashURL+"="+cfg.URL)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var acks crashAcks
	var completed atomic.Int64
	ready := make(chan struct{})
	eof := make(chan struct{})
	go func() {
		defer close(eof)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			kind, id, ok := strings.Cut(sc.Text(), " ")
			n, err := strconv.ParseInt(id, 10, 64)
			if !ok || err != nil {
				continue // the test framework's own lines
			}
			mu.Lock()
			switch kind {
			case "READY":
				close(ready)
			case "COMPLETED":
				acks.completed = append(acks.completed, n)
				completed.Add(1)
			case "STARTED":
				acks.started = append(acks.started, n)
			}
			mu.Unlock()
		}
	}()
	select {
	case <-ready:
	case <-eof:
		_ = cmd.Wait()
		t.Fatalf("child ended before it was ready: %s", stderr.String())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("child not ready after 30 s")
	}
	// Long enough for some timers to fire in the child and others to be
	// pending; then at a random instant.
	time.Sleep(3500*time.Millisecond + rand.N(1000*time.Millisecond))
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-eof
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v\n%s", err, stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	return acks
}

// crashChild completes open tasks with four goroutines and starts timer
// instances between completions, printing each step once it committed,
// until it is killed. The in-process timer scheduler runs as in a server.
func crashChild() error {
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{Path: os.Getenv(envCrashPath), URL: os.Getenv(envCrashURL)})
	if err != nil {
		return err
	}
	s, err := newEngineStack(d, false)
	if err != nil {
		return err
	}
	go s.timers.Run(ctx)
	var outMu sync.Mutex
	ack := func(kind string, id int64) {
		outMu.Lock()
		defer outMu.Unlock()
		// Unbuffered: the line is in the pipe before the next step begins.
		fmt.Fprintf(os.Stdout, "%s %d\n", kind, id)
	}
	ack("READY", 0)
	const workers = 4
	errc := make(chan error, workers)
	for g := 0; g < workers; g++ {
		go func() {
			errc <- crashWorker(ctx, s, g, workers, ack)
		}()
	}
	return <-errc
}

func crashWorker(ctx context.Context, s *engineStack, g, workers int, ack func(string, int64)) error {
	n := 0
	for {
		order := "id" // the pre-started instances first
		if g == 0 {
			order = "id DESC" // the newest: tasks racing their boundary timers
		}
		ids, err := column(ctx, s.db, `SELECT id FROM flow_tasks WHERE state = 'open' AND id % ? = ? ORDER BY `+order+` LIMIT 50`, workers, g)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			time.Sleep(20 * time.Millisecond)
		}
		for _, raw := range ids {
			id, _ := strconv.ParseInt(raw, 10, 64)
			err := s.flow.Complete(ctx, id, map[string]any{"by": g})
			switch {
			case err == nil:
				ack("COMPLETED", id)
			case errs.CodeOf(err) == errs.EConflict || errs.CodeOf(err) == errs.ENotFound:
				// a boundary timer took the task first
			default:
				return fmt.Errorf("complete %d: %w", id, err)
			}
			if n++; n%4 == 0 {
				key := []string{"crash_catch", "crash_boundary"}[n/4%2]
				st, err := s.flow.StartSystem(ctx, flow.StartInput{DefinitionKey: key})
				if err != nil {
					return fmt.Errorf("start %s: %w", key, err)
				}
				ack("STARTED", st.ID)
			}
		}
	}
}

// checkAcknowledged verifies that every acknowledged completion committed:
// the task is completed, its completion is in the history once, and the
// instance's token moved on; every acknowledged start exists.
func checkAcknowledged(t *testing.T, d *db.DB, acks crashAcks, states map[int64]*machine.State) {
	ctx := context.Background()
	type taskRow struct {
		inst, token int64
		state       string
		completions int
	}
	tasks := map[int64]*taskRow{}
	rows, err := d.Q(ctx).QueryContext(ctx, `SELECT t.id, t.instance_id, t.token_id, t.state,
		(SELECT COUNT(*) FROM flow_history h WHERE h.instance_id = t.instance_id AND h.task_id = t.id AND h.kind = 'task_completed')
		FROM flow_tasks t`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var r taskRow
		if err := rows.Scan(&id, &r.inst, &r.token, &r.state, &r.completions); err != nil {
			t.Fatal(err)
		}
		tasks[id] = &r
	}
	rows.Close()
	bad := 0
	for _, id := range acks.completed {
		r := tasks[id]
		var err error
		switch {
		case r == nil:
			err = fmt.Errorf("acknowledged task %d is gone", id)
		case r.state != "completed" || r.completions != 1:
			err = fmt.Errorf("acknowledged task %d is %s with %d completion rows", id, r.state, r.completions)
		case states[r.inst] == nil:
			err = fmt.Errorf("acknowledged task %d: instance %d is gone", id, r.inst)
		case states[r.inst].Token(r.token) != nil:
			err = fmt.Errorf("acknowledged task %d: its token %d still waits in instance %d", id, r.token, r.inst)
		}
		if err != nil {
			if bad++; bad <= 10 {
				t.Error(err)
			}
		}
	}
	for _, id := range acks.started {
		if states[id] == nil {
			t.Errorf("acknowledged start %d is gone", id)
		}
	}
	// No task completed twice, however the completion was acknowledged.
	for id, r := range tasks {
		if r.completions > 1 || (r.completions == 1) != (r.state == "completed") {
			t.Errorf("task %d is %s with %d completion rows", id, r.state, r.completions)
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d acknowledged completions lost", bad, len(acks.completed))
	}
}

// checkCrashInstances checks every instance's rows against its machine
// state and that a sequential instance holds one token while active and
// none once ended. It returns the machine states.
func checkCrashInstances(t *testing.T, d *db.DB) map[int64]*machine.State {
	ctx := context.Background()
	states, problems, err := checkAllInstances(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	for id, st := range states {
		if st.DefinitionKey != "crash_seq" {
			continue
		}
		if want := map[bool]int{true: 1, false: 0}[st.Status == machine.StatusActive]; len(st.Tokens) != want {
			problems = append(problems, fmt.Errorf("instance %d (%s): %d tokens", id, st.Status, len(st.Tokens)))
		}
	}
	for i, p := range problems {
		if i == 10 {
			break
		}
		t.Error(p)
	}
	if len(problems) > 0 {
		t.Fatalf("%d of %d instances inconsistent", len(problems), len(states))
	}
	return states
}

// waitTimers waits until none of the timers is pending: the first poll
// after the restart finds those that fell due while nothing ran.
func waitTimers(t *testing.T, d *db.DB, ids []string) {
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var pending int
		if err := d.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM timers WHERE state = 'pending'`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s: %d timers pending (of %d pending at restart)", pending, len(ids))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkTimersOnce checks that every timer that fired fired once: its row
// says one committed attempt, and its instance's history holds exactly
// one mark of the firing, while a cancelled timer left none.
func checkTimersOnce(t *testing.T, d *db.DB) {
	ctx := context.Background()
	ids, err := column(ctx, d, `SELECT id FROM flow_instances ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := column(ctx, d, `SELECT definition_key FROM flow_instances ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	keyOf := map[int64]string{}
	for i, id := range ids {
		keyOf[atoi(t, id)] = keys[i]
	}
	rows, err := d.Q(ctx).QueryContext(ctx, `SELECT subject, state, attempts FROM timers WHERE kind = 'flow.timer' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type timerRow struct {
		inst       int64
		state, key string
		attempts   int
	}
	var all []timerRow
	for rows.Next() {
		var subject string
		var r timerRow
		if err := rows.Scan(&subject, &r.state, &r.attempts); err != nil {
			t.Fatal(err)
		}
		inst, _, _ := strings.Cut(subject, ":")
		r.inst = atoi(t, inst)
		r.key = keyOf[r.inst]
		all = append(all, r)
	}
	rows.Close()
	marks := map[string]int{} // "instance kind element" → rows
	mrows, err := d.Q(ctx).QueryContext(ctx, `SELECT instance_id, kind, element_id, COUNT(*) FROM flow_history
		WHERE (kind = 'element_completed' AND element_id = 'tc') OR (kind = 'element_started' AND element_id = 'tb') GROUP BY instance_id, kind, element_id`)
	if err != nil {
		t.Fatal(err)
	}
	for mrows.Next() {
		var inst int64
		var kind, el string
		var n int
		if err := mrows.Scan(&inst, &kind, &el, &n); err != nil {
			t.Fatal(err)
		}
		marks[fmt.Sprintf("%d %s %s", inst, kind, el)] = n
	}
	mrows.Close()
	counts := map[string]int{}
	for _, r := range all {
		counts[r.state]++
		mark := crashTimerMark[r.key]
		n := marks[fmt.Sprintf("%d %s %s", r.inst, mark[0], mark[1])]
		want := map[string]int{"fired": 1, "cancelled": 0}[r.state]
		if r.state == "pending" || n != want || (r.state == "fired" && r.attempts != 1) {
			t.Errorf("timer of instance %d (%s): %s after %d attempts, %d history marks", r.inst, r.key, r.state, r.attempts, n)
		}
	}
	t.Logf("timers: %v", counts)
}
