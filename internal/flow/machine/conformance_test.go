package machine

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/guanjia/guanjia/internal/flow/bpmn"
	"github.com/guanjia/guanjia/internal/flow/expr"
	"github.com/guanjia/guanjia/internal/flow/model"
)

const miwgDir = "../../../../shared/conformance/bpmn-miwg"

// conformanceVars makes each conditioned flow of the MIWG models true when
// the walker wants it; flows of gateways that variables cannot steer
// (unconditioned branches: the first always wins) are forced instead.
var conformanceVars = map[string]map[string]any{
	// C.1.1
	"invoiceApproved":     {"approved": true},
	"invoiceNotApproved":  {"approved": false},
	"reviewSuccessful":    {"clarified": "yes"},
	"reviewNotSuccessful": {"clarified": "no"},
	// C.8.0 and C.8.1
	"_2a5ee73c-c495-48a0-945b-3dabab28ca91": {"Vacation Approval": "Refused"},
	"_325973e7-0bc8-4136-b6df-be1e681d8608": {"Vacation Approval": "Approved"},
	"_0a1c4f20-509f-4aeb-baf9-acc762f4fdf9": {"Vacation Approval": "Manual Validation Required"},
	"_d3a575d8-cd41-4246-ad7a-7a068de6679f": {"Vacation Approval": "Refused"},
	"_f2b0da63-d841-4457-ad85-7d86c8b5c1d2": {"Vacation Approval": "Approved"},
}

// Supported is the MIWG subset that must deploy and run to completion.
var supported = []string{"A.1.0", "A.2.0", "A.2.1", "A.4.0", "A.4.1", "C.1.1", "C.3.0", "C.7.0", "C.8.0", "C.8.1", "C.9.1"}

// The walker's orders of preference among waiting things.
const (
	workFirst = iota
	timersFirst
	messagesFirst
	errorsFirst
	policies
)

func TestMIWGConformanceWalk(t *testing.T) {
	if _, err := os.Stat(miwgDir); err != nil {
		t.Skip("MIWG files absent")
	}
	for _, name := range supported {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(miwgDir, name+".bpmn"))
			if err != nil {
				t.Fatal(err)
			}
			visited := map[string]bool{}
			for policy := 0; policy < policies; policy++ {
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
			w.run(p.ID, s.ID)
		}
	}
}

type walker struct {
	t        *testing.T
	def      *model.Definition
	in       *inst
	policy   int
	plan     int
	visited  map[string]bool
	taken    map[string]bool // elements started in this run
	radixes  map[string]int
	gateways []string
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
	w.steer()
	st, eff, err := w.in.m.StartAt(w.def, StartOptions{ProcessID: processID, StartEventID: startID}, w.varsAfter(start), t0)
	w.in.apply(st, eff, err)
	w.record(eff)
	for i := 0; w.in.st.Status == StatusActive; i++ {
		if i > 200 {
			t.Fatalf("policy %d plan %d: no end after 200 events; tokens %+v", w.policy, w.plan, w.in.st.Tokens)
		}
		w.steer()
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
	order := map[int][]func() bool{
		workFirst:     {w.work, w.message, w.timer},
		timersFirst:   {w.timer, w.message, w.work},
		messagesFirst: {w.message, w.work, w.timer},
		errorsFirst:   {w.throw, w.work, w.message, w.timer},
	}[w.policy]
	for _, try := range order {
		if try() {
			return true
		}
	}
	return false
}

func (w *walker) work() bool {
	in := w.in
	for _, tok := range in.st.Tokens {
		el := w.def.Elements[tok.Element]
		switch tok.Kind {
		case TokenTask:
			in.apply(in.m.CompleteTask(w.def, in.st, tok.ID, w.varsAfter(el), in.now))
			return true
		case TokenJob:
			in.apply(in.m.CompleteJob(w.def, in.st, tok.ID, w.varsAfter(el), in.now))
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
		for _, b := range w.def.Elements[tok.Element].Boundaries {
			if b.Event == model.EventError {
				code := b.ErrorCode
				if code == "" {
					code = "ANY" // a boundary without a code catches every error
				}
				in.apply(in.m.FailJob(w.def, in.st, tok.ID, code, "walker", in.now))
				return true
			}
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
	in.apply(in.m.CorrelateMessage(w.def, in.st, s.ID, w.varsAfter(w.def.Elements[s.Element]), in.now))
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

// preferred is the branch the walker wants at a gateway: the plan's pick
// until it was taken in this run, then one not yet taken (so loops end).
func (w *walker) preferred(g *model.Element) *model.SequenceFlow {
	pick := g.Outgoing[(w.plan/w.radix(g))%len(g.Outgoing)]
	if !w.taken[pick.TargetID] {
		return pick
	}
	for _, f := range g.Outgoing {
		if !w.taken[f.TargetID] {
			return f
		}
	}
	return pick
}

// radix gives each branching gateway its digit of the plan number (base 3).
func (w *walker) radix(g *model.Element) int {
	if w.radixes == nil {
		w.radixes = map[string]int{}
		r := 1
		for _, id := range sortedIDs(w.def) {
			if e := w.def.Elements[id]; e.Kind == model.KindExclusiveGateway && len(e.Outgoing) > 1 {
				w.radixes[id] = r
				r *= 3
			}
		}
	}
	return w.radixes[g.ID]
}

// steerable reports whether variables alone can choose every branch.
func steerable(g *model.Element) bool {
	for _, f := range g.Outgoing {
		if f != g.Default && f.Condition == nil {
			return false
		}
	}
	return true
}

// steer forces the preferred branch of every gateway variables cannot
// steer, by rewriting its conditions in this run's private definition.
func (w *walker) steer() {
	yes, _ := expr.Compile("true")
	no, _ := expr.Compile("false")
	if w.gateways == nil {
		for _, id := range sortedIDs(w.def) {
			if w.def.Elements[id].Kind == model.KindExclusiveGateway {
				w.gateways = append(w.gateways, id)
			}
		}
	}
	for _, id := range w.gateways {
		g := w.def.Elements[id]
		if g.Kind != model.KindExclusiveGateway || len(g.Outgoing) < 2 || w.byVariables(g) {
			continue
		}
		want := w.preferred(g)
		for _, f := range g.Outgoing {
			if f == g.Default {
				continue
			}
			f.Condition = no
			if f == want {
				f.Condition = yes
			}
		}
	}
}

// byVariables reports whether the walker steers g by variables: all its
// branches carry real conditions (a gateway it rewrote stays forced).
func (w *walker) byVariables(g *model.Element) bool {
	for _, f := range g.Outgoing {
		if f.Condition != nil && f.Condition.Source != "true" && f.Condition.Source != "false" {
			return steerable(g)
		}
	}
	return false
}

// varsAfter returns the variables that make the preferred branch true at
// each steerable gateway right after el.
func (w *walker) varsAfter(el *model.Element) map[string]any {
	vars := map[string]any{}
	seen := map[string]bool{}
	queue := []*model.Element{}
	for _, f := range el.Outgoing {
		queue = append(queue, f.Target)
	}
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		if g.Kind != model.KindExclusiveGateway || seen[g.ID] {
			continue
		}
		seen[g.ID] = true
		if len(g.Outgoing) > 1 && w.byVariables(g) {
			f := w.preferred(g)
			v, ok := conformanceVars[f.ID]
			if !ok {
				w.t.Fatalf("no walker variables for flow %s of gateway %s", f.ID, g.ID)
			}
			for k, x := range v {
				vars[k] = x
			}
		}
		for _, f := range g.Outgoing {
			queue = append(queue, f.Target)
		}
	}
	return vars
}

func sortedIDs(def *model.Definition) []string {
	ids := make([]string, 0, len(def.Elements))
	for id := range def.Elements {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
