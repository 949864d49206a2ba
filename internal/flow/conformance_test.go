package flow_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow"
	"github.com/guanjia/guanjia/internal/flow/bpmn"
	"github.com/guanjia/guanjia/internal/flow/internal/miwgwalk"
	"github.com/guanjia/guanjia/internal/flow/machine"
	"github.com/guanjia/guanjia/internal/flow/model"
)

// miwgDir is ../shared/conformance/bpmn-miwg seen from the repository root.
const miwgDir = "../../../shared/conformance/bpmn-miwg"

// TestMIWGConformanceOverDatabase drives the supported MIWG models through
// the database runtime the way the in-memory walker drives the machine:
// every policy, every combination of the first three branching gateways,
// every start event, steered by miwgwalk as the in-memory walk is. Tasks
// are completed through their rows, messages through Correlate, timers
// through the timers service and service-like tasks through their
// registered job handlers. After every step the rows must agree with the
// machine state; at the end every element must have been started by some
// run.
func TestMIWGConformanceOverDatabase(t *testing.T) {
	if _, err := os.Stat(miwgDir); err != nil {
		t.Skip("MIWG files absent (../shared/conformance/bpmn-miwg)")
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		jobs := newJobOutcomes()
		for _, typ := range miwgJobTypes(t) {
			e.App.Flow.HandleJob(typ, jobs.handle)
		}
		for _, name := range miwgwalk.Supported {
			t.Run(name, func(t *testing.T) {
				src, err := os.ReadFile(filepath.Join(miwgDir, name+".bpmn"))
				if err != nil {
					t.Fatal(err)
				}
				def, err := e.App.Flow.DeploySystem(context.Background(), src)
				if err != nil {
					t.Fatalf("deploy: %v", err)
				}
				visited := map[string]bool{}
				var n walkStats
				for policy := 0; policy < miwgwalk.Policies; policy++ {
					for plan := 0; plan < plansFor(def.Model); plan++ {
						for _, p := range def.Model.Processes {
							for _, s := range p.StartEvents() {
								w := &dbWalker{t: t, e: e, def: def, jobs: jobs, policy: policy, plan: plan, n: &n}
								w.run(p.ID, s.ID)
								for el := range w.taken {
									visited[el] = true
								}
							}
						}
					}
				}
				t.Logf("%d instances: %d tasks completed, %d jobs worked, %d BPMN errors thrown, %d messages correlated, %d timers fired",
					n.instances, n.tasks, n.jobs, n.errors, n.messages, n.timers)
				var missed []string
				def.Model.Walk(func(el *model.Element) {
					if !visited[el.ID] {
						missed = append(missed, el.TypeName()+" "+el.ID+" "+el.Name)
					}
				})
				if len(missed) > 0 {
					t.Errorf("never visited: %v", missed)
				}
			})
		}
		if n := len(pendingJobs(t, e, jobs.worked)); n != 0 {
			t.Errorf("%d service-task jobs left unworked", n)
		}
	})
}

// TestMIWGRejectedOverDatabase deploys every other MIWG file through the
// engine: each fails with exactly the unsupported elements the parser
// names, and nothing is stored.
func TestMIWGRejectedOverDatabase(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(miwgDir, "*.bpmn"))
	if len(files) == 0 {
		t.Skip("MIWG files absent (../shared/conformance/bpmn-miwg)")
	}
	supported := map[string]bool{}
	for _, n := range miwgwalk.Supported {
		supported[n] = true
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		jobs := newJobOutcomes()
		for _, typ := range miwgJobTypes(t) {
			e.App.Flow.HandleJob(typ, jobs.handle)
		}
		rejected := 0
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".bpmn")
			if supported[name] {
				continue
			}
			rejected++
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, perr := bpmn.Parse(src, bpmn.Options{})
			var ps model.Problems
			if !errors.As(perr, &ps) {
				t.Fatalf("%s: the parser accepts it: %v", name, perr)
			}
			want := unsupportedLines(problemStrings(ps))
			if len(want) == 0 {
				t.Fatalf("%s: the parser names no unsupported element: %v", name, ps)
			}
			before := [3]int{e.Count("flow_definitions"), e.Count("flow_message_starts"), e.Count("audit_log")}
			_, err = e.App.Flow.DeploySystem(context.Background(), src)
			var ee *errs.Error
			if !errors.As(err, &ee) || ee.Code != errs.EInvalid || ee.Key != "error.flow.invalid_definition" {
				t.Errorf("%s: deploy gave %v, want invalid definition", name, err)
				continue
			}
			got, _ := ee.Args["problems"].([]string)
			if g := unsupportedLines(got); !reflect.DeepEqual(g, want) {
				t.Errorf("%s: engine names\n  %s\nparser names\n  %s", name, strings.Join(g, "\n  "), strings.Join(want, "\n  "))
			}
			after := [3]int{e.Count("flow_definitions"), e.Count("flow_message_starts"), e.Count("audit_log")}
			if after != before {
				t.Errorf("%s: rejected deploy stored rows: %v → %v", name, before, after)
			}
		}
		if rejected+len(miwgwalk.Supported) != len(files) || rejected == 0 {
			t.Errorf("%d files: %d supported, %d rejected", len(files), len(miwgwalk.Supported), rejected)
		}
	})
}

func problemStrings(ps model.Problems) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func unsupportedLines(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "unsupported element ") {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// miwgJobTypes lists the service-task types the supported files use (one
// of them is "": C.7.0's service tasks name no type at all).
func miwgJobTypes(t *testing.T) []string {
	seen := map[string]bool{}
	for _, name := range miwgwalk.Supported {
		src, err := os.ReadFile(filepath.Join(miwgDir, name+".bpmn"))
		if err != nil {
			t.Fatal(err)
		}
		def, err := bpmn.Parse(src, bpmn.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		def.Walk(func(el *model.Element) {
			if el.Job != nil {
				seen[el.Job.Type] = true
			}
		})
	}
	var out []string
	for typ := range seen {
		out = append(out, typ)
	}
	sort.Strings(out)
	return out
}

// plansFor is how many gateway plans differ: the plan number's base-3
// digits steer the first three branching gateways.
func plansFor(def *model.Definition) int {
	n := 1
	for _, el := range def.Elements {
		if el.Kind == model.KindExclusiveGateway && len(el.Outgoing) > 1 && n < 27 {
			n *= 3
		}
	}
	return n
}

// jobOutcome is what the registered handler answers for one job.
type jobOutcome struct {
	vars map[string]any
	code string // a BPMN error code to throw instead
}

// jobOutcomes lets the walker decide, before it works a job, what the
// handler registered for every type will answer.
type jobOutcomes struct {
	mu     sync.Mutex
	want   map[[2]int64]jobOutcome // (instance, job) → outcome
	worked map[int64]bool          // River job ids the walker ran
}

func newJobOutcomes() *jobOutcomes {
	return &jobOutcomes{want: map[[2]int64]jobOutcome{}, worked: map[int64]bool{}}
}

func (o *jobOutcomes) set(instanceID, jobID int64, out jobOutcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.want[[2]int64{instanceID, jobID}] = out
}

func (o *jobOutcomes) handle(_ context.Context, j flow.Job) (map[string]any, error) {
	o.mu.Lock()
	out, ok := o.want[[2]int64{j.InstanceID, j.JobID}]
	delete(o.want, [2]int64{j.InstanceID, j.JobID})
	o.mu.Unlock()
	switch {
	case !ok:
		return nil, errors.New("walker: no outcome for this job")
	case out.code != "":
		return nil, &flow.BPMNError{Code: out.code, Message: "walker"}
	}
	return out.vars, nil
}

type queuedJob struct {
	riverID     int64
	maxAttempts int
	args        flow.JobArgs
}

// pendingJobs reads the service-task jobs River holds and the walker has
// not worked (River's workers do not run in this test).
func pendingJobs(t *testing.T, e *apptest.Env, worked map[int64]bool) []queuedJob {
	t.Helper()
	ctx := context.Background()
	args := "args"
	if e.DB.Dialect == db.SQLite {
		args = "json(args)" // River keeps SQLite's binary JSONB
	}
	rows, err := e.DB.Q(ctx).QueryContext(ctx, `SELECT id, max_attempts, `+args+` FROM river_job WHERE kind = 'flow.job' AND state = 'available' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []queuedJob
	for rows.Next() {
		var j queuedJob
		var raw []byte
		if err := rows.Scan(&j.riverID, &j.maxAttempts, &raw); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &j.args); err != nil {
			t.Fatal(err)
		}
		if !worked[j.riverID] {
			out = append(out, j)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// walkStats counts what the walks of one file did.
type walkStats struct{ instances, tasks, jobs, errors, messages, timers int }

// dbWalker is the in-memory walker's twin over the database runtime.
type dbWalker struct {
	n      *walkStats
	t      *testing.T
	e      *apptest.Env
	def    *flow.Definition
	jobs   *jobOutcomes
	policy int
	plan   int
	id     int64
	st     *machine.State
	taken  map[string]bool    // elements started in this run (from history)
	route  *miwgwalk.Steering // picks the branches from plan and taken
}

var sys = context.Background() // the System entry points: no caller

func (w *dbWalker) run(processID, startID string) {
	t := w.t
	m := w.def.Model
	start := m.Elements[startID]
	w.taken = map[string]bool{}
	// Steering rewrites the conditions of the deployed model the engine
	// runs (the in-memory walk does the same on its private copy).
	w.route = &miwgwalk.Steering{TB: t, Model: m, Plan: w.plan, Taken: w.taken}
	w.route.Steer()
	vars := w.route.VarsAfter(start)
	in := flow.StartInput{DefinitionKey: w.def.Key, Version: w.def.Version, Variables: vars}
	switch {
	case start.Event == model.EventMessage:
		res, err := w.e.App.Flow.Correlate(sys, flow.MessageInput{Name: start.Message.Name, Variables: vars})
		if err != nil || len(res.Started) != 1 {
			t.Fatalf("message start %s: %+v %v", startID, res, err)
		}
		w.id = res.Started[0]
	case processID == m.DefaultProcess().ID && startID == m.DefaultProcess().DefaultStart().ID:
		s, err := w.e.App.Flow.StartSystem(sys, in)
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		w.id = s.ID
	default:
		s, err := w.e.App.Flow.StartAtForTest(sys, in, processID, startID)
		if err != nil {
			t.Fatalf("start %s/%s: %v", processID, startID, err)
		}
		w.id = s.ID
	}
	w.n.instances++
	for i := 0; ; i++ {
		w.refresh()
		if w.st.Status != machine.StatusActive {
			break
		}
		if i > 200 {
			t.Fatalf("policy %d plan %d: no end after 200 events; tokens %+v", w.policy, w.plan, w.st.Tokens)
		}
		w.route.Steer()
		if !w.step() {
			t.Fatalf("policy %d plan %d: stuck; tokens %+v", w.policy, w.plan, w.st.Tokens)
		}
	}
	if w.st.Status != machine.StatusCompleted && w.st.Status != machine.StatusTerminated {
		t.Fatalf("policy %d plan %d: ended %s: %s", w.policy, w.plan, w.st.Status, w.st.Reason)
	}
	v, err := w.e.App.Flow.Get(sys, w.id)
	if err != nil {
		t.Fatal(err)
	}
	if v.State != string(w.st.Status) || v.EndedAt == nil || len(v.ActiveElements) != 0 {
		t.Fatalf("ended instance: %+v", v.Instance)
	}
	if last := v.Timeline[len(v.Timeline)-1]; last.Kind != "instance_ended" {
		t.Fatalf("timeline ends with %s", last.Kind)
	}
}

// refresh reads the machine state, checks the rows agree with it and
// learns which elements this run started.
func (w *dbWalker) refresh() {
	w.t.Helper()
	ctx := context.Background()
	st, err := checkInstance(ctx, w.e.DB, w.id)
	if err != nil {
		w.t.Fatalf("policy %d plan %d: %v", w.policy, w.plan, err)
	}
	w.st = st
	els, err := column(ctx, w.e.DB, `SELECT element_id FROM flow_history WHERE instance_id = ? AND kind = 'element_started'`, w.id)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, el := range els {
		w.taken[el] = true
	}
}

// step performs one event following the policy; false when nothing waits.
func (w *dbWalker) step() bool {
	return miwgwalk.Step(w.policy, miwgwalk.Moves{Work: w.work, Timer: w.timer, Message: w.message, Throw: w.throw})
}

func (w *dbWalker) work() bool {
	for _, tok := range w.st.Tokens {
		el := w.def.Model.Elements[tok.Element]
		switch tok.Kind {
		case machine.TokenTask:
			w.completeTask(tok.ID, w.route.VarsAfter(el))
			return true
		case machine.TokenJob:
			w.workJob(tok.ID, jobOutcome{vars: w.route.VarsAfter(el)})
			return true
		}
	}
	return false
}

// throw makes the handler of a job with an error boundary raise a BPMN
// error.
func (w *dbWalker) throw() bool {
	for _, tok := range w.st.Tokens {
		if tok.Kind != machine.TokenJob {
			continue
		}
		if code, ok := miwgwalk.ErrorCode(w.def.Model.Elements[tok.Element]); ok {
			w.workJob(tok.ID, jobOutcome{code: code})
			w.n.errors++
			return true
		}
	}
	return false
}

func (w *dbWalker) message() bool {
	if len(w.st.Subs) == 0 {
		return false
	}
	s := w.st.Subs[0]
	res, err := w.e.App.Flow.Correlate(sys, flow.MessageInput{Name: s.Message, CorrelationKey: s.Key, Variables: w.route.VarsAfter(w.def.Model.Elements[s.Element])})
	if err != nil || len(res.Correlated) != 1 || res.Correlated[0] != w.id {
		w.t.Fatalf("correlate %s/%q: %+v %v", s.Message, s.Key, res, err)
	}
	w.n.messages++
	return true
}

func (w *dbWalker) timer() bool {
	if len(w.st.Timers) == 0 {
		return false
	}
	tm := w.st.Timers[0]
	ctx := context.Background()
	ids, err := column(ctx, w.e.DB, `SELECT id FROM timers WHERE kind = 'flow.timer' AND subject = ? AND state = 'pending'`, subjectOf(w.id, tm.ID))
	if err != nil || len(ids) != 1 {
		w.t.Fatalf("timer row of %d:%d: %v %v", w.id, tm.ID, ids, err)
	}
	fired, err := w.e.App.Timers.Fire(ctx, atoi(w.t, ids[0]))
	if err != nil || !fired {
		w.t.Fatalf("fire timer %s: fired=%v %v", ids[0], fired, err)
	}
	w.n.timers++
	return true
}

func (w *dbWalker) completeTask(tokenID int64, vars map[string]any) {
	ctx := context.Background()
	ids, err := column(ctx, w.e.DB, `SELECT id FROM flow_tasks WHERE instance_id = ? AND token_id = ? AND state = 'open'`, w.id, tokenID)
	if err != nil || len(ids) != 1 {
		w.t.Fatalf("task row of token %d: %v %v", tokenID, ids, err)
	}
	if err := w.e.App.Flow.Complete(sys, atoi(w.t, ids[0]), vars); err != nil {
		w.t.Fatalf("complete task %s: %v", ids[0], err)
	}
	w.n.tasks++
}

// workJob finds the River job of a job token and works it, the handler
// answering out.
func (w *dbWalker) workJob(jobID int64, out jobOutcome) {
	for _, j := range pendingJobs(w.t, w.e, w.jobs.worked) {
		if j.args.InstanceID != w.id || j.args.JobID != jobID {
			continue
		}
		w.jobs.set(w.id, jobID, out)
		if err := w.e.App.Flow.WorkJobForTest(context.Background(), j.riverID, j.args, 1, j.maxAttempts); err != nil {
			w.t.Fatalf("job %+v: %v", j.args, err)
		}
		w.jobs.worked[j.riverID] = true // River would now mark it completed
		w.n.jobs++
		return
	}
	w.t.Fatalf("no queued job for %d:%d", w.id, jobID)
}
