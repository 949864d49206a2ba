package flow_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow"
)

const repairYAML = `
key: repair
name: 报修
steps:
  - id: triage
    name: 受理
    candidate_groups: [butler]
    due: PT10M
    form:
      - {id: urgent, label: 紧急, type: boolean, required: true}
  - id: route
    type: exclusive
    branches:
      - {when: "${urgent}", next: fix_now}
      - {next: fix}
  - id: fix_now
    name: 紧急维修
    assignee: technician
    due: PT30M
    next: visit
  - id: fix
    name: 维修
    candidate_groups: [technician]
    due: business:P1D
    next: visit
  - id: visit
    name: 回访
    candidate_groups: [butler]
`

// as returns a context acting as a demo user, as the web layer builds it.
func as(t *testing.T, e *apptest.Env, username string) context.Context {
	t.Helper()
	p, err := e.App.Auth.LoadPrincipal(context.Background(), e.StaffID(username))
	if err != nil {
		t.Fatal(err)
	}
	ctx := auth.WithPrincipal(context.Background(), p)
	return audit.WithActor(ctx, audit.Actor{ID: p.StaffID, Name: p.Username})
}

func TestRepairFlowThroughInboxes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		eng := e.App.Flow
		admin, butler, tech := as(t, e, "admin"), as(t, e, "butler"), as(t, e, "technician")
		def, err := eng.Deploy(admin, []byte(repairYAML))
		if err != nil {
			t.Fatal(err)
		}
		if def.Version != 1 || def.Key != "repair" {
			t.Fatalf("deployed %+v", def)
		}
		garden := e.SiteID("示例花园")
		started, err := eng.Start(butler, flow.StartInput{DefinitionKey: "repair", BusinessKey: "BX-1", SiteID: &garden, Variables: map[string]any{"unit": "1-0101"}})
		if err != nil {
			t.Fatal(err)
		}
		// The butler may claim the triage; the technician may not.
		claimable, err := eng.ListTasks(butler, flow.TaskFilter{View: "claimable", Key: "repair"})
		if err != nil || len(claimable.Items) != 1 || claimable.Items[0].ElementID != "triage" {
			t.Fatalf("butler claimable: %+v %v", claimable, err)
		}
		if c, _ := eng.ListTasks(tech, flow.TaskFilter{View: "claimable", Key: "repair"}); len(c.Items) != 0 {
			t.Fatalf("technician sees triage: %+v", c.Items)
		}
		// The hotel's attendant would not either: scope is the subtree. (The
		// demo data has cases of its own in the pools, hence the filter by key.)
		if c, _ := eng.ListTasks(as(t, e, "attendant"), flow.TaskFilter{View: "claimable", Key: "repair"}); len(c.Items) != 0 {
			t.Fatal("attendant sees the garden's task")
		}
		triage := claimable.Items[0]
		if triage.DueAt == nil || triage.DueAt.Sub(triage.CreatedAt) != 10*time.Minute {
			t.Fatalf("triage due: %v", triage.DueAt)
		}
		if err := eng.Claim(tech, triage.ID); errs.CodeOf(err) != errs.EForbidden && errs.CodeOf(err) != errs.ENotFound {
			t.Fatalf("technician claim: %v", err)
		}
		if err := eng.Claim(butler, triage.ID); err != nil {
			t.Fatal(err)
		}
		mine, _ := eng.ListTasks(butler, flow.TaskFilter{Key: "repair"})
		if len(mine.Items) != 1 || mine.Items[0].ID != triage.ID {
			t.Fatalf("mine: %+v", mine.Items)
		}
		// The form is enforced: urgent is required and boolean.
		err = eng.Complete(butler, triage.ID, map[string]any{"urgent": "yes"})
		if e, ok := err.(*errs.Error); !ok || e.Fields["variables.urgent"] == "" {
			t.Fatalf("bad form: %v", err)
		}
		if err := eng.Complete(butler, triage.ID, map[string]any{}); errs.CodeOf(err) != errs.EInvalid {
			t.Fatalf("missing field: %v", err)
		}
		if err := eng.Complete(butler, triage.ID, map[string]any{"urgent": true}); err != nil {
			t.Fatal(err)
		}
		// Urgent: assigned straight to the technician by username.
		mineTech, _ := eng.ListTasks(tech, flow.TaskFilter{Key: "repair"})
		if len(mineTech.Items) != 1 || mineTech.Items[0].ElementID != "fix_now" {
			t.Fatalf("technician inbox: %+v", mineTech.Items)
		}
		if err := eng.Complete(butler, mineTech.Items[0].ID, nil); errs.CodeOf(err) != errs.EConflict && errs.CodeOf(err) != errs.ENotFound {
			t.Fatalf("butler completes the technician's task: %v", err)
		}
		if err := eng.Comment(tech, mineTech.Items[0].ID, "reply", "已到场，更换水龙头"); err != nil {
			t.Fatal(err)
		}
		if err := eng.Complete(tech, mineTech.Items[0].ID, map[string]any{"minutes": 25}); err != nil {
			t.Fatal(err)
		}
		// A candidate may complete an unclaimed task in one go.
		c, _ := eng.ListTasks(butler, flow.TaskFilter{View: "claimable", Key: "repair"})
		if len(c.Items) != 1 || c.Items[0].ElementID != "visit" {
			t.Fatalf("visit: %+v", c.Items)
		}
		if err := eng.Complete(butler, c.Items[0].ID, map[string]any{"satisfied": true}); err != nil {
			t.Fatal(err)
		}
		v, err := eng.Get(admin, started.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.State != "completed" || v.EndedAt == nil || len(v.ActiveElements) != 0 {
			t.Fatalf("instance: %+v", v.Instance)
		}
		kinds := map[string]int{}
		for _, h := range v.Timeline {
			kinds[h.Kind]++
		}
		for _, k := range []string{"instance_started", "task_created", "task_claimed", "task_completed", "reply", "variables", "instance_ended"} {
			if kinds[k] == 0 {
				t.Errorf("timeline lacks %s: %v", k, kinds)
			}
		}
		if v.Variables["urgent"] != true || v.Variables["satisfied"] != true {
			t.Fatalf("variables: %v", v.Variables)
		}
		// Completed tasks cannot be completed twice.
		if err := eng.Complete(butler, c.Items[0].ID, nil); errs.CodeOf(err) != errs.EConflict {
			t.Fatalf("second completion: %v", err)
		}
	})
}

func TestDeployRejectsUnsupportedWithElementIDs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		before := e.Count("flow_definitions") // the shipped templates
		src := `<?xml version="1.0"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<process id="p" isExecutable="true"><startEvent id="s"/><sequenceFlow id="f" sourceRef="s" targetRef="Gateway_1x2"/>
<eventBasedGateway id="Gateway_1x2"/></process></definitions>`
		_, err := e.App.Flow.Deploy(as(t, e, "admin"), []byte(src))
		var ee *errs.Error
		if !asErr(err, &ee) || ee.Code != errs.EInvalid {
			t.Fatalf("want invalid, got %v", err)
		}
		problems, _ := ee.Args["problems"].([]string)
		if len(problems) == 0 || !strings.Contains(strings.Join(problems, "\n"), "unsupported element bpmn:eventBasedGateway (Gateway_1x2)") {
			t.Fatalf("problems: %v", problems)
		}
		if e.Count("flow_definitions") != before {
			t.Fatal("half-deployed")
		}
		// A butler may not deploy at all.
		if _, err := e.App.Flow.Deploy(as(t, e, "butler"), []byte(repairYAML)); errs.CodeOf(err) != errs.EForbidden {
			t.Fatalf("butler deploy: %v", err)
		}
		// Deploying a key again makes a new version; the running instance stays on v1.
		admin := as(t, e, "admin")
		if _, err := e.App.Flow.Deploy(admin, []byte(repairYAML)); err != nil {
			t.Fatal(err)
		}
		st, err := e.App.Flow.Start(admin, flow.StartInput{DefinitionKey: "repair"})
		if err != nil {
			t.Fatal(err)
		}
		d2, err := e.App.Flow.Deploy(admin, []byte(strings.Replace(repairYAML, "name: 受理", "name: 受理报修", 1)))
		if err != nil || d2.Version != 2 {
			t.Fatalf("v2: %+v %v", d2, err)
		}
		v, _ := e.App.Flow.Get(admin, st.ID)
		if v.Version != 1 {
			t.Fatalf("instance moved to version %d", v.Version)
		}
	})
}

func asErr(err error, target **errs.Error) bool {
	e, ok := err.(*errs.Error)
	if ok {
		*target = e
	}
	return ok
}
