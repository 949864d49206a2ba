package model

// Validate checks that the resolved definition can run. knownJobType says
// whether a service-like task type has a registered handler; nil accepts
// every type. It returns every problem found (nil when none).
func (d *Definition) Validate(knownJobType func(typ string) bool) Problems {
	var ps Problems
	if len(d.Processes) == 0 {
		ps = append(ps, Problem{Reason: "no process in definition"})
	}
	for _, p := range d.Processes {
		if len(p.StartEvents()) == 0 {
			ps = append(ps, Problem{ElementID: p.ID, ElementType: "bpmn:process", Reason: "process has no start event"})
		}
	}
	d.Walk(func(e *Element) { validateElement(e, knownJobType, &ps) })
	return ps
}

func validateElement(e *Element, knownJobType func(string) bool, ps *Problems) {
	validateShape(e, ps)
	validateEvent(e, ps)
	if e.Job != nil && knownJobType != nil && !knownJobType(e.Job.Type) {
		if e.Job.Type == "" {
			ps.Add(e, "no task type given (camunda:type, zeebe:taskDefinition, guanjia:type ...)")
		} else {
			ps.Add(e, "unknown task type %s", quote(e.Job.Type))
		}
	}
	if mi := e.MultiInstance; mi != nil {
		if mi.Cardinality != nil && mi.Collection != nil {
			ps.Add(e, "multi-instance has both loopCardinality and a collection")
		}
		if e.Kind == KindUserTask && mi.Cardinality == nil && mi.Collection == nil {
			ps.Add(e, "multi-instance user task needs a collection or loopCardinality to know how many people act")
		}
	}
	if e.Kind == KindSubProcess && e.StartEvent() == nil && len(e.Children) > 0 {
		ps.Add(e, "sub-process has no none start event")
	}
}

func validateShape(e *Element, ps *Problems) {
	switch e.Kind {
	case KindStartEvent:
		if len(e.Incoming) > 0 {
			ps.Add(e, "start event has incoming flows")
		}
		if e.Parent != nil && e.Event != EventNone {
			ps.Add(e, "a start event of an embedded sub-process must be a none start event")
		}
	case KindEndEvent:
		if len(e.Outgoing) > 0 {
			ps.Add(e, "end event has outgoing flows")
		}
	case KindBoundaryEvent:
		if len(e.Incoming) > 0 {
			ps.Add(e, "boundary event has incoming flows")
		}
	case KindExclusiveGateway, KindParallelGateway:
		if len(e.Outgoing) == 0 {
			ps.Add(e, "gateway has no outgoing flow")
		}
	}
}

func validateEvent(e *Element, ps *Problems) {
	switch e.Event {
	case EventTimer:
		if e.Timer == nil {
			ps.Add(e, "timer event has no timeDuration, timeDate or timeCycle")
		}
	case EventMessage:
		if e.Message == nil || e.Message.Name == "" {
			ps.Add(e, "message event has no message name")
		}
	case EventError:
		if e.Kind == KindBoundaryEvent && !e.CancelActivity {
			ps.Add(e, "error boundary events are always interrupting")
		}
	}
	if e.Kind == KindReceiveTask && (e.Message == nil || e.Message.Name == "") {
		ps.Add(e, "receive task has no message name")
	}
	if e.Kind == KindIntermediateCatchEvent && e.Event == EventNone {
		ps.Add(e, "intermediate catch event has no event definition")
	}
}
