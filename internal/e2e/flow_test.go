package e2e_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/e2e"
	"github.com/guanjia/guanjia/internal/flow"
	"github.com/guanjia/guanjia/internal/i18n"
)

// visitBPMN is drawn without any of our attributes: the test sets the
// candidate group, the due date, the form and the condition through the
// properties panel, as an admin would.
const visitBPMN = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="defs" targetNamespace="http://guanjia.dev/bpmn/processes">
  <bpmn:process id="e2e_visit" name="报事核实" isExecutable="true">
    <bpmn:startEvent id="start" name="报事"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:userTask id="review" name="上门核实"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" name="属实？" default="f_recheck"/>
    <bpmn:sequenceFlow id="f_ok" name="属实" sourceRef="gw" targetRef="end"/>
    <bpmn:sequenceFlow id="f_recheck" name="存疑" sourceRef="gw" targetRef="recheck"/>
    <bpmn:userTask id="recheck" name="主管复核"/>
    <bpmn:sequenceFlow id="f3" sourceRef="recheck" targetRef="end"/>
    <bpmn:endEvent id="end" name="办结"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram"><bpmndi:BPMNPlane id="plane" bpmnElement="e2e_visit">
    <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="152" y="102" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="review_di" bpmnElement="review"><dc:Bounds x="240" y="80" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="gw_di" bpmnElement="gw" isMarkerVisible="true"><dc:Bounds x="395" y="95" width="50" height="50"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="recheck_di" bpmnElement="recheck"><dc:Bounds x="500" y="200" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="end_di" bpmnElement="end"><dc:Bounds x="662" y="102" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="188" y="120"/><di:waypoint x="240" y="120"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="340" y="120"/><di:waypoint x="395" y="120"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f_ok_di" bpmnElement="f_ok"><di:waypoint x="445" y="120"/><di:waypoint x="662" y="120"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f_recheck_di" bpmnElement="f_recheck"><di:waypoint x="420" y="145"/><di:waypoint x="420" y="240"/><di:waypoint x="500" y="240"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f3_di" bpmnElement="f3"><di:waypoint x="600" y="240"/><di:waypoint x="680" y="240"/><di:waypoint x="680" y="138"/></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>`

// An admin draws a process in the browser (the diagram loaded through the
// modeler, the rest set in our properties panel), deploys it and starts it;
// a butler on a phone finds the task among those to claim, claims it and
// completes it through its form; the instance page shows the step done and
// the instance completed. Screenshots of each screen at both sizes.
func TestProcessDrawDeployAndWork(t *testing.T) {
	b := e2e.Start(t)
	env := apptest.Start(t, dbtest.Open(t, db.SQLite))
	keys := i18n.MustLoad().Keys(i18n.Default)
	untranslated := func(p *e2e.Page, name string) {
		t.Helper()
		if k := p.UntranslatedKeys(keys); len(k) > 0 {
			t.Errorf("%s: untranslated keys %v", name, k)
		}
	}

	admin := b.NewPage(t, env.URL, e2e.Desktop)
	admin.LoginAs("admin")
	admin.GoOK("/processes")
	admin.WaitVisible("#process-table")

	// Draw: load the diagram through the modeler, then the panel.
	admin.GoOK("/processes/new")
	admin.WaitVisible(`#modeler[data-ready="1"]`)
	// A diagram the engine cannot run is refused with every problem shown.
	bad := strings.Replace(visitBPMN, `<bpmn:exclusiveGateway id="gw" name="属实？" default="f_recheck"/>`, `<bpmn:eventBasedGateway id="gw" name="属实？"/>`, 1)
	e2e.Run(admin, "import a bad diagram", chromedp.Evaluate[bool](fmt.Sprintf(`guanjiaModeler.importXML(%q).then(() => true)`, bad), chromedp.EvalAwaitPromise))
	admin.Click("#modeler-deploy")
	admin.WaitVisible("#deploy-result.flash-error li")
	if got := admin.Text("#deploy-result"); !strings.Contains(got, "未部署") || !strings.Contains(got, "unsupported element bpmn:eventBasedGateway (gw)") {
		t.Errorf("refused deploy shows %q", got)
	}
	admin.Screenshot("flow-modeler-refused")
	e2e.Run(admin, "import the diagram", chromedp.Evaluate[bool](fmt.Sprintf(`guanjiaModeler.importXML(%q).then(() => true)`, visitBPMN), chromedp.EvalAwaitPromise))
	admin.Click(`g.djs-element[data-element-id="review"]`)
	admin.WaitVisible("#p-assignee")
	if got := admin.Text("#p-kind"); got != "用户任务" {
		t.Errorf("panel kind = %q, want 用户任务", got)
	}
	admin.Click(`#p-groups input[value="butler"]`)
	admin.Fill("#p-due", "PT4H")
	admin.Click("#p-due-business")
	admin.Click("#p-add-field")
	admin.Fill(`#p-fields .field-row:last-child [data-f="id"]`, "verified")
	admin.Fill(`#p-fields .field-row:last-child [data-f="label"]`, "情况属实")
	admin.Select(`#p-fields .field-row:last-child [data-f="type"]`, "是/否")
	admin.Click(`#p-fields .field-row:last-child [data-f="required"]`)
	setValue(admin, "#p-next", "核实后在表单中勾选。")
	e2e.Eval[bool](admin, `(guanjiaModeler.get('selection').select(guanjiaModeler.get('elementRegistry').get('f_ok')), true)`)
	admin.WaitVisible("#p-condition")
	admin.Fill("#p-condition", "${verified}")
	blur(admin)
	xml := e2e.Run(admin, "save the diagram", chromedp.Evaluate[string](`guanjiaModeler.saveXML().then(r => r.xml)`, chromedp.EvalAwaitPromise))
	for _, want := range []string{`camunda:candidateGroups="butler"`, `camunda:dueDate="business:PT4H"`, `<guanjia:formField id="verified" label="情况属实" type="boolean" required="true" />`,
		`<guanjia:nextSteps>核实后在表单中勾选。</guanjia:nextSteps>`, `${verified}</bpmn:conditionExpression>`} {
		if !strings.Contains(xml, want) {
			t.Errorf("the panel did not write %s into:\n%s", want, xml)
		}
	}
	admin.Click(`g.djs-element[data-element-id="review"]`)
	admin.WaitVisible("#p-assignee")
	e2e.Eval[bool](admin, `(window.scrollTo(0, 0), true)`)
	admin.Screenshot("flow-modeler")
	if st := admin.Submit("#modeler-deploy"); st != 200 {
		t.Fatalf("deploy: status %d; %s", st, admin.Text("#deploy-result"))
	}
	if path := admin.Path(); !strings.HasPrefix(path, "/processes/") || !strings.HasSuffix(path, "?ok=deployed") {
		t.Fatalf("after deploy at %s; %q", path, admin.Texts("#deploy-result"))
	}
	admin.WaitVisible(`#diagram[data-ready="1"]`)
	admin.Screenshot("flow-definition")
	untranslated(admin, "definition")

	// Start from the processes page.
	admin.GoOK("/processes?start=e2e_visit")
	untranslated(admin, "processes")
	admin.Select("#f-definition_key", "报事核实（v1）")
	admin.Select("#f-site_id", "示例花园")
	admin.Fill("#f-business_key", "E2E-1")
	if st := admin.Submit(`#start-form button[type=submit]`); st != 200 {
		t.Fatalf("start: status %d: %q", st, admin.Texts(".flash-error, .field-error"))
	}
	instance := admin.Path()
	if !strings.HasPrefix(instance, "/instances/") {
		t.Fatalf("after start at %s", instance)
	}
	instance = strings.TrimSuffix(instance, "?ok=started")
	admin.WaitVisible(`#diagram[data-ready="1"]`)
	if !admin.Has(`g.djs-element.gj-active[data-element-id="review"]`) {
		t.Error("the waiting task is not marked active on the diagram")
	}
	admin.Screenshot("flow-instance-running")
	untranslated(admin, "instance")

	// The butler, on a phone, claims it from the pool and completes it.
	butler := b.NewPage(t, env.URL, e2e.Phone)
	butler.LoginAs("butler")
	butler.GoOK("/tasks?view=claimable")
	row := e2e.Eval[string](butler, `(Array.from(document.querySelectorAll('#task-table tbody tr')).find(r => r.innerText.includes('E2E-1')) || {dataset: {}}).dataset.task || ''`)
	if row == "" {
		t.Fatalf("E2E-1 is not among the tasks to claim: %q", butler.Texts("#task-table tbody tr"))
	}
	if got := butler.Text(`#task-table tr[data-task="` + row + `"]`); !strings.Contains(got, "上门核实") || !strings.Contains(got, "报事核实") {
		t.Errorf("claimable row: %q", got)
	}
	if tab := butler.Text(`#inbox-tabs a[data-view="claimable"]`); !strings.Contains(tab, "可认领") {
		t.Errorf("claimable tab = %q", tab)
	}
	butler.AssertNoHorizontalScroll()
	butler.AssertTapTargets(44)
	butler.Screenshot("flow-inbox-claimable")
	untranslated(butler, "inbox")
	if st := butler.Submit(`#task-table tr[data-task="` + row + `"] button.claim`); st != 200 {
		t.Fatalf("claim: status %d", st)
	}
	if msg := butler.Text(".flash-ok"); msg != "已认领，请办理。" {
		t.Errorf("after claim: %q", msg)
	}
	if got := butler.Text(".guide"); !strings.Contains(got, "核实后在表单中勾选。") {
		t.Errorf("next steps: %q", got)
	}
	butler.AssertNoHorizontalScroll()
	butler.AssertTapTargets(44)
	butler.Screenshot("flow-task")
	butler.Click(`#complete label.check`)
	if st := butler.Submit(`#complete button[type=submit]`); st != 200 {
		t.Fatalf("complete: status %d: %q", st, butler.Texts(".flash-error, .field-error"))
	}
	if msg := butler.Text(".flash-ok"); msg != "已办结。" {
		t.Errorf("after complete: %q", msg)
	}
	// The inbox hears of a new task in the butler's pool and offers a refresh.
	garden := env.SiteID("示例花园")
	if _, err := env.App.Flow.StartSystem(t.Context(), flow.StartInput{DefinitionKey: "e2e_visit", BusinessKey: "E2E-2", SiteID: &garden}); err != nil {
		t.Fatal(err)
	}
	butler.WaitVisible("#live-note")

	// The instance page tells it.
	admin.GoOK(instance)
	admin.WaitVisible(`#diagram[data-ready="1"]`)
	if got := admin.Text("#instance-state"); !strings.Contains(got, "已完成") {
		t.Errorf("instance state: %q", got)
	}
	if !admin.Has(`g.djs-element.gj-done[data-element-id="review"]`) {
		t.Error("the completed task is not marked done on the diagram")
	}
	timeline := strings.Join(admin.Texts("#timeline li"), "\n")
	for _, want := range []string{"发起流程", "生成待办", "认领", "办结", "赵管家", "verified", "流程结束"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q:\n%s", want, timeline)
		}
	}
	admin.Screenshot("flow-instance-completed")

	// The list pages fit a phone; desktop and phone screenshots of each.
	phoneAdmin := b.NewPage(t, env.URL, e2e.Phone)
	phoneAdmin.LoginAs("admin")
	for _, s := range []struct{ name, path, sel string }{
		{"flow-processes", "/processes", "#process-table"},
		{"flow-instances", "/instances", "#instance-table"},
		{"flow-inbox-all", "/tasks?view=all", "#inbox-tabs"},
		{"flow-dispatch", "/tasks/dispatch", "#dispatch-filters"},
		{"flow-instance-completed", instance, "#timeline"},
	} {
		phoneAdmin.GoOK(s.path)
		phoneAdmin.WaitVisible(s.sel)
		phoneAdmin.AssertNoHorizontalScroll()
		if small := phoneAdmin.SmallTapTargets(44); len(small) > 0 && s.name != "flow-instance-completed" {
			t.Errorf("%s: controls smaller than 44px: %v", s.name, small)
		}
		phoneAdmin.Screenshot(s.name)
		untranslated(phoneAdmin, s.name)
		if s.name != "flow-instance-completed" {
			admin.GoOK(s.path)
			admin.WaitVisible(s.sel)
			admin.Screenshot(s.name)
		}
	}
}

// setValue types into a textarea as a person would, ending with leaving it
// (the harness's Fill reads a textarea back only once it has text).
func setValue(p *e2e.Page, sel, v string) {
	p.WaitVisible(sel)
	e2e.Eval[bool](p, fmt.Sprintf(`(function(e) { e.focus(); e.value = %q; e.dispatchEvent(new Event('input', {bubbles: true})); e.blur();
		e.dispatchEvent(new Event('change', {bubbles: true})); return true; })(document.querySelector(%q))`, v, sel))
}

// blur commits the focused field, as leaving it does.
func blur(p *e2e.Page) {
	e2e.Eval[bool](p, `(document.activeElement && document.activeElement.blur(), true)`)
}
