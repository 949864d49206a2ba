package sla

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

// boardRow is a cycle as the board shows it: the time left in words and a
// status with a colour and a word.
type boardRow struct {
	Cycle
	Status string // overdue, warning, ok
	Hours  int64
	Mins   int64
}

type boardData struct {
	Rows  []boardRow
	Site  int64
	Limit int
}

func boardRows(cs []Cycle, now time.Time) []boardRow {
	out := make([]boardRow, 0, len(cs))
	for _, c := range cs {
		r := boardRow{Cycle: c, Status: "ok"}
		left := int64(0)
		if c.LeftSeconds != nil {
			left = *c.LeftSeconds
		}
		switch {
		case c.DueAt != nil && !now.Before(*c.DueAt):
			r.Status = "overdue"
		case c.WarnAt != nil && !now.Before(*c.WarnAt):
			r.Status = "warning"
		}
		if left < 0 {
			left = -left
		}
		r.Hours, r.Mins = left/3600, (left%3600+59)/60
		if r.Mins == 60 {
			r.Hours, r.Mins = r.Hours+1, 0
		}
		out = append(out, r)
	}
	return out
}

func (h *HTTP) boardPage(c *web.Ctx) error {
	scope, err := h.boardScope(c)
	if err != nil {
		return err
	}
	limit := c.QueryInt("limit", 100)
	cs, err := h.Svc.AtRisk(c.R.Context(), scope, limit)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "sla_board", boardData{Rows: boardRows(cs, h.Svc.Now()), Site: c.QueryInt64("site"), Limit: limit}, nil)
}

type policiesData struct {
	Items      []Policy
	Recomputes []Recompute
}

func (h *HTTP) policiesPage(c *web.Ctx) error {
	ps, err := h.Svc.Policies(c.R.Context())
	if err != nil {
		return err
	}
	rs, err := h.Svc.Recomputes(c.R.Context(), 5)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "sla_policies", policiesData{Items: ps, Recomputes: rs}, nil)
}

// policyForm is the editor's view: the policy and its rows, with blank rows
// to add targets and steps.
type policyForm struct {
	Policy    Policy
	New       bool
	Targets   []Target
	Ladder    []Step
	Calendars []string
	Metrics   []string
	Notifies  []string
}

const blankRows = 2

func (h *HTTP) formData(c *web.Ctx, p Policy, isNew bool) (*policyForm, error) {
	cals, err := h.Svc.cals.List(c.R.Context())
	if err != nil {
		return nil, err
	}
	f := &policyForm{Policy: p, New: isNew, Targets: append([]Target{}, p.Targets...), Ladder: append([]Step{}, p.Ladder...),
		Metrics:  []string{MetricFirstResponse, MetricNextUpdate, MetricResolution, MetricFollowUp, MetricOnSite},
		Notifies: []string{NotifyAssignee, NotifySupervisor, NotifyManager}}
	for _, cal := range cals {
		f.Calendars = append(f.Calendars, cal.Key)
	}
	for range blankRows {
		f.Targets = append(f.Targets, Target{Business: true, WarnPct: 80})
		f.Ladder = append(f.Ladder, Step{})
	}
	return f, nil
}

func (h *HTTP) newPolicyPage(c *web.Ctx) error {
	f, err := h.formData(c, Policy{Enabled: true, Ladder: DefaultLadder()}, true)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "sla_policy", f, nil)
}

func (h *HTTP) policyPage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	p, err := h.Svc.Policy(c.R.Context(), id)
	if err != nil {
		return err
	}
	f, err := h.formData(c, *p, false)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "sla_policy", f, nil)
}

func (h *HTTP) createPolicyForm(c *web.Ctx) error {
	in, rows, err := readPolicyForm(c)
	if err == nil {
		var p *Policy
		if p, err = h.Svc.CreatePolicy(c.R.Context(), in.Input()); err == nil {
			return c.Redirect("/sla/policies/" + itoa(p.ID) + "?saved=1")
		}
	}
	return h.refill(c, in, rows, true, err)
}

func (h *HTTP) updatePolicyForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	in, rows, err := readPolicyForm(c)
	if err == nil {
		if _, err = h.Svc.UpdatePolicy(c.R.Context(), id, in.Input()); err == nil {
			return c.Redirect("/sla/policies/" + itoa(id) + "?saved=1")
		}
	}
	cur, lerr := h.Svc.Policy(c.R.Context(), id)
	if lerr != nil {
		return lerr
	}
	in.ID, in.Key, in.Builtin = cur.ID, cur.Key, cur.Builtin
	return h.refill(c, in, rows, false, err)
}

// refill shows the editor again with what was typed and the problems on
// their rows. Errors other than bad input are rendered as errors.
func (h *HTTP) refill(c *web.Ctx, in Policy, rows formRows, isNew bool, err error) error {
	if errs.CodeOf(err) != errs.EInvalid {
		return err
	}
	f, ferr := h.formData(c, in, isNew)
	if ferr != nil {
		return ferr
	}
	f.Targets, f.Ladder = rows.targets, rows.ladder
	return c.HTML(http.StatusUnprocessableEntity, "sla_policy", f, rows.formFields(err))
}

// formRows keeps every row as typed, blank ones included, and where each
// kept row came from, so that "targets[1].minutes" marks the right line.
type formRows struct {
	targets  []Target
	ladder   []Step
	tIndex   []int // kept target i came from form row tIndex[i]
	lIndex   []int
	rowError map[string]string
}

var rowField = regexp.MustCompile(`^(targets|ladder)\[(\d+)\]\.(.+)$`)

func (r formRows) formFields(err error) error {
	var e *errs.Error
	if !errors.As(err, &e) {
		return err
	}
	out := *e
	out.Fields = map[string]string{}
	for f, k := range r.rowError {
		out.Fields[f] = k
	}
	for f, k := range e.Fields {
		if m := rowField.FindStringSubmatch(f); m != nil {
			i, _ := strconv.Atoi(m[2])
			idx := r.tIndex
			if m[1] == "ladder" {
				idx = r.lIndex
			}
			if i < len(idx) {
				f = fmt.Sprintf("%s[%d].%s", m[1], idx[i], m[3])
			}
		}
		out.Fields[f] = k
	}
	return &out
}

// readPolicyForm reads the editor: the policy's fields, then the target and
// step rows as parallel lists (t_metric, t_minutes, …; l_on, l_notify, …).
// Rows without a metric (targets) or a recipient (steps) are left out.
func readPolicyForm(c *web.Ctx) (Policy, formRows, error) {
	var rows formRows
	if err := c.R.ParseForm(); err != nil {
		return Policy{}, rows, errs.Invalid("body", "error.body.malformed")
	}
	f := c.R.PostForm
	p := Policy{Key: f.Get("key"), Name: f.Get("name"), Enabled: f.Get("enabled") != "", CaseType: strings.TrimSpace(f.Get("case_type")),
		Category: strings.TrimSpace(f.Get("category")), Calendar: f.Get("calendar")}
	if node := f.Get("node_id"); node != "" {
		id, err := strconv.ParseInt(node, 10, 64)
		if err != nil {
			return p, rows, errs.Invalid("node_id", "error.field.wrong_type")
		}
		p.NodeID = &id
	}
	at := func(name string, i int) string {
		if vs := f[name]; i < len(vs) {
			return strings.TrimSpace(vs[i])
		}
		return ""
	}
	var v errs.Validation
	number := func(field, s string) int {
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			v.Add(field, "error.field.wrong_type")
		}
		return n
	}
	for i := range f["t_metric"] {
		t := Target{Metric: at("t_metric", i), Name: at("t_name", i), Priority: at("t_priority", i), Grade: at("t_grade", i),
			Business: at("t_clock", i) != "elapsed", StartEvent: at("t_start", i), StopEvent: at("t_stop", i),
			PauseStates: splitList(strings.NewReplacer("，", ",", "、", ",").Replace(at("t_pause", i)))}
		t.Minutes = number(fmt.Sprintf("targets[%d].minutes", i), at("t_minutes", i))
		t.WarnPct = number(fmt.Sprintf("targets[%d].warn_pct", i), at("t_warn_pct", i))
		if id, err := strconv.ParseInt(at("t_id", i), 10, 64); err == nil {
			t.ID = id
		}
		rows.targets = append(rows.targets, t)
		if t.Metric != "" {
			p.Targets = append(p.Targets, t)
			rows.tIndex = append(rows.tIndex, i)
		}
	}
	for i := range f["l_notify"] {
		st := Step{On: at("l_on", i), Notify: at("l_notify", i), Metric: at("l_metric", i)}
		st.AfterMinutes = number(fmt.Sprintf("ladder[%d].after_minutes", i), at("l_after", i))
		rows.ladder = append(rows.ladder, st)
		if st.Notify != "" {
			p.Ladder = append(p.Ladder, st)
			rows.lIndex = append(rows.lIndex, i)
		}
	}
	if p.Ladder == nil {
		p.Ladder = []Step{}
	}
	if err := v.Err(); err != nil {
		var e *errs.Error
		errors.As(err, &e)
		rows.rowError = e.Fields // already named by form row
		return p, rows, errs.New(errs.EInvalid, "error.invalid_input")
	}
	return p, rows, nil
}
