package flow

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/live"
	"github.com/guanjia/guanjia/internal/web"
)

// taskActs says which actions the caller may take on a task; the pages
// offer only those (the engine checks again).
type taskActs struct {
	Claim, Complete, Unclaim, Delegate, Resolve bool
	// Dispatch: assign, reassign and remind (task.dispatch on its subtree).
	Dispatch bool
}

func (h *Pages) acts(ctx context.Context, p *auth.Principal, t *Task) (taskActs, error) {
	var a taskActs
	if t.State != "open" || p == nil {
		return a, nil
	}
	mine := t.AssigneeID != nil && *t.AssigneeID == p.StaffID
	a.Dispatch = p.Can(auth.PermTaskDispatch, t.NodePath)
	candidate := false
	if t.AssigneeID == nil {
		ok, err := h.E.isCandidate(ctx, p, t)
		if err != nil {
			return a, err
		}
		candidate = ok
	}
	a.Claim = t.AssigneeID == nil && (candidate || a.Dispatch)
	a.Complete = t.OwnerID == nil && (mine || (t.AssigneeID == nil && candidate))
	a.Unclaim = t.AssigneeID != nil && t.OwnerID == nil && (mine || a.Dispatch)
	a.Delegate = mine && t.OwnerID == nil
	a.Resolve = mine && t.OwnerID != nil
	return a, nil
}

// taskCard is an open task with what the caller may do and, when they may
// complete it, its form.
type taskCard struct {
	Task
	Acts taskActs
	Form []FormFieldView
}

func (h *Pages) card(c *web.Ctx, t *Task) (taskCard, error) {
	card := taskCard{Task: *t}
	var err error
	if card.Acts, err = h.acts(c.R.Context(), c.P, t); err != nil {
		return card, err
	}
	if card.Acts.Complete {
		d, err := h.E.TaskDetail(c.R.Context(), t.ID)
		if err != nil {
			return card, err
		}
		card.Form = d.Form
	}
	return card, nil
}

// inboxViews are the inbox tabs in order.
var inboxViews = []string{"mine", "claimable", "all", "dispatched"}

type inboxTab struct {
	View   string
	Count  string
	Active bool
	URL    string
}

// inboxRow is a task in the inbox with its one-tap claim.
type inboxRow struct {
	Task
	Claim bool
}

type inboxData struct {
	View        string
	Overdue     bool
	Key         string
	Tabs        []inboxTab
	Rows        []inboxRow
	More        bool
	Keys        []Definition
	DefNames    map[string]string
	CanDispatch bool
	Flash       string
	Self        string // this view's URL, for the forms' way back
	Topics      string // JSON list of the live topics that change this inbox
}

// inboxLimit is how many tasks one inbox view shows; counts above it show
// as "100+".
const inboxLimit = 100

func (h *Pages) inboxPage(c *web.Ctx) error {
	ctx := c.R.Context()
	d := &inboxData{View: c.Query("view"), Overdue: c.Query("overdue") == "1", Key: c.Query("process"), Flash: flash(c),
		CanDispatch: c.P.CanAnywhere(auth.PermTaskDispatch), DefNames: map[string]string{}}
	if d.View == "" {
		d.View = "mine"
	}
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
	link := func(view string) string {
		q := url.Values{"view": {view}}
		if d.Overdue {
			q.Set("overdue", "1")
		}
		if d.Key != "" {
			q.Set("process", d.Key)
		}
		return "/tasks?" + q.Encode()
	}
	found := false
	for _, view := range inboxViews {
		if (view == "all" || view == "dispatched") && !d.CanDispatch {
			continue
		}
		page, err := h.E.ListTasks(ctx, TaskFilter{View: view, Overdue: d.Overdue, Key: d.Key, Limit: inboxLimit})
		if err != nil {
			return err
		}
		count := strconv.Itoa(len(page.Items))
		if page.More {
			count += "+"
		}
		tab := inboxTab{View: view, Count: count, Active: view == d.View, URL: link(view)}
		d.Tabs = append(d.Tabs, tab)
		if !tab.Active {
			continue
		}
		found = true
		d.More = page.More
		for _, t := range page.Items {
			claim := t.State == "open" && t.AssigneeID == nil && (view == "claimable" || c.P.Can(auth.PermTaskDispatch, t.NodePath))
			d.Rows = append(d.Rows, inboxRow{Task: t, Claim: claim})
		}
	}
	if !found {
		return errs.Invalid("view", "error.field.invalid_choice")
	}
	d.Self = link(d.View)
	d.Topics = inboxTopics(c.P)
	return c.HTML(http.StatusOK, "flow_tasks", d, nil)
}

// inboxTopics lists what an inbox follows live: the person's own topic
// (tasks given to them) and the subtrees where they see processes (tasks
// entering or leaving the pools they may claim from).
func inboxTopics(p *auth.Principal) string {
	topics := []string{live.UserTopic(p.StaffID)}
	for _, path := range p.Scope(auth.PermFlowView) {
		if len(topics) == 20 {
			break
		}
		topics = append(topics, live.NodeTopic(path))
	}
	b, _ := json.Marshal(topics)
	return string(b)
}

type taskData struct {
	D           *TaskDetail
	Acts        taskActs
	ProcessName string
	People      []Choice
	Values      map[string]string // the form as sent, after a refusal
	Flash       string
}

func (h *Pages) taskPage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	return h.renderTask(c, id, http.StatusOK, nil, nil)
}

// renderTask shows a task; after a refused action, with its error and the
// form values sent.
func (h *Pages) renderTask(c *web.Ctx, id int64, status int, formErr error, values map[string]string) error {
	ctx := c.R.Context()
	td, err := h.E.TaskDetail(ctx, id)
	if err != nil {
		return err
	}
	d := &taskData{D: td, Values: values, Flash: flash(c)}
	if d.Values == nil {
		d.Values = map[string]string{}
	}
	if d.Acts, err = h.acts(ctx, c.P, &td.Task); err != nil {
		return err
	}
	if _, _, def, err := h.E.snapshot(ctx, td.InstanceID); err == nil {
		d.ProcessName = def.Name
	}
	if d.Acts.Dispatch || d.Acts.Delegate {
		if d.People, err = h.Dir.People(ctx); err != nil {
			return err
		}
	}
	return c.HTML(status, "flow_task", d, formErr)
}

// taskForm runs one action on a task from a form post: on success it goes
// to the form's "next" (or def) with a confirmation; a refusal shows the
// task page with the message.
func (h *Pages) taskForm(c *web.Ctx, ok, def string, do func(ctx context.Context, id int64, f url.Values) error) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	if err := c.R.ParseForm(); err != nil {
		return errs.Invalid("body", "error.body.malformed")
	}
	if def == "" {
		def = "/tasks/" + strconv.FormatInt(id, 10)
	}
	err = do(c.R.Context(), id, c.R.PostForm)
	if err == nil {
		return c.Redirect(withOK(localPath(c.R.PostForm.Get("next"), def), ok))
	}
	if !userError(err) {
		return err
	}
	values := map[string]string{}
	for k, v := range c.R.PostForm {
		if k != "csrf_token" && len(v) > 0 {
			values[k] = v[0]
		}
	}
	return h.renderTask(c, id, web.StatusOf(errs.CodeOf(err)), err, values)
}

func (h *Pages) claimForm(c *web.Ctx) error {
	return h.taskForm(c, "claimed", "", func(ctx context.Context, id int64, _ url.Values) error { return h.E.Claim(ctx, id) })
}

func (h *Pages) unclaimForm(c *web.Ctx) error {
	return h.taskForm(c, "unclaimed", "", func(ctx context.Context, id int64, _ url.Values) error { return h.E.Unclaim(ctx, id) })
}

func (h *Pages) completeForm(c *web.Ctx) error {
	return h.taskForm(c, "completed", "/tasks", func(ctx context.Context, id int64, f url.Values) error {
		td, err := h.E.TaskDetail(ctx, id)
		if err != nil {
			return err
		}
		vars, err := completionVariables(td.Form, f)
		if err != nil {
			return err
		}
		return h.E.Complete(ctx, id, vars)
	})
}

// completionVariables reads a task's form: a checkbox is true or false, a
// number must be whole, an empty optional field is left out. Field errors
// are keyed "variables.<field id>", as the engine's.
func completionVariables(fields []FormFieldView, f url.Values) (map[string]any, error) {
	vars := map[string]any{}
	var v errs.Validation
	for _, ff := range fields {
		raw := strings.TrimSpace(f.Get("f_" + ff.ID))
		switch {
		case ff.Type == "boolean":
			vars[ff.ID] = raw != ""
		case raw == "":
		case ff.Type == "long":
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				v.Add("variables."+ff.ID, "error.field.wrong_type")
				continue
			}
			vars[ff.ID] = n
		default:
			vars[ff.ID] = raw
		}
	}
	return vars, v.Err()
}

func (h *Pages) delegateForm(c *web.Ctx) error {
	return h.taskForm(c, "delegated", "/tasks", func(ctx context.Context, id int64, f url.Values) error {
		to, _ := strconv.ParseInt(f.Get("assignee_id"), 10, 64)
		return h.E.Delegate(ctx, id, to)
	})
}

func (h *Pages) resolveForm(c *web.Ctx) error {
	return h.taskForm(c, "resolved", "/tasks", func(ctx context.Context, id int64, f url.Values) error {
		return h.E.Resolve(ctx, id, strings.TrimSpace(f.Get("body")))
	})
}

func (h *Pages) commentForm(c *web.Ctx) error {
	return h.taskForm(c, "commented", "", func(ctx context.Context, id int64, f url.Values) error {
		kind := "reply"
		if f.Get("kind") == "comment" {
			kind = "comment"
		}
		return h.E.Comment(ctx, id, kind, f.Get("body"))
	})
}

func (h *Pages) remindForm(c *web.Ctx) error {
	return h.taskForm(c, "reminded", "", func(ctx context.Context, id int64, f url.Values) error {
		return h.E.Comment(ctx, id, "reminder", f.Get("body"))
	})
}

func (h *Pages) assignForm(c *web.Ctx) error {
	return h.taskForm(c, "assigned", "", func(ctx context.Context, id int64, f url.Values) error {
		var v errs.Validation
		in := AssignInput{Reason: strings.TrimSpace(f.Get("reason"))}
		in.AssigneeID, _ = strconv.ParseInt(f.Get("assignee_id"), 10, 64)
		in.DueAt = parseLocalTime(f.Get("due_at"), "due_at", &v)
		if err := v.Err(); err != nil {
			return err
		}
		return h.E.Assign(ctx, id, in)
	})
}

// parseLocalTime reads a datetime-local input (display zone); nil when empty.
func parseLocalTime(s, field string, v *errs.Validation) *time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", s, displayZone)
	if err != nil {
		v.Add(field, "error.field.wrong_type")
		return nil
	}
	return &t
}

// dispatchFailure is a task that kept a dispatch from going, and why.
type dispatchFailure struct {
	ID                int64
	Name, BusinessKey string
	Why               string
}

// dispatchChoice is the dispatch screen's choice as sent.
type dispatchChoice struct {
	AssigneeID, TeamID int64
	DueAt, Reason      string
}

type dispatchData struct {
	Rows       []Task
	More       bool
	Key        string
	Overdue    bool
	Unassigned bool
	Keys       []Definition
	DefNames   map[string]string
	People     []Choice
	Teams      []Choice
	Selected   map[int64]bool
	Failed     map[int64]string // task id → why it could not be dispatched
	Failures   []dispatchFailure
	Form       dispatchChoice
	Flash      string
}

func (h *Pages) dispatchPage(c *web.Ctx) error {
	d := &dispatchData{Key: c.Query("process"), Overdue: c.Query("overdue") == "1", Unassigned: c.Query("unassigned") == "1", Flash: flash(c)}
	return h.renderDispatch(c, d, http.StatusOK, nil)
}

func (h *Pages) renderDispatch(c *web.Ctx, d *dispatchData, status int, formErr error) error {
	ctx := c.R.Context()
	page, err := h.E.ListTasks(ctx, TaskFilter{View: "all", Key: d.Key, Overdue: d.Overdue, Unassigned: d.Unassigned, Limit: 200})
	if err != nil {
		return err
	}
	d.Rows, d.More = page.Items, page.More
	defs, err := h.E.ListDefinitions(ctx, "")
	if err != nil {
		return err
	}
	d.DefNames = map[string]string{}
	for _, def := range defs {
		if _, ok := d.DefNames[def.Key]; !ok {
			d.DefNames[def.Key] = def.Name
			d.Keys = append(d.Keys, def)
		}
	}
	if d.People, err = h.Dir.People(ctx); err != nil {
		return err
	}
	if d.Teams, err = h.Dir.Teams(ctx); err != nil {
		return err
	}
	if d.Selected == nil {
		d.Selected = map[int64]bool{}
	}
	return c.HTML(status, "flow_dispatch", d, formErr)
}

// dispatchForm dispatches the ticked tasks, all or nothing; when any
// cannot go, none goes and each refused row says why.
func (h *Pages) dispatchForm(c *web.Ctx) error {
	if err := c.R.ParseForm(); err != nil {
		return errs.Invalid("body", "error.body.malformed")
	}
	f := c.R.PostForm
	d := &dispatchData{Key: f.Get("process"), Overdue: f.Get("overdue") == "1", Unassigned: f.Get("unassigned") == "1",
		Selected: map[int64]bool{}, Failed: map[int64]string{},
		Form: dispatchChoice{DueAt: f.Get("due_at"), Reason: strings.TrimSpace(f.Get("reason"))}}
	d.Form.AssigneeID, _ = strconv.ParseInt(f.Get("assignee_id"), 10, 64)
	d.Form.TeamID, _ = strconv.ParseInt(f.Get("team_id"), 10, 64)
	var v errs.Validation
	in := DispatchInput{AssigneeID: d.Form.AssigneeID, TeamID: d.Form.TeamID, Reason: d.Form.Reason}
	for _, s := range f["task_ids"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			v.Add("task_ids", "error.field.wrong_type")
			continue
		}
		in.TaskIDs = append(in.TaskIDs, id)
		d.Selected[id] = true
	}
	in.DueAt = parseLocalTime(d.Form.DueAt, "due_at", &v)
	err := v.Err()
	if err == nil {
		_, err = h.E.Dispatch(c.R.Context(), in)
	}
	if err == nil {
		q := url.Values{"ok": {"dispatched"}}
		for k, on := range map[string]bool{"overdue": d.Overdue, "unassigned": d.Unassigned} {
			if on {
				q.Set(k, "1")
			}
		}
		if d.Key != "" {
			q.Set("process", d.Key)
		}
		return c.Redirect("/tasks/dispatch?" + q.Encode())
	}
	if !userError(err) {
		return err
	}
	var e *errs.Error
	if asErr(err, &e) {
		failed, _ := e.Args["failed"].(map[string]string)
		for sid, key := range failed {
			id, perr := strconv.ParseInt(sid, 10, 64)
			if perr != nil {
				continue
			}
			d.Failed[id] = c.L.T(key)
			fl := dispatchFailure{ID: id, Why: d.Failed[id]}
			if t, terr := h.E.Task(c.R.Context(), id); terr == nil {
				fl.Name, fl.BusinessKey = t.Name, t.BusinessKey
			}
			d.Failures = append(d.Failures, fl)
		}
		sort.Slice(d.Failures, func(i, j int) bool { return d.Failures[i].ID < d.Failures[j].ID })
		if len(failed) > 0 {
			err = errs.Newf(errs.EConflict, "error.flowui.dispatch_failed", "n", len(failed))
		}
	}
	return h.renderDispatch(c, d, web.StatusOf(errs.CodeOf(err)), err)
}
