package bpmn

import (
	"strings"

	"github.com/guanjia/guanjia/internal/flow/expr"
	"github.com/guanjia/guanjia/internal/flow/model"
)

var kinds = map[string]model.Kind{
	"startEvent": model.KindStartEvent, "endEvent": model.KindEndEvent, "task": model.KindTask,
	"userTask": model.KindUserTask, "manualTask": model.KindManualTask, "serviceTask": model.KindServiceTask,
	"sendTask": model.KindSendTask, "receiveTask": model.KindReceiveTask,
	"businessRuleTask": model.KindBusinessRuleTask, "scriptTask": model.KindScriptTask,
	"exclusiveGateway": model.KindExclusiveGateway, "parallelGateway": model.KindParallelGateway,
	"subProcess": model.KindSubProcess, "intermediateCatchEvent": model.KindIntermediateCatchEvent,
	"intermediateThrowEvent": model.KindIntermediateThrowEvent, "boundaryEvent": model.KindBoundaryEvent,
}

func (b *builder) flowNode(p *model.Process, parent *model.Element, n *node) {
	kind, ok := kinds[n.local]
	if !ok {
		b.unsupported(n.local, n.attr("id"), "")
		return
	}
	e := &model.Element{
		ID: n.attr("id"), Name: collapseSpace(n.attr("name")), Kind: kind,
		DefaultID: n.attr("default"), AttachedToID: n.attr("attachedToRef"),
		CancelActivity: n.attr("cancelActivity") != "false",
		Business:       n.vattr("calendar", NSGuanjia) == "business",
	}
	if d := n.child("documentation"); d != nil {
		e.Documentation = d.trimmedText()
	}
	if !b.def.AddElement(p, parent, e) {
		b.problem(n, "duplicate or missing id")
		return
	}
	b.events(e, n)
	b.activity(e, n)
	if kind == model.KindSubProcess {
		b.scope(p, e, n)
	}
}

func (b *builder) activity(e *model.Element, n *node) {
	switch e.Kind {
	case model.KindUserTask:
		e.Human = b.humanTask(e, n)
	case model.KindServiceTask, model.KindSendTask, model.KindScriptTask, model.KindBusinessRuleTask:
		e.Job = b.job(e, n)
	case model.KindReceiveTask:
		e.Message = b.messageRef(e, n, n.attr("messageRef"))
	}
	for _, c := range n.children {
		if c.space != nsBPMN {
			continue
		}
		switch c.local {
		case "multiInstanceLoopCharacteristics":
			e.MultiInstance = b.multiInstance(c)
		case "standardLoopCharacteristics":
			b.unsupported(c.local, e.ID, "in "+e.TypeName())
		}
	}
}

// eventDefs lists which event definitions each event kind executes.
var eventDefs = map[model.Kind]map[string]model.EventKind{
	model.KindStartEvent:             {"messageEventDefinition": model.EventMessage, "timerEventDefinition": model.EventTimer},
	model.KindEndEvent:               {"terminateEventDefinition": model.EventTerminate, "errorEventDefinition": model.EventError},
	model.KindIntermediateCatchEvent: {"messageEventDefinition": model.EventMessage, "timerEventDefinition": model.EventTimer},
	model.KindIntermediateThrowEvent: {},
	model.KindBoundaryEvent:          {"messageEventDefinition": model.EventMessage, "timerEventDefinition": model.EventTimer, "errorEventDefinition": model.EventError},
}

func (b *builder) events(e *model.Element, n *node) {
	allowed, isEvent := eventDefs[e.Kind]
	if !isEvent {
		return
	}
	var defs []*node
	for _, c := range n.children {
		if c.space == nsBPMN && strings.HasSuffix(c.local, "EventDefinition") {
			defs = append(defs, c)
		}
	}
	if n.child("eventDefinitionRef") != nil || len(defs) > 1 {
		b.unsupported(e.Kind.String()+" with several event definitions", e.ID, "")
		return
	}
	if len(defs) == 0 {
		return
	}
	d := defs[0]
	kind, ok := allowed[d.local]
	if !ok {
		b.unsupported(d.local, e.ID, "in "+e.TypeName())
		return
	}
	e.Event = kind
	switch kind {
	case model.EventTimer:
		e.Timer = b.timer(e, d)
	case model.EventMessage:
		e.Message = b.messageRef(e, n, d.attr("messageRef"))
	case model.EventError:
		if ref := d.attr("errorRef"); ref != "" {
			be, ok := b.errors[ref]
			if !ok {
				be = bpmnError{code: ref}
			}
			e.ErrorCode, e.ErrorName = be.code, be.name
		}
	}
}

func (b *builder) timer(e *model.Element, d *node) *model.TimerSpec {
	for _, c := range d.children {
		want, ok := map[string]model.TimerKind{"timeDuration": model.TimeDuration, "timeDate": model.TimeDate, "timeCycle": model.TimeCycle}[c.local]
		if !ok || c.space != nsBPMN {
			continue
		}
		spec, err := model.ParseTimer(c.trimmedText(), want, e.Business)
		if err != nil {
			b.problems = append(b.problems, model.Problem{ElementID: e.ID, ElementType: e.TypeName(), Reason: "bad " + c.local + ": " + err.Error()})
			return nil
		}
		return spec
	}
	return nil
}

func (b *builder) messageRef(e *model.Element, n *node, ref string) *model.MessageSpec {
	if ref == "" {
		return nil
	}
	m, ok := b.messages[ref]
	if !ok {
		b.problems = append(b.problems, model.Problem{ElementID: e.ID, ElementType: e.TypeName(), Reason: "messageRef \"" + ref + "\" is not a message of this definition"})
		return nil
	}
	spec := &model.MessageSpec{Name: m.name, CorrelationRaw: m.correlationKey}
	if k := n.vattr("correlationKey", NSGuanjia); k != "" {
		spec.CorrelationRaw = k
	}
	if spec.CorrelationRaw != "" {
		ce, err := compile(spec.CorrelationRaw)
		if err != nil {
			b.problems = append(b.problems, model.Problem{ElementID: e.ID, ElementType: e.TypeName(), Reason: "correlation key does not compile: " + err.Error()})
		}
		spec.CorrelationKey = ce
	}
	return spec
}

func (b *builder) multiInstance(n *node) *model.MultiInstance {
	mi := &model.MultiInstance{Sequential: n.attr("isSequential") == "true"}
	fail := func(what string, err error) {
		b.problems = append(b.problems, model.Problem{ElementID: n.attr("id"), ElementType: "bpmn:multiInstanceLoopCharacteristics", Reason: what + " does not compile: " + err.Error()})
	}
	compileInto := func(dst **expr.Expr, raw, what string) {
		if strings.TrimSpace(raw) == "" {
			return
		}
		e, err := compile(raw)
		if err != nil {
			fail(what, err)
			return
		}
		*dst = e
	}
	if c := n.child("loopCardinality"); c != nil {
		compileInto(&mi.Cardinality, c.trimmedText(), "loopCardinality")
	}
	if c := n.child("completionCondition"); c != nil {
		compileInto(&mi.CompletionCondition, c.trimmedText(), "completionCondition")
	}
	collection, element := n.vattr("collection", vendors...), n.vattr("elementVariable", vendors...)
	if z := n.extension("loopCharacteristics", nsZeebe); z != nil {
		collection, element = z.vattr("inputCollection", ""), z.vattr("inputElement", "")
	}
	if c := n.child("loopDataInputRef"); c != nil && collection == "" {
		collection = c.trimmedText()
	}
	if c := n.child("inputDataItem"); c != nil && element == "" {
		element = c.attr("name")
	}
	compileInto(&mi.Collection, collection, "collection")
	mi.ElementVariable = element
	return mi
}

// compile compiles a condition or value expression; plain text is read in
// the lenient dialect, which covers the tFormalExpression bodies modelers
// write without ${}.
func compile(raw string) (*expr.Expr, error) {
	return expr.Compile(raw)
}
