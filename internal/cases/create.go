package cases

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow"
	"github.com/guanjia/guanjia/internal/live"
	"github.com/guanjia/guanjia/internal/notify"
	"github.com/guanjia/guanjia/internal/sla"
)

// CreateInput is a new request.
type CreateInput struct {
	Type          string `json:"type"`
	CategoryID    *int64 `json:"category_id"`
	SiteID        int64  `json:"site_id"`
	UnitID        *int64 `json:"unit_id"`
	HouseholdID   *int64 `json:"household_id"`
	Area          string `json:"area"` // home (default) or public
	Description   string `json:"description"`
	Priority      string `json:"priority"`
	ContactName   string `json:"contact_name"`
	ContactPhone  string `json:"contact_phone"`
	PreferredTime string `json:"preferred_time"`
	Source        string `json:"source"` // phone (default), portal, api, patrol, visit
}

// Created answers a creation: the case and any open case of the same unit
// and category (a hint that this may be a repeat call).
type Created struct {
	Case       *Case    `json:"case"`
	Duplicates []string `json:"duplicates"`
}

var phoneRe = regexp.MustCompile(`^\+?[0-9\-]{5,20}$`)

// location is where a case belongs.
type location struct {
	sitePath    string
	siteKind    string
	path        string // the building's path when known, else the site's
	unitID      *int64
	householdID *int64
	butlerID    *int64
	category    *Category
}

func (s *Service) locate(ctx context.Context, in *CreateInput, v *errs.Validation) *location {
	l := &location{}
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT path, site_kind FROM org_nodes WHERE id = ? AND kind = 'site'`, in.SiteID).Scan(&l.sitePath, &l.siteKind)
	if err != nil {
		v.Add("site_id", "error.field.unknown_id")
		return l
	}
	l.path = l.sitePath
	if in.HouseholdID != nil {
		var unit int64
		var butler sql.NullInt64
		var path string
		err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT unit_id, butler_id, node_path FROM households WHERE id = ? AND site_id = ?`, *in.HouseholdID, in.SiteID).Scan(&unit, &butler, &path)
		if err != nil {
			v.Add("household_id", "error.field.unknown_id")
		} else {
			l.householdID, l.unitID, l.butlerID, l.path = in.HouseholdID, &unit, nullID(butler), path
		}
	}
	if in.UnitID != nil && l.unitID == nil {
		var path string
		if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT node_path FROM units WHERE id = ? AND site_id = ?`, *in.UnitID, in.SiteID).Scan(&path); err != nil {
			v.Add("unit_id", "error.field.unknown_id")
		} else {
			l.unitID, l.path = in.UnitID, path
			var hh int64
			var butler sql.NullInt64
			if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT id, butler_id FROM households WHERE unit_id = ? AND status = 'current'`, *in.UnitID).Scan(&hh, &butler); err == nil {
				l.householdID, l.butlerID = &hh, nullID(butler)
			}
		}
	} else if in.UnitID != nil && l.unitID != nil && *in.UnitID != *l.unitID {
		v.Add("unit_id", "error.case.unit_mismatch")
	}
	if in.CategoryID != nil {
		c, err := s.Category(ctx, *in.CategoryID)
		if err != nil || c.SiteID != in.SiteID {
			v.Add("category_id", "error.field.unknown_id")
		} else {
			l.category = c
		}
	}
	return l
}

func (in *CreateInput) normalize(v *errs.Validation) {
	in.Description, in.ContactName, in.ContactPhone = strings.TrimSpace(in.Description), strings.TrimSpace(in.ContactName), strings.TrimSpace(in.ContactPhone)
	if in.Priority == "" {
		in.Priority = "normal"
	}
	if in.Area == "" {
		in.Area = "home"
	}
	if in.Source == "" {
		in.Source = "phone"
	}
	v.OneOf("type", in.Type, Types...)
	v.OneOf("priority", in.Priority, Priorities...)
	v.OneOf("area", in.Area, "home", "public")
	v.OneOf("source", in.Source, "phone", "portal", "api", "patrol", "visit")
	v.Required("description", in.Description)
	v.MaxLen("description", in.Description, 2000)
	v.MaxLen("contact_name", in.ContactName, 50)
	v.MaxLen("preferred_time", in.PreferredTime, 100)
	v.Check(in.ContactPhone == "" || phoneRe.MatchString(in.ContactPhone), "contact_phone", "error.field.bad_phone")
	if in.SiteID == 0 {
		v.Add("site_id", "error.field.required")
	}
}

// Create opens a case, starts its process and its SLA clocks, tells the
// butler, and returns it with a hint of open cases of the same unit and
// category. The caller needs case.create on the site.
func (s *Service) Create(ctx context.Context, in CreateInput) (*Created, error) {
	var v errs.Validation
	in.normalize(&v)
	var l *location
	if !v.Has("site_id") {
		l = s.locate(ctx, &in, &v)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if p := auth.FromContext(ctx); p != nil && !p.Can(auth.PermCaseCreate, l.path) {
		return nil, errs.Forbidden()
	}
	return s.create(ctx, in, l)
}

func (s *Service) create(ctx context.Context, in CreateInput, l *location) (*Created, error) {
	// What can be read before the write transaction is: the writer is
	// SQLite's one and only, and every read done here runs in parallel.
	out := &Created{Duplicates: []string{}}
	if l.unitID != nil && l.category != nil {
		dups, err := s.openNumbers(ctx, *l.unitID, l.category.ID)
		if err != nil {
			return nil, err
		}
		out.Duplicates = dups
	}
	process := s.processFor(ctx, in.Type, in.SiteID)
	var phoneEnc string
	if in.ContactPhone != "" {
		if s.vault == nil {
			return nil, fmt.Errorf("cases: no personal-data key configured")
		}
		var err error
		if phoneEnc, err = s.vault.Seal("case.contact_phone", in.ContactPhone); err != nil {
			return nil, err
		}
	}
	var catID any
	if l.category != nil {
		catID = l.category.ID
	}
	var createdBy any
	if p := auth.FromContext(ctx); p != nil {
		createdBy = p.StaffID
	}
	now := db.Now(ctx)
	number, err := s.number(ctx, in.SiteID, in.Type, now)
	if err != nil {
		return nil, err
	}
	var id int64
	err = s.db.WithTxAt(ctx, now, func(ctx context.Context, tx *db.Tx) error {
		var err error
		if number == "" {
			if number, err = s.nextNumber(ctx, in.SiteID, in.Type, now); err != nil {
				return err
			}
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO cases (number, type, category_id, site_id, node_path, unit_id, household_id, butler_id, area, priority, source,
			description, contact_name, contact_phone_enc, preferred_time, state, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			number, in.Type, catID, in.SiteID, l.path, l.unitID, l.householdID, l.butlerID, in.Area, in.Priority, in.Source,
			in.Description, in.ContactName, phoneEnc, in.PreferredTime, StateNew, createdBy, db.Ms(tx.Now), db.Ms(tx.Now)).Scan(&id)
		if err != nil {
			return fmt.Errorf("cases: insert: %w", err)
		}
		if err := s.event(ctx, tx, id, "created", map[string]any{"number": number, "source": in.Source}); err != nil {
			return err
		}
		vars := map[string]any{"case_id": strconv.FormatInt(id, 10), "priority": in.Priority, "urgent": in.Priority == "urgent", "type": in.Type}
		if l.butlerID != nil {
			vars["butler"] = strconv.FormatInt(*l.butlerID, 10)
		}
		st, err := s.flow.StartSystem(ctx, flow.StartInput{DefinitionKey: process, BusinessKey: number, SiteID: &in.SiteID, Variables: vars})
		if err != nil {
			return err
		}
		clocks, err := s.clocks(ctx, id, "created", in.Type, l, in.Priority)
		if err != nil {
			return err
		}
		var due any
		if clocks != nil {
			due = earliestDue(clocks.Started)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET instance_id = ?, due_at = ? WHERE id = ?`, st.ID, due, id); err != nil {
			return err
		}
		if l.butlerID != nil && s.notify != nil {
			if err := s.notify.Notify(ctx, notify.Note{RecipientID: *l.butlerID, Kind: "case.new", Subject: subject(id), Link: "/cases/" + strconv.FormatInt(id, 10),
				Params: map[string]any{"number": number, "description": clip(in.Description, 40)}, SMS: in.Priority == "urgent", Urgent: in.Priority == "urgent"}); err != nil {
				return err
			}
		}
		s.publish(ctx, &Case{ID: id, Number: number, State: StateNew, ButlerID: l.butlerID, NodePath: l.path}, "case.created")
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Read back after the commit (or in the caller's transaction).
	if out.Case, err = s.load(ctx, s.db.Q(ctx), id); err != nil {
		return nil, err
	}
	return out, nil
}

// openNumbers lists the numbers of the latest open cases of a unit in a
// category: the duplicate hint.
func (s *Service) openNumbers(ctx context.Context, unitID, categoryID int64) ([]string, error) {
	out, err := db.Column[string](ctx, s.db.Q(ctx), `SELECT number FROM cases WHERE unit_id = ? AND category_id = ? AND state <> 'closed' ORDER BY id DESC LIMIT 5`, unitID, categoryID)
	if err != nil {
		return nil, fmt.Errorf("cases: duplicates: %w", err)
	}
	return out, nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// processFor returns the process key of a type at a site: a site's own
// "<key>_<site id>" when deployed, else the shared key.
func (s *Service) processFor(ctx context.Context, typ string, siteID int64) string {
	key := processKey[typ]
	own := key + "_" + strconv.FormatInt(siteID, 10)
	if _, err := s.flow.Latest(ctx, own); err == nil {
		return own
	}
	return key
}

// signal tells the SLA engine about a case event and stores the nearest open
// deadline on the case, for the inbox order.
func (s *Service) signal(ctx context.Context, id int64, event, typ string, l *location, priority string) error {
	if res, err := s.clocks(ctx, id, event, typ, l, priority); err != nil || res == nil {
		return err
	}
	return s.refreshDue(ctx, id)
}

// clocks tells the SLA engine about a case event; nil without an SLA engine.
func (s *Service) clocks(ctx context.Context, id int64, event, typ string, l *location, priority string) (*sla.SignalResult, error) {
	if s.sla == nil {
		return nil, nil
	}
	m := sla.Match{CaseType: typ, Priority: priority, NodePath: l.sitePath}
	if l.category != nil {
		m.Category = l.category.Code
	}
	return s.sla.Signal(ctx, sla.SignalInput{Subject: subject(id), Event: event, Match: m})
}

func (s *Service) refreshDue(ctx context.Context, id int64) error {
	if s.sla == nil {
		return nil
	}
	cycles, err := s.sla.Cycles(ctx, subject(id))
	if err != nil {
		return err
	}
	_, err = db.TxOrFail(ctx).ExecContext(ctx, `UPDATE cases SET due_at = ? WHERE id = ?`, earliestDue(cycles), id)
	return err
}

// earliestDue is the nearest deadline of the running cycles (milliseconds),
// or nil.
func earliestDue(cycles []sla.Cycle) any {
	var due any
	for _, c := range cycles {
		if c.State != sla.StateRunning || c.DueAt == nil {
			continue
		}
		if due == nil || db.Ms(*c.DueAt) < due.(int64) {
			due = db.Ms(*c.DueAt)
		}
	}
	return due
}

// publish pushes a case change to the butler, the assignee and the site.
func (s *Service) publish(ctx context.Context, c *Case, kind string) {
	if s.live == nil {
		return
	}
	data := []byte(mustJSON(map[string]any{"id": c.ID, "number": c.Number, "state": c.State, "paused": c.Paused}))
	evs := []live.Event{{Topic: "case:" + strconv.FormatInt(c.ID, 10), Type: kind, Data: data}}
	for _, id := range []*int64{c.ButlerID, c.AssigneeID} {
		if id != nil {
			evs = append(evs, live.Event{Topic: live.UserTopic(*id), Type: kind, Data: data})
		}
	}
	for i := 1; i < len(c.NodePath); i++ {
		if c.NodePath[i] == '/' {
			evs = append(evs, live.Event{Topic: live.NodeTopic(c.NodePath[:i+1]), Type: kind, Data: data})
		}
	}
	s.live.PublishAfter(ctx, evs...)
}
