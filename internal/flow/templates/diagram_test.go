package templates_test

import (
	"encoding/xml"
	"testing"

	"github.com/guanjia/guanjia/internal/flow/model"
	"github.com/guanjia/guanjia/internal/flow/templates"
)

type box struct {
	X float64 `xml:"x,attr"`
	Y float64 `xml:"y,attr"`
	W float64 `xml:"width,attr"`
	H float64 `xml:"height,attr"`
}

type label struct {
	Bounds box `xml:"Bounds"`
}

type diagram struct {
	Shapes []struct {
		Element string `xml:"bpmnElement,attr"`
		Bounds  box    `xml:"Bounds"`
		Label   *label `xml:"BPMNLabel"`
	} `xml:"BPMNDiagram>BPMNPlane>BPMNShape"`
	Edges []struct {
		Element   string `xml:"bpmnElement,attr"`
		Waypoints []struct {
			X float64 `xml:"x,attr"`
			Y float64 `xml:"y,attr"`
		} `xml:"waypoint"`
		Label *label `xml:"BPMNLabel"`
	} `xml:"BPMNDiagram>BPMNPlane>BPMNEdge"`
}

// overlaps reports whether a and b share any area.
func overlaps(a, b box) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

// onBorder reports whether (x, y) lies on the outline of b.
func onBorder(x, y float64, b box) bool {
	inX, inY := x >= b.X && x <= b.X+b.W, y >= b.Y && y <= b.Y+b.H
	return (inY && (x == b.X || x == b.X+b.W)) || (inX && (y == b.Y || y == b.Y+b.H))
}

// within reports whether e lies inside sub-process s (at any depth).
func within(e, s *model.Element) bool {
	for p := e.Parent; p != nil; p = p.Parent {
		if p == s {
			return true
		}
	}
	return false
}

// mayOverlap allows a sub-process over its content and a boundary event
// over its host.
func mayOverlap(a, b *model.Element) bool {
	return within(a, b) || within(b, a) || a.AttachedTo == b || b.AttachedTo == a
}

// The diagrams must render cleanly in bpmn-js: every element drawn once,
// no shapes on top of each other, labels clear of shapes and of each
// other, flows attached to their ends and drawn square, crossing no shape.
func TestDiagramsAreClean(t *testing.T) {
	for _, tpl := range templates.List() {
		def := mustParse(t, tpl.Key)
		var dg diagram
		if err := xml.Unmarshal(templates.Files()[tpl.File], &dg); err != nil {
			t.Fatal(err)
		}
		shapes := map[string]box{}
		var labels []box
		var labelOf []string
		for _, s := range dg.Shapes {
			if _, dup := shapes[s.Element]; dup {
				t.Errorf("%s: %s drawn twice", tpl.Key, s.Element)
			}
			if s.Bounds.X < 0 || s.Bounds.Y < 0 {
				t.Errorf("%s: %s off the page", tpl.Key, s.Element)
			}
			shapes[s.Element] = s.Bounds
			if s.Label != nil {
				labels, labelOf = append(labels, s.Label.Bounds), append(labelOf, s.Element)
			}
		}
		for id := range def.Elements {
			if _, ok := shapes[id]; !ok {
				t.Errorf("%s: %s is not drawn", tpl.Key, id)
			}
		}
		for id, a := range shapes {
			for id2, b := range shapes {
				if id < id2 && overlaps(a, b) && !mayOverlap(def.Elements[id], def.Elements[id2]) {
					t.Errorf("%s: %s and %s overlap", tpl.Key, id, id2)
				}
			}
		}
		edges := map[string]bool{}
		for _, e := range dg.Edges {
			edges[e.Element] = true
			f := def.Flows[e.Element]
			if f == nil {
				t.Errorf("%s: edge for unknown flow %s", tpl.Key, e.Element)
				continue
			}
			wp := e.Waypoints
			if len(wp) < 2 {
				t.Errorf("%s: %s has %d waypoints", tpl.Key, f.ID, len(wp))
				continue
			}
			if !onBorder(wp[0].X, wp[0].Y, shapes[f.SourceID]) || !onBorder(wp[len(wp)-1].X, wp[len(wp)-1].Y, shapes[f.TargetID]) {
				t.Errorf("%s: %s does not start on %s and end on %s", tpl.Key, f.ID, f.SourceID, f.TargetID)
			}
			for i := 1; i < len(wp); i++ {
				a, b := wp[i-1], wp[i]
				if a.X != b.X && a.Y != b.Y {
					t.Errorf("%s: %s has a slanted segment", tpl.Key, f.ID)
				}
				seg := box{X: min(a.X, b.X), Y: min(a.Y, b.Y), W: max(a.X, b.X) - min(a.X, b.X), H: max(a.Y, b.Y) - min(a.Y, b.Y)}
				for id, s := range shapes {
					el := def.Elements[id]
					if id == f.SourceID || id == f.TargetID || within(f.Source, el) || within(f.Target, el) || f.Source.AttachedTo == el {
						continue
					}
					inner := box{X: s.X + 1, Y: s.Y + 1, W: s.W - 2, H: s.H - 2}
					if overlaps(seg, inner) {
						t.Errorf("%s: %s runs through %s", tpl.Key, f.ID, id)
					}
				}
			}
			if e.Label != nil {
				labels, labelOf = append(labels, e.Label.Bounds), append(labelOf, f.ID)
			}
		}
		for id := range def.Flows {
			if !edges[id] {
				t.Errorf("%s: flow %s is not drawn", tpl.Key, id)
			}
		}
		for i, l := range labels {
			for j := i + 1; j < len(labels); j++ {
				if overlaps(l, labels[j]) {
					t.Errorf("%s: labels of %s and %s overlap", tpl.Key, labelOf[i], labelOf[j])
				}
			}
			for id, s := range shapes {
				el := def.Elements[id]
				if id == labelOf[i] || el.Kind == model.KindSubProcess {
					continue
				}
				if overlaps(l, s) {
					t.Errorf("%s: label of %s covers %s", tpl.Key, labelOf[i], id)
				}
			}
		}
	}
}
