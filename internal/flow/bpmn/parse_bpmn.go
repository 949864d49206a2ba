// Package bpmn reads BPMN 2.0 XML as drawn by bpmn.io, Camunda Modeler 7 and
// 8, Flowable and Activiti into the executable model. Everything we cannot
// execute is reported, all at once, as model.Problems; a file with any
// problem never deploys.
//
// Choices made here:
//   - An abstract bpmn:task and a bpmn:manualTask pass straight through.
//   - Message throw events (intermediate or end) are rejected: draw a send
//     task (a job the runtime executes) followed by a none end event. This
//     keeps "sending" in one place, with retries and failure handling.
//   - A sub-process with no flow nodes (drawn collapsed) passes through.
//   - potentialOwner "user(a), group(b)" gives candidate users and groups; a
//     bare name is a group, as in Camunda 7. humanPerformer is the assignee.
//   - A service-like task's type comes from, in order: guanjia:type,
//     zeebe:taskDefinition type, camunda:topic (external tasks),
//     camunda/flowable/activiti:type, the delegateExpression's bean name,
//     the class name. Script tasks default to "script" and business-rule
//     tasks to "dmn".
//   - Business time: a "business:" prefix on a time value, or
//     guanjia:calendar="business" on the element for all its time values.
package bpmn

import (
	"fmt"
	"strings"

	"github.com/guanjia/guanjia/internal/flow/model"
)

// Options tune Parse.
type Options struct {
	// Key overrides the definition key (default: the first executable
	// process id, else the first process id).
	Key string
	// KnownJobType reports whether a handler exists for a task type; nil
	// accepts every type.
	KnownJobType func(typ string) bool
}

// Parse reads a BPMN file into a resolved, validated definition. On any
// problem it returns nil and a model.Problems listing every problem found
// (malformed XML is a single problem).
func Parse(data []byte, opts Options) (*model.Definition, error) {
	root, err := parseTree(data)
	if err != nil {
		return nil, model.Problems{{Reason: "bpmn: not well-formed XML: " + err.Error()}}
	}
	if root.space != nsBPMN || root.local != "definitions" {
		return nil, model.Problems{{Reason: fmt.Sprintf("bpmn: root element is %s %s, want BPMN definitions", root.space, root.local)}}
	}
	b := newBuilder(root, opts)
	b.build(root)
	b.def.Display.Source = data
	// Resolve and validate even after syntax problems so the author sees
	// everything at once; problems caused only by a skipped unsupported
	// element are left out as noise.
	ps := b.problems
	ps = append(ps, b.withoutSkipped(b.def.Resolve())...)
	ps = append(ps, b.withoutSkipped(b.def.Validate(opts.KnownJobType))...)
	if len(ps) > 0 {
		return nil, ps
	}
	return b.def, nil
}

// builder carries what a parse has learned so far.
type builder struct {
	def      *model.Definition
	messages map[string]message // by id
	errors   map[string]bpmnError
	problems model.Problems
	opts     Options
	skipped  map[string]bool // ids of unsupported elements
}

type message struct {
	name           string
	correlationKey string
}

type bpmnError struct{ code, name string }

func newBuilder(root *node, opts Options) *builder {
	b := &builder{messages: map[string]message{}, errors: map[string]bpmnError{}, opts: opts, skipped: map[string]bool{}}
	for _, c := range root.children {
		if c.space != nsBPMN {
			continue
		}
		switch c.local {
		case "message":
			m := message{name: c.attr("name")}
			if m.name == "" {
				m.name = c.attr("id")
			}
			if sub := c.extension("subscription", nsZeebe); sub != nil {
				m.correlationKey = sub.vattr("correlationKey", "")
				if m.correlationKey == "" {
					m.correlationKey = sub.attr("correlationKey")
				}
			}
			b.messages[c.attr("id")] = m
		case "error":
			b.errors[c.attr("id")] = bpmnError{code: c.attr("errorCode"), name: c.attr("name")}
		}
	}
	b.def = model.NewDefinition(opts.Key, root.attr("name"))
	return b
}

func (b *builder) build(root *node) {
	for _, c := range root.children {
		if c.space == nsBPMN && c.local == "process" {
			b.process(c)
		}
	}
	if b.def.Key == "" {
		if p := b.def.DefaultProcess(); p != nil {
			b.def.Key = p.ID
		} else if len(b.def.Processes) > 0 {
			b.def.Key = b.def.Processes[0].ID
		}
	}
	if b.def.Name == "" && len(b.def.Processes) > 0 {
		b.def.Name = b.def.Processes[0].Name
	}
}

func (b *builder) process(n *node) {
	id := n.attr("id")
	if id == "" {
		b.problems = append(b.problems, model.Problem{ElementType: "bpmn:process", Reason: "process has no id"})
		return
	}
	p := b.def.AddProcess(id, n.attr("name"), n.attr("isExecutable") == "true")
	b.scope(p, nil, n)
	b.lanes(p, n)
}

// lanes records lane membership for display, including nested lanes; the
// innermost lane wins.
func (b *builder) lanes(p *model.Process, n *node) {
	for _, ls := range n.children {
		if ls.space != nsBPMN || (ls.local != "laneSet" && ls.local != "childLaneSet") {
			continue
		}
		for _, l := range ls.children {
			if l.space != nsBPMN || l.local != "lane" {
				continue
			}
			lane := model.Lane{ID: l.attr("id"), Name: l.attr("name"), ProcessID: p.ID}
			for _, ref := range l.children {
				if ref.space == nsBPMN && ref.local == "flowNodeRef" {
					id := ref.trimmedText()
					lane.ElementIDs = append(lane.ElementIDs, id)
					if e := b.def.Elements[id]; e != nil {
						e.Lane = lane.ID
					}
				}
			}
			b.def.Display.Lanes = append(b.def.Display.Lanes, lane)
			b.lanes(p, l)
		}
	}
}

// ignored are BPMN children of a process or sub-process that carry no
// behaviour we execute; they stay in Display.Source.
var ignored = map[string]bool{
	"laneSet": true, "dataObject": true, "dataObjectReference": true, "dataStoreReference": true,
	"textAnnotation": true, "association": true, "group": true, "documentation": true,
	"extensionElements": true, "ioSpecification": true, "property": true, "incoming": true,
	"outgoing": true, "auditing": true, "monitoring": true, "dataInputAssociation": true,
	"dataOutputAssociation": true, "category": true, "resourceRole": true, "performer": true,
	"potentialOwner": true, "humanPerformer": true, "correlationSubscription": true,
	"multiInstanceLoopCharacteristics": true, "standardLoopCharacteristics": true,
}

// unsupported are executable BPMN elements we refuse.
var unsupported = map[string]bool{
	"eventBasedGateway": true, "inclusiveGateway": true, "complexGateway": true,
	"callActivity": true, "transaction": true, "adHocSubProcess": true,
	"subChoreography": true, "choreographyTask": true, "callChoreography": true,
	"implicitThrowEvent": true,
}

func (b *builder) scope(p *model.Process, parent *model.Element, n *node) {
	for _, c := range n.children {
		if c.space != nsBPMN || ignored[c.local] {
			continue
		}
		switch {
		case c.local == "sequenceFlow":
			b.flow(p, c)
		case unsupported[c.local]:
			b.unsupported(c.local, c.attr("id"), "")
		case c.local == "subProcess" && c.attr("triggeredByEvent") == "true":
			b.unsupported("subProcess", c.attr("id"), "as event sub-process")
		default:
			b.flowNode(p, parent, c)
		}
	}
}

func (b *builder) unsupported(local, id, in string) {
	b.skipped[id] = true
	b.problems = append(b.problems, model.Problem{ElementID: id, ElementType: "bpmn:" + local, Reason: model.ReasonUnsupported, In: in})
}

func (b *builder) problem(n *node, format string, args ...any) {
	b.problems = append(b.problems, model.Problem{ElementID: n.attr("id"), ElementType: "bpmn:" + n.local, Reason: fmt.Sprintf(format, args...)})
}

func (b *builder) flow(p *model.Process, n *node) {
	f := &model.SequenceFlow{ID: n.attr("id"), Name: n.attr("name"), SourceID: n.attr("sourceRef"), TargetID: n.attr("targetRef")}
	if c := n.child("conditionExpression"); c != nil {
		f.ConditionText = c.trimmedText()
	}
	if f.ConditionText != "" {
		e, err := compile(f.ConditionText)
		if err != nil {
			b.problem(n, "condition does not compile: %v", err)
		}
		f.Condition = e
	}
	if !b.def.AddFlow(p, f) {
		b.problem(n, "duplicate or missing id")
	}
}

// collapseSpace turns modeler line breaks in names into single spaces.
func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// withoutSkipped drops problems about, or pointing at, unsupported elements
// already reported.
func (b *builder) withoutSkipped(ps model.Problems) model.Problems {
	var out model.Problems
	for _, p := range ps {
		if b.skipped[p.ElementID] {
			continue
		}
		if f := b.def.Flows[p.ElementID]; f != nil && (b.skipped[f.SourceID] || b.skipped[f.TargetID]) {
			continue
		}
		if e := b.def.Elements[p.ElementID]; e != nil && b.skipped[e.AttachedToID] {
			continue
		}
		out = append(out, p)
	}
	return out
}
