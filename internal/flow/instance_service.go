package flow

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow/machine"
)

// StartInput starts an instance.
type StartInput struct {
	DefinitionKey string         `json:"definition_key"`
	Version       int            `json:"version,omitempty"` // 0: the latest
	BusinessKey   string         `json:"business_key"`
	Variables     map[string]any `json:"variables"`
	SiteID        *int64         `json:"site_id"`
	CustomerRef   string         `json:"customer_ref,omitempty"`
}

// Started is the answer to a start.
type Started struct {
	ID    int64  `json:"id"`
	State string `json:"state"`
}

// Start starts an instance of the latest (or a given) version. The caller
// needs flow.start on the site (or on their home node when no site is
// given). EInvalid for unknown definitions, sites or bad variables.
func (e *Engine) Start(ctx context.Context, in StartInput) (*Started, error) {
	var v errs.Validation
	v.Required("definition_key", in.DefinitionKey)
	v.MaxLen("business_key", in.BusinessKey, 200)
	v.MaxLen("customer_ref", in.CustomerRef, 200)
	if err := v.Err(); err != nil {
		return nil, err
	}
	path, cal, err := e.sitePath(ctx, in.SiteID)
	if err != nil {
		return nil, err
	}
	p := auth.FromContext(ctx)
	if path == "" && p != nil {
		path = p.NodePath
	}
	if p != nil && !p.Can(auth.PermFlowStart, path) {
		return nil, errs.Forbidden()
	}
	def, err := e.definitionFor(ctx, in.DefinitionKey, in.Version)
	if err != nil {
		return nil, err
	}
	return e.start(ctx, def, in, path, cal, machine.StartOptions{})
}

// StartSystem starts an instance without a caller (other modules: cases,
// housekeeping); it trusts its input's site.
func (e *Engine) StartSystem(ctx context.Context, in StartInput) (*Started, error) {
	path, cal, err := e.sitePath(ctx, in.SiteID)
	if err != nil {
		return nil, err
	}
	def, err := e.definitionFor(ctx, in.DefinitionKey, in.Version)
	if err != nil {
		return nil, err
	}
	return e.start(ctx, def, in, path, cal, machine.StartOptions{})
}

func (e *Engine) definitionFor(ctx context.Context, key string, version int) (*Definition, error) {
	if version == 0 {
		d, err := e.Latest(ctx, key)
		if errs.CodeOf(err) == errs.ENotFound {
			return nil, errs.Invalid("definition_key", "error.flow.definition_not_found")
		}
		return d, err
	}
	var id int64
	err := e.db.Q(ctx).QueryRowContext(ctx, `SELECT id FROM flow_definitions WHERE key = ? AND version = ?`, key, version).Scan(&id)
	if db.IsNoRows(err) {
		return nil, errs.Invalid("version", "error.flow.definition_not_found")
	}
	if err != nil {
		return nil, err
	}
	return e.definition(ctx, id)
}

// sitePath returns the org path and calendar key of a site; "" for none.
func (e *Engine) sitePath(ctx context.Context, siteID *int64) (string, string, error) {
	if siteID == nil {
		return "", "", nil
	}
	var path, cal string
	err := e.db.Q(ctx).QueryRowContext(ctx, `SELECT path, calendar FROM org_nodes WHERE id = ?`, *siteID).Scan(&path, &cal)
	if db.IsNoRows(err) {
		return "", "", errs.Invalid("site_id", "error.field.unknown_id")
	}
	return path, cal, err
}

func (e *Engine) start(ctx context.Context, def *Definition, in StartInput, path, cal string, opts machine.StartOptions) (*Started, error) {
	out := &Started{}
	err := e.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		st, effects, err := e.machineFor(ctx, cal, path).StartAt(def.Model, opts, in.Variables, tx.Now)
		if err != nil {
			return machineError(err)
		}
		raw, err := json.Marshal(st)
		if err != nil {
			return err
		}
		var started, ended any
		if a := audit.ActorFrom(ctx); a.ID != 0 {
			started = a.ID
		}
		if st.Status != machine.StatusActive {
			ended = db.Ms(tx.Now)
		}
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO flow_instances (definition_id, definition_key, business_key, site_id, node_path, customer_ref, state, reason, machine, calendar, started_by, started_at, ended_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			def.ID, def.Key, in.BusinessKey, in.SiteID, path, in.CustomerRef, string(st.Status), st.Reason, string(raw), cal, started, db.Ms(tx.Now), ended, db.Ms(tx.Now)).Scan(&id)
		if err != nil {
			return fmt.Errorf("flow: insert instance: %w", err)
		}
		out.ID, out.State = id, string(st.Status)
		l := &loaded{Instance: Instance{ID: id, DefinitionID: def.ID, DefinitionKey: def.Key, BusinessKey: in.BusinessKey, SiteID: in.SiteID, NodePath: path, CustomerRef: in.CustomerRef}, def: def, state: st, cal: cal}
		l.hist.add(tx, ctx, id, "instance_started", "", nil, map[string]any{"definition": def.Key, "version": def.Version, "business_key": in.BusinessKey})
		return e.effects(ctx, tx, l, effects)
	})
	return out, err
}

// snapshot reads an instance without locking it.
func (e *Engine) snapshot(ctx context.Context, id int64) (*Instance, *machine.State, *Definition, error) {
	var in Instance
	var raw string
	var site, ended sql.NullInt64
	var started int64
	err := e.db.Q(ctx).QueryRowContext(ctx, `SELECT definition_id, definition_key, business_key, site_id, node_path, customer_ref, state, reason, machine, started_at, ended_at
		FROM flow_instances WHERE id = ?`, id).Scan(&in.DefinitionID, &in.DefinitionKey, &in.BusinessKey, &site, &in.NodePath, &in.CustomerRef, &in.State, &in.Reason, &raw, &started, &ended)
	if db.IsNoRows(err) {
		return nil, nil, nil, errs.NotFound("error.flow.instance_not_found")
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("flow: read instance %d: %w", id, err)
	}
	in.ID, in.StartedAt, in.EndedAt = id, db.Time(started), db.TimePtr(ended)
	if site.Valid {
		in.SiteID = &site.Int64
	}
	st := &machine.State{}
	if err := json.Unmarshal([]byte(raw), st); err != nil {
		return nil, nil, nil, fmt.Errorf("flow: instance %d state: %w", id, err)
	}
	def, err := e.definition(ctx, in.DefinitionID)
	if err != nil {
		return nil, nil, nil, err
	}
	in.Version = def.Version
	in.Variables = st.Vars
	return &in, st, def, nil
}

// InstanceView is an instance with what a person needs to follow it.
type InstanceView struct {
	Instance
	DefinitionName  string         `json:"definition_name"`
	ActiveElements  []string       `json:"active_elements"`
	DoneElements    []string       `json:"done_elements"`
	OverdueElements []string       `json:"overdue_elements"`
	Tasks           []Task         `json:"tasks"`
	Timeline        []HistoryEvent `json:"timeline"`
}

// Get returns an instance with its active elements, tasks and timeline.
// ENotFound when it does not exist or lies outside the caller's view.
func (e *Engine) Get(ctx context.Context, id int64) (*InstanceView, error) {
	in, st, def, err := e.snapshot(ctx, id)
	if err != nil {
		return nil, err
	}
	if p := auth.FromContext(ctx); p != nil && !p.Can(auth.PermFlowView, in.NodePath) && !e.hasTaskIn(ctx, p.StaffID, id) {
		return nil, errs.NotFound("error.flow.instance_not_found")
	}
	v := &InstanceView{Instance: *in, DefinitionName: def.Name, ActiveElements: []string{}, DoneElements: []string{}, OverdueElements: []string{}}
	seen := map[string]bool{}
	for _, t := range st.Tokens {
		if !seen[t.Element] {
			seen[t.Element] = true
			v.ActiveElements = append(v.ActiveElements, t.Element)
		}
	}
	sort.Strings(v.ActiveElements)
	if v.Tasks, err = e.instanceTasks(ctx, id); err != nil {
		return nil, err
	}
	for _, t := range v.Tasks {
		if t.Overdue {
			v.OverdueElements = append(v.OverdueElements, t.ElementID)
		}
	}
	if v.Timeline, err = e.Timeline(ctx, id, 1000); err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, h := range v.Timeline {
		if h.Kind == "element_completed" && !done[h.ElementID] {
			done[h.ElementID] = true
			v.DoneElements = append(v.DoneElements, h.ElementID)
		}
	}
	return v, nil
}

func (e *Engine) hasTaskIn(ctx context.Context, staffID, instanceID int64) bool {
	var n int
	_ = e.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM flow_tasks WHERE instance_id = ? AND (assignee_id = ? OR dispatched_by = ?)`, instanceID, staffID, staffID).Scan(&n)
	return n > 0
}

func (e *Engine) instanceTasks(ctx context.Context, id int64) ([]Task, error) {
	rows, err := e.db.Q(ctx).QueryContext(ctx, `SELECT `+taskCols+taskFrom+` WHERE t.instance_id = ? ORDER BY t.id`, id)
	if err != nil {
		return nil, fmt.Errorf("flow: tasks of %d: %w", id, err)
	}
	defer rows.Close()
	now := db.Ms(time.Now())
	out := []Task{}
	for rows.Next() {
		t, err := scanTask(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// Timeline returns an instance's history, oldest first.
func (e *Engine) Timeline(ctx context.Context, id int64, limit int) ([]HistoryEvent, error) {
	rows, err := e.db.Q(ctx).QueryContext(ctx, `SELECT id, at, kind, element_id, task_id, actor_id, actor_name, data FROM flow_history WHERE instance_id = ? ORDER BY id LIMIT ?`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("flow: timeline %d: %w", id, err)
	}
	defer rows.Close()
	out := []HistoryEvent{}
	for rows.Next() {
		var h HistoryEvent
		var at int64
		var task, actor sql.NullInt64
		var data string
		if err := rows.Scan(&h.ID, &at, &h.Kind, &h.ElementID, &task, &actor, &h.ActorName, &data); err != nil {
			return nil, err
		}
		h.At = db.Time(at)
		if task.Valid {
			h.TaskID = &task.Int64
		}
		if actor.Valid {
			h.ActorID = &actor.Int64
		}
		if data != "" {
			h.Data = json.RawMessage(data)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// InstanceFilter selects instances.
type InstanceFilter struct {
	DefinitionKey string
	State         string // active, completed, …; "history" = every ended state
	SiteID        int64
	CustomerRef   string
	BusinessKey   string
	From, To      time.Time // started in [From, To)
	BeforeID      int64
	Limit         int
}

// InstancePage is a page of instances.
type InstancePage struct {
	Items  []Instance `json:"items"`
	More   bool       `json:"more"`
	NextID int64      `json:"next_before_id,omitempty"`
}

// ListInstances returns instances in the caller's view, newest first.
func (e *Engine) ListInstances(ctx context.Context, f InstanceFilter) (*InstancePage, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	cond, args := auth.ScopeSQL("node_path", auth.FromContext(ctx).Scope(auth.PermFlowView))
	add := func(c string, a ...any) { cond += " AND " + c; args = append(args, a...) }
	if f.DefinitionKey != "" {
		add("definition_key = ?", f.DefinitionKey)
	}
	switch f.State {
	case "":
	case "history":
		add("state <> 'active'")
	default:
		add("state = ?", f.State)
	}
	if f.SiteID != 0 {
		add("site_id = ?", f.SiteID)
	}
	if f.CustomerRef != "" {
		add("customer_ref = ?", f.CustomerRef)
	}
	if f.BusinessKey != "" {
		add("business_key = ?", f.BusinessKey)
	}
	if !f.From.IsZero() {
		add("started_at >= ?", db.Ms(f.From))
	}
	if !f.To.IsZero() {
		add("started_at < ?", db.Ms(f.To))
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	rows, err := e.db.Q(ctx).QueryContext(ctx, `SELECT id, definition_id, definition_key, business_key, site_id, customer_ref, state, reason, started_at, ended_at
		FROM flow_instances WHERE `+cond+` ORDER BY id DESC LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("flow: list instances: %w", err)
	}
	defer rows.Close()
	p := &InstancePage{Items: []Instance{}}
	for rows.Next() {
		var in Instance
		var site, ended sql.NullInt64
		var started int64
		if err := rows.Scan(&in.ID, &in.DefinitionID, &in.DefinitionKey, &in.BusinessKey, &site, &in.CustomerRef, &in.State, &in.Reason, &started, &ended); err != nil {
			return nil, err
		}
		if site.Valid {
			in.SiteID = &site.Int64
		}
		in.StartedAt, in.EndedAt = db.Time(started), db.TimePtr(ended)
		p.Items = append(p.Items, in)
	}
	if len(p.Items) > f.Limit {
		p.Items, p.More = p.Items[:f.Limit], true
		p.NextID = p.Items[f.Limit-1].ID
	}
	return p, rows.Err()
}

// MessageInput is a message to correlate.
type MessageInput struct {
	Name           string         `json:"name"`
	CorrelationKey string         `json:"correlation_key"`
	Variables      map[string]any `json:"variables"`
}

// MessageResult says what a message did.
type MessageResult struct {
	Correlated []int64 `json:"correlated_instances"`
	Started    []int64 `json:"started_instances"`
}

// Correlate delivers a message to every instance waiting for its name and
// key, or else starts the definitions whose message start event has that
// name. ENotFound "error.flow.no_subscription" when nothing waits for it.
func (e *Engine) Correlate(ctx context.Context, in MessageInput) (*MessageResult, error) {
	var v errs.Validation
	v.Required("name", in.Name)
	v.MaxLen("name", in.Name, 200)
	v.MaxLen("correlation_key", in.CorrelationKey, 500)
	if err := v.Err(); err != nil {
		return nil, err
	}
	res := &MessageResult{Correlated: []int64{}, Started: []int64{}}
	rows, err := e.db.Q(ctx).QueryContext(ctx, `SELECT instance_id, sub_id FROM flow_subscriptions WHERE message_name = ? AND correlation_key = ? ORDER BY instance_id, sub_id LIMIT 1000`,
		in.Name, in.CorrelationKey)
	if err != nil {
		return nil, fmt.Errorf("flow: subscriptions: %w", err)
	}
	type sub struct{ inst, id int64 }
	var subs []sub
	for rows.Next() {
		var s sub
		if err := rows.Scan(&s.inst, &s.id); err != nil {
			rows.Close()
			return nil, err
		}
		subs = append(subs, s)
	}
	rows.Close()
	done := map[int64]bool{}
	for _, s := range subs {
		if done[s.inst] {
			continue // one message wakes one waiting point per instance
		}
		err := e.apply(ctx, s.inst, func(m *machine.Machine, l *loaded, now time.Time) (*machine.State, []machine.Effect, error) {
			return m.CorrelateMessage(l.def.Model, l.state, s.id, in.Variables, now)
		}, nil)
		if errs.CodeOf(err) == errs.ENotFound || errs.CodeOf(err) == errs.EConflict && !isIncident(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		done[s.inst] = true
		res.Correlated = append(res.Correlated, s.inst)
	}
	if len(res.Correlated) > 0 {
		return res, nil
	}
	starts, err := e.messageStarts(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	for _, ms := range starts {
		def, err := e.definition(ctx, ms.defID)
		if err != nil {
			return nil, err
		}
		st, err := e.start(ctx, def, StartInput{BusinessKey: in.CorrelationKey, Variables: in.Variables}, "", "", machine.StartOptions{StartEventID: ms.element})
		if err != nil {
			return nil, err
		}
		res.Started = append(res.Started, st.ID)
	}
	if len(res.Started) == 0 {
		return nil, errs.Newf(errs.ENotFound, "error.flow.no_subscription", "name", in.Name, "key", in.CorrelationKey)
	}
	return res, nil
}

type messageStart struct {
	defID   int64
	element string
}

// messageStarts returns, per definition key, the latest version's message
// start events of that name.
func (e *Engine) messageStarts(ctx context.Context, name string) ([]messageStart, error) {
	rows, err := e.db.Q(ctx).QueryContext(ctx, `SELECT ms.definition_id, ms.element_id FROM flow_message_starts ms JOIN flow_definitions d ON d.id = ms.definition_id
		WHERE ms.message_name = ? AND d.version = (SELECT MAX(version) FROM flow_definitions d2 WHERE d2.key = d.key)`, name)
	if err != nil {
		return nil, fmt.Errorf("flow: message starts: %w", err)
	}
	defer rows.Close()
	var out []messageStart
	for rows.Next() {
		var ms messageStart
		if err := rows.Scan(&ms.defID, &ms.element); err != nil {
			return nil, err
		}
		out = append(out, ms)
	}
	return out, rows.Err()
}

// CancelInstance cancels a running instance; its tasks, timers and
// subscriptions are withdrawn. The caller needs flow.start on its site.
func (e *Engine) CancelInstance(ctx context.Context, id int64, reason string) error {
	in, _, _, err := e.snapshot(ctx, id)
	if err != nil {
		return err
	}
	if p := auth.FromContext(ctx); p != nil && !p.Can(auth.PermFlowStart, in.NodePath) {
		return errs.Forbidden()
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return errs.Invalid("reason", "error.field.required")
	}
	if len([]rune(reason)) > 500 {
		return errs.Invalid("reason", "error.field.too_long")
	}
	return e.apply(ctx, id, func(m *machine.Machine, l *loaded, now time.Time) (*machine.State, []machine.Effect, error) {
		return m.Cancel(l.def.Model, l.state, reason, now)
	}, nil)
}
