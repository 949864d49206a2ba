package machine

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/flow/bpmn"
	"github.com/guanjia/guanjia/internal/flow/model"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// process wraps flow nodes in a BPMN document with our namespaces.
func process(body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:guanjia="http://guanjia.dev/bpmn"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="x">
  <message id="m1" name="paid"/>
  <error id="e1" errorCode="E42"/>
  <process id="p" isExecutable="true">` + body + `</process></definitions>`
}

func mustParse(tb testing.TB, xml string) *model.Definition {
	tb.Helper()
	def, err := bpmn.Parse([]byte(xml), bpmn.Options{})
	if err != nil {
		tb.Fatalf("parse: %v", err)
	}
	return def
}

// inst drives one instance and checks after every step that the state
// survives a JSON round-trip unchanged; it continues from the decoded copy
// so the machine is always exercised on persisted states.
type inst struct {
	tb      testing.TB
	m       *Machine
	def     *model.Definition
	st      *State
	effects []Effect
	now     time.Time
}

func start(tb testing.TB, def *model.Definition, vars map[string]any) *inst {
	tb.Helper()
	in := &inst{tb: tb, m: New(Options{}), def: def, now: t0}
	st, eff, err := in.m.Start(def, vars, in.now)
	in.apply(st, eff, err)
	return in
}

func (in *inst) apply(st *State, eff []Effect, err error) {
	in.tb.Helper()
	if err != nil {
		in.tb.Fatalf("event: %v", err)
	}
	in.st, in.effects = roundTrip(in.tb, st), eff
}

func roundTrip(tb testing.TB, st *State) *State {
	tb.Helper()
	a, err := json.Marshal(st)
	if err != nil {
		tb.Fatalf("marshal: %v", err)
	}
	var back State
	if err := json.Unmarshal(a, &back); err != nil {
		tb.Fatalf("unmarshal: %v", err)
	}
	b, _ := json.Marshal(&back)
	if !bytes.Equal(a, b) {
		tb.Fatalf("state changed in a JSON round-trip:\n%s\n%s", a, b)
	}
	return &back
}

// task returns the id of the open user task at element id.
func (in *inst) tok(el string, kind TokenKind) int64 {
	in.tb.Helper()
	for _, t := range in.st.Tokens {
		if t.Element == el && t.Kind == kind {
			return t.ID
		}
	}
	in.tb.Fatalf("no %s token at %s; tokens: %+v", kind, el, in.st.Tokens)
	return 0
}

func (in *inst) complete(el string, vars map[string]any) {
	in.tb.Helper()
	in.apply(in.m.CompleteTask(in.def, in.st, in.tok(el, TokenTask), vars, in.now))
}

func (in *inst) completeJob(el string, vars map[string]any) {
	in.tb.Helper()
	in.apply(in.m.CompleteJob(in.def, in.st, in.tok(el, TokenJob), vars, in.now))
}

func (in *inst) timer(el string) Timer {
	in.tb.Helper()
	for _, t := range in.st.Timers {
		if t.Element == el {
			return t
		}
	}
	in.tb.Fatalf("no timer for %s", el)
	return Timer{}
}

func (in *inst) fire(el string) {
	in.tb.Helper()
	t := in.timer(el)
	in.now = t.At
	in.apply(in.m.FireTimer(in.def, in.st, t.ID, in.now))
}

func (in *inst) wantStatus(s Status) {
	in.tb.Helper()
	if in.st.Status != s {
		in.tb.Fatalf("status %s (%s), want %s; tokens %+v", in.st.Status, in.st.Reason, s, in.st.Tokens)
	}
}

func (in *inst) openTasks() []string {
	var out []string
	for _, t := range in.st.Tokens {
		if t.Kind == TokenTask {
			out = append(out, t.Element)
		}
	}
	return out
}

func has[T Effect](effects []Effect) (T, bool) {
	for _, e := range effects {
		if x, ok := e.(T); ok {
			return x, true
		}
	}
	var zero T
	return zero, false
}
