package sla

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

var slug = regexp.MustCompile(`^[a-z0-9][a-z0-9_\-]{0,63}$`)

// maxTargetMinutes bounds a target: a year of minutes.
const maxTargetMinutes = 366 * 24 * 60

// maxSteps bounds a ladder: steps done are kept as bits of one BIGINT.
const maxSteps = 32

// Policies lists every policy with its targets and ladder.
func (s *Service) Policies(ctx context.Context) ([]Policy, error) { return s.listPolicies(ctx) }

// Policy returns one policy; ENotFound when there is none.
func (s *Service) Policy(ctx context.Context, id int64) (*Policy, error) {
	return s.loadPolicy(ctx, id)
}

// validate checks a policy as an admin wrote it and fills NodePath. It
// returns EInvalid naming each bad field ("targets[1].minutes").
func (s *Service) validate(ctx context.Context, p *Policy) error {
	var v errs.Validation
	p.Key, p.Name = strings.TrimSpace(p.Key), strings.TrimSpace(p.Name)
	v.Check(slug.MatchString(p.Key), "key", "error.sla.bad_key")
	v.Required("name", p.Name)
	v.MaxLen("name", p.Name, 100)
	v.MaxLen("case_type", p.CaseType, 50)
	v.MaxLen("category", p.Category, 50)
	if p.Calendar != "" {
		if _, err := s.cals.Get(ctx, p.Calendar); errs.CodeOf(err) == errs.ENotFound {
			v.Add("calendar", "error.sla.unknown_calendar")
		} else if err != nil {
			return err
		}
	}
	p.NodePath = ""
	if p.NodeID != nil {
		err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT path FROM org_nodes WHERE id = ?`, *p.NodeID).Scan(&p.NodePath)
		if db.IsNoRows(err) {
			v.Add("node_id", "error.field.unknown_id")
		} else if err != nil {
			return fmt.Errorf("sla: node of policy: %w", err)
		}
	}
	if len(p.Targets) == 0 {
		v.Add("targets", "error.sla.no_targets")
	}
	seen := map[string]bool{}
	for i := range p.Targets {
		t := &p.Targets[i]
		f := fmt.Sprintf("targets[%d].", i)
		t.Metric, t.Priority, t.Grade = strings.TrimSpace(t.Metric), strings.TrimSpace(t.Priority), strings.TrimSpace(t.Grade)
		v.Check(slug.MatchString(t.Metric), f+"metric", "error.sla.bad_metric")
		v.MaxLen(f+"priority", t.Priority, 30)
		v.MaxLen(f+"grade", t.Grade, 30)
		v.MaxLen(f+"name", t.Name, 100)
		v.Check(t.Minutes > 0 && t.Minutes <= maxTargetMinutes, f+"minutes", "error.sla.bad_minutes")
		v.Check(t.WarnPct >= 0 && t.WarnPct < 100, f+"warn_pct", "error.sla.bad_warn_pct")
		v.MaxLen(f+"start_event", t.StartEvent, 50)
		v.MaxLen(f+"stop_event", t.StopEvent, 50)
		var states []string
		for _, st := range t.PauseStates {
			if st = strings.TrimSpace(st); st != "" {
				v.Check(!strings.Contains(st, ","), f+"pause_states", "error.sla.bad_pause_state")
				states = append(states, st)
			}
		}
		t.PauseStates = states
		k := t.Metric + "\x00" + t.Priority + "\x00" + t.Grade
		if seen[k] {
			v.Add(f+"metric", "error.sla.duplicate_target")
		}
		seen[k] = true
	}
	v.Check(len(p.Ladder) <= maxSteps, "ladder", "error.sla.too_many_steps")
	for i, st := range p.Ladder {
		f := fmt.Sprintf("ladder[%d].", i)
		v.OneOf(f+"on", st.On, OnWarning, OnBreach)
		v.Check(st.AfterMinutes >= 0 && st.AfterMinutes <= maxTargetMinutes, f+"after_minutes", "error.sla.bad_minutes")
		role, isRole := strings.CutPrefix(st.Notify, "role:")
		v.Check(st.Notify == NotifyAssignee || st.Notify == NotifySupervisor || st.Notify == NotifyManager || (isRole && slug.MatchString(role)),
			f+"notify", "error.sla.bad_notify")
		v.Check(st.Metric == "" || slug.MatchString(st.Metric), f+"metric", "error.sla.bad_metric")
	}
	return v.Err()
}

func (s *Service) canManage(ctx context.Context, nodePath string) error {
	p := auth.FromContext(ctx)
	if nodePath == "" && !p.CanAnywhere(auth.PermSLAManage) || nodePath != "" && !p.Can(auth.PermSLAManage, nodePath) {
		return errs.Forbidden()
	}
	return nil
}

// CreatePolicy stores a new policy. It needs sla.manage (on the policy's
// subtree when it has one); EInvalid for bad fields.
func (s *Service) CreatePolicy(ctx context.Context, input PolicyInput) (*Policy, error) {
	in := input.policy()
	if err := s.validate(ctx, &in); err != nil {
		return nil, err
	}
	if err := s.canManage(ctx, in.NodePath); err != nil {
		return nil, err
	}
	var id int64
	err := s.db.WithTxAt(ctx, s.Now(), func(ctx context.Context, tx *db.Tx) error {
		var err error
		if id, err = s.insertPolicy(ctx, tx, &in); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "create", Entity: "sla_policy", EntityID: id, NodePath: in.NodePath, Summary: in.Name, After: in})
	})
	if err != nil {
		return nil, err
	}
	return s.loadPolicy(ctx, id)
}

func (s *Service) insertPolicy(ctx context.Context, tx *db.Tx, p *Policy) (int64, error) {
	id, err := s.writePolicy(ctx, tx, p)
	if err != nil {
		return 0, err
	}
	return id, s.writeTargets(ctx, tx, id, p.Targets)
}

// UpdatePolicy replaces a policy's fields, targets and ladder (its key
// stays: a different key is EInvalid on "key") and recomputes the deadlines of its open cycles in the background,
// in bounded batches. It needs sla.manage; ENotFound when there is no such
// policy, EConflict when it changed meanwhile.
func (s *Service) UpdatePolicy(ctx context.Context, id int64, input PolicyInput) (*Policy, error) {
	in := input.policy()
	before, err := s.loadPolicy(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.canManage(ctx, before.NodePath); err != nil {
		return nil, err
	}
	if in.Key != "" && in.Key != before.Key {
		return nil, errs.Invalid("key", "error.sla.key_immutable")
	}
	in.ID, in.Key, in.Builtin, in.Version = id, before.Key, before.Builtin, before.Version
	if err := s.validate(ctx, &in); err != nil {
		return nil, err
	}
	if err := s.canManage(ctx, in.NodePath); err != nil {
		return nil, err
	}
	err = s.db.WithTxAt(ctx, s.Now(), func(ctx context.Context, tx *db.Tx) error {
		if _, err := s.writePolicy(ctx, tx, &in); err != nil {
			return err
		}
		if err := s.writeTargets(ctx, tx, id, in.Targets); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, audit.Entry{Action: "update", Entity: "sla_policy", EntityID: id, NodePath: in.NodePath, Summary: in.Name, Before: before, After: in}); err != nil {
			return err
		}
		return s.enqueueRecompute(ctx, tx, "", id)
	})
	if err != nil {
		return nil, err
	}
	return s.loadPolicy(ctx, id)
}

// pickTarget returns the target of metric that best fits the priority and
// grade: an exact priority beats "any", then an exact grade beats "any".
// ok is false when the policy has none for the metric.
func pickTarget(ts []Target, metric, priority, grade string) (Target, bool) {
	best, bestScore := Target{}, -1
	for _, t := range ts {
		if t.Metric != metric || (t.Priority != "" && t.Priority != priority) || (t.Grade != "" && t.Grade != grade) {
			continue
		}
		score := 0
		if t.Priority != "" {
			score += 2
		}
		if t.Grade != "" {
			score++
		}
		if score > bestScore {
			best, bestScore = t, score
		}
	}
	return best, bestScore >= 0
}

// resolve finds the policy and target for a metric of a subject: the given
// policy, or the most specific enabled policy covering m that has a target
// for the metric. It returns ENotFound ("error.sla.no_policy") when none does.
func (set *policySet) resolve(policyID int64, m Match, metric string) (*Policy, Target, error) {
	ps := set.candidates(m)
	if policyID != 0 {
		p := set.byID[policyID]
		if p == nil {
			return nil, Target{}, errs.NotFound("error.sla.policy_not_found")
		}
		ps = []*Policy{p}
	}
	for _, p := range ps {
		if t, ok := pickTarget(p.Targets, metric, m.Priority, m.Grade); ok {
			return p, t, nil
		}
	}
	return nil, Target{}, errs.Newf(errs.ENotFound, "error.sla.no_policy", "metric", metric)
}
