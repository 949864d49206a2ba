package flow

import (
	"context"
	"net/http"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

// HTTP serves the engine's API and pages.
type HTTP struct{ E *Engine }

// Deployed is the answer to a deployment.
type Deployed struct {
	ID      int64  `json:"id"`
	Key     string `json:"key"`
	Version int    `json:"version"`
}

// DefinitionList lists definitions.
type DefinitionList struct {
	Items []Definition `json:"items"`
}

// CancelInput cancels an instance.
type CancelInput struct {
	Reason string `json:"reason"`
}

// CompleteInput completes a task.
type CompleteInput struct {
	Variables map[string]any `json:"variables"`
}

// DelegateInput delegates a task.
type DelegateInput struct {
	AssigneeID int64 `json:"assignee_id"`
}

// TaskDetail is a task with its form and comments.
type TaskDetail struct {
	Task
	Form      []FormFieldView `json:"form"`
	NextSteps string          `json:"next_steps,omitempty"`
	Materials string          `json:"materials,omitempty"`
	Comments  []TaskComment   `json:"comments"`
}

// FormFieldView is a form field for clients.
type FormFieldView struct {
	ID       string   `json:"id"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Values   []string `json:"values,omitempty"`
}

// Routes lists the engine's endpoints.
func (h *HTTP) Routes() []web.Route {
	instQuery := []web.Param{{Name: "definition_key"}, {Name: "state", Desc: "active, completed, terminated, failed, cancelled, or history"},
		{Name: "site_id", Type: "integer"}, {Name: "customer_ref"}, {Name: "business_key"}, {Name: "from", Desc: "RFC 3339"}, {Name: "to", Desc: "RFC 3339"},
		{Name: "before_id", Type: "integer"}, {Name: "limit", Type: "integer"}}
	taskQuery := []web.Param{{Name: "view", Desc: "mine (default), claimable, all, dispatched"}, {Name: "overdue", Type: "boolean"},
		{Name: "definition_key"}, {Name: "before_id", Type: "integer"}, {Name: "limit", Type: "integer"}}
	return []web.Route{
		{Method: "POST", Path: "/api/v1/process-definitions", Perm: auth.PermFlowDesign, Handler: h.apiDeploy,
			Doc: &web.Doc{Summary: "Deploy a BPMN 2.0 file or the YAML form as the next version of its key (422 lists every problem)", Tag: "flow",
				RawBody: []string{"application/xml", "application/x-yaml"}, Resp: Deployed{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/v1/process-definitions", Perm: auth.PermFlowView, Handler: h.apiDefinitions,
			Doc: &web.Doc{Summary: "Deployed definitions with instance counts per version", Tag: "flow", Query: []web.Param{{Name: "key"}}, Resp: DefinitionList{}}},
		{Method: "GET", Path: "/api/v1/process-definitions/{id}", Perm: auth.PermFlowView, Handler: h.apiDefinition,
			Doc: &web.Doc{Summary: "One definition version", Tag: "flow", Resp: Definition{}}},
		{Method: "GET", Path: "/api/v1/process-definitions/{id}/source", Perm: auth.PermFlowView, Handler: h.apiSource,
			Doc: &web.Doc{Summary: "The deployed file as uploaded (BPMN XML or YAML)", Tag: "flow"}},
		{Method: "POST", Path: "/api/v1/process-instances", Perm: auth.PermFlowStart, Handler: h.apiStart,
			Doc: &web.Doc{Summary: "Start an instance", Tag: "flow", Body: StartInput{}, Resp: Started{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/v1/process-instances", Perm: auth.PermFlowView, Handler: h.apiInstances,
			Doc: &web.Doc{Summary: "Instances in the caller's view, newest first", Tag: "flow", Query: instQuery, Resp: InstancePage{}}},
		{Method: "GET", Path: "/api/v1/process-instances/{id}", Perm: auth.PermFlowView, Handler: h.apiInstance,
			Doc: &web.Doc{Summary: "An instance: state, variables, active elements, tasks and timeline", Tag: "flow", Resp: InstanceView{}}},
		{Method: "POST", Path: "/api/v1/process-instances/{id}/cancel", Perm: auth.PermFlowStart, Handler: h.apiCancel,
			Doc: &web.Doc{Summary: "Cancel a running instance", Tag: "flow", Body: CancelInput{}, Status: http.StatusNoContent}},
		{Method: "POST", Path: "/api/v1/messages", Perm: auth.PermMessageSend, Handler: h.apiMessage,
			Doc: &web.Doc{Summary: "Correlate a message to waiting instances, or start those with a matching message start event (404 when none)", Tag: "flow", Body: MessageInput{}, Resp: MessageResult{}}},
		{Method: "GET", Path: "/api/v1/tasks", Perm: auth.PermTaskWork, Handler: h.apiTasks,
			Doc: &web.Doc{Summary: "The caller's task inbox", Tag: "tasks", Query: taskQuery, Resp: TaskPage{}}},
		{Method: "POST", Path: "/api/v1/tasks/dispatch", Perm: auth.PermTaskDispatch, Handler: h.apiDispatch,
			Doc: &web.Doc{Summary: "Dispatch (派工) many tasks to one person or a team with a deadline, all or nothing", Tag: "tasks", Body: DispatchInput{}, Resp: DispatchResult{}}},
		{Method: "GET", Path: "/api/v1/tasks/{id}", Perm: auth.PermTaskWork, Handler: h.apiTask,
			Doc: &web.Doc{Summary: "A task with its form, what the customer should prepare, and comments", Tag: "tasks", Resp: TaskDetail{}}},
		{Method: "POST", Path: "/api/v1/tasks/{id}/claim", Perm: auth.PermTaskWork, Handler: h.taskVerb(func(c *web.Ctx, id int64) error { return h.E.Claim(c.R.Context(), id) }),
			Doc: &web.Doc{Summary: "Claim a task from the pool", Tag: "tasks", Status: http.StatusNoContent}},
		{Method: "POST", Path: "/api/v1/tasks/{id}/unclaim", Perm: auth.PermTaskWork, Handler: h.taskVerb(func(c *web.Ctx, id int64) error { return h.E.Unclaim(c.R.Context(), id) }),
			Doc: &web.Doc{Summary: "Return a task to the pool", Tag: "tasks", Status: http.StatusNoContent}},
		{Method: "POST", Path: "/api/v1/tasks/{id}/assign", Perm: auth.PermTaskDispatch, Handler: h.apiAssign,
			Doc: &web.Doc{Summary: "Assign or reassign (with a reason) a task, optionally with a due date", Tag: "tasks", Body: AssignInput{}, Status: http.StatusNoContent}},
		{Method: "POST", Path: "/api/v1/tasks/{id}/delegate", Perm: auth.PermTaskWork, Handler: h.apiDelegate,
			Doc: &web.Doc{Summary: "Delegate your task; the delegate resolves it back", Tag: "tasks", Body: DelegateInput{}, Status: http.StatusNoContent}},
		{Method: "POST", Path: "/api/v1/tasks/{id}/resolve", Perm: auth.PermTaskWork, Handler: h.apiResolve,
			Doc: &web.Doc{Summary: "Resolve a delegated task back to its owner", Tag: "tasks", Body: CommentInput{}, Status: http.StatusNoContent}},
		{Method: "POST", Path: "/api/v1/tasks/{id}/complete", Perm: auth.PermTaskWork, Handler: h.apiComplete,
			Doc: &web.Doc{Summary: "Complete a task with variables, validated against its form", Tag: "tasks", Body: CompleteInput{}, Status: http.StatusNoContent}},
		{Method: "POST", Path: "/api/v1/tasks/{id}/comment", Perm: auth.PermTaskWork, Handler: h.apiComment("comment"),
			Doc: &web.Doc{Summary: "Comment on a task", Tag: "tasks", Body: CommentInput{}, Status: http.StatusNoContent}},
		{Method: "POST", Path: "/api/v1/tasks/{id}/reply", Perm: auth.PermTaskWork, Handler: h.apiComment("reply"),
			Doc: &web.Doc{Summary: "Reply (回复) to the dispatcher", Tag: "tasks", Body: CommentInput{}, Status: http.StatusNoContent}},
		{Method: "POST", Path: "/api/v1/tasks/{id}/remind", Perm: auth.PermTaskDispatch, Handler: h.apiComment("reminder"),
			Doc: &web.Doc{Summary: "Send a reminder (催办) to whoever holds the task", Tag: "tasks", Body: CommentInput{}, Status: http.StatusNoContent}},
	}
}

func (h *HTTP) apiDeploy(c *web.Ctx) error {
	src, err := c.RawBody(4 << 20)
	if err != nil {
		return err
	}
	d, err := h.E.Deploy(c.R.Context(), src)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, Deployed{ID: d.ID, Key: d.Key, Version: d.Version})
}

func (h *HTTP) apiDefinitions(c *web.Ctx) error {
	ds, err := h.E.ListDefinitions(c.R.Context(), c.Query("key"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, DefinitionList{Items: ds})
}

func (h *HTTP) apiDefinition(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	d, err := h.E.Definition(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (h *HTTP) apiSource(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	d, err := h.E.Definition(c.R.Context(), id)
	if err != nil {
		return err
	}
	ct := "application/xml; charset=utf-8"
	if d.Format == FormatYAML {
		ct = "application/x-yaml; charset=utf-8"
	}
	c.W.Header().Set("Content-Type", ct)
	_, err = c.W.Write([]byte(d.Source))
	return err
}

func (h *HTTP) apiStart(c *web.Ctx) error {
	var in StartInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	st, err := h.E.Start(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, st)
}

func parseTimeParam(c *web.Ctx, name string, v *errs.Validation) time.Time {
	s := c.Query(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	v.Check(err == nil, name, "error.field.wrong_type")
	return t
}

func (h *HTTP) apiInstances(c *web.Ctx) error {
	var v errs.Validation
	f := InstanceFilter{DefinitionKey: c.Query("definition_key"), State: c.Query("state"), SiteID: c.QueryInt64("site_id"),
		CustomerRef: c.Query("customer_ref"), BusinessKey: c.Query("business_key"), BeforeID: c.QueryInt64("before_id"), Limit: c.QueryInt("limit", 50)}
	f.From, f.To = parseTimeParam(c, "from", &v), parseTimeParam(c, "to", &v)
	if err := v.Err(); err != nil {
		return err
	}
	p, err := h.E.ListInstances(c.R.Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *HTTP) apiInstance(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	v, err := h.E.Get(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h *HTTP) apiCancel(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in CancelInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	if err := h.E.CancelInstance(c.R.Context(), id, in.Reason); err != nil {
		return err
	}
	return c.NoContent()
}

func (h *HTTP) apiMessage(c *web.Ctx) error {
	var in MessageInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	res, err := h.E.Correlate(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (h *HTTP) apiTasks(c *web.Ctx) error {
	f := TaskFilter{View: c.Query("view"), Overdue: c.Query("overdue") == "true" || c.Query("overdue") == "1",
		Key: c.Query("definition_key"), BeforeID: c.QueryInt64("before_id"), Limit: c.QueryInt("limit", 50)}
	p, err := h.E.ListTasks(c.R.Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// TaskDetail returns a task with its form fields, author texts and comments.
func (e *Engine) TaskDetail(ctx context.Context, id int64) (*TaskDetail, error) {
	t, err := e.Task(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &TaskDetail{Task: *t, Form: []FormFieldView{}}
	_, _, def, err := e.snapshot(ctx, t.InstanceID)
	if err != nil {
		return nil, err
	}
	if el := def.Model.Elements[t.ElementID]; el != nil && el.Human != nil {
		for _, f := range el.Human.FormFields {
			d.Form = append(d.Form, FormFieldView{ID: f.ID, Label: f.Label, Type: f.Type, Required: f.Required, Values: f.Values})
		}
		d.NextSteps, d.Materials = el.Human.NextSteps, el.Human.Materials
	}
	if d.Comments, err = e.Comments(ctx, id); err != nil {
		return nil, err
	}
	return d, nil
}

func (h *HTTP) apiTask(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	d, err := h.E.TaskDetail(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (h *HTTP) taskVerb(do func(c *web.Ctx, id int64) error) web.HandlerFunc {
	return func(c *web.Ctx) error {
		id, err := c.PathID("id")
		if err != nil {
			return err
		}
		if err := do(c, id); err != nil {
			return err
		}
		return c.NoContent()
	}
}

func (h *HTTP) apiAssign(c *web.Ctx) error {
	return h.taskVerb(func(c *web.Ctx, id int64) error {
		var in AssignInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		return h.E.Assign(c.R.Context(), id, in)
	})(c)
}

func (h *HTTP) apiDelegate(c *web.Ctx) error {
	return h.taskVerb(func(c *web.Ctx, id int64) error {
		var in DelegateInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		return h.E.Delegate(c.R.Context(), id, in.AssigneeID)
	})(c)
}

func (h *HTTP) apiResolve(c *web.Ctx) error {
	return h.taskVerb(func(c *web.Ctx, id int64) error {
		var in CommentInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		return h.E.Resolve(c.R.Context(), id, in.Body)
	})(c)
}

func (h *HTTP) apiComplete(c *web.Ctx) error {
	return h.taskVerb(func(c *web.Ctx, id int64) error {
		var in CompleteInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		return h.E.Complete(c.R.Context(), id, in.Variables)
	})(c)
}

func (h *HTTP) apiComment(kind string) web.HandlerFunc {
	return h.taskVerb(func(c *web.Ctx, id int64) error {
		var in CommentInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		return h.E.Comment(c.R.Context(), id, kind, in.Body)
	})
}

func (h *HTTP) apiDispatch(c *web.Ctx) error {
	var in DispatchInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	res, err := h.E.Dispatch(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}
