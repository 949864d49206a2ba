package yamldef

import (
	"errors"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/flow/model"
)

const repair = `
key: repair
name: Repair request
steps:
  - id: triage
    name: Triage the request
    assignee: ${initiator}
    candidate_groups: [butlers]
    due: business:PT4H
    next_steps: A butler will call you.
    materials: Photos of the problem.
    form:
      - {id: urgent, label: "Urgent?", type: boolean, required: true}
  - id: route
    type: exclusive
    branches:
      - {when: "${urgent}", next: fork}
      - {next: schedule}
  - id: fork
    type: parallel
    next: [dispatch, notify]
  - id: dispatch
    type: serviceTask
    job_type: sms
    next: join
  - id: notify
    type: manualTask
    next: join
  - id: join
    type: parallel
    next: end
  - id: schedule
    candidate_groups: [techs]
    due: P1D
`

func TestParseRepair(t *testing.T) {
	def, err := Parse([]byte(repair), nil)
	if err != nil {
		t.Fatal(err)
	}
	tri := def.Elements["triage"].Human
	if tri.Assignee.Expr == nil || !tri.Due.Business || len(tri.FormFields) != 1 || tri.Materials == "" {
		t.Fatalf("triage %+v", tri)
	}
	if r := def.Elements["route"]; r.Default == nil || r.Default.TargetID != "schedule" || len(r.Outgoing) != 2 {
		t.Fatalf("route %+v", r)
	}
	if j := def.Elements["join"]; len(j.Incoming) != 2 {
		t.Fatalf("join incoming %d", len(j.Incoming))
	}
	if s := def.Elements["schedule"]; len(s.Outgoing) != 1 || s.Outgoing[0].TargetID != "end" {
		t.Fatal("last step should lead to the end")
	}
}

func TestParseProblems(t *testing.T) {
	_, err := Parse([]byte(`
key: bad
steps:
  - id: a
    type: teleport
  - id: b
    type: exclusive
    branches: [{when: "${x +}", next: nowhere}]
  - id: c
    type: serviceTask
    job_type: fax
`), func(typ string) bool { return typ == "sms" })
	var ps model.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{`unknown step type "teleport"`, `condition "${x +}"`, `targetRef "nowhere"`, `unknown task type "fax"`} {
		if !strings.Contains(ps.Error(), want) {
			t.Errorf("missing %q in %v", want, ps)
		}
	}
}

func FuzzParseYAML(f *testing.F) {
	f.Add([]byte(repair))
	f.Add([]byte("key: k\nsteps:\n  - id: a\n"))
	f.Add([]byte("key: k\nsteps: [{id: a, next: [b, c]}, {id: b}, {id: c, type: end}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		def, err := Parse(data, nil)
		if err != nil {
			var ps model.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error is not a problem list: %v", err)
			}
			return
		}
		if ps := def.Resolve(); len(ps) > 0 {
			t.Fatalf("re-resolve: %v", ps)
		}
		if ps := def.Validate(nil); len(ps) > 0 {
			t.Fatalf("re-validate: %v", ps)
		}
	})
}
