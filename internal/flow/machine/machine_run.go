package machine

import (
	"time"

	"github.com/guanjia/guanjia/internal/flow/model"
)

// run is one event being processed: a working copy of the state, the
// effects so far and the queue of tokens in flight.
type run struct {
	m       *Machine
	def     *model.Definition
	st      *State
	now     time.Time
	effects []Effect
	queue   []arrival
	steps   int
	err     error // the first failure; once set, nothing else happens
}

// arrival is a token in flight towards a flow node.
type arrival struct {
	el    *model.Element
	scope int64
	via   *model.SequenceFlow
}

func (m *Machine) newRun(def *model.Definition, st *State, now time.Time) *run {
	// Strip the monotonic reading and zone so states compare equal after a
	// JSON round-trip.
	return &run{m: m, def: def, st: st, now: now.UTC().Round(0), effects: make([]Effect, 0, 8)}
}

func (r *run) emit(e Effect) { r.effects = append(r.effects, e) }

func (r *run) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *run) push(el *model.Element, scope int64, via *model.SequenceFlow) {
	r.queue = append(r.queue, arrival{el: el, scope: scope, via: via})
}

// finish drains the queue and returns the outcome of the event.
func (r *run) finish() (*State, []Effect, error) {
	for i := 0; i < len(r.queue) && r.err == nil; i++ {
		if r.st.Status != StatusActive {
			break
		}
		a := r.queue[i]
		r.queue[i] = arrival{}
		if a.el == nil {
			continue // dropped by a terminate
		}
		if a.scope != 0 && r.st.Token(a.scope) == nil {
			continue // its scope was interrupted meanwhile
		}
		r.steps++
		if r.steps > r.m.maxSteps {
			r.fail(ErrStepLimit)
			break
		}
		r.enter(a)
		if i == len(r.queue)-1 {
			r.queue = r.queue[:0]
			i = -1
		}
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	return r.st, r.effects, nil
}

// pending reports whether a token is still in flight inside scope.
func (r *run) pending(scope int64) bool {
	for _, a := range r.queue {
		if a.el != nil && a.scope == scope {
			return true
		}
	}
	return false
}

func (r *run) started(el *model.Element, scope int64) int64 {
	id := r.st.newID()
	r.emit(ElementStarted{ID: id, ElementID: el.ID, Kind: string(el.Kind), Scope: scope})
	return id
}

// enter dispatches an arriving token on the kind of node.
func (r *run) enter(a arrival) {
	el := a.el
	if el.MultiInstance != nil {
		r.startMultiInstance(el, a.scope)
		return
	}
	switch el.Kind {
	case model.KindExclusiveGateway:
		r.exclusive(el, a.scope)
	case model.KindParallelGateway:
		r.parallel(el, a.scope, a.via)
	case model.KindEndEvent:
		r.endEvent(el, a.scope)
	default:
		r.startActivity(el, a.scope, nil, true)
	}
}

// passThrough records a node that does nothing and moves on.
func (r *run) passThrough(el *model.Element, scope int64) {
	id := r.started(el, scope)
	r.leave(el, id, scope)
}

// leave completes a node instance and sends tokens down its outgoing flows.
func (r *run) leave(el *model.Element, id, scope int64) {
	r.emit(ElementCompleted{ID: id, ElementID: el.ID})
	flows, err := r.outgoing(el, scope)
	if err != nil {
		r.fail(err)
		return
	}
	for _, f := range flows {
		r.push(f.Target, scope, f)
	}
	if len(flows) == 0 {
		r.scopeMaybeDone(scope)
	}
}

// outgoing picks the flows leaving an activity or event: unconditioned and
// true ones, else the default.
func (r *run) outgoing(el *model.Element, scope int64) ([]*model.SequenceFlow, error) {
	if el.Default == nil && allUnconditioned(el.Outgoing) {
		return el.Outgoing, nil
	}
	var out []*model.SequenceFlow
	env := r.env(scope, nil)
	for _, f := range el.Outgoing {
		if f == el.Default {
			continue
		}
		ok, err := r.holds(f, env)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, f)
		}
	}
	if len(out) == 0 && el.Default != nil {
		out = append(out, el.Default)
	}
	return out, nil
}

func allUnconditioned(flows []*model.SequenceFlow) bool {
	for _, f := range flows {
		if f.Condition != nil {
			return false
		}
	}
	return true
}

func (r *run) holds(f *model.SequenceFlow, env map[string]any) (bool, error) {
	if f.Condition == nil {
		return true, nil
	}
	ok, err := f.Condition.EvalBool(env)
	if err != nil {
		return false, &IncidentError{ElementID: f.ID, Reason: "condition failed", Err: err}
	}
	return ok, nil
}

func (r *run) endEvent(el *model.Element, scope int64) {
	id := r.started(el, scope)
	r.emit(ElementCompleted{ID: id, ElementID: el.ID})
	switch el.Event {
	case model.EventTerminate:
		r.terminate(scope)
	case model.EventError:
		r.throwError(r.st.Token(scope), el.ErrorCode, "error end event "+el.ID)
	default:
		r.scopeMaybeDone(scope)
	}
}

// scopeMaybeDone completes a scope once nothing waits or moves inside it.
func (r *run) scopeMaybeDone(scope int64) {
	if r.st.Status != StatusActive || r.pending(scope) {
		return
	}
	for _, t := range r.st.Tokens {
		if t.Scope == scope {
			return
		}
	}
	if scope == 0 {
		r.end(StatusCompleted, "")
		return
	}
	if tok := r.st.Token(scope); tok != nil {
		r.completeToken(tok)
	}
}

// terminate ends every token of a scope; at process level the instance is
// terminated, inside a sub-process the sub-process completes.
func (r *run) terminate(scope int64) {
	if scope == 0 {
		r.end(StatusTerminated, "terminate end event")
		return
	}
	r.cancelChildren(scope)
	r.dropQueued(scope)
	if tok := r.st.Token(scope); tok != nil {
		r.completeToken(tok)
	}
}

func (r *run) dropQueued(scope int64) {
	for i := range r.queue {
		if r.queue[i].scope == scope {
			r.queue[i] = arrival{}
		}
	}
}

// end gives the instance a final status, withdrawing everything open.
func (r *run) end(status Status, reason string) {
	r.cancelChildren(0)
	r.queue = r.queue[:0]
	r.st.Status, r.st.Reason = status, reason
	r.emit(InstanceEnded{Status: status, Reason: reason})
}

// completeToken finishes a waiting token normally.
func (r *run) completeToken(tok *Token) {
	r.st.removeToken(tok.ID)
	r.closeOwned(tok.ID)
	el := r.def.Elements[tok.Element]
	if tok.Instance {
		r.emit(ElementCompleted{ID: tok.ID, ElementID: el.ID})
		r.instanceDone(tok)
		return
	}
	r.leave(el, tok.ID, tok.Scope)
}

// cancelToken interrupts a token and everything inside it.
func (r *run) cancelToken(tok *Token) {
	r.cancelChildren(tok.ID)
	r.st.removeToken(tok.ID)
	r.closeOwned(tok.ID)
	switch tok.Kind {
	case TokenTask:
		r.emit(TaskCancelled{TokenID: tok.ID, ElementID: tok.Element})
	case TokenJob:
		r.emit(JobCancelled{JobID: tok.ID, ElementID: tok.Element})
	}
	if tok.Kind != TokenJoin {
		r.emit(ElementCancelled{ID: tok.ID, ElementID: tok.Element})
	}
}

func (r *run) cancelChildren(scope int64) {
	for {
		var child *Token
		for _, t := range r.st.Tokens {
			if t.Scope == scope {
				child = t
				break
			}
		}
		if child == nil {
			return
		}
		r.cancelToken(child)
	}
}

// newToken registers a waiting token.
func (r *run) newToken(id int64, el *model.Element, kind TokenKind, scope int64) *Token {
	t := &Token{ID: id, Element: el.ID, Kind: kind, Scope: scope}
	r.st.Tokens = append(r.st.Tokens, t)
	return t
}
