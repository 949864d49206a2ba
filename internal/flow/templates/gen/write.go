package main

import (
	"fmt"
	"strings"
)

const header = `<?xml version="1.0" encoding="UTF-8"?>
`

const namespaces = `xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" ` +
	`xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" ` +
	`xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" ` +
	`xmlns:di="http://www.omg.org/spec/DD/20100524/DI" ` +
	`xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
	`xmlns:camunda="http://camunda.org/schema/1.0/bpmn" ` +
	`xmlns:guanjia="http://guanjia.dev/bpmn"`

// render lays p out and writes it as BPMN 2.0 XML with its diagram.
func render(p *process) []byte {
	l := newLayout(p)
	w := &writer{l: l}
	w.printf(0, "%s", header)
	w.comment(0, p.Comment)
	w.printf(0, `<bpmn:definitions %s id="Definitions_%s" targetNamespace="http://guanjia.dev/bpmn/templates" exporter="guanjia internal/flow/templates/gen" exporterVersion="1">`+"\n", namespaces, p.Key)
	w.printf(1, `<bpmn:process id="%s" name="%s" isExecutable="true">`+"\n", p.Key, attr(p.Name))
	w.doc(2, p.Doc)
	for _, row := range p.Rows {
		for _, n := range row {
			w.node(2, n)
		}
	}
	for _, d := range p.Deadlines {
		w.node(2, d.Boundary)
		w.node(2, d.Task)
		w.node(2, d.End)
	}
	w.flows(2, nil)
	w.printf(1, "</bpmn:process>\n")
	w.diagram()
	w.printf(0, "</bpmn:definitions>\n")
	return []byte(w.b.String())
}

type writer struct {
	l *layout
	b strings.Builder
}

func (w *writer) printf(depth int, format string, args ...any) {
	w.b.WriteString(strings.Repeat("  ", depth))
	fmt.Fprintf(&w.b, format, args...)
}

func (w *writer) comment(depth int, text string) {
	if text == "" {
		return
	}
	if strings.Contains(text, "--") {
		panic("gen: XML comment contains --: " + text)
	}
	w.printf(depth, "<!-- %s -->\n", text)
}

func (w *writer) doc(depth int, text string) {
	if text != "" {
		w.printf(depth, "<bpmn:documentation>%s</bpmn:documentation>\n", esc(text))
	}
}

func (w *writer) node(depth int, n *node) {
	w.comment(depth, n.Comment)
	switch n.Kind {
	case kindStart, kindEnd:
		tag := map[kind]string{kindStart: "startEvent", kindEnd: "endEvent"}[n.Kind]
		w.leaf(depth, tag, n, "")
	case kindXOR:
		extra := ""
		for _, f := range w.l.p.Flows {
			if f.From == n.ID && f.Default {
				extra = fmt.Sprintf(` default="%s"`, f.ID)
			}
		}
		w.leaf(depth, "exclusiveGateway", n, extra)
	case kindUser:
		w.userTask(depth, n)
	case kindSub:
		w.printf(depth, `<bpmn:subProcess id="%s" name="%s">`+"\n", n.ID, attr(n.Name))
		w.doc(depth+1, n.Doc)
		for _, c := range n.Children {
			w.node(depth+1, c)
		}
		w.flows(depth+1, n)
		w.printf(depth, "</bpmn:subProcess>\n")
	case kindBoundary:
		w.printf(depth, `<bpmn:boundaryEvent id="%s" name="%s" attachedToRef="%s" cancelActivity="false" guanjia:calendar="business">`+"\n",
			n.ID, attr(n.Name), n.Host)
		w.doc(depth+1, n.Doc)
		w.printf(depth+1, `<bpmn:timerEventDefinition id="%s_timer">`+"\n", n.ID)
		w.printf(depth+2, `<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">%s</bpmn:timeDuration>`+"\n", esc(n.Timer))
		w.printf(depth+1, "</bpmn:timerEventDefinition>\n")
		w.printf(depth, "</bpmn:boundaryEvent>\n")
	}
}

// leaf writes an element whose only possible child is its documentation.
func (w *writer) leaf(depth int, tag string, n *node, extra string) {
	name := ""
	if n.Name != "" {
		name = fmt.Sprintf(` name="%s"`, attr(n.Name))
	}
	if n.Doc == "" {
		w.printf(depth, `<bpmn:%s id="%s"%s%s />`+"\n", tag, n.ID, name, extra)
		return
	}
	w.printf(depth, `<bpmn:%s id="%s"%s%s>`+"\n", tag, n.ID, name, extra)
	w.doc(depth+1, n.Doc)
	w.printf(depth, "</bpmn:%s>\n", tag)
}

func (w *writer) userTask(depth int, n *node) {
	t := n.Task
	var a strings.Builder
	if t.Assignee != "" {
		fmt.Fprintf(&a, ` camunda:assignee="%s"`, attr(t.Assignee))
	}
	fmt.Fprintf(&a, ` camunda:candidateGroups="%s"`, attr(t.Groups))
	if t.Due != "" {
		fmt.Fprintf(&a, ` camunda:dueDate="%s" guanjia:calendar="business"`, attr(t.Due))
	}
	w.printf(depth, `<bpmn:userTask id="%s" name="%s"%s>`+"\n", n.ID, attr(n.Name), a.String())
	w.doc(depth+1, n.Doc)
	w.printf(depth+1, "<bpmn:extensionElements>\n")
	if t.NextSteps != "" {
		w.printf(depth+2, "<guanjia:nextSteps>%s</guanjia:nextSteps>\n", esc(t.NextSteps))
	}
	if t.Materials != "" {
		w.printf(depth+2, "<guanjia:materials>%s</guanjia:materials>\n", esc(t.Materials))
	}
	for _, f := range t.Fields {
		values := ""
		if f.Values != "" {
			values = fmt.Sprintf(` values="%s"`, attr(f.Values))
		}
		w.printf(depth+2, `<guanjia:formField id="%s" label="%s" type="%s"%s required="%t" />`+"\n", f.ID, attr(f.Label), f.Type, values, f.Required)
	}
	w.printf(depth+1, "</bpmn:extensionElements>\n")
	if c := t.Countersign; c != nil {
		w.printf(depth+1, `<bpmn:multiInstanceLoopCharacteristics camunda:collection="%s" camunda:elementVariable="%s">`+"\n", attr(c.Collection), c.ElementVariable)
		w.printf(depth+2, `<bpmn:completionCondition xsi:type="bpmn:tFormalExpression">%s</bpmn:completionCondition>`+"\n", esc(c.CompletionCondition))
		w.printf(depth+1, "</bpmn:multiInstanceLoopCharacteristics>\n")
	}
	w.printf(depth, "</bpmn:userTask>\n")
}

// flows writes the flows whose source lies directly in scope (nil: the
// process level).
func (w *writer) flows(depth int, scope *node) {
	for _, f := range w.l.p.Flows {
		if w.l.nodes[f.From].parent != scope {
			continue
		}
		name := ""
		if f.Name != "" {
			name = fmt.Sprintf(` name="%s"`, attr(f.Name))
		}
		if f.Cond == "" {
			w.printf(depth, `<bpmn:sequenceFlow id="%s"%s sourceRef="%s" targetRef="%s" />`+"\n", f.ID, name, f.From, f.To)
			continue
		}
		w.printf(depth, `<bpmn:sequenceFlow id="%s"%s sourceRef="%s" targetRef="%s">`+"\n", f.ID, name, f.From, f.To)
		w.printf(depth+1, `<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">%s</bpmn:conditionExpression>`+"\n", esc(f.Cond))
		w.printf(depth, "</bpmn:sequenceFlow>\n")
	}
}

func (w *writer) diagram() {
	p := w.l.p
	w.printf(1, `<bpmndi:BPMNDiagram id="BPMNDiagram_%s">`+"\n", p.Key)
	w.printf(2, `<bpmndi:BPMNPlane id="BPMNPlane_%s" bpmnElement="%s">`+"\n", p.Key, p.Key)
	var shapes func(ns []*node)
	shapes = func(ns []*node) {
		for _, n := range ns {
			w.shape(n)
			shapes(n.Children)
		}
	}
	for _, row := range p.Rows {
		shapes(row)
	}
	for _, d := range p.Deadlines {
		shapes([]*node{d.Boundary, d.Task, d.End})
	}
	for _, f := range p.Flows {
		w.edge(f)
	}
	w.printf(2, "</bpmndi:BPMNPlane>\n")
	w.printf(1, "</bpmndi:BPMNDiagram>\n")
}

func (w *writer) shape(n *node) {
	expanded := ""
	if n.Kind == kindSub {
		expanded = ` isExpanded="true"`
	}
	w.printf(3, `<bpmndi:BPMNShape id="%s_di" bpmnElement="%s"%s>`+"\n", n.ID, n.ID, expanded)
	w.bounds(4, n.bounds())
	if lb, ok := nodeLabel(n); ok {
		w.label(4, lb)
	}
	w.printf(3, "</bpmndi:BPMNShape>\n")
}

func (w *writer) edge(f flow) {
	wp := w.l.waypoints(f)
	w.printf(3, `<bpmndi:BPMNEdge id="%s_di" bpmnElement="%s">`+"\n", f.ID, f.ID)
	for _, pt := range wp {
		w.printf(4, `<di:waypoint x="%d" y="%d" />`+"\n", pt.X, pt.Y)
	}
	if lb, ok := w.l.flowLabel(f, wp); ok {
		w.label(4, lb)
	}
	w.printf(3, "</bpmndi:BPMNEdge>\n")
}

func (w *writer) bounds(depth int, r rect) {
	w.printf(depth, `<dc:Bounds x="%d" y="%d" width="%d" height="%d" />`+"\n", r.X, r.Y, r.W, r.H)
}

func (w *writer) label(depth int, r rect) {
	w.printf(depth, "<bpmndi:BPMNLabel>\n")
	w.bounds(depth+1, r)
	w.printf(depth, "</bpmndi:BPMNLabel>\n")
}

var (
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
)

func esc(s string) string { return textEscaper.Replace(s) }

func attr(s string) string { return attrEscaper.Replace(s) }
