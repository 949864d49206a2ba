package sla

import (
	"context"
	"fmt"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/db"
)

// workingDay is a working day of cn-workday in minutes (09:00–12:00 and
// 13:30–18:00): the 业扩 limits are in working days, stored as working
// minutes so that pauses can be counted to the minute.
const workingDay = 450

// DefaultLadder is the escalation of every shipped policy: the holder is
// told at the warning, the supervisor at the breach, the manager half an
// hour after it.
func DefaultLadder() []Step {
	return []Step{
		{On: OnWarning, Notify: NotifyAssignee},
		{On: OnBreach, Notify: NotifySupervisor},
		{On: OnBreach, AfterMinutes: 30, Notify: NotifyManager},
	}
}

// Case types of the shipped policies.
const (
	CaseRepair           = "repair"            // 报修
	CaseComplaint        = "complaint"         // 投诉
	CasePowerApplication = "power_application" // 业扩报装
)

// DefaultPolicies are the policies a new installation starts with; admins
// edit them like any other.
func DefaultPolicies() []Policy {
	step := func(metric, name string, days int, start, stop string) Target {
		return Target{Metric: metric, Name: name, Minutes: days * workingDay, Business: true, WarnPct: 80,
			StartEvent: start, StopEvent: stop, PauseStates: []string{"等待客户资料"}}
	}
	return []Policy{
		{Key: "property-repair", Name: "物业报修", Enabled: true, CaseType: CaseRepair, Calendar: calendar.Key24x7, Ladder: DefaultLadder(),
			Targets: []Target{
				{Metric: MetricFirstResponse, Name: "受理响应", Minutes: 10, Business: true, WarnPct: 80, StartEvent: "created", StopEvent: "acknowledged"},
				{Metric: MetricNextUpdate, Name: "向业主反馈", Minutes: 24 * 60, Business: true, WarnPct: 80, StartEvent: "created", StopEvent: "feedback_given", PauseStates: []string{"等待业主", "等待配件"}},
				{Metric: MetricOnSite, Name: "紧急维修到场（一级服务）", Priority: "urgent", Grade: "1", Minutes: 30, Business: true, WarnPct: 80, StartEvent: "created", StopEvent: "arrived"},
				{Metric: MetricOnSite, Name: "紧急维修到场（二级服务）", Priority: "urgent", Grade: "2", Minutes: 60, Business: true, WarnPct: 80, StartEvent: "created", StopEvent: "arrived"},
				{Metric: MetricOnSite, Name: "紧急维修到场（三级服务）", Priority: "urgent", Grade: "3", Minutes: 120, Business: true, WarnPct: 80, StartEvent: "created", StopEvent: "arrived"},
			}},
		{Key: "complaint", Name: "投诉", Enabled: true, CaseType: CaseComplaint, Ladder: DefaultLadder(),
			Targets: []Target{
				{Metric: MetricFirstResponse, Name: "首次答复", Minutes: 24 * 60, Business: false, WarnPct: 80, StartEvent: "created", StopEvent: "responded"},
				{Metric: MetricResolution, Name: "处理完毕", Minutes: 7 * 24 * 60, Business: false, WarnPct: 80, StartEvent: "created", StopEvent: "resolved", PauseStates: []string{"等待业主"}},
			}},
		{Key: "power-application", Name: "业扩报装（非居民）", Enabled: true, CaseType: CasePowerApplication, Calendar: calendar.KeyCNWorkday, Ladder: DefaultLadder(),
			Targets: []Target{
				func() Target {
					t := step("supply_plan", "供电方案答复（单电源）", 15, "application_accepted", "plan_replied")
					t.Grade = "single"
					return t
				}(),
				func() Target {
					t := step("supply_plan", "供电方案答复（双电源）", 30, "application_accepted", "plan_replied")
					t.Grade = "dual"
					return t
				}(),
				step("design_review", "设计审核", 10, "design_submitted", "design_reviewed"),
				step("mid_inspection", "中间检查", 5, "mid_inspection_requested", "mid_inspection_done"),
				step("completion_inspection", "竣工检验", 5, "completion_requested", "completion_inspected"),
				step("connection", "装表接电", 5, "connection_ready", "connected"),
			}},
		{Key: "power-application-residential", Name: "业扩报装（居民）", Enabled: true, CaseType: CasePowerApplication, Category: "residential",
			Calendar: calendar.KeyCNWorkday, Ladder: DefaultLadder(),
			Targets: []Target{step("whole_process", "居民报装全过程", 5, "application_accepted", "connected")}},
	}
}

// EnsureDefaults stores each shipped policy whose key is not stored yet.
// An admin's edits are never overwritten.
func (s *Service) EnsureDefaults(ctx context.Context) error {
	ctx = audit.WithActor(ctx, audit.Actor{Name: "system"})
	for _, p := range DefaultPolicies() {
		p.Builtin = true
		err := s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sla_policies WHERE key = ?`, p.Key).Scan(&n); err != nil || n > 0 {
				return err
			}
			if err := s.validate(ctx, &p); err != nil {
				return err
			}
			id, err := s.insertPolicy(ctx, tx, &p)
			if err != nil {
				return err
			}
			return s.audit.Record(ctx, audit.Entry{Action: "create", Entity: "sla_policy", EntityID: id, Summary: p.Name, After: p})
		})
		if err != nil {
			return fmt.Errorf("sla: shipped policy %s: %w", p.Key, err)
		}
	}
	return nil
}
