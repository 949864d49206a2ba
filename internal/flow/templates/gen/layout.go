package main

import (
	"fmt"
	"unicode/utf8"
)

// Sizes follow bpmn-js defaults so a re-saved file looks the same.
const (
	taskW, taskH = 100, 80
	gwSize       = 50
	evSize       = 36
	gap          = 50  // between top-level nodes of a row
	innerGap     = 40  // between the nodes inside a sub-process
	subPadX      = 20  // a sub-process's left and right padding
	subTop       = 90  // from a sub-process's top to its tasks: room for its name, a loop lane and its label
	subBottom    = 40  // below a sub-process's tasks
	rowLeft      = 100 // x of every row's first node
	pageTop      = 40
	laneAbove    = 25 // a back edge runs this far above what it passes over
	wrapIndent   = 30 // a row-wrapping edge enters the next row from this far left
	charWidth    = 12 // a CJK character in bpmn-js's 12px label font
	lineHeight   = 14
	labelWidth   = 90
)

type point struct{ X, Y int }

type rect struct{ X, Y, W, H int }

// layout gives every node of p its bounds. Rows are stacked top to bottom;
// a row's nodes share one centre line, so the main flow is straight, and a
// sub-process's tasks sit on the same line as the row.
type layout struct {
	p     *process
	nodes map[string]*node
	cy    []int // centre line of each row
	wrapY []int // where an edge wrapping to the next row runs
}

func newLayout(p *process) *layout {
	l := &layout{p: p, nodes: map[string]*node{}}
	for r, row := range p.Rows {
		for _, n := range row {
			l.add(n, nil, r)
		}
	}
	for _, d := range p.Deadlines {
		host := l.nodes[d.Boundary.Host]
		if host == nil || host.parent != nil {
			panic(fmt.Sprintf("gen: %s: deadline host %q must be a top-level node", p.Key, d.Boundary.Host))
		}
		for _, n := range []*node{d.Boundary, d.Task, d.End} {
			l.add(n, nil, host.row)
		}
	}
	l.size()
	l.place()
	return l
}

func (l *layout) add(n, parent *node, row int) {
	if l.nodes[n.ID] != nil {
		panic("gen: duplicate id " + n.ID)
	}
	n.parent, n.row = parent, row
	l.nodes[n.ID] = n
	for _, c := range n.Children {
		l.add(c, n, row)
	}
}

func (l *layout) size() {
	for _, n := range l.nodes {
		switch n.Kind {
		case kindStart, kindEnd, kindBoundary:
			n.w, n.h = evSize, evSize
		case kindXOR:
			n.w, n.h = gwSize, gwSize
		case kindUser:
			n.w, n.h = taskW, taskH
		case kindSub:
			n.w, n.h = 2*subPadX-innerGap, subTop+taskH+subBottom
			for _, c := range n.Children {
				n.w += widthOf(c) + innerGap
			}
		}
	}
}

func widthOf(n *node) int {
	switch n.Kind {
	case kindXOR:
		return gwSize
	case kindUser:
		return taskW
	}
	return evSize
}

// above and below are how far a node reaches from its row's centre line,
// leaving room for loop lanes, labels and the 督办 tasks hanging below.
func above(n *node) int {
	if n.Kind == kindSub {
		return subTop + taskH/2
	}
	return n.h / 2
}

func (l *layout) place() {
	prevWrap := 0
	for r, row := range l.p.Rows {
		top, bottom := 0, 0
		for _, n := range row {
			top = max(top, above(n))
			bottom = max(bottom, n.h-above(n)+3*lineHeight)
		}
		for _, d := range l.p.Deadlines {
			if h := l.nodes[d.Boundary.Host]; h.row == r {
				bottom = max(bottom, h.h-above(h)+evSize/2+40+taskH)
			}
		}
		cy := pageTop + top + laneAbove + 2*lineHeight
		if r > 0 {
			cy = prevWrap + wrapIndent + top + laneAbove + 2*lineHeight
		}
		x := rowLeft
		for _, n := range row {
			l.put(n, x, cy)
			x += n.w + gap
		}
		l.cy = append(l.cy, cy)
		prevWrap = cy + bottom + 20
		l.wrapY = append(l.wrapY, prevWrap)
	}
	for _, d := range l.p.Deadlines {
		l.hang(d)
	}
}

// put places n with its left edge at x on centre line cy, and a
// sub-process's children inside it.
func (l *layout) put(n *node, x, cy int) {
	n.x, n.y = x, cy-above(n)
	if n.Kind != kindSub {
		return
	}
	cx := x + subPadX
	for _, c := range n.Children {
		l.put(c, cx, cy)
		cx += c.w + innerGap
	}
}

// hang draws a deadline: the timer on the host's lower edge, the 督办 task
// below it and its end event to the right, all within the host's width
// where the host is a sub-process.
func (l *layout) hang(d deadline) {
	h := l.nodes[d.Boundary.Host]
	bcx := h.x + 70
	if h.Kind == kindSub {
		bcx = h.x + h.w - 150
	}
	b := d.Boundary
	b.x, b.y = bcx-evSize/2, h.y+h.h-evSize/2
	t := d.Task
	t.x, t.y = bcx-taskW/2, h.y+h.h+evSize/2+40
	e := d.End
	e.x, e.y = t.x+t.w+40, t.y+t.h/2-evSize/2
}

func (n *node) bounds() rect { return rect{n.x, n.y, n.w, n.h} }

func (n *node) cx() int { return n.x + n.w/2 }

// cy is the centre line a node's flows attach at: a sub-process's is its
// tasks' line, not its middle.
func (n *node) cy() int { return n.y + above(n) }

func (n *node) right() int { return n.x + n.w }

func (n *node) bottom() int { return n.y + n.h }

// waypoints routes a flow: straight along a row, over the top for a loop
// back, down and round the left for a flow wrapping to the next row, and
// straight down from a boundary event.
func (l *layout) waypoints(f flow) []point {
	s, t := l.nodes[f.From], l.nodes[f.To]
	if s == nil || t == nil {
		panic(fmt.Sprintf("gen: %s: flow %s joins unknown nodes", l.p.Key, f.ID))
	}
	switch {
	case s.Kind == kindBoundary:
		return []point{{s.cx(), s.bottom()}, {s.cx(), t.y}}
	case s.row == t.row && s.cy() == t.cy() && t.x > s.x:
		return []point{{s.right(), s.cy()}, {t.x, t.cy()}}
	case s.row == t.row && t.x < s.x:
		lane := l.lane(s, t)
		return []point{{s.cx(), s.y}, {s.cx(), lane}, {t.cx(), lane}, {t.cx(), t.y}}
	case t.row == s.row+1:
		rx, wy, lx := s.right()+25, l.wrapY[s.row], t.x-wrapIndent
		return []point{{s.right(), s.cy()}, {rx, s.cy()}, {rx, wy}, {lx, wy}, {lx, t.cy()}, {t.x, t.cy()}}
	}
	panic(fmt.Sprintf("gen: %s: no route for flow %s", l.p.Key, f.ID))
}

// lane is the height a loop back from s to t runs at: just inside the top
// of their sub-process, or just above the tallest node it passes over.
func (l *layout) lane(s, t *node) int {
	if s.parent != nil {
		return s.parent.y + 50
	}
	top := min(s.y, t.y)
	for _, n := range l.p.Rows[s.row] {
		if n.right() >= t.x && n.x <= s.right() {
			top = min(top, n.y)
		}
	}
	return top - laneAbove
}

// nodeLabel is where an event's or gateway's name goes: centred below it,
// or beside a boundary event so the flow leaving downwards stays clear.
func nodeLabel(n *node) (rect, bool) {
	if n.Name == "" || n.Kind == kindUser || n.Kind == kindSub {
		return rect{}, false
	}
	if n.Kind == kindBoundary {
		return rect{n.right() + 2, n.bottom() + 2, textWidth(n.Name), lineHeight}, true
	}
	lines := (textWidth(n.Name) + labelWidth - 1) / labelWidth
	return rect{n.cx() - labelWidth/2, n.bottom() + 5, labelWidth, lines * lineHeight}, true
}

// flowLabel puts a flow's name beside its first segment.
func (l *layout) flowLabel(f flow, wp []point) (rect, bool) {
	if f.Name == "" {
		return rect{}, false
	}
	w := textWidth(f.Name)
	switch len(wp) {
	case 4: // loop back: above the lane
		return rect{wp[2].X + 10, wp[1].Y - lineHeight - 4, w, lineHeight}, true
	case 6: // wrap: right of the way down
		return rect{wp[1].X + 6, wp[1].Y + 6, w, lineHeight}, true
	}
	return rect{wp[0].X + 4, wp[0].Y - lineHeight - 6, w, lineHeight}, true
}

func textWidth(s string) int { return utf8.RuneCountInString(s) * charWidth }
