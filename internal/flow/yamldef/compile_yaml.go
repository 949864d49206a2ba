package yamldef

import (
	"fmt"
	"strings"

	"github.com/guanjia/guanjia/internal/flow/model"
)

const (
	startID = "start"
	endID   = "end"
)

type compiler struct {
	form     *Form
	def      *model.Definition
	proc     *model.Process
	problems model.Problems
	flows    int
	hasEnd   bool
}

var stepKinds = map[string]model.Kind{
	"": model.KindUserTask, "userTask": model.KindUserTask, "manualTask": model.KindManualTask,
	"serviceTask": model.KindServiceTask, "receiveTask": model.KindReceiveTask,
	"timer": model.KindIntermediateCatchEvent, "exclusive": model.KindExclusiveGateway,
	"parallel": model.KindParallelGateway, "end": model.KindEndEvent,
}

func (c *compiler) compile() *model.Definition {
	f := c.form
	c.def = model.NewDefinition(f.Key, f.Name)
	if f.Key == "" {
		c.fail("", "", "key is required")
	}
	c.proc = c.def.AddProcess(f.Key, f.Name, true)
	c.def.AddElement(c.proc, nil, &model.Element{ID: startID, Kind: model.KindStartEvent})
	if len(f.Steps) == 0 {
		c.fail("", "", "steps are required")
		return c.def
	}
	for _, s := range f.Steps {
		c.step(s)
	}
	c.flow(startID, f.Steps[0].ID, "")
	for i, s := range f.Steps {
		c.link(i, s)
	}
	return c.def
}

func (c *compiler) fail(id, typ, format string, args ...any) {
	c.problems = append(c.problems, model.Problem{ElementID: id, ElementType: typ, Reason: "yamldef: " + fmt.Sprintf(format, args...)})
}

func (c *compiler) step(s Step) {
	kind, ok := stepKinds[s.Type]
	if !ok {
		c.fail(s.ID, s.Type, "unknown step type %q", s.Type)
		return
	}
	if s.ID == startID || s.ID == endID {
		c.fail(s.ID, s.Type, "%q is reserved", s.ID)
		return
	}
	e := &model.Element{ID: s.ID, Name: s.Name, Kind: kind, Documentation: s.Documentation}
	switch kind {
	case model.KindUserTask:
		e.Human = c.human(s, e)
	case model.KindServiceTask:
		e.Job = &model.JobSpec{Type: s.JobType}
	case model.KindReceiveTask:
		e.Message = c.message(s, e)
	case model.KindIntermediateCatchEvent:
		e.Event, e.Timer = model.EventTimer, c.timer(s, e)
	}
	if !c.def.AddElement(c.proc, nil, e) {
		c.fail(s.ID, e.TypeName(), "duplicate or missing id")
	}
}

func (c *compiler) human(s Step, e *model.Element) *model.HumanTask {
	h := &model.HumanTask{FormKey: s.FormKey, NextSteps: s.NextSteps, Materials: s.Materials}
	var err error
	if h.Assignee, err = model.ParseValue(s.Assignee); err != nil {
		c.fail(e.ID, e.TypeName(), "assignee: %v", err)
	}
	if h.CandidateUsers, err = model.ParseList(strings.Join(s.CandidateUsers, ",")); err != nil {
		c.fail(e.ID, e.TypeName(), "candidate_users: %v", err)
	}
	if h.CandidateGroups, err = model.ParseList(strings.Join(s.CandidateGroups, ",")); err != nil {
		c.fail(e.ID, e.TypeName(), "candidate_groups: %v", err)
	}
	if h.Priority, err = model.ParseValue(s.Priority); err != nil {
		c.fail(e.ID, e.TypeName(), "priority: %v", err)
	}
	if s.Due != "" {
		if h.Due, err = model.ParseTimer(s.Due, "", false); err != nil {
			c.fail(e.ID, e.TypeName(), "due: %v", err)
		}
	}
	if s.FollowUp != "" {
		if h.FollowUp, err = model.ParseTimer(s.FollowUp, "", false); err != nil {
			c.fail(e.ID, e.TypeName(), "follow_up: %v", err)
		}
	}
	for _, f := range s.Form {
		typ := f.Type
		if typ == "" {
			typ = "string"
		}
		if f.ID == "" || !model.FormFieldTypes[typ] {
			c.fail(e.ID, e.TypeName(), "form field needs an id and a type of string, long, boolean, date or enum")
			continue
		}
		h.FormFields = append(h.FormFields, model.FormField{ID: f.ID, Label: f.Label, Type: typ, Required: f.Required, Values: f.Values})
	}
	return h
}

func (c *compiler) message(s Step, e *model.Element) *model.MessageSpec {
	m := &model.MessageSpec{Name: s.Message, CorrelationRaw: s.CorrelationKey}
	if s.CorrelationKey != "" {
		v, err := model.ParseValue(s.CorrelationKey)
		if err != nil || v.Expr == nil {
			c.fail(e.ID, e.TypeName(), "correlation_key must be an expression: %v", err)
		}
		m.CorrelationKey = v.Expr
	}
	return m
}

func (c *compiler) timer(s Step, e *model.Element) *model.TimerSpec {
	raw, want := s.Duration, model.TimeDuration
	if s.Date != "" {
		raw, want = s.Date, model.TimeDate
	}
	spec, err := model.ParseTimer(raw, want, false)
	if err != nil {
		c.fail(e.ID, e.TypeName(), "timer: %v", err)
	}
	return spec
}

// link adds the flows out of step i.
func (c *compiler) link(i int, s Step) {
	e := c.def.Elements[s.ID]
	if e == nil || e.Kind == model.KindEndEvent {
		return
	}
	if e.Kind == model.KindExclusiveGateway {
		c.branches(s, e)
		return
	}
	next := []string(s.Next)
	if len(next) == 0 {
		next = []string{endID}
		if i+1 < len(c.form.Steps) {
			next = []string{c.form.Steps[i+1].ID}
		}
	}
	for _, n := range next {
		c.flow(s.ID, n, "")
	}
}

func (c *compiler) branches(s Step, e *model.Element) {
	if len(s.Branches) == 0 {
		c.fail(s.ID, e.TypeName(), "an exclusive step needs branches")
	}
	for _, b := range s.Branches {
		f := c.flow(s.ID, b.Next, b.When)
		if b.When == "" && f != nil {
			if e.DefaultID != "" {
				c.fail(s.ID, e.TypeName(), "more than one branch without a condition")
			}
			e.DefaultID = f.ID
		}
	}
}

func (c *compiler) flow(from, to, when string) *model.SequenceFlow {
	if to == endID && !c.hasEnd {
		c.hasEnd = true
		c.def.AddElement(c.proc, nil, &model.Element{ID: endID, Kind: model.KindEndEvent})
	}
	c.flows++
	f := &model.SequenceFlow{ID: fmt.Sprintf("flow_%d_%s_%s", c.flows, from, to), SourceID: from, TargetID: to, ConditionText: when}
	if when != "" {
		e, err := model.ParseValue(when)
		switch {
		case err != nil:
			c.fail(from, "exclusive", "condition %q: %v", when, err)
		case e.Expr == nil:
			c.fail(from, "exclusive", "condition %q must be an expression (${...} or =...)", when)
		}
		f.Condition = e.Expr
	}
	c.def.AddFlow(c.proc, f)
	return f
}
