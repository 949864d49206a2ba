package cases

import (
	"context"
	"fmt"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
)

// DemoCases gives a site its categories and a few cases of each type over
// the last 90 days: some closed after a return visit, some open in each
// state, so every list and inbox has something to show.
func (s *Service) DemoCases(ctx context.Context, siteID, technicianID int64) error {
	if err := s.SeedCategories(ctx, siteID); err != nil {
		return err
	}
	cats, err := s.Categories(ctx, siteID)
	if err != nil {
		return err
	}
	code := map[string]int64{}
	for _, c := range cats {
		code[c.Code] = c.ID
	}
	units, err := s.demoUnits(ctx, siteID, 12)
	if err != nil {
		return err
	}
	unitAt := func(i int) *int64 {
		if len(units) == 0 {
			return nil
		}
		u := units[i%len(units)]
		return &u
	}
	ctx = auth.WithPrincipal(audit.WithActor(ctx, audit.Actor{Name: "demo"}), nil)
	type plan struct {
		typ, cat, text, priority string
		daysAgo                  int
		upTo                     string // the last action
	}
	plans := []plan{
		{TypeRepair, "water_power", "卫生间地漏反水", "normal", 85, "closed"},
		{TypeRepair, "doors_windows", "入户门锁芯卡住", "normal", 60, "closed"},
		{TypeRepair, "elevator", "2 号电梯按键失灵", "urgent", 40, "closed"},
		{TypeComplaint, "noise", "楼上夜间装修噪音", "normal", 30, "closed"},
		{TypeInquiry, "other", "物业费缴费方式咨询", "normal", 20, "closed"},
		{TypePraise, "service", "表扬保洁阿姨认真负责", "normal", 12, "closed"},
		{TypeRepair, "water_power", "厨房水龙头漏水", "normal", 3, "completed"},
		{TypeRepair, "public_facilities", "单元门禁无法刷卡", "urgent", 1, "accepted"},
		{TypeRepair, "water_power", "客厅灯不亮", "normal", 1, "dispatched"},
		{TypeComplaint, "parking", "车位被占用", "normal", 0, "acknowledged"},
		{TypeSuggestion, "greening", "建议增加儿童游乐设施", "normal", 0, "new"},
		{TypeRepair, "doors_windows", "阳台推拉门脱轨，等待配件", "normal", 2, "paused"},
	}
	for i, p := range plans {
		in := CreateInput{Type: p.typ, SiteID: siteID, Description: p.text, Priority: p.priority, ContactPhone: fmt.Sprintf("1380000%04d", 1+i), Source: "phone"}
		if id, ok := code[p.cat]; ok {
			in.CategoryID = &id
		}
		if p.cat != "public_facilities" && p.cat != "elevator" && p.cat != "greening" {
			in.UnitID = unitAt(i)
		} else {
			in.Area = "public"
		}
		var v = locationOnly(s, ctx, &in)
		out, err := s.create(ctx, in, v)
		if err != nil {
			return fmt.Errorf("cases: demo case %d: %w", i, err)
		}
		id := out.Case.ID
		steps := demoSteps(p.typ, p.upTo, technicianID)
		for _, st := range steps {
			if _, err := s.Do(ctx, id, st.act, st.in); err != nil {
				return fmt.Errorf("cases: demo case %d %s: %w", i, st.act, err)
			}
		}
		if err := backdate(ctx, id, time.Duration(p.daysAgo)*24*time.Hour); err != nil {
			return err
		}
	}
	return nil
}

type demoStep struct {
	act string
	in  ActionInput
}

func demoSteps(typ, upTo string, tech int64) []demoStep {
	all := []demoStep{
		{ActAcknowledge, ActionInput{Note: "已联系业主"}},
		{ActDispatch, ActionInput{AssigneeID: tech}},
		{ActClaim, ActionInput{}},
		{ActComplete, ActionInput{Note: "已处理", LabourMinutes: 30, OnBehalf: true}},
		{ActVisit, ActionInput{Method: "phone", Speed: 5, Quality: 5, Attitude: 5, Comment: "满意"}},
	}
	stop := map[string]int{"new": 0, "acknowledged": 1, "dispatched": 2, "accepted": 3, "paused": 3, "completed": 4, "closed": 5}[upTo]
	out := append([]demoStep{}, all[:stop]...)
	if upTo == "paused" {
		out = append(out, demoStep{ActPause, ActionInput{Reason: "等待配件"}})
	}
	if typ == TypeInquiry || typ == TypePraise {
		if upTo == "closed" {
			return []demoStep{all[0], {ActClose, ActionInput{Reason: "电话已答复"}}}
		}
	}
	return out
}

func locationOnly(s *Service, ctx context.Context, in *CreateInput) *location {
	var v validationSink
	return s.locate(ctx, in, &v.Validation)
}

// backdate moves a demo case's times into the past, so lists spread over
// the months a real site would have.
func backdate(ctx context.Context, id int64, by time.Duration) error {
	ms := by.Milliseconds()
	tx := db.TxOrFail(ctx)
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET created_at = created_at - ?, acknowledged_at = acknowledged_at - ?, dispatched_at = dispatched_at - ?,
		accepted_at = accepted_at - ?, arrived_at = arrived_at - ?, completed_at = completed_at - ?, closed_at = closed_at - ?, updated_at = updated_at - ? WHERE id = ?`,
		ms, ms, ms, ms, ms, ms, ms, ms, id); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE case_events SET at = at - ? WHERE case_id = ?`, ms, id)
	return err
}

func (s *Service) demoUnits(ctx context.Context, siteID int64, n int) ([]int64, error) {
	return db.Column[int64](ctx, s.db.Q(ctx), `SELECT u.id FROM units u JOIN households h ON h.unit_id = u.id AND h.status = 'current' WHERE u.site_id = ? ORDER BY u.id LIMIT ?`, siteID, n)
}
