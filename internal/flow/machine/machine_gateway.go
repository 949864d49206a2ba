package machine

import "github.com/guanjia/guanjia/internal/flow/model"

// exclusive takes the first flow whose condition holds (unconditioned flows
// hold), else the default, else refuses the event with an incident.
func (r *run) exclusive(el *model.Element, scope int64) {
	id := r.started(el, scope)
	env := r.env(scope, nil)
	var chosen *model.SequenceFlow
	for _, f := range el.Outgoing {
		if f == el.Default {
			continue
		}
		ok, err := r.holds(f, env)
		if err != nil {
			r.fail(err)
			return
		}
		if ok {
			chosen = f
			break
		}
	}
	if chosen == nil {
		chosen = el.Default
	}
	if chosen == nil {
		r.fail(&IncidentError{ElementID: el.ID, Reason: "no outgoing flow's condition is true and there is no default flow"})
		return
	}
	r.emit(ElementCompleted{ID: id, ElementID: el.ID})
	r.push(chosen.Target, scope, chosen)
}

// parallel joins (when it has several incoming flows) and forks. A join
// fires once a token has arrived on every incoming flow; extra tokens on
// one flow wait for the next firing.
func (r *run) parallel(el *model.Element, scope int64, via *model.SequenceFlow) {
	if len(el.Incoming) > 1 {
		viaID := ""
		if via != nil {
			viaID = via.ID
		}
		t := r.newToken(r.st.newID(), el, TokenJoin, scope)
		t.Via = viaID
		waiting := r.joinReady(el, scope)
		if waiting == nil {
			return
		}
		for _, w := range waiting {
			r.st.removeToken(w.ID)
		}
	}
	id := r.started(el, scope)
	r.emit(ElementCompleted{ID: id, ElementID: el.ID})
	for _, f := range el.Outgoing {
		r.push(f.Target, scope, f)
	}
}

// joinReady returns one waiting token per incoming flow, or nil when some
// flow has none yet.
func (r *run) joinReady(el *model.Element, scope int64) []*Token {
	out := make([]*Token, 0, len(el.Incoming))
	for _, f := range el.Incoming {
		var found *Token
		for _, t := range r.st.Tokens {
			if t.Kind == TokenJoin && t.Element == el.ID && t.Scope == scope && t.Via == f.ID {
				found = t
				break
			}
		}
		if found == nil {
			return nil
		}
		out = append(out, found)
	}
	return out
}
