package portal

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/pii"
	"github.com/guanjia/guanjia/internal/sla"
)

// system acts for the portal: the resident's rights were checked here.
func system(ctx context.Context) context.Context {
	return auth.WithPrincipal(audit.WithActor(ctx, audit.Actor{Name: "portal"}), nil)
}

// Household is what a resident sees of their home.
type Household struct {
	ID          int64  `json:"id"`
	SiteID      int64  `json:"site_id"`
	SiteName    string `json:"site_name"`
	Unit        string `json:"unit"`
	ButlerName  string `json:"butler_name"`
	ButlerPhone string `json:"butler_phone"` // the butler's work phone: residents call it
}

// Me is the signed-in resident.
type Me struct {
	Phone      string      `json:"phone"` // masked
	Households []Household `json:"households"`
	Accounts   []string    `json:"accounts"`
	Kiosk      bool        `json:"kiosk"`
}

// MeOf describes a resident.
func (s *Service) MeOf(ctx context.Context, r *Resident) (*Me, error) {
	me := &Me{Phone: r.PhoneMasked, Households: []Household{}, Accounts: r.Accounts, Kiosk: r.Kiosk}
	if me.Accounts == nil {
		me.Accounts = []string{}
	}
	if r.Kiosk {
		me.Accounts = make([]string, len(r.Accounts)) // a copy: the resident's own list keeps the numbers
		for i, a := range r.Accounts {
			me.Accounts[i] = maskNumber(a)
		}
	}
	for _, id := range r.HouseholdIDs {
		var h Household
		err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT h.id, h.site_id, n.name, u.number, COALESCE(b.name, ''), COALESCE(b.phone, '')
			FROM households h JOIN units u ON u.id = h.unit_id JOIN org_nodes n ON n.id = h.site_id LEFT JOIN staff b ON b.id = h.butler_id WHERE h.id = ?`, id).
			Scan(&h.ID, &h.SiteID, &h.SiteName, &h.Unit, &h.ButlerName, &h.ButlerPhone)
		if err != nil {
			return nil, fmt.Errorf("portal: household %d: %w", id, err)
		}
		if r.Kiosk {
			h.ButlerPhone = pii.MaskPhone(h.ButlerPhone) // a lobby screen shows no full numbers
		}
		me.Households = append(me.Households, h)
	}
	return me, nil
}

// Step is one stop on a case's progress line.
type Step struct {
	Key   string `json:"key"`
	Done  bool   `json:"done"`
	Now   bool   `json:"current"`
	Label string `json:"label"` // filled by the page from the catalog
}

// CaseView is a case as its resident sees it.
type CaseView struct {
	ID           int64      `json:"id"`
	Number       string     `json:"number"`
	Type         string     `json:"type"`
	Category     string     `json:"category"`
	Description  string     `json:"description"`
	State        string     `json:"state"`
	Paused       bool       `json:"paused"`
	Steps        []Step     `json:"steps"`
	ExpectedBy   *time.Time `json:"expected_by"`
	Handler      string     `json:"handler,omitempty"`
	ButlerName   string     `json:"butler_name,omitempty"`
	ButlerPhone  string     `json:"butler_phone,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	CompletedAt  *time.Time `json:"completed_at"`
	CanRate      bool       `json:"can_rate"`
	Photos       []int64    `json:"photos"`
	NextSteps    string     `json:"next_steps,omitempty"`
	Materials    string     `json:"materials,omitempty"`
	Satisfaction *int       `json:"satisfaction"`
}

// progress is the simple line a resident follows.
var progress = []string{"received", "acknowledged", "in_progress", "completed", "closed"}

func stepsOf(c *cases.Case) []Step {
	at := map[string]int{cases.StateNew: 0, cases.StateAcknowledged: 1, cases.StateDispatched: 2, cases.StateAccepted: 2, cases.StateOnSite: 2,
		cases.StateCompleted: 3, cases.StateClosed: 4}[c.State]
	out := make([]Step, len(progress))
	for i, k := range progress {
		out[i] = Step{Key: k, Done: i < at || (i == at && c.State == cases.StateClosed), Now: i == at && c.State != cases.StateClosed}
	}
	return out
}

// viewOf tells a case for its resident. phones caches the butlers' work
// phones over a list (a household's cases share one butler).
func (s *Service) viewOf(ctx context.Context, c *cases.Case, kiosk bool, phones map[int64]string) (*CaseView, error) {
	v := &CaseView{ID: c.ID, Number: c.Number, Type: c.Type, Category: c.CategoryName, Description: c.Description, State: c.State, Paused: c.Paused,
		Steps: stepsOf(c), Handler: c.AssigneeName, ButlerName: c.ButlerName, CreatedAt: c.CreatedAt, CompletedAt: c.CompletedAt,
		CanRate: c.State == cases.StateCompleted, Photos: []int64{}, Satisfaction: c.Satisfaction}
	if kiosk {
		v.Description = maskPhonesIn(v.Description) // people write their numbers into reports
	}
	if c.ButlerID != nil {
		phone, ok := phones[*c.ButlerID]
		if !ok {
			if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT phone FROM staff WHERE id = ?`, *c.ButlerID).Scan(&phone); err != nil && !db.IsNoRows(err) {
				return nil, fmt.Errorf("portal: butler phone: %w", err)
			}
			phones[*c.ButlerID] = phone
		}
		v.ButlerPhone = phone
		if kiosk {
			v.ButlerPhone = pii.MaskPhone(phone)
		}
	}
	if c.InstanceID != nil {
		if ns, mat, err := s.currentTexts(ctx, *c.InstanceID); err == nil {
			v.NextSteps, v.Materials = ns, mat
		}
	}
	return v, nil
}

// currentTexts returns the "what happens next" and "materials to prepare"
// the process author wrote on the step an instance waits at.
func (s *Service) currentTexts(ctx context.Context, instanceID int64) (string, string, error) {
	var taskID int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT id FROM flow_tasks WHERE instance_id = ? AND state = 'open' ORDER BY id LIMIT 1`, instanceID).Scan(&taskID)
	if err != nil {
		return "", "", err
	}
	d, err := s.flow.TaskDetail(system(ctx), taskID)
	if err != nil {
		return "", "", err
	}
	return d.NextSteps, d.Materials, nil
}

// Cases lists the resident's households' cases, newest first.
func (s *Service) Cases(ctx context.Context, r *Resident, limit int) ([]CaseView, error) {
	out := []CaseView{}
	if len(r.HouseholdIDs) == 0 {
		return out, nil
	}
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	phones := map[int64]string{}
	for _, hh := range r.HouseholdIDs {
		page, err := s.cases.List(system(ctx), cases.Filter{HouseholdID: hh, Limit: limit})
		if err != nil {
			return nil, err
		}
		for i := range page.Items {
			v, err := s.viewOf(ctx, &page.Items[i], r.Kiosk, phones)
			if err != nil {
				return nil, err
			}
			out = append(out, *v)
		}
	}
	ids := make([]int64, len(out))
	for i := range out {
		ids[i] = out[i].ID
	}
	due, err := s.resolutionDue(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if t, ok := due[out[i].ID]; ok {
			out[i].ExpectedBy = &t
		}
	}
	return out, nil
}

// resolutionDue returns, for the cases still open, when the work is due to
// be done: the running resolution clock's deadline (the nearest deadline of
// any clock would tell a resident their leak is fixed in ten minutes, when
// that is only when someone must answer).
func (s *Service) resolutionDue(ctx context.Context, ids []int64) (map[int64]time.Time, error) {
	out := map[int64]time.Time{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = fmt.Sprintf("case:%d", id)
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT subject, due_at FROM sla_cycles WHERE subject IN (`+db.Placeholders(len(ids))+`)
		AND metric = 'resolution' AND state = 'running' AND due_at IS NOT NULL`, args...)
	if err != nil {
		return nil, fmt.Errorf("portal: resolution due: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var subject string
		var due int64
		if err := rows.Scan(&subject, &due); err != nil {
			return nil, err
		}
		var id int64
		if _, err := fmt.Sscanf(subject, "case:%d", &id); err == nil {
			out[id] = db.Time(due)
		}
	}
	return out, rows.Err()
}

// Case returns one of the resident's cases; ENotFound for anyone else's,
// so the answer does not even confirm it exists.
func (s *Service) Case(ctx context.Context, r *Resident, id int64) (*CaseView, *cases.Detail, error) {
	d, err := s.cases.Get(system(ctx), id)
	if err != nil || !r.owns(d.HouseholdID) {
		return nil, nil, errs.NotFound("error.case.not_found")
	}
	v, err := s.viewOf(ctx, &d.Case, r.Kiosk, map[int64]string{})
	if err != nil {
		return nil, nil, err
	}
	for _, f := range d.Files {
		if f.Kind == "photo" || f.Kind == "completion" {
			v.Photos = append(v.Photos, f.ID)
		}
	}
	for _, c := range d.Cycles {
		if c.Metric == sla.MetricResolution && c.State == "running" && c.DueAt != nil {
			v.ExpectedBy = c.DueAt
		}
	}
	return v, d, nil
}

// ReportInput is a resident's report.
type ReportInput struct {
	HouseholdID   int64  `json:"household_id"`
	Type          string `json:"type"`
	CategoryID    *int64 `json:"category_id"`
	Description   string `json:"description"`
	PreferredTime string `json:"preferred_time"`
}

// Report opens a case for one of the resident's households; it goes to the
// household's butler like any other.
func (s *Service) Report(ctx context.Context, r *Resident, in ReportInput) (*cases.Created, error) {
	var v errs.Validation
	v.OneOf("type", in.Type, cases.TypeRepair, cases.TypeComplaint, cases.TypeInquiry, cases.TypeSuggestion, cases.TypePraise)
	hh := in.HouseholdID
	if hh == 0 && len(r.HouseholdIDs) == 1 {
		hh = r.HouseholdIDs[0]
	}
	v.Check(r.owns(&hh), "household_id", "error.field.unknown_id")
	if err := v.Err(); err != nil {
		return nil, err
	}
	var site int64
	if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT site_id FROM households WHERE id = ?`, hh).Scan(&site); err != nil {
		return nil, errs.Invalid("household_id", "error.field.unknown_id")
	}
	return s.cases.Create(system(ctx), cases.CreateInput{Type: in.Type, CategoryID: in.CategoryID, SiteID: site, HouseholdID: &hh,
		Description: in.Description, PreferredTime: in.PreferredTime, Source: "portal", ContactPhone: ""})
}

// RateInput rates completed work.
type RateInput struct {
	Speed    int    `json:"speed"`
	Quality  int    `json:"quality"`
	Attitude int    `json:"attitude"`
	Comment  string `json:"comment"`
}

// Rate fills the return visit from the resident when the butler has not
// called yet; EConflict when the case is not awaiting one.
func (s *Service) Rate(ctx context.Context, r *Resident, id int64, in RateInput) error {
	if _, _, err := s.Case(ctx, r, id); err != nil {
		return err
	}
	_, err := s.cases.Do(system(ctx), id, cases.ActVisit, cases.ActionInput{Method: "portal", Speed: in.Speed, Quality: in.Quality, Attitude: in.Attitude, Comment: strings.TrimSpace(in.Comment)})
	return err
}

// Notice is an announcement a resident may read.
type Notice struct {
	ID        int64     `json:"id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	PublishAt time.Time `json:"publish_at"`
}

// Notices returns the announcements in force at the resident's sites.
func (s *Service) Notices(ctx context.Context, r *Resident) ([]Notice, error) {
	out := []Notice{}
	seen := map[int64]bool{}
	now := db.Ms(s.Now())
	for _, hh := range r.HouseholdIDs {
		var path string
		if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT n.path FROM households h JOIN org_nodes n ON n.id = h.site_id WHERE h.id = ?`, hh).Scan(&path); err != nil {
			return nil, err
		}
		var conds []string
		var args []any
		for i := 1; i < len(path); i++ {
			if path[i] == '/' {
				conds = append(conds, "node_path = ?")
				args = append(args, path[:i+1])
			}
		}
		rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id, title, body, publish_at FROM announcements WHERE (`+strings.Join(conds, " OR ")+`)
			AND publish_at <= ? AND (expire_at IS NULL OR expire_at > ?) ORDER BY publish_at DESC LIMIT 20`, append(args, now, now)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var n Notice
			var at int64
			if err := rows.Scan(&n.ID, &n.Title, &n.Body, &at); err != nil {
				rows.Close()
				return nil, err
			}
			n.PublishAt = db.Time(at)
			if !seen[n.ID] {
				seen[n.ID] = true
				out = append(out, n)
			}
		}
		rows.Close()
	}
	return out, nil
}
