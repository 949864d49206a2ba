package templates_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/flow/bpmn"
	"github.com/guanjia/guanjia/internal/flow/machine"
	"github.com/guanjia/guanjia/internal/flow/model"
	"github.com/guanjia/guanjia/internal/flow/templates"
)

// The seed's 20 steps of 高压新装/增容 (篇3 §4.2), in order.
var gaoyaSteps = []string{
	"受理客户用电申请", "现场查勘派工", "查勘并拟定供电方案", "供电方案审核", "供电方案答复",
	"受理图纸审查", "图纸审查派工", "图纸审查", "审图答复",
	"受理中间检查", "中间检查", "中间检查意见答复",
	"受理客户工程竣工验收报验", "工程竣工验收派工", "竣工验收", "验收意见答复",
	"拟订供用电合同", "供用电合同会签", "生成装表工作票", "完整归档",
}

// workdays resolves business-time values on a calendar, the way the
// runtime's resolver is meant to; plain values fall back to calendar time.
type workdays struct{ cal *calendar.Calendar }

func (w workdays) Resolve(now time.Time, spec model.TimerSpec) (time.Time, error) {
	if !spec.Business || spec.Kind != model.TimeDuration {
		return machine.CalendarResolver{}.Resolve(now, spec)
	}
	bd, err := calendar.ParseBusinessDuration(spec.Raw)
	if err != nil {
		return time.Time{}, err
	}
	return w.cal.AddBusiness(now, bd)
}

func cnWorkday(tb testing.TB) *calendar.Calendar {
	tb.Helper()
	cal, err := calendar.Builtin(calendar.KeyCNWorkday)
	if err != nil {
		tb.Fatal(err)
	}
	return cal
}

func mustParse(tb testing.TB, key string) *model.Definition {
	tb.Helper()
	for _, tpl := range templates.List() {
		if tpl.Key != key {
			continue
		}
		def, err := bpmn.Parse(templates.Files()[tpl.File], bpmn.Options{})
		if err != nil {
			tb.Fatalf("%s: %v", tpl.File, err)
		}
		return def
	}
	tb.Fatalf("no template %q", key)
	return nil
}

func TestTemplatesParseAndValidate(t *testing.T) {
	files := templates.Files()
	if len(files) != len(templates.List()) {
		t.Errorf("%d files embedded, %d templates listed", len(files), len(templates.List()))
	}
	for _, tpl := range templates.List() {
		data, ok := files[tpl.File]
		if !ok {
			t.Errorf("%s: not embedded", tpl.File)
			continue
		}
		def, err := bpmn.Parse(data, bpmn.Options{})
		var ps model.Problems
		if errors.As(err, &ps) {
			t.Errorf("%s: %d problems:\n%s", tpl.File, len(ps), strings.ReplaceAll(ps.Error(), "; ", "\n"))
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tpl.File, err)
		}
		if def.Key != tpl.Key || def.Name != tpl.Name {
			t.Errorf("%s: key %q name %q, listed as %q %q", tpl.File, def.Key, def.Name, tpl.Key, tpl.Name)
		}
	}
}

// Roles the templates may name; see the package comment.
var roles = []string{"clerk", "dispatcher", "technician", "manager", "supervisor"}

func TestEveryUserTaskIsComplete(t *testing.T) {
	for _, tpl := range templates.List() {
		def := mustParse(t, tpl.Key)
		def.Walk(func(e *model.Element) {
			if e.Kind != model.KindUserTask {
				return
			}
			h := e.Human
			if !hasHan(e.Name) {
				t.Errorf("%s/%s: name %q is not Chinese", tpl.Key, e.ID, e.Name)
			}
			if len(h.CandidateGroups) != 1 || !slices.Contains(roles, h.CandidateGroups[0].Raw) {
				t.Errorf("%s/%s: candidate groups %v, want one of %v", tpl.Key, e.ID, h.CandidateGroups, roles)
			}
			if len(h.FormFields) == 0 {
				t.Errorf("%s/%s: no form", tpl.Key, e.ID)
			}
			for _, f := range h.FormFields {
				if f.Label == "" || !hasHan(f.Label) {
					t.Errorf("%s/%s: field %s has no Chinese label", tpl.Key, e.ID, f.ID)
				}
			}
			if e.Documentation == "" {
				t.Errorf("%s/%s: no documentation", tpl.Key, e.ID)
			}
			if h.Due != nil && !h.Due.Business {
				t.Errorf("%s/%s: due date %q is not business time", tpl.Key, e.ID, h.Due.Raw)
			}
			if e.Parent != nil && e.Parent.Kind == model.KindSubProcess && h.Due == nil {
				t.Errorf("%s/%s: a step inside a commitment window has no due date", tpl.Key, e.ID)
			}
			// The customer waits on every step except the internal 督办.
			if !strings.HasPrefix(e.ID, "overdue_") && h.NextSteps == "" {
				t.Errorf("%s/%s: no nextSteps for the waiting customer", tpl.Key, e.ID)
			}
		})
		for _, e := range def.Elements {
			if e.Timer != nil && !e.Timer.Business {
				t.Errorf("%s/%s: timer %q is not business time", tpl.Key, e.ID, e.Timer.Raw)
			}
			if e.Kind == model.KindBoundaryEvent && e.CancelActivity {
				t.Errorf("%s/%s: a deadline must not interrupt the work", tpl.Key, e.ID)
			}
		}
	}
}

// The steps where the customer has something to prepare: each acceptance
// (what to hand in) and each reply (what the next stage needs).
var wantMaterials = map[string][]string{
	"gaoya_xinzhuang": {"accept_application", "survey_dispatch", "scheme_reply", "accept_drawings", "drawing_reply",
		"accept_mid_check", "mid_check", "mid_check_reply", "accept_completion", "completion_acceptance",
		"acceptance_reply", "draft_contract", "metering_ticket"},
	"diya_feijumin": {"accept_application", "site_survey", "scheme_reply", "accept_completion", "sign_contract"},
	"jumin":         {"accept_application", "scheme_reply", "sign_contract"},
}

func TestMaterialsWhereTheCustomerPrepares(t *testing.T) {
	for key, ids := range wantMaterials {
		def := mustParse(t, key)
		for _, id := range ids {
			e := def.Elements[id]
			if e == nil || e.Human == nil || e.Human.Materials == "" {
				t.Errorf("%s/%s: no materials", key, id)
			}
		}
	}
	def := mustParse(t, "gaoya_xinzhuang")
	m := def.Elements["accept_completion"].Human.Materials
	for _, want := range []string{"竣工报告", "试验报告", "设备清单", "隐蔽工程"} {
		if !strings.Contains(m, want) {
			t.Errorf("受理客户工程竣工验收报验 materials lack %s: %s", want, m)
		}
	}
}

func TestGaoyaHappyPathVisitsTheTwentySteps(t *testing.T) {
	for _, supply := range []string{"single", "dual"} {
		d := drive(t, "gaoya_xinzhuang", supply)
		d.gaoyaApplication()
		d.complete("scheme_review", vars{"schemeApproved": true})
		d.complete("scheme_reply", nil)
		d.complete("accept_drawings", nil)
		d.complete("drawing_review_dispatch", vars{"drawingReviewer": "zhou"})
		d.complete("drawing_review", vars{"drawingApproved": true})
		d.complete("drawing_reply", nil)
		d.complete("accept_mid_check", nil)
		d.complete("mid_check", vars{"midCheckPassed": true})
		d.complete("mid_check_reply", nil)
		d.complete("accept_completion", nil)
		d.complete("completion_dispatch", vars{"acceptanceLead": "wu"})
		d.complete("completion_acceptance", vars{"acceptancePassed": true})
		d.complete("acceptance_reply", nil)
		d.completeWith("draft_contract", vars{}, vars{"countersigners": []any{"wang", "li", "zhao"}})
		d.wantAssignees("contract_countersign", "wang", "li", "zhao")
		d.completeFor("contract_countersign", "li", vars{"countersignAgree": true})
		d.completeFor("contract_countersign", "zhao", vars{"countersignAgree": true})
		d.completeFor("contract_countersign", "wang", vars{"countersignAgree": true})
		d.complete("metering_ticket", nil)
		d.complete("archive", nil)
		d.wantCompleted()
		if !reflect.DeepEqual(d.visited, gaoyaSteps) {
			t.Errorf("%s: visited\n%v\nwant\n%v", supply, d.visited, gaoyaSteps)
		}
		if d.assignee["survey_and_draft_scheme"] != "chen" || d.assignee["drawing_review"] != "zhou" || d.assignee["completion_acceptance"] != "wu" {
			t.Errorf("派工 did not assign the next step: %v", d.assignee)
		}
	}
}

func TestGaoyaEveryReworkLoop(t *testing.T) {
	d := drive(t, "gaoya_xinzhuang", "single")
	d.gaoyaApplication()
	d.complete("scheme_review", vars{"schemeApproved": false}) // back to 拟定
	d.complete("survey_and_draft_scheme", nil)
	d.complete("scheme_review", vars{"schemeApproved": true})
	d.complete("scheme_reply", nil)

	d.complete("accept_drawings", nil)
	d.complete("drawing_review_dispatch", vars{"drawingReviewer": "zhou"})
	d.complete("drawing_review", vars{"drawingApproved": false}) // the customer is told, then resubmits
	first := d.timerAt("design_review_window_deadline")
	d.complete("drawing_reply", nil)
	resubmitted := d.now
	d.complete("accept_drawings", nil)
	d.wantTimer("design_review_window_deadline", resubmitted, 10) // a resubmission restarts the clock
	if !d.timerAt("design_review_window_deadline").After(first) {
		t.Fatal("the design review window kept its first deadline")
	}
	d.complete("drawing_review_dispatch", vars{"drawingReviewer": "zhou"})
	d.complete("drawing_review", vars{"drawingApproved": true})
	d.complete("drawing_reply", nil)

	d.complete("accept_mid_check", nil)
	d.complete("mid_check", vars{"midCheckPassed": false})
	d.complete("mid_check_reply", nil)
	d.complete("accept_mid_check", nil)
	d.complete("mid_check", vars{"midCheckPassed": true})
	d.complete("mid_check_reply", nil)

	d.complete("accept_completion", nil)
	d.complete("completion_dispatch", vars{"acceptanceLead": "wu"})
	d.complete("completion_acceptance", vars{"acceptancePassed": false})
	d.complete("acceptance_reply", nil)
	d.complete("accept_completion", nil)
	d.complete("completion_dispatch", vars{"acceptanceLead": "wu"})
	d.complete("completion_acceptance", vars{"acceptancePassed": true})
	d.complete("acceptance_reply", nil)

	signers := vars{"countersigners": []any{"wang", "li", "zhao"}}
	d.completeWith("draft_contract", vars{}, signers)
	d.completeFor("contract_countersign", "wang", vars{"countersignAgree": true})
	d.completeFor("contract_countersign", "li", vars{"countersignAgree": false, "countersignOpinion": "产权分界点表述不清"})
	if open := d.open("contract_countersign"); len(open) != 0 {
		t.Fatalf("a disagreement should end the countersign; still open for %v", open)
	}
	d.completeWith("draft_contract", vars{}, signers)
	for _, who := range []string{"zhao", "wang", "li"} {
		d.completeFor("contract_countersign", who, vars{"countersignAgree": true})
	}
	d.complete("metering_ticket", nil)
	d.complete("archive", nil)
	d.wantCompleted()

	want := []string{
		"受理客户用电申请", "现场查勘派工", "查勘并拟定供电方案", "供电方案审核", "查勘并拟定供电方案", "供电方案审核", "供电方案答复",
		"受理图纸审查", "图纸审查派工", "图纸审查", "审图答复", "受理图纸审查", "图纸审查派工", "图纸审查", "审图答复",
		"受理中间检查", "中间检查", "中间检查意见答复", "受理中间检查", "中间检查", "中间检查意见答复",
		"受理客户工程竣工验收报验", "工程竣工验收派工", "竣工验收", "验收意见答复",
		"受理客户工程竣工验收报验", "工程竣工验收派工", "竣工验收", "验收意见答复",
		"拟订供用电合同", "供用电合同会签", "拟订供用电合同", "供用电合同会签", "生成装表工作票", "完整归档",
	}
	if !reflect.DeepEqual(d.visited, want) {
		t.Errorf("visited\n%v\nwant\n%v", d.visited, want)
	}
}

func TestGaoyaCountersignWithoutSignersGoesBack(t *testing.T) {
	d := drive(t, "gaoya_xinzhuang", "single")
	d.gaoyaToContract()
	d.complete("draft_contract", nil) // countersigners forgotten: nobody signs, nothing passes
	if len(d.open("draft_contract")) != 1 {
		t.Fatalf("want 拟订供用电合同 again, open: %v", d.openElements())
	}
}

func TestDiyaFeijuminPaths(t *testing.T) {
	for _, fail := range []bool{false, true} {
		d := drive(t, "diya_feijumin", "")
		d.complete("accept_application", nil)
		d.complete("site_survey", nil)
		d.complete("scheme_reply", nil)
		d.complete("accept_completion", nil)
		if fail {
			d.complete("completion_check", vars{"checkPassed": false})
			d.complete("accept_completion", nil)
		}
		d.complete("completion_check", vars{"checkPassed": true})
		d.complete("sign_contract", nil)
		d.complete("install_meter", nil)
		d.complete("archive", nil)
		d.wantCompleted()
		want := []string{"受理用电申请", "现场查勘", "答复供电方案", "受理竣工报验", "竣工检验", "签订供用电合同", "装表接电", "资料归档"}
		if fail {
			want = slices.Insert(want, 5, "受理竣工报验", "竣工检验")
		}
		if !reflect.DeepEqual(d.visited, want) {
			t.Errorf("fail=%v: visited %v, want %v", fail, d.visited, want)
		}
	}
}

func TestJuminPath(t *testing.T) {
	d := drive(t, "jumin", "")
	accepted := d.now
	d.complete("accept_application", nil)
	d.wantTimer("resident_window_deadline", accepted, 5) // whole process: 5 working days from 受理
	for _, id := range []string{"site_survey", "scheme_reply", "sign_contract", "install_meter", "archive"} {
		d.complete(id, nil)
	}
	d.wantCompleted()
	want := []string{"受理用电申请", "现场勘查", "答复供电方案", "签订供用电合同", "装表接电", "资料归档"}
	if !reflect.DeepEqual(d.visited, want) {
		t.Errorf("visited %v, want %v", d.visited, want)
	}
}

// Due dates on the 2025 National Day holiday (10-01..10-08 off, 09-28 and
// 10-11 worked): the commitment counts from the acceptance on 09-30.
func TestDeadlinesAcrossNationalDay(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	accepted := time.Date(2025, 9, 30, 10, 0, 0, 0, cst)
	for _, c := range []struct {
		supply string
		window time.Time
		draft  time.Time
	}{
		{"single", time.Date(2025, 10, 28, 10, 0, 0, 0, cst), time.Date(2025, 10, 20, 10, 0, 0, 0, cst)},
		{"dual", time.Date(2025, 11, 18, 10, 0, 0, 0, cst), time.Date(2025, 11, 4, 10, 0, 0, 0, cst)},
	} {
		d := drive(t, "gaoya_xinzhuang", c.supply)
		d.now = accepted
		d.complete("accept_application", vars{"supply": c.supply})
		if got := d.timerAt("scheme_window_deadline"); !got.Equal(c.window) {
			t.Errorf("%s: 供电方案答复 window ends %v, want %v", c.supply, got.In(cst), c.window)
		}
		if got := d.due("survey_dispatch"); !got.Equal(time.Date(2025, 10, 9, 10, 0, 0, 0, cst)) {
			t.Errorf("%s: 现场查勘派工 due %v, want 10-09 10:00", c.supply, got.In(cst))
		}
		d.now = accepted // dispatched at once
		d.complete("survey_dispatch", vars{"surveyor": "chen"})
		if got := d.due("survey_and_draft_scheme"); !got.Equal(c.draft) {
			t.Errorf("%s: 查勘并拟定供电方案 due %v, want %v", c.supply, got.In(cst), c.draft)
		}
	}
}

func TestDeadlineEscalatesWithoutStoppingTheWork(t *testing.T) {
	d := drive(t, "gaoya_xinzhuang", "single")
	d.complete("accept_application", nil)
	d.fire("scheme_window_deadline")
	if got := d.openElements(); !reflect.DeepEqual(got, []string{"overdue_scheme", "survey_dispatch"}) {
		t.Fatalf("open after the deadline: %v", got)
	}
	d.complete("overdue_scheme", nil)
	d.complete("survey_dispatch", vars{"surveyor": "chen"})
	d.complete("survey_and_draft_scheme", nil)
	d.complete("scheme_review", vars{"schemeApproved": true})
	d.complete("scheme_reply", nil)
	if _, ok := d.timers["design_review_window_deadline"]; ok {
		t.Fatal("the next window opened before its acceptance")
	}
	if len(d.timers) != 0 {
		t.Fatalf("timers left after the window closed: %v", d.timers)
	}
}

// dueDays is each step's due date in working days, and windows each
// commitment, by template and supply ("" where it does not matter).
var dueDays = map[string]map[string][2]int{ // element → {single, dual}
	"gaoya_xinzhuang": {
		"accept_application": {1, 1}, "survey_dispatch": {1, 1}, "survey_and_draft_scheme": {9, 20},
		"scheme_review": {3, 6}, "scheme_reply": {2, 3},
		"drawing_review_dispatch": {1, 1}, "drawing_review": {7, 7}, "drawing_reply": {2, 2},
		"mid_check": {4, 4}, "mid_check_reply": {1, 1},
		"completion_dispatch": {1, 1}, "completion_acceptance": {3, 3}, "acceptance_reply": {1, 1},
		"metering_ticket": {5, 5},
	},
	"diya_feijumin": {
		"accept_application": {1, 1}, "site_survey": {5, 5}, "scheme_reply": {2, 2},
		"completion_check": {5, 5}, "install_meter": {5, 5},
	},
	"jumin": {
		"accept_application": {1, 1}, "site_survey": {2, 2}, "scheme_reply": {1, 1}, "sign_contract": {1, 1}, "install_meter": {1, 1},
	},
}

var windowDays = map[string]map[string][2]int{ // boundary event → {single, dual}
	"gaoya_xinzhuang": {
		"scheme_window_deadline": {15, 30}, "design_review_window_deadline": {10, 10},
		"mid_check_window_deadline": {5, 5}, "completion_window_deadline": {5, 5}, "metering_ticket_deadline": {5, 5},
	},
	"diya_feijumin": {"scheme_window_deadline": {7, 7}, "completion_check_deadline": {5, 5}, "install_meter_deadline": {5, 5}},
	"jumin":         {"resident_window_deadline": {5, 5}},
}

// The steps inside a window share it: their due dates add up to the
// commitment, and a single-step window's due date is the commitment.
func TestStepDeadlinesAddUpToTheirWindow(t *testing.T) {
	for key, windows := range windowDays {
		def := mustParse(t, key)
		for id, days := range windows {
			host := def.Elements[id].AttachedTo
			for i := range 2 {
				sum := 0
				if host.Kind == model.KindSubProcess {
					for _, c := range host.Children {
						sum += dueDays[key][c.ID][i]
					}
				} else {
					sum = dueDays[key][host.ID][i]
				}
				if sum != days[i] {
					t.Errorf("%s/%s: steps add up to %d working days, window is %d", key, host.ID, sum, days[i])
				}
			}
		}
	}
}
