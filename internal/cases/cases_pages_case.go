package cases

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

// listForm is the case list's filter as it stands in the URL.
type listForm struct {
	Type, State, Category, From, To, Q string
	Overdue                            bool
	BeforeID                           int64
}

type listData struct {
	Form       listForm
	Page       *Page
	Types      []string
	States     []string
	Categories []siteCategories
	MultiSite  bool
	Next       string // the next page's URL, "" on the last
	First      string // the first page's URL when not on it
	CanCreate  bool
	Flash      string
	// Batch offers batch dispatch: the list's cases are all of one site
	// and the caller may dispatch there.
	Batch *batchView
}

type batchView struct {
	People, Teams []Choice
	Back          string // the list's URL, to return to
}

// parseDay reads a date input's value as the start of that day in China.
func parseDay(s string) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01-02", s, shanghai)
	return t, err == nil
}

func (h *Pages) listPage(c *web.Ctx) error { return h.listPageWith(c, nil) }

// listPageWith renders the list; formErr is a failed batch dispatch.
func (h *Pages) listPageWith(c *web.Ctx, formErr error) error {
	ctx := c.R.Context()
	f := listForm{Type: c.Query("type"), State: c.Query("state"), Category: c.Query("category_id"), From: c.Query("from"), To: c.Query("to"),
		Q: c.Query("q"), Overdue: c.Query("overdue") == "1", BeforeID: c.QueryInt64("before_id")}
	var v errs.Validation
	filter := Filter{Type: f.Type, State: f.State, Overdue: f.Overdue, Q: f.Q, BeforeID: f.BeforeID, Limit: 50}
	if f.Type != "" {
		v.OneOf("type", f.Type, Types...)
	}
	if f.State != "" && f.State != "open" {
		v.OneOf("state", f.State, States...)
	}
	if f.Category != "" {
		id, err := strconv.ParseInt(f.Category, 10, 64)
		v.Check(err == nil, "category_id", "error.field.wrong_type")
		filter.CategoryID = id
	}
	if f.From != "" {
		t, ok := parseDay(f.From)
		v.Check(ok, "from", "error.field.wrong_type")
		filter.From = t
	}
	if f.To != "" {
		t, ok := parseDay(f.To)
		v.Check(ok, "to", "error.field.wrong_type")
		filter.To = t.AddDate(0, 0, 1)
	}
	d := &listData{Form: f, Types: Types, States: States, CanCreate: c.P.CanAnywhere(auth.PermCaseCreate), Flash: flash(c)}
	sites, err := h.S.Sites(ctx, auth.PermCaseView)
	if err != nil {
		return err
	}
	d.MultiSite = len(sites) > 1
	for _, s := range sites {
		cats, err := h.S.Categories(ctx, s.ID)
		if err != nil {
			return err
		}
		d.Categories = append(d.Categories, siteCategories{Site: s, Items: cats})
	}
	if err := v.Err(); err != nil {
		d.Page = &Page{Items: []Case{}}
		return c.HTML(http.StatusUnprocessableEntity, "cases_list", d, err)
	}
	if d.Page, err = h.S.List(ctx, filter); err != nil {
		return err
	}
	q := url.Values{}
	for k, val := range map[string]string{"type": f.Type, "state": f.State, "category_id": f.Category, "from": f.From, "to": f.To, "q": f.Q} {
		if val != "" {
			q.Set(k, val)
		}
	}
	if f.Overdue {
		q.Set("overdue", "1")
	}
	if f.BeforeID > 0 {
		d.First = "/cases?" + q.Encode()
	}
	back := "/cases?" + q.Encode()
	if d.Page.More {
		q.Set("before_id", strconv.FormatInt(d.Page.NextID, 10))
		d.Next = "/cases?" + q.Encode()
	}
	if d.Batch, err = h.batchView(ctx, c.P, d.Page.Items, back); err != nil {
		return err
	}
	status := http.StatusOK
	if formErr != nil {
		status = web.StatusOf(errs.CodeOf(formErr))
	}
	return c.HTML(status, "cases_list", d, formErr)
}

// batchView offers batch dispatch when the open cases listed are all of
// one site where the caller may dispatch.
func (h *Pages) batchView(ctx context.Context, p *auth.Principal, items []Case, back string) (*batchView, error) {
	var first *Case
	for i := range items {
		c := &items[i]
		if c.State == StateClosed {
			continue
		}
		if first == nil {
			first = c
		} else if c.SiteID != first.SiteID {
			return nil, nil
		}
	}
	if first == nil || !p.Can(auth.PermCaseDispatch, first.NodePath) {
		return nil, nil
	}
	people, teams, err := h.S.DispatchTargets(ctx, first)
	if err != nil {
		return nil, err
	}
	return &batchView{People: people, Teams: teams, Back: back}, nil
}

// batchForm dispatches the ticked cases, all or nothing, and returns to
// the list; a failure shows the list with the reason.
func (h *Pages) batchForm(c *web.Ctx) error {
	if err := c.R.ParseForm(); err != nil {
		return errs.Invalid("body", "error.body.malformed")
	}
	in := DispatchManyInput{Reason: strings.TrimSpace(c.R.PostForm.Get("reason"))}
	for _, v := range c.R.PostForm["case_ids"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return h.listPageWith(c, errs.Invalid("case_ids", "error.field.wrong_type"))
		}
		in.CaseIDs = append(in.CaseIDs, id)
	}
	target := c.R.PostForm.Get("target")
	if id, err := strconv.ParseInt(c.R.PostForm.Get("assignee_id"), 10, 64); err == nil && target != "department" {
		in.AssigneeID = id
	}
	if id, err := strconv.ParseInt(c.R.PostForm.Get("department_id"), 10, 64); err == nil && target == "department" {
		in.DepartmentID = id
	}
	if _, err := h.S.DispatchMany(c.R.Context(), in); err != nil {
		if code := errs.CodeOf(err); code == errs.EInvalid || code == errs.EConflict || code == errs.EForbidden || code == errs.ENotFound {
			return h.listPageWith(c, err)
		}
		return err
	}
	back := localPath(c.R.PostForm.Get("next"), "/cases?state=open")
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	return c.Redirect(back + sep + "ok=batch")
}

// caseData is everything the case page shows.
type caseData struct {
	D          *Detail
	Acts       map[string]bool
	HasActs    bool
	OnBehalf   bool
	Mine       bool
	Timeline   []timelineRow
	People     []Choice
	Teams      []Choice
	SuggestDep int64
	Department string
	Category   *Category
	Signature  bool // the category asks for the resident's signature
	Flash      string
	Duplicates []string
	PhotoError bool
	Open       string            // the action form to show open
	Values     map[string]string // the form as sent, after a refusal
	KeptPhotos []string          // blob keys of photos sent with a refused completion
	Images     []File
	Documents  []File
	Me         int64
	Live       string
}

// primaryForm is the action form a case in a state shows open.
var primaryForm = map[string]string{StateNew: ActDispatch, StateAcknowledged: ActDispatch, StateOnSite: ActComplete, StateCompleted: ActVisit}

func (h *Pages) casePage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	return h.renderCase(c, id, http.StatusOK, "", nil, nil)
}

// renderCase shows a case; after a refused action, with the message, the
// form as sent and that action's form open.
func (h *Pages) renderCase(c *web.Ctx, id int64, status int, act string, formErr error, values map[string]string) error {
	ctx := c.R.Context()
	det, err := h.S.Get(ctx, id)
	if err != nil {
		return err
	}
	d := &caseData{D: det, Acts: map[string]bool{}, Flash: flash(c), Values: values, Me: c.P.StaffID, Live: liveEvents(),
		PhotoError: c.Query("photo_error") == "1"}
	if d.Values == nil {
		d.Values = map[string]string{}
	}
	d.KeptPhotos = photoKeys(d.Values["photo_keys"])
	for _, n := range strings.Split(c.Query("dup"), ",") {
		if numberRe.MatchString(n) && n != det.Number {
			d.Duplicates = append(d.Duplicates, n)
		}
	}
	acts, onBehalf := h.S.MayDo(ctx, &det.Case)
	for _, a := range acts {
		d.Acts[a] = true
	}
	d.HasActs, d.OnBehalf = len(acts) > 0, onBehalf
	d.Mine = det.AssigneeID != nil && *det.AssigneeID == c.P.StaffID
	d.Open = act
	if d.Open == "" && d.Acts[primaryForm[det.State]] {
		d.Open = primaryForm[det.State]
	}
	if det.CategoryID != nil {
		if cat, err := h.S.Category(ctx, *det.CategoryID); err == nil {
			d.Category = cat
			d.Signature = cat.NeedsSignature && det.Area == "home"
		}
	}
	if det.DepartmentID != nil {
		d.Department = h.S.DepartmentName(ctx, *det.DepartmentID)
	}
	if d.Acts[ActDispatch] {
		if d.People, d.Teams, err = h.S.DispatchTargets(ctx, &det.Case); err != nil {
			return err
		}
		if d.Category != nil {
			for _, t := range d.Teams {
				if t.Kind == d.Category.DepartmentKind {
					d.SuggestDep = t.ID
					break
				}
			}
		}
	}
	for _, f := range det.Files {
		if strings.HasPrefix(f.ContentType, "image/") {
			d.Images = append(d.Images, f)
		} else {
			d.Documents = append(d.Documents, f)
		}
	}
	if d.Timeline, err = h.timeline(ctx, c, det); err != nil {
		return err
	}
	return c.HTML(status, "case", d, formErr)
}

// actionInput is an action form as sent.
type actionInput struct {
	AssigneeID    int64    `json:"assignee_id"`
	DepartmentID  int64    `json:"department_id"`
	Reason        string   `json:"reason"`
	Note          string   `json:"note"`
	Materials     string   `json:"materials"`
	LabourMinutes int      `json:"labour_minutes"`
	Signature     string   `json:"signature"`
	Photos        []string `json:"photo_keys"`
	Method        string   `json:"method"`
	Speed         int      `json:"speed"`
	Quality       int      `json:"quality"`
	Attitude      int      `json:"attitude"`
	Comment       string   `json:"comment"`
	Target        string   `json:"target"` // dispatch: "person" or "department"
	Next          string   `json:"next"`
}

func (h *Pages) actionForm(c *web.Ctx) error {
	ctx := c.R.Context()
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	act := c.R.PathValue("action")
	if _, ok := actionPerm[act]; !ok {
		return errs.NotFound("error.not_found")
	}
	var f actionInput
	derr := c.Decode(&f)
	values := map[string]string{}
	for k, v := range c.R.PostForm {
		if len(v) > 0 && k != "csrf_token" {
			values[k] = v[0]
		}
	}
	if derr != nil {
		return h.refused(c, id, act, derr, values)
	}
	in := ActionInput{AssigneeID: f.AssigneeID, DepartmentID: f.DepartmentID, Reason: f.Reason, Note: f.Note, Materials: f.Materials,
		LabourMinutes: f.LabourMinutes, Signature: f.Signature, Photos: f.Photos, Method: f.Method, Speed: f.Speed, Quality: f.Quality,
		Attitude: f.Attitude, Comment: f.Comment}
	// A dispatch form offers both selects; the radio says which counts.
	switch f.Target {
	case "person":
		in.DepartmentID = 0
	case "department":
		in.AssigneeID = 0
	}
	if act == ActComplete {
		keys, err := h.storeUploads(ctx, c, id, "photos", "photo")
		in.Photos = append(in.Photos, keys...)
		values["photo_keys"] = strings.Join(in.Photos, ",")
		if err != nil {
			if userError(err) {
				return h.refused(c, id, act, err, values)
			}
			return err
		}
	}
	if _, err := h.S.Do(ctx, id, act, in); err != nil {
		if userError(err) {
			return h.refused(c, id, act, err, values)
		}
		return err
	}
	next := localPath(f.Next, "/cases/"+strconv.FormatInt(id, 10))
	return c.Redirect(withQuery(next, "ok", act))
}

// refused shows the case again with the refusal next to its form.
func (h *Pages) refused(c *web.Ctx, id int64, act string, err error, values map[string]string) error {
	return h.renderCase(c, id, web.StatusOf(errs.CodeOf(err)), act, pageError(c, err), values)
}

// photoKeys splits the kept blob keys of a refused completion.
func photoKeys(s string) []string {
	var out []string
	for _, k := range strings.Split(s, ",") {
		if len(k) == 64 {
			out = append(out, k)
		}
	}
	return out
}

func decodeData(b []byte) map[string]any {
	m := map[string]any{}
	if len(b) > 0 {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

// timelineRow is one line of the case page's timeline, in words.
type timelineRow struct {
	At     time.Time
	Source string
	Label  string
	Actor  string
	Detail string
	Tone   string // ok, warn, bad, info or ""
}

// timeline turns the merged events into lines a person reads: who did
// what, with the details that matter (to whom, why, how it went).
func (h *Pages) timeline(ctx context.Context, c *web.Ctx, d *Detail) ([]timelineRow, error) {
	var users []string
	var ids []int64
	seen := map[string]bool{}
	datas := make([]map[string]any, len(d.Timeline))
	for i, ev := range d.Timeline {
		if ev.ActorName != "" && !seen[ev.ActorName] {
			seen[ev.ActorName] = true
			users = append(users, ev.ActorName)
		}
		datas[i] = decodeData(ev.Data)
		if n, ok := datas[i]["assignee_id"].(float64); ok && n > 0 {
			ids = append(ids, int64(n))
		}
	}
	byUser, byID, err := h.S.DisplayNames(ctx, users, ids)
	if err != nil {
		return nil, err
	}
	rows := make([]timelineRow, 0, len(d.Timeline))
	for i, ev := range d.Timeline {
		r := timelineRow{At: ev.At, Source: ev.Source, Actor: ev.ActorName}
		if n, ok := byUser[ev.ActorName]; ok {
			r.Actor = n
		}
		key := "casesui.ev." + ev.Source + "." + ev.Kind
		if c.L.C.Has(c.L.Locale, key) || c.L.C.Has("zh-CN", key) {
			r.Label = c.L.T(key)
		} else {
			r.Label = ev.Kind
		}
		r.Detail, r.Tone = h.eventDetail(ctx, c, ev, datas[i], byID, r.Actor)
		rows = append(rows, r)
	}
	return rows, nil
}

func (h *Pages) eventDetail(ctx context.Context, c *web.Ctx, ev Event, m map[string]any, names map[int64]string, actor string) (string, string) {
	str := func(k string) string { s, _ := m[k].(string); return strings.TrimSpace(s) }
	num := func(k string) int64 { n, _ := m[k].(float64); return int64(n) }
	reason := func() string {
		switch r := str("reason"); r {
		case "unhappy visit":
			return c.L.T("casesui.reason.unhappy_visit")
		case "closed", "dispatch", "claim":
			return ""
		default:
			return r
		}
	}
	var parts []string
	add := func(key string, args ...any) { parts = append(parts, c.L.T(key, args...)) }
	tone := ""
	switch ev.Source {
	case "process":
		if s := str("step"); s != "" {
			add("casesui.tl.step", "step", s)
		}
	case "sla":
		if metric := str("metric"); metric != "" {
			add("casesui.tl.metric", "metric", c.L.T("sla.metric."+metric))
		}
		switch ev.Kind {
		case "breach", "late", "escalated":
			tone = "bad"
		case "warning", "paused":
			tone = "warn"
		case "met":
			tone = "ok"
		}
		if det, ok := m["detail"].(map[string]any); ok {
			if due, ok := det["due_at"].(string); ok && (ev.Kind == "started" || ev.Kind == "reopened" || ev.Kind == "resumed") {
				if t, err := time.Parse(time.RFC3339Nano, due); err == nil {
					add("casesui.tl.due", "at", web.FormatTime(t, "2006-01-02 15:04"))
				}
			}
			if st, ok := det["state"].(string); ok && st != "" {
				add("casesui.tl.reason", "reason", st)
			}
		}
	case "case":
		switch ev.Kind {
		case "created":
			if s := str("source"); s != "" {
				add("casesui.tl.source", "source", c.L.T("casesui.source."+s))
			}
		case "dispatched", "transferred":
			if id := num("assignee_id"); id > 0 {
				add("casesui.tl.to", "who", names[id])
			}
			if id := num("department_id"); id > 0 {
				add("casesui.tl.to_team", "team", h.S.DepartmentName(ctx, id))
			}
			tone = "info"
		case "accepted":
			// Accepted by someone else than who pressed (a dispatcher's claim for them).
			if id := num("assignee_id"); id > 0 && names[id] != "" && names[id] != actor {
				add("casesui.tl.by", "who", names[id])
			}
			tone = "info"
		case "completed":
			tone = "ok"
			if m["on_behalf"] == true {
				add("casesui.tl.on_behalf")
			}
			if n := num("labour_minutes"); n > 0 {
				add("casesui.tl.labour", "n", n)
			}
			if s := str("materials"); s != "" {
				add("casesui.tl.materials", "m", s)
			}
			if n := num("photos"); n > 0 {
				add("casesui.tl.photos", "n", n)
			}
			if m["signed"] == true {
				add("casesui.tl.signed")
			}
		case "arrived":
			if m["on_behalf"] == true {
				add("casesui.tl.on_behalf")
			}
		case "visited":
			if s := str("method"); s != "" {
				add("casesui.tl.method", "method", c.L.T("casesui.method."+s))
			}
			add("casesui.tl.scores", "speed", num("speed"), "quality", num("quality"), "attitude", num("attitude"))
			if m["happy"] == true {
				add("casesui.tl.happy")
				tone = "ok"
			} else {
				add("casesui.tl.unhappy")
				tone = "bad"
			}
			if s := str("comment"); s != "" {
				parts = append(parts, "“"+s+"”")
			}
		case "paused", "back_to_work", "reopened", "returned":
			tone = "warn"
		case "file_added":
			if s := str("kind"); s != "" {
				add("casesui.file." + s)
			}
		}
		if s := str("note"); s != "" {
			parts = append(parts, s)
		}
		if r := reason(); r != "" {
			add("casesui.tl.reason", "reason", r)
		}
	}
	return strings.Join(parts, " · "), tone
}
