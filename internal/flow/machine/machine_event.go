package machine

import (
	"fmt"
	"strings"

	"github.com/guanjia/guanjia/internal/flow/expr"
	"github.com/guanjia/guanjia/internal/flow/model"
)

// arm schedules the timers and opens the subscriptions of the boundary
// events attached to an activity; error boundaries wait passively.
func (r *run) arm(el *model.Element, tok *Token) {
	for _, b := range el.Boundaries {
		switch b.Event {
		case model.EventTimer:
			r.schedule(b, tok)
		case model.EventMessage:
			r.subscribe(b, tok)
		}
	}
}

// schedule resolves the timer of event el and records it, owned by tok.
func (r *run) schedule(el *model.Element, tok *Token) {
	if el.Timer == nil {
		return
	}
	at, spec, err := r.resolve(el.Timer, r.env(tok.Scope, tok))
	if err != nil {
		r.fail(&IncidentError{ElementID: el.ID, Reason: "timer", Err: err})
		return
	}
	t := Timer{ID: r.st.newID(), Element: el.ID, Token: tok.ID, At: at, Business: spec.Business}
	if spec.Kind == model.TimeCycle {
		c, err := model.ParseCycle(spec.Raw)
		if err != nil {
			r.fail(&IncidentError{ElementID: el.ID, Reason: "timer cycle", Err: err})
			return
		}
		if c.Repeat == 0 {
			return
		}
		t.Cycle, t.Remaining = spec.Raw, c.Repeat-1
		if c.Repeat < 0 {
			t.Remaining = -1
		}
	}
	r.addTimer(t)
}

func (r *run) addTimer(t Timer) {
	r.st.Timers = append(r.st.Timers, t)
	r.emit(TimerScheduled{ID: t.ID, ElementID: t.Element, TokenID: t.Token, At: t.At})
}

// subscribe opens a message subscription of event or receive task el,
// owned by tok, with its correlation key evaluated now.
func (r *run) subscribe(el *model.Element, tok *Token) {
	if el.Message == nil {
		return
	}
	s := Subscription{ID: r.st.newID(), Element: el.ID, Token: tok.ID, Message: el.Message.Name}
	if k := el.Message.CorrelationKey; k != nil {
		v, err := k.Eval(r.env(tok.Scope, tok))
		if err != nil {
			r.fail(&IncidentError{ElementID: el.ID, Reason: "correlation key", Err: err})
			return
		}
		s.Key = expr.String(v)
	}
	r.st.Subs = append(r.st.Subs, s)
	r.emit(SubscriptionOpened{ID: s.ID, ElementID: s.Element, TokenID: s.Token, MessageName: s.Message, CorrelationKey: s.Key})
}

// closeOwned cancels the timers and subscriptions a token owns.
func (r *run) closeOwned(tokID int64) {
	timers := r.st.Timers[:0:0]
	for _, t := range r.st.Timers {
		if t.Token == tokID {
			r.emit(TimerCancelled{ID: t.ID, ElementID: t.Element, TokenID: t.Token})
			continue
		}
		timers = append(timers, t)
	}
	r.st.Timers = timers
	subs := r.st.Subs[:0:0]
	for _, s := range r.st.Subs {
		if s.Token == tokID {
			r.emit(SubscriptionClosed{ID: s.ID, ElementID: s.Element, TokenID: s.Token})
			continue
		}
		subs = append(subs, s)
	}
	r.st.Subs = subs
}

func (r *run) fireTimer(id int64) error {
	idx := -1
	for i, t := range r.st.Timers {
		if t.ID == id {
			idx = i
		}
	}
	if idx < 0 {
		return fmt.Errorf("%w: timer %d", ErrNotFound, id)
	}
	t := r.st.Timers[idx]
	r.st.Timers = append(r.st.Timers[:idx:idx], r.st.Timers[idx+1:]...)
	tok := r.st.Token(t.Token)
	el := r.def.Elements[t.Element]
	if tok == nil || el == nil {
		return fmt.Errorf("%w: timer %d has no owner", ErrNotFound, id)
	}
	if el.Kind != model.KindBoundaryEvent {
		r.completeToken(tok)
		return nil
	}
	if !el.CancelActivity && t.Cycle != "" && t.Remaining != 0 {
		r.reschedule(t)
	}
	r.triggerBoundary(el, tok)
	return nil
}

// reschedule plans the next firing of a non-interrupting cycle.
func (r *run) reschedule(t Timer) {
	at, err := r.m.resolver.Resolve(r.now, model.TimerSpec{Kind: model.TimeCycle, Raw: t.Cycle, Business: t.Business})
	if err != nil {
		r.fail(&IncidentError{ElementID: t.Element, Reason: "timer cycle", Err: err})
		return
	}
	next := t
	next.ID, next.At = r.st.newID(), at.UTC()
	if next.Remaining > 0 {
		next.Remaining--
	}
	r.addTimer(next)
}

func (r *run) correlate(id int64, vars map[string]any) error {
	idx := -1
	for i, s := range r.st.Subs {
		if s.ID == id {
			idx = i
		}
	}
	if idx < 0 {
		return fmt.Errorf("%w: subscription %d", ErrNotFound, id)
	}
	s := r.st.Subs[idx]
	tok := r.st.Token(s.Token)
	el := r.def.Elements[s.Element]
	if tok == nil || el == nil {
		return fmt.Errorf("%w: subscription %d has no owner", ErrNotFound, id)
	}
	if err := r.setVars(vars); err != nil {
		return err
	}
	// A non-interrupting message boundary stays subscribed: it may fire
	// again while the activity runs.
	if el.Kind != model.KindBoundaryEvent || el.CancelActivity {
		r.st.Subs = append(r.st.Subs[:idx:idx], r.st.Subs[idx+1:]...)
		r.emit(SubscriptionClosed{ID: s.ID, ElementID: s.Element, TokenID: s.Token})
	}
	if el.Kind != model.KindBoundaryEvent {
		r.completeToken(tok)
		return nil
	}
	r.triggerBoundary(el, tok)
	return nil
}

// triggerBoundary starts the path of boundary event b on activity token
// tok, interrupting the activity first when b is interrupting.
func (r *run) triggerBoundary(b *model.Element, tok *Token) {
	if b.CancelActivity {
		r.cancelToken(tok)
	}
	r.passThrough(b, tok.Scope)
}

// throwError raises a BPMN error from tok (a job, or the scope token of an
// error end event; nil at process level) and hands it to the nearest
// matching error boundary, else fails the instance.
func (r *run) throwError(tok *Token, code, message string) {
	for cur := tok; cur != nil; cur = r.st.Token(cur.Scope) {
		if cur.Instance {
			continue // boundaries sit on the multi-instance body
		}
		if b := errorBoundary(r.def.Elements[cur.Element], code); b != nil {
			r.triggerBoundary(b, cur)
			return
		}
		if cur.Scope == 0 {
			break
		}
	}
	reason := "uncaught BPMN error"
	if code != "" {
		reason += " " + code
	}
	if message != "" {
		reason += ": " + strings.TrimSpace(message)
	}
	r.end(StatusFailed, reason)
}

// errorBoundary returns the first error boundary of el catching code; one
// without a code catches every error.
func errorBoundary(el *model.Element, code string) *model.Element {
	var catchAll *model.Element
	for _, b := range el.Boundaries {
		if b.Event != model.EventError {
			continue
		}
		if b.ErrorCode == code && code != "" {
			return b
		}
		if b.ErrorCode == "" && catchAll == nil {
			catchAll = b
		}
	}
	return catchAll
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
