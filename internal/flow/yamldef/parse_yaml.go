// Package yamldef compiles the small YAML form of a process, for
// definitions written by hand, into the same executable model as BPMN.
//
// Example:
//
//	key: repair
//	name: Repair request
//	steps:
//	  - id: triage                  # type defaults to userTask
//	    name: Triage the request
//	    assignee: ${initiator}
//	    candidate_groups: [butlers]
//	    due: business:PT4H          # business: prefix = business time
//	    next_steps: A butler will call you within 4 working hours.
//	    materials: Photos of the problem.
//	    form:
//	      - {id: urgent, label: "Urgent?", type: boolean, required: true}
//	  - id: route
//	    type: exclusive
//	    branches:
//	      - {when: "${urgent}", next: dispatch}
//	      - {next: schedule}        # no condition: the default branch
//	  - id: dispatch
//	    type: serviceTask
//	    job_type: sms
//	    next: end
//	  - id: schedule
//	    candidate_groups: [techs]
//
// Rules: a step's "next" is a step id, a list of ids (parallel fork) or
// "end"; omitted, it is the following step, or the end after the last
// step. Types: userTask, manualTask, serviceTask (job_type), receiveTask
// (message, correlation_key), timer (duration or date), exclusive
// (branches), parallel (joins when several steps lead to it), end.
package yamldef

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/guanjia/guanjia/internal/flow/model"
)

// Form is the YAML document.
type Form struct {
	Key   string `yaml:"key"`
	Name  string `yaml:"name"`
	Steps []Step `yaml:"steps"`
}

// Step is one node of the YAML form.
type Step struct {
	ID              string     `yaml:"id"`
	Type            string     `yaml:"type"`
	Name            string     `yaml:"name"`
	Assignee        string     `yaml:"assignee"`
	CandidateUsers  []string   `yaml:"candidate_users"`
	CandidateGroups []string   `yaml:"candidate_groups"`
	Due             string     `yaml:"due"`
	FollowUp        string     `yaml:"follow_up"`
	Priority        string     `yaml:"priority"`
	FormKey         string     `yaml:"form_key"`
	NextSteps       string     `yaml:"next_steps"`
	Materials       string     `yaml:"materials"`
	Documentation   string     `yaml:"documentation"`
	Form            []Field    `yaml:"form"`
	JobType         string     `yaml:"job_type"`
	Message         string     `yaml:"message"`
	CorrelationKey  string     `yaml:"correlation_key"`
	Duration        string     `yaml:"duration"`
	Date            string     `yaml:"date"`
	Branches        []Branch   `yaml:"branches"`
	Next            StringList `yaml:"next"`
}

// Field is a form field of a user task.
type Field struct {
	ID       string   `yaml:"id"`
	Label    string   `yaml:"label"`
	Type     string   `yaml:"type"`
	Required bool     `yaml:"required"`
	Values   []string `yaml:"values"`
}

// Branch is one way out of an exclusive step; without When it is the
// default.
type Branch struct {
	When string `yaml:"when"`
	Next string `yaml:"next"`
}

// StringList accepts a single string or a list of strings.
type StringList []string

// UnmarshalYAML reads a scalar or a sequence; it returns an error for maps.
func (s *StringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*s = StringList{n.Value}
		return nil
	case yaml.SequenceNode:
		var list []string
		if err := n.Decode(&list); err != nil {
			return err
		}
		*s = list
		return nil
	}
	return fmt.Errorf("yamldef: next must be a string or a list (line %d)", n.Line)
}

// Parse compiles a YAML form into a resolved, validated definition.
// knownJobType is as for bpmn.Options (nil accepts every type). It returns
// model.Problems listing every problem, including YAML syntax errors.
func Parse(data []byte, knownJobType func(string) bool) (*model.Definition, error) {
	var f Form
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, model.Problems{{Reason: "yamldef: " + err.Error()}}
	}
	c := &compiler{form: &f}
	def := c.compile()
	ps := c.problems
	ps = append(ps, def.Resolve()...)
	ps = append(ps, def.Validate(knownJobType)...)
	if len(ps) > 0 {
		return nil, ps
	}
	return def, nil
}
