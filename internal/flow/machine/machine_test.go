package machine

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"
)

func TestThreeUserTasks(t *testing.T) {
	data, err := os.ReadFile("../../../../shared/bench/three-user-tasks.bpmn")
	if err != nil {
		t.Skip("bench model absent")
	}
	def := mustParse(t, string(data))
	in := start(t, def, map[string]any{"initiator": "li"})
	for _, id := range []string{"t1", "t2", "t3"} {
		if got := in.openTasks(); !reflect.DeepEqual(got, []string{id}) {
			t.Fatalf("open tasks %v, want [%s]", got, id)
		}
		in.complete(id, nil)
	}
	in.wantStatus(StatusCompleted)
	if _, ok := has[InstanceEnded](in.effects); !ok {
		t.Fatal("no InstanceEnded effect")
	}
}

const userTaskAttrs = `camunda:assignee="${initiator}" camunda:candidateGroups="butlers, ${team}"
  camunda:dueDate="business:PT4H" camunda:followUpDate="${follow}" camunda:priority="${prio}" camunda:formKey="repair"`

func TestTaskCreatedResolvesAttributes(t *testing.T) {
	def := mustParse(t, process(`<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="u"/>
	  <userTask id="u" name="Fix" `+userTaskAttrs+`/><sequenceFlow id="f2" sourceRef="u" targetRef="e"/><endEvent id="e"/>`))
	in := start(t, def, map[string]any{"initiator": "li", "team": "east", "follow": "2026-03-05", "prio": 7})
	tc, ok := has[TaskCreated](in.effects)
	if !ok {
		t.Fatal("no TaskCreated")
	}
	want := TaskCreated{TokenID: tc.TokenID, ElementID: "u", Name: "Fix", Assignee: "li",
		CandidateGroups: []string{"butlers", "east"}, DueAt: t0.Add(4 * time.Hour),
		FollowUpAt: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC), Priority: 7, FormKey: "repair", MIIndex: -1}
	if !reflect.DeepEqual(tc, want) {
		t.Fatalf("got %+v\nwant %+v", tc, want)
	}
	if !def.Elements["u"].Human.Due.Business || !def.Elements["u"].Human.Due.IsDuration() {
		t.Fatal("due date should be a business-time duration")
	}
}

const exclusive = `<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
  <exclusiveGateway id="g" default="fd"/>
  <sequenceFlow id="fa" sourceRef="g" targetRef="a"><conditionExpression>${amount > 1000 &amp;&amp; region == 'east'}</conditionExpression></sequenceFlow>
  <sequenceFlow id="fb" sourceRef="g" targetRef="b"><conditionExpression>= amount > 100 and region = "west"</conditionExpression></sequenceFlow>
  <sequenceFlow id="fd" sourceRef="g" targetRef="c"/>
  <userTask id="a"/><userTask id="b"/><userTask id="c"/>`

func TestExclusiveGateway(t *testing.T) {
	def := mustParse(t, process(exclusive))
	for _, c := range []struct {
		vars map[string]any
		want string
	}{
		{map[string]any{"amount": 2000, "region": "east"}, "a"},
		{map[string]any{"amount": 200, "region": "west"}, "b"},
		{map[string]any{"amount": 5}, "c"},
		{nil, "c"}, // missing variables are nil: comparisons are false
	} {
		in := start(t, def, c.vars)
		if got := in.openTasks(); !reflect.DeepEqual(got, []string{c.want}) {
			t.Errorf("vars %v: open %v, want %s", c.vars, got, c.want)
		}
	}
}

func TestExclusiveGatewayWithoutBranchIsIncident(t *testing.T) {
	def := mustParse(t, process(`<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
	  <exclusiveGateway id="g"/>
	  <sequenceFlow id="fa" sourceRef="g" targetRef="a"><conditionExpression>${ok}</conditionExpression></sequenceFlow>
	  <userTask id="a"/>`))
	_, _, err := New(Options{}).Start(def, nil, t0)
	var inc *IncidentError
	if !errors.As(err, &inc) || inc.ElementID != "g" {
		t.Fatalf("err %v, want an incident at g", err)
	}
}

func TestParallelForkJoin(t *testing.T) {
	def := mustParse(t, process(`<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="fork"/>
	  <parallelGateway id="fork"/>
	  <sequenceFlow id="f1" sourceRef="fork" targetRef="a"/><sequenceFlow id="f2" sourceRef="fork" targetRef="b"/>
	  <sequenceFlow id="f3" sourceRef="fork" targetRef="m"/>
	  <userTask id="a"/><userTask id="b"/><manualTask id="m"/>
	  <sequenceFlow id="f4" sourceRef="a" targetRef="join"/><sequenceFlow id="f5" sourceRef="b" targetRef="join"/>
	  <sequenceFlow id="f6" sourceRef="m" targetRef="join"/>
	  <parallelGateway id="join"/><sequenceFlow id="f7" sourceRef="join" targetRef="z"/><userTask id="z"/>`))
	in := start(t, def, nil)
	if got := in.openTasks(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("open %v", got)
	}
	in.complete("b", nil)
	in.complete("a", nil)
	if got := in.openTasks(); !reflect.DeepEqual(got, []string{"z"}) {
		t.Fatalf("after join open %v", got)
	}
	in.complete("z", nil)
	in.wantStatus(StatusCompleted)
}

const errorModel = `<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="sp"/>
  <subProcess id="sp">
    <startEvent id="ss"/><sequenceFlow id="g0" sourceRef="ss" targetRef="inner"/>
    <subProcess id="inner">
      <startEvent id="is"/><sequenceFlow id="h0" sourceRef="is" targetRef="job"/>
      <serviceTask id="job" camunda:type="check"/><sequenceFlow id="h1" sourceRef="job" targetRef="ie"/>
      <endEvent id="ie"><errorEventDefinition errorRef="e1"/></endEvent>
    </subProcess>
    <sequenceFlow id="g1" sourceRef="inner" targetRef="se"/><endEvent id="se"/>
  </subProcess>
  <boundaryEvent id="caught" attachedToRef="sp"><errorEventDefinition errorRef="e1"/></boundaryEvent>
  <sequenceFlow id="f1" sourceRef="caught" targetRef="fix"/><userTask id="fix"/>
  <sequenceFlow id="f2" sourceRef="sp" targetRef="e"/><endEvent id="e"/>`

func TestErrorEndEventPropagatesToEnclosingBoundary(t *testing.T) {
	def := mustParse(t, process(errorModel))
	in := start(t, def, nil)
	in.completeJob("job", nil)
	if got := in.openTasks(); !reflect.DeepEqual(got, []string{"fix"}) {
		t.Fatalf("open %v, want the error path", got)
	}
	if len(in.st.Tokens) != 1 {
		t.Fatalf("sub-process tokens left: %+v", in.st.Tokens)
	}
}

func TestJobErrorCaughtOrFailsInstance(t *testing.T) {
	def := mustParse(t, process(errorModel))
	in := start(t, def, nil)
	in.apply(in.m.FailJob(def, in.st, in.tok("job", TokenJob), "E42", "", t0))
	if got := in.openTasks(); !reflect.DeepEqual(got, []string{"fix"}) {
		t.Fatalf("open %v", got)
	}
	in = start(t, def, nil)
	in.apply(in.m.FailJob(def, in.st, in.tok("job", TokenJob), "", "timeout", t0))
	if _, ok := has[IncidentRaised](in.effects); !ok || in.st.Status != StatusActive {
		t.Fatal("a technical failure should raise an incident and keep the job")
	}
	// An uncaught error fails the instance.
	def2 := mustParse(t, process(`<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="job"/>
	  <serviceTask id="job" camunda:type="x"/>`))
	in = start(t, def2, nil)
	in.apply(in.m.FailJob(def2, in.st, in.tok("job", TokenJob), "E1", "boom", t0))
	in.wantStatus(StatusFailed)
}

const boundaryTimers = `<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="work"/>
  <userTask id="work"/><sequenceFlow id="f1" sourceRef="work" targetRef="e"/><endEvent id="e"/>
  <boundaryEvent id="remind" attachedToRef="work" cancelActivity="false">
    <timerEventDefinition><timeCycle>R2/PT10M</timeCycle></timerEventDefinition></boundaryEvent>
  <sequenceFlow id="f2" sourceRef="remind" targetRef="nudge"/><serviceTask id="nudge" camunda:type="sms"/>
  <boundaryEvent id="late" attachedToRef="work">
    <timerEventDefinition><timeDuration>PT1H</timeDuration></timerEventDefinition></boundaryEvent>
  <sequenceFlow id="f3" sourceRef="late" targetRef="escalate"/><userTask id="escalate"/>`

func TestBoundaryTimersNonInterruptingCycleThenInterrupting(t *testing.T) {
	def := mustParse(t, process(boundaryTimers))
	in := start(t, def, nil)
	if at := in.timer("remind").At; !at.Equal(t0.Add(10 * time.Minute)) {
		t.Fatalf("remind at %v", at)
	}
	in.fire("remind")
	if got := in.openTasks(); !reflect.DeepEqual(got, []string{"work"}) {
		t.Fatalf("non-interrupting timer cancelled the task: %v", got)
	}
	in.completeJob("nudge", nil)
	in.fire("remind") // second and last repetition
	for _, tm := range in.st.Timers {
		if tm.Element == "remind" {
			t.Fatal("R2 cycle scheduled a third firing")
		}
	}
	in.fire("late")
	if got := in.openTasks(); !reflect.DeepEqual(got, []string{"escalate"}) {
		t.Fatalf("interrupting timer: open %v", got)
	}
	if _, ok := has[TaskCancelled](in.effects); !ok {
		t.Fatal("no TaskCancelled for the interrupted task")
	}
	if len(in.st.Timers) != 0 {
		t.Fatalf("timers left: %+v", in.st.Timers)
	}
}

func TestMultiInstanceParallelCompletionCondition(t *testing.T) {
	def := mustParse(t, process(`<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="sign"/>
	  <userTask id="sign" camunda:assignee="${signer}">
	    <multiInstanceLoopCharacteristics camunda:collection="${signers}" camunda:elementVariable="signer">
	      <completionCondition>${nrOfCompletedInstances / nrOfInstances >= 0.5}</completionCondition>
	    </multiInstanceLoopCharacteristics></userTask>
	  <sequenceFlow id="f1" sourceRef="sign" targetRef="done"/><userTask id="done"/>`))
	in := start(t, def, map[string]any{"signers": []string{"a", "b", "c", "d"}})
	var assignees []string
	for _, e := range in.effects {
		if tc, ok := e.(TaskCreated); ok {
			assignees = append(assignees, tc.Assignee)
		}
	}
	if !reflect.DeepEqual(assignees, []string{"a", "b", "c", "d"}) {
		t.Fatalf("assignees %v", assignees)
	}
	in.complete("sign", nil)
	in.complete("sign", nil)
	cancelled := 0
	for _, e := range in.effects {
		if _, ok := e.(TaskCancelled); ok {
			cancelled++
		}
	}
	if cancelled != 2 || !reflect.DeepEqual(in.openTasks(), []string{"done"}) {
		t.Fatalf("cancelled %d, open %v", cancelled, in.openTasks())
	}
}

func TestMultiInstanceSequentialCardinality(t *testing.T) {
	def := mustParse(t, process(`<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="visit"/>
	  <userTask id="visit"><multiInstanceLoopCharacteristics isSequential="true">
	    <loopCardinality>${visits}</loopCardinality></multiInstanceLoopCharacteristics></userTask>
	  <sequenceFlow id="f1" sourceRef="visit" targetRef="e"/><endEvent id="e"/>`))
	in := start(t, def, map[string]any{"visits": 3})
	for i := 0; i < 3; i++ {
		tc, ok := has[TaskCreated](in.effects)
		if !ok || tc.MIIndex != i {
			t.Fatalf("instance %d: %+v", i, tc)
		}
		in.complete("visit", nil)
	}
	in.wantStatus(StatusCompleted)
}

func TestReceiveTaskCorrelationAndTerminate(t *testing.T) {
	def := mustParse(t, process(`<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="fork"/>
	  <parallelGateway id="fork"/><sequenceFlow id="f1" sourceRef="fork" targetRef="wait"/>
	  <sequenceFlow id="f2" sourceRef="fork" targetRef="other"/><userTask id="other"/>
	  <receiveTask id="wait" messageRef="m1" guanjia:correlationKey="${orderId}"/>
	  <sequenceFlow id="f3" sourceRef="wait" targetRef="end"/><endEvent id="end"><terminateEventDefinition/></endEvent>`))
	in := start(t, def, map[string]any{"orderId": "A-7"})
	so, ok := has[SubscriptionOpened](in.effects)
	if !ok || so.MessageName != "paid" || so.CorrelationKey != "A-7" {
		t.Fatalf("subscription %+v", so)
	}
	in.apply(in.m.CorrelateMessage(def, in.st, so.ID, map[string]any{"amount": 12.5}, t0))
	in.wantStatus(StatusTerminated)
	if _, ok := has[TaskCancelled](in.effects); !ok {
		t.Fatal("terminate should cancel the other task")
	}
	if in.st.Vars["amount"] != 12.5 {
		t.Fatalf("message payload not set: %v", in.st.Vars)
	}
}

func TestStepLimit(t *testing.T) {
	def := mustParse(t, process(`<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="a"/>
	  <manualTask id="a"/><sequenceFlow id="f1" sourceRef="a" targetRef="b"/>
	  <manualTask id="b"/><sequenceFlow id="f2" sourceRef="b" targetRef="a"/>`))
	if _, _, err := New(Options{MaxSteps: 100}).Start(def, nil, t0); !errors.Is(err, ErrStepLimit) {
		t.Fatalf("err %v", err)
	}
}

func TestEventsDoNotModifyGivenState(t *testing.T) {
	def := mustParse(t, process(exclusive))
	in := start(t, def, map[string]any{"amount": 2000, "region": "east"})
	before := roundTrip(t, in.st)
	if _, _, err := in.m.CompleteTask(def, in.st, in.tok("a", TokenTask), map[string]any{"x": 1}, t0); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, roundTrip(t, in.st)) {
		t.Fatal("CompleteTask modified its input state")
	}
	if _, _, err := in.m.CompleteTask(def, in.st, 999, nil, t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown task: %v", err)
	}
}

func BenchmarkMachineThreeTasks(b *testing.B) {
	def := mustParse(b, process(`<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t1"/>
	  <userTask id="t1"/><sequenceFlow id="f2" sourceRef="t1" targetRef="t2"/>
	  <userTask id="t2"/><sequenceFlow id="f3" sourceRef="t2" targetRef="t3"/>
	  <userTask id="t3"/><sequenceFlow id="f4" sourceRef="t3" targetRef="e"/><endEvent id="e"/>`))
	m := New(Options{})
	vars := map[string]any{"initiator": "li", "amount": 1200}
	b.ReportAllocs()
	for b.Loop() {
		st, _, err := m.Start(def, vars, t0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(st); err != nil {
			b.Fatal(err)
		}
		for st.Status == StatusActive {
			st, _, err = m.CompleteTask(def, st, st.Tokens[0].ID, nil, t0)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(st); err != nil {
				b.Fatal(err)
			}
		}
	}
}
