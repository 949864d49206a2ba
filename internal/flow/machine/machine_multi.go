package machine

import (
	"fmt"

	"github.com/guanjia/guanjia/internal/flow/expr"
	"github.com/guanjia/guanjia/internal/flow/model"
)

// startMultiInstance creates the body of a multi-instance activity and its
// first instance (sequential) or all instances (parallel). Without a
// cardinality or collection (refused for user tasks) it runs once.
func (r *run) startMultiInstance(el *model.Element, scope int64) {
	mi := el.MultiInstance
	body := r.newToken(r.started(el, scope), el, TokenBody, scope)
	body.MI = &MIBody{Total: 1}
	env := r.env(scope, nil)
	switch {
	case mi.Collection != nil:
		v, err := mi.Collection.Eval(env)
		if err != nil {
			r.fail(&IncidentError{ElementID: el.ID, Reason: "collection", Err: err})
			return
		}
		items, ok := v.([]any)
		if v != nil && !ok {
			r.fail(&IncidentError{ElementID: el.ID, Reason: fmt.Sprintf("collection is %T, want a list", v)})
			return
		}
		body.MI.Items, body.MI.Total = items, len(items)
	case mi.Cardinality != nil:
		v, err := mi.Cardinality.Eval(env)
		if err != nil {
			r.fail(&IncidentError{ElementID: el.ID, Reason: "loopCardinality", Err: err})
			return
		}
		n, ok := expr.ToFloat(v)
		if !ok || n < 0 {
			r.fail(&IncidentError{ElementID: el.ID, Reason: fmt.Sprintf("loopCardinality %v is not a count", v)})
			return
		}
		body.MI.Total = int(n)
	}
	r.arm(el, body)
	if body.MI.Total == 0 {
		r.completeBody(body)
		return
	}
	if mi.Sequential {
		r.nextInstance(el, body)
		return
	}
	for body.MI.Next < body.MI.Total && r.st.Token(body.ID) != nil && r.err == nil {
		r.nextInstance(el, body)
	}
}

func (r *run) nextInstance(el *model.Element, body *Token) {
	loop := body.MI.Next
	body.MI.Next++
	body.MI.Active++
	locals := map[string]any{"loopCounter": float64(loop)}
	if v := el.MultiInstance.ElementVariable; v != "" && loop < len(body.MI.Items) {
		locals[v] = body.MI.Items[loop]
	}
	r.startActivity(el, body.ID, &instance{body: body, loop: loop, locals: locals}, false)
}

// instanceDone counts a finished instance and decides whether the body is
// done (all finished, or the completion condition holds).
func (r *run) instanceDone(inst *Token) {
	body := r.st.Token(inst.Scope)
	if body == nil || body.MI == nil {
		return
	}
	el := r.def.Elements[body.Element]
	body.MI.Completed++
	body.MI.Active--
	if cond := el.MultiInstance.CompletionCondition; cond != nil {
		ok, err := cond.EvalBool(r.env(body.ID, inst))
		if err != nil {
			r.fail(&IncidentError{ElementID: el.ID, Reason: "completionCondition", Err: err})
			return
		}
		if ok {
			r.cancelChildren(body.ID)
			r.completeBody(body)
			return
		}
	}
	switch {
	case body.MI.Completed >= body.MI.Total:
		r.completeBody(body)
	case el.MultiInstance.Sequential && body.MI.Next < body.MI.Total:
		r.nextInstance(el, body)
	}
}

func (r *run) completeBody(body *Token) {
	r.st.removeToken(body.ID)
	r.closeOwned(body.ID)
	r.leave(r.def.Elements[body.Element], body.ID, body.Scope)
}
