package machine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/guanjia/guanjia/internal/flow/bpmn"
	"github.com/guanjia/guanjia/internal/flow/internal/miwgwalk"
	"github.com/guanjia/guanjia/internal/flow/model"
)

const miwgDir = "../../../../shared/conformance/bpmn-miwg"

// TestMIWGConformanceWalk drives the supported MIWG models through the
// machine in memory: every policy, every combination of the first three
// branching gateways, every start event. At the end every element must
// have been started by some run. What to move and which branch to take
// comes from miwgwalk, which the database walk in internal/flow shares.
func TestMIWGConformanceWalk(t *testing.T) {
	if _, err := os.Stat(miwgDir); err != nil {
		t.Skip("MIWG files absent")
	}
	for _, name := range miwgwalk.Supported {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(miwgDir, name+".bpmn"))
			if err != nil {
				t.Fatal(err)
			}
			visited := map[string]bool{}
			for policy := 0; policy < miwgwalk.Policies; policy++ {
				for plan := 0; plan < 27; plan++ { // every combination of the first three branching gateways
					walkAll(t, data, policy, plan, visited)
				}
			}
			def, _ := bpmn.Parse(data, bpmn.Options{})
			var missed []string
			def.Walk(func(e *model.Element) {
				if !visited[e.ID] {
					missed = append(missed, e.TypeName()+" "+e.ID+" "+e.Name)
				}
			})
			if len(missed) > 0 {
				t.Errorf("never visited: %v", missed)
			}
		})
	}
}

// walkAll runs one instance per start event of every process.
func walkAll(t *testing.T, data []byte, policy, plan int, visited map[string]bool) {
	def, err := bpmn.Parse(data, bpmn.Options{})
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	for _, p := range def.Processes {
		for _, s := range p.StartEvents() {
			def, _ := bpmn.Parse(data, bpmn.Options{}) // fresh: the walker forces branches by editing it
			w := &walker{t: t, def: def, policy: policy, plan: plan, visited: visited, taken: map[string]bool{}}
			w.route = &miwgwalk.Steering{TB: t, Model: def, Plan: plan, Taken: w.taken}
			w.run(p.ID, s.ID)
		}
	}
}

type walker struct {
	t       *testing.T
	def     *model.Definition
	in      *inst
	policy  int
	plan    int
	visited map[string]bool
	taken   map[string]bool    // elements started in this run
	route   *miwgwalk.Steering // picks the branches from plan and taken
}

func (w *walker) record(effects []Effect) {
	for _, e := range effects {
		if s, ok := e.(ElementStarted); ok {
			w.visited[s.ElementID], w.taken[s.ElementID] = true, true
		}
	}
}

func (w *walker) run(processID, startID string) {
	t := w.t
	w.in = &inst{tb: t, m: New(Options{}), def: w.def, now: t0}
	start := w.def.Elements[startID]
	w.route.Steer()
	st, eff, err := w.in.m.StartAt(w.def, StartOptions{ProcessID: processID, StartEventID: startID}, w.route.VarsAfter(start), t0)
	w.in.apply(st, eff, err)
	w.record(eff)
	for i := 0; w.in.st.Status == StatusActive; i++ {
		if i > 200 {
			t.Fatalf("policy %d plan %d: no end after 200 events; tokens %+v", w.policy, w.plan, w.in.st.Tokens)
		}
		w.route.Steer()
		if !w.step() {
			t.Fatalf("policy %d plan %d: stuck; tokens %+v", w.policy, w.plan, w.in.st.Tokens)
		}
		w.record(w.in.effects)
	}
	if w.in.st.Status != StatusCompleted && w.in.st.Status != StatusTerminated {
		t.Fatalf("ended %s: %s", w.in.st.Status, w.in.st.Reason)
	}
}

// step performs one event following the policy; false when nothing waits.
func (w *walker) step() bool {
	return miwgwalk.Step(w.policy, miwgwalk.Moves{Work: w.work, Timer: w.timer, Message: w.message, Throw: w.throw})
}

func (w *walker) work() bool {
	in := w.in
	for _, tok := range in.st.Tokens {
		el := w.def.Elements[tok.Element]
		switch tok.Kind {
		case TokenTask:
			in.apply(in.m.CompleteTask(w.def, in.st, tok.ID, w.route.VarsAfter(el), in.now))
			return true
		case TokenJob:
			in.apply(in.m.CompleteJob(w.def, in.st, tok.ID, w.route.VarsAfter(el), in.now))
			return true
		}
	}
	return false
}

// throw fails a job that has an error boundary with a BPMN error.
func (w *walker) throw() bool {
	in := w.in
	for _, tok := range in.st.Tokens {
		if tok.Kind != TokenJob {
			continue
		}
		if code, ok := miwgwalk.ErrorCode(w.def.Elements[tok.Element]); ok {
			in.apply(in.m.FailJob(w.def, in.st, tok.ID, code, "walker", in.now))
			return true
		}
	}
	return false
}

func (w *walker) message() bool {
	in := w.in
	if len(in.st.Subs) == 0 {
		return false
	}
	s := in.st.Subs[0]
	in.apply(in.m.CorrelateMessage(w.def, in.st, s.ID, w.route.VarsAfter(w.def.Elements[s.Element]), in.now))
	return true
}

func (w *walker) timer() bool {
	in := w.in
	if len(in.st.Timers) == 0 {
		return false
	}
	tm := in.st.Timers[0]
	in.now = tm.At
	in.apply(in.m.FireTimer(w.def, in.st, tm.ID, in.now))
	return true
}
