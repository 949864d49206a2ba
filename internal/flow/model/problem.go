package model

import (
	"fmt"
	"sort"
	"strings"
)

// ReasonUnsupported is the Reason of a Problem about an element we do not
// execute.
const ReasonUnsupported = "unsupported element"

// Problem is one reason a definition cannot be deployed.
type Problem struct {
	ElementID   string // "" for problems of the whole file
	ElementType string // with the bpmn: prefix, e.g. "bpmn:eventBasedGateway"
	Reason      string
	// In qualifies an unsupported element: "in bpmn:endEvent" for an event
	// definition on an event, "as event sub-process"; "" otherwise.
	In string
}

// String renders the problem for people; unsupported elements read exactly
// "unsupported element bpmn:eventBasedGateway (Gateway_1x2)".
func (p Problem) String() string {
	if p.Reason == ReasonUnsupported {
		s := fmt.Sprintf("unsupported element %s (%s)", p.ElementType, p.ElementID)
		if p.In != "" {
			s += " " + p.In
		}
		return s
	}
	if p.ElementID == "" && p.ElementType == "" {
		return p.Reason
	}
	return fmt.Sprintf("%s (%s): %s", p.ElementType, p.ElementID, p.Reason)
}

// Problems is every problem found in a definition. As an error it lists
// them all; deploy never proceeds while it is non-empty.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return "flow: definition has " + fmt.Sprint(len(ps)) + " problem(s): " + strings.Join(lines, "; ")
}

// Unsupported returns the String of every unsupported-element problem,
// sorted, which is what tests and the deploy screen compare.
func (ps Problems) Unsupported() []string {
	var out []string
	for _, p := range ps {
		if p.Reason == ReasonUnsupported {
			out = append(out, p.String())
		}
	}
	sort.Strings(out)
	return out
}

// Err returns ps as an error, or nil when there are no problems.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// Add appends a problem about element e.
func (ps *Problems) Add(e *Element, format string, args ...any) {
	*ps = append(*ps, Problem{ElementID: e.ID, ElementType: e.TypeName(), Reason: fmt.Sprintf(format, args...)})
}
