package bpmn

import (
	"strconv"
	"strings"

	"github.com/guanjia/guanjia/internal/flow/model"
)

// humanTask gathers a user task's people, dates and texts from every vendor
// dialect we accept.
func (b *builder) humanTask(e *model.Element, n *node) *model.HumanTask {
	h := &model.HumanTask{}
	assignee := n.vattr("assignee", vendors...)
	users := n.vattr("candidateUsers", vendors...)
	groups := n.vattr("candidateGroups", vendors...)
	due := n.vattr("dueDate", vendors...)
	followUp := n.vattr("followUpDate", vendors...)
	priority := n.vattr("priority", vendors...)
	h.FormKey = n.vattr("formKey", vendors...)
	if z := n.extension("assignmentDefinition", nsZeebe); z != nil {
		assignee = firstNonEmpty(assignee, z.vattr("assignee", ""))
		users = firstNonEmpty(users, z.vattr("candidateUsers", ""))
		groups = firstNonEmpty(groups, z.vattr("candidateGroups", ""))
	}
	if z := n.extension("taskSchedule", nsZeebe); z != nil {
		due, followUp = firstNonEmpty(due, z.vattr("dueDate", "")), firstNonEmpty(followUp, z.vattr("followUpDate", ""))
	}
	if z := n.extension("formDefinition", nsZeebe); z != nil {
		h.FormKey = firstNonEmpty(h.FormKey, z.vattr("formKey", ""), z.vattr("formId", ""))
	}
	if z := n.extension("priorityDefinition", nsZeebe); z != nil {
		priority = firstNonEmpty(priority, z.vattr("priority", ""))
	}
	ownerUsers, ownerGroups, performer := resourceRoles(n)
	assignee = firstNonEmpty(assignee, performer)
	users = joinNonEmpty(users, ownerUsers)
	groups = joinNonEmpty(groups, ownerGroups)

	fail := func(what string, err error) {
		b.problems = append(b.problems, model.Problem{ElementID: e.ID, ElementType: e.TypeName(), Reason: what + ": " + err.Error()})
	}
	var err error
	if h.Assignee, err = model.ParseValue(assignee); err != nil {
		fail("assignee does not compile", err)
	}
	if h.CandidateUsers, err = model.ParseList(users); err != nil {
		fail("candidate users do not compile", err)
	}
	if h.CandidateGroups, err = model.ParseList(groups); err != nil {
		fail("candidate groups do not compile", err)
	}
	if h.Priority, err = model.ParseValue(priority); err != nil {
		fail("priority does not compile", err)
	} else if h.Priority.Expr == nil && h.Priority.Raw != "" {
		if _, perr := strconv.Atoi(h.Priority.Raw); perr != nil {
			fail("priority", perr)
		}
	}
	if due != "" {
		if h.Due, err = model.ParseTimer(due, "", e.Business); err != nil {
			fail("bad due date", err)
		}
	}
	if followUp != "" {
		if h.FollowUp, err = model.ParseTimer(followUp, "", e.Business); err != nil {
			fail("bad follow-up date", err)
		}
	}
	b.guanjiaTexts(e, n, h)
	return h
}

// guanjiaTexts reads our portal texts and simple form fields, from
// attributes or from extension elements.
func (b *builder) guanjiaTexts(e *model.Element, n *node, h *model.HumanTask) {
	h.NextSteps = n.vattr("nextSteps", NSGuanjia)
	h.Materials = n.vattr("materials", NSGuanjia)
	for _, x := range n.extensions(NSGuanjia) {
		switch x.local {
		case "nextSteps":
			h.NextSteps = x.trimmedText()
		case "materials":
			h.Materials = x.trimmedText()
		case "formField":
			f := model.FormField{
				ID: x.vattr("id", ""), Label: x.vattr("label", ""), Type: x.vattr("type", ""),
				Required: x.vattr("required", "") == "true",
			}
			if f.Type == "" {
				f.Type = "string"
			}
			if v := x.vattr("values", ""); v != "" {
				for _, s := range strings.Split(v, ",") {
					f.Values = append(f.Values, strings.TrimSpace(s))
				}
			}
			if f.ID == "" || !model.FormFieldTypes[f.Type] {
				b.problems = append(b.problems, model.Problem{ElementID: e.ID, ElementType: e.TypeName(), Reason: "guanjia:formField needs an id and a type of string, long, boolean, date or enum"})
				continue
			}
			h.FormFields = append(h.FormFields, f)
		}
	}
}

// resourceRoles reads BPMN potentialOwner and humanPerformer.
func resourceRoles(n *node) (users, groups, performer string) {
	for _, c := range n.children {
		if c.space != nsBPMN || (c.local != "potentialOwner" && c.local != "humanPerformer") {
			continue
		}
		ra := c.child("resourceAssignmentExpression")
		if ra == nil {
			continue
		}
		fe := ra.child("formalExpression")
		if fe == nil {
			fe = ra.child("expression")
		}
		if fe == nil || fe.trimmedText() == "" {
			continue
		}
		text := fe.trimmedText()
		if c.local == "humanPerformer" {
			performer = text
			continue
		}
		u, g := splitOwners(text)
		users, groups = joinNonEmpty(users, u), joinNonEmpty(groups, g)
	}
	return users, groups, performer
}

// splitOwners reads Camunda 7's "user(a), group(b), c" form.
func splitOwners(text string) (users, groups string) {
	var us, gs []string
	for _, part := range strings.Split(text, ",") {
		p := strings.TrimSpace(part)
		switch {
		case p == "":
		case strings.HasPrefix(p, "user(") && strings.HasSuffix(p, ")"):
			us = append(us, p[5:len(p)-1])
		case strings.HasPrefix(p, "group(") && strings.HasSuffix(p, ")"):
			gs = append(gs, p[6:len(p)-1])
		default:
			gs = append(gs, p)
		}
	}
	return strings.Join(us, ","), strings.Join(gs, ",")
}

// job derives a service-like task's type and headers.
func (b *builder) job(e *model.Element, n *node) *model.JobSpec {
	j := &model.JobSpec{Headers: map[string]string{}}
	if z := n.extension("taskDefinition", nsZeebe); z != nil {
		j.Type = z.vattr("type", "")
		if r, err := strconv.Atoi(z.vattr("retries", "")); err == nil {
			j.Retries = r
		}
	}
	j.Type = firstNonEmpty(n.vattr("type", NSGuanjia), j.Type)
	if j.Type == "" {
		j.Type = vendorJobType(n)
	}
	if j.Type == "" {
		j.Type = defaultJobType(e)
	}
	for _, h := range n.extensions(nsZeebe) {
		if h.local != "taskHeaders" {
			continue
		}
		for _, kv := range h.children {
			j.Headers[kv.vattr("key", "")] = kv.vattr("value", "")
		}
	}
	for _, f := range n.extensions(vendors...) {
		if f.local == "field" {
			j.Headers[f.vattr("name", "")] = fieldValue(f)
		}
	}
	if e.Kind == model.KindScriptTask {
		if s := n.child("script"); s != nil {
			j.Headers["script"] = s.trimmedText()
		}
		if f := n.attr("scriptFormat"); f != "" {
			j.Headers["scriptFormat"] = f
		}
	}
	return j
}

func vendorJobType(n *node) string {
	if t := n.vattr("type", vendors...); t != "" && t != "external" {
		return t
	}
	if t := n.vattr("topic", vendors...); t != "" {
		return t
	}
	if d := n.vattr("delegateExpression", vendors...); d != "" {
		return strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(d, "#{"), "${"), "}")
	}
	if c := n.vattr("class", vendors...); c != "" {
		return c
	}
	if d := n.vattr("decisionRef", vendors...); d != "" {
		return "dmn"
	}
	return ""
}

func defaultJobType(e *model.Element) string {
	switch {
	case e.Kind == model.KindScriptTask:
		return "script"
	case e.Kind == model.KindBusinessRuleTask:
		return "dmn"
	}
	return ""
}

func fieldValue(f *node) string {
	if v := f.vattr("stringValue", ""); v != "" {
		return v
	}
	if v := f.vattr("expression", ""); v != "" {
		return v
	}
	for _, c := range f.children {
		return c.trimmedText()
	}
	return ""
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "," + b
}
