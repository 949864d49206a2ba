package machine

import (
	"reflect"
	"testing"

	"github.com/guanjia/guanjia/internal/flow/yamldef"
)

const yamlRepair = `
key: repair
steps:
  - id: triage
    assignee: ${initiator}
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
    next: wait
  - id: wait
    type: timer
    duration: PT30M
    next: end
  - id: schedule
    candidate_groups: [techs]
`

func TestYAMLRepairBothBranches(t *testing.T) {
	def, err := yamldef.Parse([]byte(yamlRepair), nil)
	if err != nil {
		t.Fatal(err)
	}
	in := start(t, def, map[string]any{"initiator": "li"})
	in.complete("triage", map[string]any{"urgent": true})
	in.completeJob("dispatch", map[string]any{"smsID": "x1"})
	if tm := in.timer("wait"); !tm.At.Equal(t0.Add(30 * 60e9)) {
		t.Fatalf("timer at %v", tm.At)
	}
	in.fire("wait")
	in.wantStatus(StatusCompleted)

	in = start(t, def, map[string]any{"initiator": "li"})
	in.complete("triage", map[string]any{"urgent": false})
	if got := in.openTasks(); !reflect.DeepEqual(got, []string{"schedule"}) {
		t.Fatalf("open %v", got)
	}
	in.apply(in.m.Cancel(def, in.st, "customer withdrew", t0))
	in.wantStatus(StatusCancelled)
	if _, ok := has[TaskCancelled](in.effects); !ok {
		t.Fatal("cancel should withdraw the open task")
	}
}
