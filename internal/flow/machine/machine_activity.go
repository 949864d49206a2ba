package machine

import (
	"fmt"
	"math"
	"time"

	"github.com/guanjia/guanjia/internal/flow/expr"
	"github.com/guanjia/guanjia/internal/flow/model"
)

// instance is the multi-instance data of an activity instance being
// started; nil for a plain activity.
type instance struct {
	body   *Token
	loop   int
	locals map[string]any
}

// startActivity starts a node that is not a gateway or end event. Boundary
// events are armed on plain activities only; a multi-instance arms them on
// its body.
func (r *run) startActivity(el *model.Element, scope int64, in *instance, arm bool) {
	var tok *Token
	wait := func(kind TokenKind) *Token {
		id := r.started(el, scope)
		tok = r.newToken(id, el, kind, scope)
		if in != nil {
			tok.Instance, tok.Loop, tok.Locals = true, in.loop, in.locals
		}
		return tok
	}
	switch el.Kind {
	case model.KindUserTask:
		r.createTask(wait(TokenTask), el)
	case model.KindServiceTask, model.KindSendTask, model.KindScriptTask, model.KindBusinessRuleTask:
		r.requestJob(wait(TokenJob), el)
	case model.KindReceiveTask:
		r.subscribe(el, wait(TokenReceive))
	case model.KindIntermediateCatchEvent:
		if el.Event == model.EventTimer {
			r.schedule(el, wait(TokenTimer))
		} else {
			r.subscribe(el, wait(TokenReceive))
		}
	case model.KindSubProcess:
		r.startSubProcess(el, wait(TokenScope))
	default: // start events, abstract and manual tasks, throw events
		if in != nil {
			r.passInstance(el, scope, in)
			return
		}
		r.passThrough(el, scope)
		return
	}
	if arm && in == nil && tok != nil {
		r.arm(el, tok)
	}
}

// passInstance runs one pass-through multi-instance instance.
func (r *run) passInstance(el *model.Element, scope int64, in *instance) {
	id := r.started(el, scope)
	tok := &Token{ID: id, Element: el.ID, Scope: scope, Instance: true, Loop: in.loop, Locals: in.locals}
	r.emit(ElementCompleted{ID: id, ElementID: el.ID})
	r.instanceDone(tok)
}

func (r *run) startSubProcess(el *model.Element, tok *Token) {
	start := el.StartEvent()
	if start == nil {
		// An empty (collapsed) sub-process passes through; validation
		// refuses one with content but no start event.
		r.scopeMaybeDone(tok.ID)
		return
	}
	r.push(start, tok.ID, nil)
}

func (r *run) createTask(tok *Token, el *model.Element) {
	h := el.Human
	t := TaskCreated{TokenID: tok.ID, ElementID: el.ID, Name: el.Name, MIIndex: -1}
	if tok.Instance {
		t.MIIndex = tok.Loop
	}
	if h == nil {
		r.emit(t)
		return
	}
	env := r.env(tok.Scope, tok)
	var err error
	t.FormKey = h.FormKey
	if t.Assignee, err = evalString(h.Assignee, env); err != nil {
		r.fail(&IncidentError{ElementID: el.ID, Reason: "assignee", Err: err})
		return
	}
	if t.CandidateUsers, err = evalList(h.CandidateUsers, env); err != nil {
		r.fail(&IncidentError{ElementID: el.ID, Reason: "candidate users", Err: err})
		return
	}
	if t.CandidateGroups, err = evalList(h.CandidateGroups, env); err != nil {
		r.fail(&IncidentError{ElementID: el.ID, Reason: "candidate groups", Err: err})
		return
	}
	if t.Priority, err = evalInt(h.Priority, env); err != nil {
		r.fail(&IncidentError{ElementID: el.ID, Reason: "priority", Err: err})
		return
	}
	if t.DueAt, err = r.resolveOptional(h.Due, env); err != nil {
		r.fail(&IncidentError{ElementID: el.ID, Reason: "due date", Err: err})
		return
	}
	if t.FollowUpAt, err = r.resolveOptional(h.FollowUp, env); err != nil {
		r.fail(&IncidentError{ElementID: el.ID, Reason: "follow-up date", Err: err})
		return
	}
	r.emit(t)
}

func (r *run) requestJob(tok *Token, el *model.Element) {
	j := JobRequested{JobID: tok.ID, ElementID: el.ID, MIIndex: -1}
	if tok.Instance {
		j.MIIndex = tok.Loop
	}
	if el.Job != nil {
		j.Type, j.Headers, j.Retries = el.Job.Type, el.Job.Headers, el.Job.Retries
	}
	r.emit(j)
}

func evalString(v model.Value, env map[string]any) (string, error) {
	if v.Expr == nil {
		return v.Raw, nil
	}
	out, err := v.Expr.Eval(env)
	if err != nil {
		return "", err
	}
	return expr.String(out), nil
}

// evalList flattens literal and expression values (an expression may give
// a list or a comma-separated string) into names.
func evalList(vs []model.Value, env map[string]any) ([]string, error) {
	var out []string
	for _, v := range vs {
		if v.Expr == nil {
			out = append(out, v.Raw)
			continue
		}
		res, err := v.Expr.Eval(env)
		if err != nil {
			return nil, err
		}
		out = appendNames(out, res)
	}
	return out, nil
}

func appendNames(out []string, v any) []string {
	switch x := v.(type) {
	case nil:
	case []any:
		for _, e := range x {
			out = appendNames(out, e)
		}
	case []string:
		out = append(out, x...)
	case string:
		for _, part := range splitComma(x) {
			out = append(out, part)
		}
	default:
		out = append(out, expr.String(x))
	}
	return out
}

func evalInt(v model.Value, env map[string]any) (int, error) {
	if v.IsZero() {
		return 0, nil
	}
	res, err := v.Eval(env)
	if err != nil {
		return 0, err
	}
	if s, ok := res.(string); ok {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil {
			return 0, fmt.Errorf("%q is not a number", s)
		}
		return n, nil
	}
	f, ok := expr.ToFloat(res)
	if !ok || math.IsNaN(f) {
		return 0, fmt.Errorf("%v is not a number", res)
	}
	return int(f), nil
}

func (r *run) resolveOptional(spec *model.TimerSpec, env map[string]any) (time.Time, error) {
	if spec == nil {
		return time.Time{}, nil
	}
	at, _, err := r.resolve(spec, env)
	return at, err
}

// resolve evaluates an expression time value if needed and asks the
// resolver for the instant. It also returns the concrete spec used.
func (r *run) resolve(spec *model.TimerSpec, env map[string]any) (time.Time, model.TimerSpec, error) {
	s := *spec
	if s.Kind == model.TimeExpression {
		v, err := s.Expr.Eval(env)
		if err != nil {
			return time.Time{}, s, err
		}
		if t, ok := v.(time.Time); ok {
			return t.UTC(), s, nil
		}
		c, err := model.ParseTimer(expr.String(v), s.Want, s.Business)
		if err != nil {
			return time.Time{}, s, err
		}
		if c.Kind == model.TimeExpression {
			return time.Time{}, s, fmt.Errorf("expression %q gave another expression", s.Raw)
		}
		s = *c
	}
	at, err := r.m.resolver.Resolve(r.now, s)
	return at.UTC(), s, err
}
