package model

// NewDefinition returns an empty definition for a parser to fill with
// AddElement and AddFlow, then Resolve and Validate.
func NewDefinition(key, name string) *Definition {
	return &Definition{Key: key, Name: name, Elements: map[string]*Element{}, Flows: map[string]*SequenceFlow{}}
}

// AddProcess appends a process and returns it.
func (d *Definition) AddProcess(id, name string, executable bool) *Process {
	p := &Process{ID: id, Name: name, Executable: executable}
	d.Processes = append(d.Processes, p)
	return p
}

// AddElement registers e in process p, inside sub-process parent (nil at
// process level). It returns false, adding nothing, when the id is taken.
func (d *Definition) AddElement(p *Process, parent *Element, e *Element) bool {
	if _, dup := d.Elements[e.ID]; dup || e.ID == "" {
		return false
	}
	e.ProcessID = p.ID
	e.Parent = parent
	d.Elements[e.ID] = e
	if parent == nil {
		p.Elements = append(p.Elements, e)
	} else {
		parent.Children = append(parent.Children, e)
	}
	return true
}

// AddFlow registers a sequence flow; flows keep the order they are added in,
// which becomes the order of each source's Outgoing. It returns false when
// the id is taken.
func (d *Definition) AddFlow(p *Process, f *SequenceFlow) bool {
	if _, dup := d.Flows[f.ID]; dup || f.ID == "" {
		return false
	}
	f.ProcessID = p.ID
	f.documentPosition = len(d.Flows)
	d.Flows[f.ID] = f
	return true
}

// Resolve links ids to pointers: flow ends, Incoming and Outgoing, default
// flows and boundary attachments. It returns every dangling or inconsistent
// reference; the definition must not be executed when any is returned.
func (d *Definition) Resolve() Problems {
	var ps Problems
	flows := make([]*SequenceFlow, len(d.Flows))
	for _, f := range d.Flows {
		flows[f.documentPosition] = f
	}
	for _, e := range d.Elements {
		e.Incoming, e.Outgoing, e.Boundaries, e.Default = nil, nil, nil, nil
	}
	for _, f := range flows {
		d.resolveFlow(f, &ps)
	}
	for _, e := range d.sortedElements() {
		d.resolveElement(e, &ps)
	}
	return ps
}

func (d *Definition) resolveFlow(f *SequenceFlow, ps *Problems) {
	bad := func(reason string) {
		*ps = append(*ps, Problem{ElementID: f.ID, ElementType: "bpmn:sequenceFlow", Reason: reason})
	}
	f.Source, f.Target = d.Elements[f.SourceID], d.Elements[f.TargetID]
	switch {
	case f.Source == nil:
		bad("sourceRef " + quote(f.SourceID) + " is not a flow node of this definition")
	case f.Target == nil:
		bad("targetRef " + quote(f.TargetID) + " is not a flow node of this definition")
	case f.Source.Parent != f.Target.Parent || f.Source.ProcessID != f.Target.ProcessID:
		bad("connects nodes of different scopes (" + f.SourceID + " → " + f.TargetID + ")")
	default:
		f.Source.Outgoing = append(f.Source.Outgoing, f)
		f.Target.Incoming = append(f.Target.Incoming, f)
	}
}

func (d *Definition) resolveElement(e *Element, ps *Problems) {
	if e.DefaultID != "" {
		for _, f := range e.Outgoing {
			if f.ID == e.DefaultID {
				e.Default, f.IsDefault = f, true
			}
		}
		if e.Default == nil {
			ps.Add(e, "default flow %s is not one of its outgoing flows", quote(e.DefaultID))
		}
	}
	if e.Kind != KindBoundaryEvent {
		return
	}
	host := d.Elements[e.AttachedToID]
	switch {
	case host == nil:
		ps.Add(e, "attachedToRef %s is not a flow node of this definition", quote(e.AttachedToID))
	case !host.IsActivity():
		ps.Add(e, "attached to %s, which is not an activity", host.TypeName())
	case host.Parent != e.Parent:
		ps.Add(e, "attached to %s in another scope", host.ID)
	default:
		e.AttachedTo = host
		host.Boundaries = append(host.Boundaries, e)
	}
}

// sortedElements returns elements in a stable order (process, then
// document order) so problems and boundary lists are deterministic.
func (d *Definition) sortedElements() []*Element {
	var out []*Element
	var walk func(els []*Element)
	walk = func(els []*Element) {
		for _, e := range els {
			out = append(out, e)
			walk(e.Children)
		}
	}
	for _, p := range d.Processes {
		walk(p.Elements)
	}
	return out
}

// Walk calls fn for every flow node of the definition in process and
// document order, sub-process contents right after the sub-process.
func (d *Definition) Walk(fn func(e *Element)) {
	for _, e := range d.sortedElements() {
		fn(e)
	}
}

func quote(s string) string { return "\"" + s + "\"" }
