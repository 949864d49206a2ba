package flow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow/model"
	"github.com/guanjia/guanjia/internal/web"
)

// processRow is one definition key on the processes page: its latest
// version and every version with its instance counts.
type processRow struct {
	Key      string
	Latest   Definition
	Versions []Definition // newest first
	Totals   map[string]int
}

// startFormInput echoes the start form after a refusal.
type startFormInput struct {
	DefinitionKey string
	BusinessKey   string
	SiteID        int64
	Names, Values []string
	JSON          string
}

type processesData struct {
	Rows      []processRow
	Names     map[int64]string // deployers
	Sites     []Choice
	Problems  []string // of a refused upload
	Start     startFormInput
	CanDesign bool
	CanStart  bool
	Flash     string
	States    []string
}

// instanceStates are the states an instance can be in, in display order.
var instanceStates = []string{"active", "completed", "cancelled", "terminated", "failed"}

func (h *Pages) processesData(c *web.Ctx) (*processesData, error) {
	ctx := c.R.Context()
	defs, err := h.E.ListDefinitions(ctx, "")
	if err != nil {
		return nil, err
	}
	d := &processesData{CanDesign: c.P.CanAnywhere(auth.PermFlowDesign), CanStart: c.P.CanAnywhere(auth.PermFlowStart),
		Flash: flash(c), States: instanceStates, Start: startFormInput{DefinitionKey: c.Query("start")}}
	var ids []int64
	for _, def := range defs {
		if n := len(d.Rows); n == 0 || d.Rows[n-1].Key != def.Key {
			d.Rows = append(d.Rows, processRow{Key: def.Key, Latest: def, Totals: map[string]int{}})
		}
		r := &d.Rows[len(d.Rows)-1]
		r.Versions = append(r.Versions, def)
		for st, n := range def.Instances {
			r.Totals[st] += n
		}
		if def.DeployedBy != nil {
			ids = append(ids, *def.DeployedBy)
		}
	}
	if d.Names, err = h.E.StaffNames(ctx, ids); err != nil {
		return nil, err
	}
	if d.CanStart {
		if d.Sites, err = h.Dir.Sites(ctx); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (h *Pages) processesPage(c *web.Ctx) error {
	d, err := h.processesData(c)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "flow_processes", d, nil)
}

// maxUpload bounds an uploaded definition, as the API does.
const maxUpload = 4 << 20

// uploadForm deploys an uploaded BPMN or YAML file; a refused file shows
// every problem on the processes page.
func (h *Pages) uploadForm(c *web.Ctx) error {
	src, err := uploadedFile(c, "file")
	if err == nil {
		var def *Definition
		if def, err = h.E.Deploy(c.R.Context(), src); err == nil {
			return c.Redirect("/processes/" + strconv.FormatInt(def.ID, 10) + "?ok=deployed")
		}
	}
	if !userError(err) {
		return err
	}
	d, derr := h.processesData(c)
	if derr != nil {
		return derr
	}
	d.Problems = problemsOf(err)
	return c.HTML(web.StatusOf(errs.CodeOf(err)), "flow_processes", d, err)
}

// uploadedFile reads one file of a multipart form.
func uploadedFile(c *web.Ctx, field string) ([]byte, error) {
	c.R.Body = http.MaxBytesReader(c.W, c.R.Body, maxUpload+64<<10)
	if err := c.R.ParseMultipartForm(maxUpload); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errs.Invalid(field, "error.body.too_large")
		}
		return nil, errs.Invalid(field, "error.field.required")
	}
	f, _, err := c.R.FormFile(field)
	if err != nil {
		return nil, errs.Invalid(field, "error.field.required")
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
	switch {
	case err != nil:
		return nil, errs.Invalid(field, "error.body.malformed")
	case len(b) > maxUpload:
		return nil, errs.Invalid(field, "error.body.too_large")
	case len(bytes.TrimSpace(b)) == 0:
		return nil, errs.Invalid(field, "error.body.empty")
	}
	return b, nil
}

type definitionData struct {
	Def        *Definition
	Versions   []Definition
	DeployedBy string
	Tasks      []userTaskView
	CanDesign  bool
	CanStart   bool
	Flash      string
	States     []string
}

// userTaskView is a user task of a definition as the version page lists it.
type userTaskView struct {
	ID, Name        string
	Assignee        string
	CandidateGroups []string
	Due             string
	Fields          int
}

func (h *Pages) definitionPage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	ctx := c.R.Context()
	def, err := h.E.Definition(ctx, id)
	if err != nil {
		return err
	}
	versions, err := h.E.ListDefinitions(ctx, def.Key)
	if err != nil {
		return err
	}
	d := &definitionData{Def: def, Versions: versions, CanDesign: c.P.CanAnywhere(auth.PermFlowDesign),
		CanStart: c.P.CanAnywhere(auth.PermFlowStart), Flash: flash(c), States: instanceStates}
	if def.DeployedBy != nil {
		names, err := h.E.StaffNames(ctx, []int64{*def.DeployedBy})
		if err != nil {
			return err
		}
		d.DeployedBy = names[*def.DeployedBy]
	}
	d.Tasks = userTasks(def.Model)
	return c.HTML(http.StatusOK, "flow_definition", d, nil)
}

// userTasks lists a model's user tasks in a stable order.
func userTasks(m *model.Definition) []userTaskView {
	var out []userTaskView
	for _, el := range m.Elements {
		if el.Human == nil {
			continue
		}
		v := userTaskView{ID: el.ID, Name: el.Name, Assignee: el.Human.Assignee.Raw, Fields: len(el.Human.FormFields)}
		for _, g := range el.Human.CandidateGroups {
			v.CandidateGroups = append(v.CandidateGroups, g.Raw)
		}
		if el.Human.Due != nil {
			v.Due = el.Human.Due.Raw
			if el.Human.Due.Business {
				v.Due = model.BusinessPrefix + v.Due
			}
		}
		if v.Name == "" {
			v.Name = v.ID
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

type modelerData struct {
	Def   *Definition // nil when drawing a new process
	Roles []string
	Kinds []string // element types the panel names
}

// modelerKinds are the BPMN types whose names the properties panel shows.
var modelerKinds = []string{"process", "startEvent", "endEvent", "userTask", "serviceTask", "task", "manualTask", "sendTask", "receiveTask",
	"scriptTask", "businessRuleTask", "exclusiveGateway", "parallelGateway", "sequenceFlow", "intermediateCatchEvent", "intermediateThrowEvent",
	"boundaryEvent", "subProcess"}

// modelerPage opens the diagram editor, empty or with a version's XML.
func (h *Pages) modelerPage(c *web.Ctx) error {
	d := &modelerData{Roles: auth.BuiltinRoles, Kinds: modelerKinds}
	if c.R.PathValue("id") != "" {
		id, err := c.PathID("id")
		if err != nil {
			return err
		}
		if d.Def, err = h.E.Definition(c.R.Context(), id); err != nil {
			return err
		}
		if d.Def.Format != FormatBPMN {
			return errs.New(errs.EConflict, "error.flowui.not_bpmn")
		}
	}
	return c.HTML(http.StatusOK, "flow_modeler", d, nil)
}

// startForm starts an instance from the processes page.
func (h *Pages) startForm(c *web.Ctx) error {
	if err := c.R.ParseForm(); err != nil {
		return errs.Invalid("body", "error.body.malformed")
	}
	f := c.R.PostForm
	in := startFormInput{DefinitionKey: strings.TrimSpace(f.Get("definition_key")), BusinessKey: strings.TrimSpace(f.Get("business_key")),
		Names: f["var_name"], Values: f["var_value"], JSON: f.Get("variables_json")}
	in.SiteID, _ = strconv.ParseInt(f.Get("site_id"), 10, 64)
	st, err := h.start(c.R.Context(), in)
	if err == nil {
		return c.Redirect("/instances/" + strconv.FormatInt(st.ID, 10) + "?ok=started")
	}
	if !userError(err) {
		return err
	}
	d, derr := h.processesData(c)
	if derr != nil {
		return derr
	}
	d.Start = in
	return c.HTML(web.StatusOf(errs.CodeOf(err)), "flow_processes", d, err)
}

func (h *Pages) start(ctx context.Context, in startFormInput) (*Started, error) {
	vars, err := formVariables(in.Names, in.Values, in.JSON)
	if err != nil {
		return nil, err
	}
	si := StartInput{DefinitionKey: in.DefinitionKey, BusinessKey: in.BusinessKey, Variables: vars}
	if in.SiteID != 0 {
		si.SiteID = &in.SiteID
	}
	return h.E.Start(ctx, si)
}

var (
	varNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	numberRe  = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)
)

// formVariables reads start variables from name/value rows and a JSON
// object (which wins on a name given twice). In a row, true and false are
// booleans and plain numbers are numbers, so that conditions like
// ${urgent} or ${amount > 100} work; anything else is text.
func formVariables(names, values []string, raw string) (map[string]any, error) {
	vars := map[string]any{}
	var v errs.Validation
	for i, name := range names {
		name = strings.TrimSpace(name)
		val := ""
		if i < len(values) {
			val = strings.TrimSpace(values[i])
		}
		if name == "" {
			v.Check(val == "", "var_name", "error.field.required")
			continue
		}
		if !varNameRe.MatchString(name) {
			v.Add("var_name", "error.flowui.variable_name")
			continue
		}
		switch {
		case val == "true" || val == "false":
			vars[name] = val == "true"
		case numberRe.MatchString(val):
			vars[name] = json.Number(val)
		default:
			vars[name] = val
		}
	}
	if raw = strings.TrimSpace(raw); raw != "" {
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil || dec.More() {
			v.Add("variables_json", "error.flowui.variables_json")
		}
		for k, x := range obj {
			vars[k] = x
		}
	}
	return vars, v.Err()
}
