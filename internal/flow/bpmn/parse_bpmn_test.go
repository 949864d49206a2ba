package bpmn

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/flow/model"
)

func doc(body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
  xmlns:flowable="http://flowable.org/bpmn" xmlns:guanjia="http://guanjia.dev/bpmn" id="d" targetNamespace="x">
  <bpmn:message id="m" name="docReceived"><bpmn:extensionElements><zeebe:subscription correlationKey="=caseId"/></bpmn:extensionElements></bpmn:message>
  <bpmn:process id="p" name="Repair" isExecutable="true">` + body + `</bpmn:process></bpmn:definitions>`
}

func problems(t *testing.T, xml string, known func(string) bool) model.Problems {
	t.Helper()
	def, err := Parse([]byte(xml), Options{KnownJobType: known})
	var ps model.Problems
	if def != nil || !errors.As(err, &ps) {
		t.Fatalf("deployed; want problems (err %v)", err)
	}
	return ps
}

func TestParseVendorAttributes(t *testing.T) {
	def, err := Parse([]byte(doc(`<bpmn:startEvent id="s"/>
	  <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="u1"/>
	  <bpmn:userTask id="u1" name="Inspect" camunda:assignee="${initiator}" camunda:candidateGroups="butlers,techs"
	      camunda:dueDate="business:P2D" camunda:formKey="inspect" camunda:priority="60"
	      guanjia:nextSteps="A technician will call you" guanjia:calendar="business">
	    <bpmn:documentation>Check the pipe</bpmn:documentation>
	    <bpmn:extensionElements>
	      <guanjia:materials>Your ID card</guanjia:materials>
	      <guanjia:formField id="cause" label="Cause" type="enum" values="leak, clog" required="true"/>
	    </bpmn:extensionElements>
	  </bpmn:userTask>
	  <bpmn:sequenceFlow id="f2" sourceRef="u1" targetRef="u2"/>
	  <bpmn:userTask id="u2"><bpmn:extensionElements>
	    <zeebe:assignmentDefinition assignee="=owner" candidateGroups="leads"/>
	    <zeebe:formDefinition formKey="f2"/><zeebe:taskSchedule dueDate="2026-05-01T10:00:00+08:00"/>
	  </bpmn:extensionElements></bpmn:userTask>
	  <bpmn:sequenceFlow id="f3" sourceRef="u2" targetRef="j1"/>
	  <bpmn:serviceTask id="j1"><bpmn:extensionElements><zeebe:taskDefinition type="sms" retries="5"/>
	    <zeebe:taskHeaders><zeebe:header key="tpl" value="t1"/></zeebe:taskHeaders></bpmn:extensionElements></bpmn:serviceTask>
	  <bpmn:sequenceFlow id="f4" sourceRef="j1" targetRef="j2"/>
	  <bpmn:sendTask id="j2" flowable:type="mail"/>
	  <bpmn:sequenceFlow id="f5" sourceRef="j2" targetRef="j3"/>
	  <bpmn:serviceTask id="j3" camunda:delegateExpression="${billing}"/>
	  <bpmn:sequenceFlow id="f6" sourceRef="j3" targetRef="r"/>
	  <bpmn:receiveTask id="r" messageRef="m"/>
	  <bpmn:sequenceFlow id="f7" sourceRef="r" targetRef="e"/><bpmn:endEvent id="e"/>`)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	u1 := def.Elements["u1"].Human
	if u1.Assignee.Expr == nil || len(u1.CandidateGroups) != 2 || u1.FormKey != "inspect" || u1.Priority.Raw != "60" {
		t.Errorf("u1 people: %+v", u1)
	}
	if !u1.Due.Business || !u1.Due.IsDuration() || u1.Due.Raw != "P2D" {
		t.Errorf("u1 due: %+v", u1.Due)
	}
	if u1.NextSteps == "" || u1.Materials != "Your ID card" || def.Elements["u1"].Documentation != "Check the pipe" {
		t.Errorf("u1 texts: %+v", u1)
	}
	if want := []model.FormField{{ID: "cause", Label: "Cause", Type: "enum", Required: true, Values: []string{"leak", "clog"}}}; !reflect.DeepEqual(u1.FormFields, want) {
		t.Errorf("form fields %+v", u1.FormFields)
	}
	u2 := def.Elements["u2"].Human
	if u2.Assignee.Raw != "=owner" || u2.FormKey != "f2" || u2.Due.IsDuration() {
		t.Errorf("u2: %+v", u2)
	}
	for id, typ := range map[string]string{"j1": "sms", "j2": "mail", "j3": "billing"} {
		if got := def.Elements[id].Job.Type; got != typ {
			t.Errorf("%s type %q, want %q", id, got, typ)
		}
	}
	if def.Elements["j1"].Job.Retries != 5 || def.Elements["j1"].Job.Headers["tpl"] != "t1" {
		t.Errorf("j1 job %+v", def.Elements["j1"].Job)
	}
	if m := def.Elements["r"].Message; m.Name != "docReceived" || m.CorrelationKey == nil {
		t.Errorf("receive message %+v", m)
	}
}

func TestParseCollectsAllProblems(t *testing.T) {
	ps := problems(t, doc(`
	  <bpmn:userTask id="u"><bpmn:multiInstanceLoopCharacteristics/></bpmn:userTask>
	  <bpmn:sequenceFlow id="f1" sourceRef="u" targetRef="nowhere"/>
	  <bpmn:exclusiveGateway id="g"/>
	  <bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="u"><bpmn:conditionExpression>${a +}</bpmn:conditionExpression></bpmn:sequenceFlow>
	  <bpmn:serviceTask id="j" camunda:type="fax"/>
	  <bpmn:eventBasedGateway id="Gateway_1x2"/>
	  <bpmn:inclusiveGateway id="ig"/>`), func(typ string) bool { return typ == "sms" })
	text := ps.Error()
	for _, want := range []string{
		"unsupported element bpmn:eventBasedGateway (Gateway_1x2)",
		"unsupported element bpmn:inclusiveGateway (ig)",
		"bpmn:sequenceFlow (f2): condition does not compile",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in %s", want, text)
		}
	}
	for _, want := range []string{`targetRef "nowhere"`, `unknown task type "fax"`, "needs a collection or loopCardinality", "process has no start event"} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in %s", want, text)
		}
	}
}

func TestParseRejectsMalformed(t *testing.T) {
	for _, in := range []string{"", "<x/>", "<definitions", doc(`<bpmn:task id="a"/><bpmn:task id="a"/>`)} {
		if def, err := Parse([]byte(in), Options{}); def != nil || err == nil {
			t.Errorf("%q: deployed", in)
		}
	}
}

func FuzzParseBPMN(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(miwgDir, "*.bpmn"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(doc(`<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/><bpmn:endEvent id="e"/>`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		def, err := Parse(data, Options{})
		if err != nil {
			var ps model.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error is not a problem list: %v", err)
			}
			return
		}
		// What deployed must still validate the same way.
		if ps := def.Resolve(); len(ps) > 0 {
			t.Fatalf("re-resolve: %v", ps)
		}
		if ps := def.Validate(nil); len(ps) > 0 {
			t.Fatalf("re-validate: %v", ps)
		}
	})
}

func BenchmarkParseBPMN(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(miwgDir, "C.8.1.bpmn"))
	if err != nil {
		b.Skip("MIWG files absent")
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
