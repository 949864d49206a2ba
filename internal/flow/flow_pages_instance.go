package flow

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow/model"
	"github.com/guanjia/guanjia/internal/web"
)

// instanceFilterView is the instance list's filter as the URL carries it.
type instanceFilterView struct {
	Definition  string
	State       string
	SiteID      int64
	BusinessKey string
	From, To    string // dates, 2006-01-02, in the display zone
	BeforeID    int64
}

type instancesData struct {
	Page      *InstancePage
	Filter    instanceFilterView
	Keys      []Definition // the latest version of each key
	DefNames  map[string]string
	Sites     []Choice
	SiteNames map[int64]string
	States    []string
	NextURL   string
	FirstURL  string
}

// displayZone is where dates typed in filters are meant.
var displayZone = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

func (h *Pages) instancesPage(c *web.Ctx) error {
	ctx := c.R.Context()
	fv := instanceFilterView{Definition: c.Query("definition"), State: c.Query("state"), SiteID: c.QueryInt64("site"),
		BusinessKey: c.Query("business_key"), From: c.Query("from"), To: c.Query("to"), BeforeID: c.QueryInt64("before_id")}
	f := InstanceFilter{DefinitionKey: fv.Definition, State: fv.State, SiteID: fv.SiteID, BusinessKey: fv.BusinessKey, BeforeID: fv.BeforeID, Limit: 50}
	var v errs.Validation
	if fv.State != "" && fv.State != "history" {
		v.OneOf("state", fv.State, instanceStates...)
	}
	f.From = parseDay(fv.From, "from", &v)
	if to := parseDay(fv.To, "to", &v); !to.IsZero() {
		f.To = to.AddDate(0, 0, 1) // the whole last day
	}
	d := &instancesData{Filter: fv, States: instanceStates, DefNames: map[string]string{}, SiteNames: map[int64]string{}, Page: &InstancePage{}}
	defs, err := h.E.ListDefinitions(ctx, "")
	if err != nil {
		return err
	}
	for _, def := range defs {
		if _, ok := d.DefNames[def.Key]; !ok {
			d.DefNames[def.Key] = def.Name
			d.Keys = append(d.Keys, def)
		}
	}
	if d.Sites, err = h.Dir.Sites(ctx); err != nil {
		return err
	}
	for _, s := range d.Sites {
		d.SiteNames[s.ID] = s.Name
	}
	formErr := v.Err()
	if formErr == nil {
		if d.Page, err = h.E.ListInstances(ctx, f); err != nil {
			return err
		}
	}
	q := url.Values{}
	for k, val := range map[string]string{"definition": fv.Definition, "state": fv.State, "business_key": fv.BusinessKey, "from": fv.From, "to": fv.To} {
		if val != "" {
			q.Set(k, val)
		}
	}
	if fv.SiteID != 0 {
		q.Set("site", strconv.FormatInt(fv.SiteID, 10))
	}
	if fv.BeforeID != 0 {
		d.FirstURL = "/instances?" + q.Encode()
	}
	if d.Page.More {
		q.Set("before_id", strconv.FormatInt(d.Page.NextID, 10))
		d.NextURL = "/instances?" + q.Encode()
	}
	status := http.StatusOK
	if formErr != nil {
		status = http.StatusUnprocessableEntity
	}
	return c.HTML(status, "flow_instances", d, formErr)
}

// parseDay reads a date filter; zero when empty.
func parseDay(s, field string, v *errs.Validation) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.ParseInLocation("2006-01-02", s, displayZone)
	v.Check(err == nil, field, "error.field.wrong_type")
	return t
}

// timelineLine is one history event told for people.
type timelineLine struct {
	At      time.Time
	Actor   string
	What    string // the localised kind
	Tone    string // badge colour
	Subject string // the element's name
	Detail  string
	Changes []varChange
}

// varChange is a variable's change, shown before → after.
type varChange struct {
	Name, Before, After string
	New                 bool
}

// varView is one process variable.
type varView struct {
	Name, Value string
}

type instanceData struct {
	V         *InstanceView
	Def       *Definition
	SiteName  string
	Timeline  []timelineLine
	Vars      []varView
	Tasks     []taskCard
	People    []Choice
	CanCancel bool
	Flash     string
	Diagram   diagramView
	Values    map[string]string // the completion forms start empty
}

// diagramView tells the diagram script what to draw and mark.
type diagramView struct {
	Source                string // the BPMN file's URL; "" for YAML definitions
	Done, Active, Overdue string // JSON arrays of element ids
}

func (h *Pages) instancePage(c *web.Ctx) error {
	return h.renderInstance(c, http.StatusOK, nil)
}

// renderInstance shows an instance, with a refused action's error when
// formErr is set.
func (h *Pages) renderInstance(c *web.Ctx, status int, formErr error) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	ctx := c.R.Context()
	v, err := h.E.Get(ctx, id)
	if err != nil {
		return err
	}
	def, err := h.E.Definition(ctx, v.DefinitionID)
	if err != nil {
		return err
	}
	d := &instanceData{V: v, Def: def, Flash: flash(c), Values: map[string]string{}, CanCancel: v.State == "active" && c.P.Can(auth.PermFlowStart, v.NodePath)}
	if v.SiteID != nil {
		sites, err := h.Dir.Sites(ctx)
		if err != nil {
			return err
		}
		for _, s := range sites {
			if s.ID == *v.SiteID {
				d.SiteName = s.Name
			}
		}
	}
	if def.Format == FormatBPMN {
		d.Diagram = diagramView{Source: "/api/v1/process-definitions/" + strconv.FormatInt(def.ID, 10) + "/source",
			Done: jsonList(v.DoneElements), Active: jsonList(v.ActiveElements), Overdue: jsonList(v.OverdueElements)}
	}
	if d.Timeline, err = h.timeline(c, v, def); err != nil {
		return err
	}
	d.Vars = variablesView(v.Variables)
	dispatcher := false
	for _, t := range v.Tasks {
		if t.State != "open" {
			continue
		}
		card, err := h.card(c, &t)
		if err != nil {
			return err
		}
		dispatcher = dispatcher || card.Acts.Dispatch
		d.Tasks = append(d.Tasks, card)
	}
	if dispatcher {
		if d.People, err = h.Dir.People(ctx); err != nil {
			return err
		}
	}
	return c.HTML(status, "flow_instance", d, formErr)
}

func jsonList(ids []string) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

func variablesView(vars map[string]any) []varView {
	out := make([]varView, 0, len(vars))
	for k, val := range vars {
		out = append(out, varView{Name: k, Value: showValue(val)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// showValue renders a variable's value: text as it is, anything else as
// JSON.
func showValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}

// historyTones colours the kinds of history events.
var historyTones = map[string]string{
	"instance_started": "info", "instance_ended": "ok", "task_created": "info", "task_completed": "ok",
	"task_claimed": "muted", "task_unclaimed": "warn", "task_assigned": "info", "task_reassigned": "warn",
	"task_delegated": "muted", "task_resolved": "muted", "task_dispatched": "info", "task_cancelled": "muted",
	"comment": "muted", "reply": "info", "reminder": "bad", "variables": "muted", "incident": "bad",
	"timer_scheduled": "muted", "element_started": "muted", "element_completed": "muted", "element_cancelled": "muted",
}

// timeline tells an instance's history for people: who, when, what, and
// the variables that changed from what to what. Entering and leaving a user
// task are left out: its task events say the same in more words.
func (h *Pages) timeline(c *web.Ctx, v *InstanceView, def *Definition) ([]timelineLine, error) {
	type payload struct {
		AssigneeID  int64          `json:"assignee_id"`
		From        int64          `json:"from"`
		Reason      string         `json:"reason"`
		Comment     string         `json:"comment"`
		Body        string         `json:"body"`
		DueAt       *time.Time     `json:"due_at"`
		At          *time.Time     `json:"at"`
		Status      string         `json:"status"`
		Message     string         `json:"message"`
		TeamID      int64          `json:"team_id"`
		OnBehalf    bool           `json:"on_behalf"`
		Definition  string         `json:"definition"`
		Version     int            `json:"version"`
		BusinessKey string         `json:"business_key"`
		Variables   map[string]any `json:"variables"`
	}
	type change struct {
		Name    string
		Before  any
		After   any
		Existed bool
	}
	ps := make([]payload, len(v.Timeline))
	var ids []int64
	for i, ev := range v.Timeline {
		if len(ev.Data) > 0 && ev.Data[0] == '{' {
			_ = json.Unmarshal(ev.Data, &ps[i]) // a payload we cannot read shows as the bare event
		}
		ids = append(ids, ps[i].AssigneeID, ps[i].From)
		if ev.ActorID != nil {
			ids = append(ids, *ev.ActorID)
		}
	}
	names, err := h.E.StaffNames(c.R.Context(), ids)
	if err != nil {
		return nil, err
	}
	var teams map[int64]string
	elementName := func(id string) string {
		if el := def.Model.Elements[id]; el != nil && el.Name != "" {
			return el.Name
		}
		return id
	}
	L := c.L
	out := make([]timelineLine, 0, len(v.Timeline))
	for i, ev := range v.Timeline {
		p := ps[i]
		if quietStep(ev, def) {
			continue
		}
		l := timelineLine{At: ev.At, Actor: ev.ActorName, What: L.T("flowui.history." + ev.Kind), Tone: historyTones[ev.Kind]}
		if l.What == "flowui.history."+ev.Kind {
			l.What = ev.Kind
		}
		if l.Tone == "" {
			l.Tone = "muted"
		}
		if ev.ActorID != nil {
			if n, ok := names[*ev.ActorID]; ok {
				l.Actor = n
			}
		}
		if ev.ElementID != "" {
			l.Subject = elementName(ev.ElementID)
		}
		var parts []string
		switch ev.Kind {
		case "instance_started":
			name := p.Definition
			if name == def.Key {
				name = def.Name
			}
			parts = append(parts, L.T("flowui.history.version", "key", name, "n", p.Version))
			if p.BusinessKey != "" {
				parts = append(parts, L.T("flowui.business_key")+" "+p.BusinessKey)
			}
		case "task_claimed", "task_assigned", "task_delegated", "task_resolved", "task_reassigned":
			if p.From != 0 {
				parts = append(parts, names[p.From]+" →")
			}
			if p.AssigneeID != 0 && (ev.ActorID == nil || *ev.ActorID != p.AssigneeID) {
				parts = append(parts, names[p.AssigneeID])
			}
		case "task_dispatched":
			if teams == nil {
				teams = map[int64]string{}
				if ts, err := h.Dir.Teams(c.R.Context()); err == nil {
					for _, t := range ts {
						teams[t.ID] = t.Name
					}
				}
			}
			parts = append(parts, "→ "+teams[p.TeamID])
		case "task_completed":
			if p.OnBehalf {
				parts = append(parts, L.T("flowui.history.on_behalf"))
			}
		case "instance_ended":
			parts = append(parts, L.T("flowui.state."+p.Status))
		case "timer_scheduled":
			if p.At != nil {
				parts = append(parts, L.T("flowui.history.fires_at", "at", web.FormatTime(p.At, "2006-01-02 15:04")))
			}
		case "variables":
			var cs []change
			_ = json.Unmarshal(ev.Data, &cs)
			for _, ch := range cs {
				vc := varChange{Name: ch.Name, After: showValue(ch.After), New: !ch.Existed}
				if ch.Existed {
					vc.Before = showValue(ch.Before)
				}
				l.Changes = append(l.Changes, vc)
			}
		}
		if p.DueAt != nil {
			parts = append(parts, L.T("flowui.history.due", "at", web.FormatTime(p.DueAt, "2006-01-02 15:04")))
		}
		for _, s := range []string{p.Body, p.Comment, p.Reason, p.Message} {
			if s != "" && s != "dispatch" {
				parts = append(parts, s)
			}
		}
		l.Detail = strings.Join(parts, " · ")
		out = append(out, l)
	}
	return out, nil
}

// quietStep reports whether a history event only repeats what another line
// says: entering or leaving a user task (its task lines), a start or end
// event (the instance's own lines), and entering anything that does not
// wait (a gateway is worth a line when it is passed, not when reached).
func quietStep(ev HistoryEvent, def *Definition) bool {
	if ev.Kind != "element_started" && ev.Kind != "element_completed" {
		return false
	}
	el := def.Model.Elements[ev.ElementID]
	if el == nil {
		return false
	}
	switch {
	case el.Human != nil, el.Kind == model.KindStartEvent, el.Kind == model.KindEndEvent:
		return true
	case ev.Kind == "element_started":
		return el.Kind != model.KindIntermediateCatchEvent && el.Kind != model.KindReceiveTask && el.Job == nil && el.Kind != model.KindSubProcess
	}
	return false
}

// cancelForm cancels an instance with a reason.
func (h *Pages) cancelForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	if err := c.R.ParseForm(); err != nil {
		return errs.Invalid("body", "error.body.malformed")
	}
	err = h.E.CancelInstance(c.R.Context(), id, c.R.PostForm.Get("reason"))
	if err == nil {
		return c.Redirect("/instances/" + strconv.FormatInt(id, 10) + "?ok=cancelled")
	}
	if !userError(err) {
		return err
	}
	return h.renderInstance(c, web.StatusOf(errs.CodeOf(err)), err)
}
