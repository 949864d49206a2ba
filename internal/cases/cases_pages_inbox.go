package cases

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

// inboxRow is a case in the workbench with the one tap it offers: the
// action its state waits for, when the caller may take it.
type inboxRow struct {
	Case
	Tap string // acknowledge, claim, or "" (open the case)
}

type inboxGroupView struct {
	Key   string
	Count int
	Rows  []inboxRow
}

type inboxData struct {
	Groups    []inboxGroupView
	Care      []CareItem
	MoreCare  bool
	Total     int
	CanCreate bool
	Me        int64
	Live      string
	Flash     string
}

// inboxTap is the one-tap action of a state, on the workbench and the jobs.
var inboxTap = map[string]string{StateNew: ActAcknowledge, StateDispatched: ActClaim, StateAccepted: ActArrive}

func (h *Pages) inboxPage(c *web.Ctx) error {
	ctx := c.R.Context()
	in, err := h.S.InboxFor(ctx, c.P.StaffID, 20)
	if err != nil {
		return err
	}
	d := &inboxData{CanCreate: c.P.CanAnywhere(auth.PermCaseCreate), Me: c.P.StaffID, Live: liveEvents(), Flash: flash(c)}
	taps := map[int64]string{}
	for _, g := range in.Groups {
		v := inboxGroupView{Key: g.Key, Count: g.Count}
		for _, cs := range g.Items {
			tap, ok := taps[cs.ID]
			if !ok {
				tap = h.tap(ctx, &cs)
				taps[cs.ID] = tap
			}
			v.Rows = append(v.Rows, inboxRow{Case: cs, Tap: tap})
		}
		d.Total += g.Count
		d.Groups = append(d.Groups, v)
	}
	if h.Care != nil {
		const careRows = 20
		care, err := h.Care.DueCare(ctx, c.P.StaffID, careRows+1)
		if err != nil {
			return err
		}
		if len(care) > careRows {
			care, d.MoreCare = care[:careRows], true
		}
		d.Care = care
		d.Total += len(care)
	}
	return c.HTML(http.StatusOK, "cases_inbox", d, nil)
}

// tap returns the one-tap action for a case, when the caller may take it.
func (h *Pages) tap(ctx context.Context, c *Case) string {
	want := inboxTap[c.State]
	if want == "" || c.Paused {
		return ""
	}
	acts, _ := h.S.MayDo(ctx, c)
	for _, a := range acts {
		if a == want {
			return want
		}
	}
	return ""
}

// jobCard is a technician's job with what they may do on it.
type jobCard struct {
	Case
	Acts      map[string]bool
	OnBehalf  bool
	Signature bool
}

type jobsData struct {
	Mine  []jobCard
	Pool  []jobCard
	More  bool
	Me    int64
	Live  string
	Flash string
	// PauseReasons are offered with the pause button.
	PauseReasons []string
}

func (h *Pages) jobsPage(c *web.Ctx) error {
	ctx := c.R.Context()
	page, err := h.S.List(ctx, Filter{AssigneeID: c.P.StaffID, State: "open", Limit: 50})
	if err != nil {
		return err
	}
	d := &jobsData{More: page.More, Me: c.P.StaffID, Live: liveEvents(), Flash: flash(c), PauseReasons: []string{c.L.T("casesui.pause.parts"), c.L.T("casesui.pause.owner")}}
	sig := map[int64]bool{}
	card := func(cs Case) jobCard {
		j := jobCard{Case: cs, Acts: map[string]bool{}}
		acts, onBehalf := h.S.MayDo(ctx, &cs)
		for _, a := range acts {
			j.Acts[a] = true
		}
		j.OnBehalf = onBehalf
		if cs.CategoryID != nil && cs.Area == "home" {
			need, ok := sig[*cs.CategoryID]
			if !ok {
				if cat, err := h.S.Category(ctx, *cs.CategoryID); err == nil {
					need = cat.NeedsSignature
				}
				sig[*cs.CategoryID] = need
			}
			j.Signature = need
		}
		return j
	}
	// Late first, then urgent, then by deadline: what to do next is on top.
	sort.SliceStable(page.Items, func(i, j int) bool {
		a, b := page.Items[i], page.Items[j]
		if a.Overdue != b.Overdue {
			return a.Overdue
		}
		if (a.Priority == "urgent") != (b.Priority == "urgent") {
			return a.Priority == "urgent"
		}
		if (a.DueAt == nil) != (b.DueAt == nil) {
			return a.DueAt != nil
		}
		return a.DueAt != nil && a.DueAt.Before(*b.DueAt)
	})
	for _, cs := range page.Items {
		// Completed jobs wait for the butler's visit; they are done here.
		if cs.State == StateCompleted {
			continue
		}
		d.Mine = append(d.Mine, card(cs))
	}
	pool, err := h.S.Pool(ctx, c.P.StaffID, 20)
	if err != nil {
		return err
	}
	for _, cs := range pool {
		d.Pool = append(d.Pool, card(cs))
	}
	return c.HTML(http.StatusOK, "cases_jobs", d, nil)
}

type categoriesData struct {
	Sites      []Choice
	Site       int64
	SiteName   string
	Categories []Category
	Parents    map[int64]string
	Form       CategoryInput
	Kinds      []string
	Flash      string
}

// departmentKinds are the kinds a category may route to.
var departmentKinds = []string{"customer_service", "engineering", "security", "cleaning", "landscaping", "housekeeping", "front_office", "custom"}

func (h *Pages) categoriesData(c *web.Ctx, site int64, form CategoryInput) (*categoriesData, error) {
	ctx := c.R.Context()
	d := &categoriesData{Site: site, Form: form, Kinds: departmentKinds, Flash: flash(c), Parents: map[int64]string{}}
	var err error
	if d.Sites, err = h.S.Sites(ctx, auth.PermCaseManage); err != nil {
		return nil, err
	}
	if d.Site == 0 && len(d.Sites) > 0 {
		d.Site = d.Sites[0].ID
	}
	for _, s := range d.Sites {
		if s.ID == d.Site {
			d.SiteName = s.Name
		}
	}
	if d.SiteName == "" {
		d.Site = 0
		return d, nil
	}
	if d.Categories, err = h.S.Categories(ctx, d.Site); err != nil {
		return nil, err
	}
	for _, cat := range d.Categories {
		d.Parents[cat.ID] = cat.Name
	}
	return d, nil
}

func (h *Pages) categoriesPage(c *web.Ctx) error {
	d, err := h.categoriesData(c, c.QueryInt64("site_id"), CategoryInput{DepartmentKind: "engineering"})
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "case_categories", d, nil)
}

// categoryForm is the add-a-category form as sent.
type categoryForm struct {
	SiteID         int64  `json:"site_id"`
	ParentID       int64  `json:"parent_id"`
	Code           string `json:"code"`
	Name           string `json:"name"`
	DepartmentKind string `json:"department_kind"`
	NeedsSignature bool   `json:"needs_signature"`
}

func (h *Pages) categoryForm(c *web.Ctx) error {
	var f categoryForm
	err := c.Decode(&f)
	in := CategoryInput{SiteID: f.SiteID, Code: strings.TrimSpace(f.Code), Name: f.Name, DepartmentKind: f.DepartmentKind, NeedsSignature: f.NeedsSignature}
	if f.ParentID != 0 {
		in.ParentID = &f.ParentID
	}
	if err == nil {
		_, err = h.S.CreateCategory(c.R.Context(), in)
	}
	if err != nil {
		if !userError(err) {
			return err
		}
		d, derr := h.categoriesData(c, f.SiteID, in)
		if derr != nil {
			return derr
		}
		return c.HTML(web.StatusOf(errs.CodeOf(err)), "case_categories", d, err)
	}
	return c.Redirect("/cases/categories?site_id=" + strconv.FormatInt(f.SiteID, 10) + "&ok=category")
}
