package cases

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/pii"
)

const caseCols = `c.id, c.number, c.type, c.category_id, COALESCE(cc.name, ''), c.site_id, c.unit_id, COALESCE(u.number, ''), c.household_id,
	c.butler_id, COALESCE(b.name, ''), c.area, c.priority, c.source, c.description, c.contact_name, c.contact_phone_enc, c.preferred_time,
	c.state, c.paused, c.pause_reason, c.assignee_id, COALESCE(a.name, ''), c.department_id, c.instance_id, c.reopened, c.materials,
	c.labour_minutes, c.satisfaction, c.created_at, c.acknowledged_at, c.dispatched_at, c.accepted_at, c.arrived_at, c.completed_at,
	c.closed_at, c.due_at, c.node_path`

const caseFrom = ` FROM cases c LEFT JOIN case_categories cc ON cc.id = c.category_id LEFT JOIN units u ON u.id = c.unit_id
	LEFT JOIN staff b ON b.id = c.butler_id LEFT JOIN staff a ON a.id = c.assignee_id`

func nullID(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

// scanCase reads a case row; the contact phone comes out masked.
func (s *Service) scanCase(row interface{ Scan(...any) error }, now time.Time) (*Case, error) {
	var c Case
	var cat, unit, hh, butler, assignee, dep, inst, sat sql.NullInt64
	var ack, disp, acc, arr, comp, closed, due sql.NullInt64
	var created int64
	var phoneEnc string
	if err := row.Scan(&c.ID, &c.Number, &c.Type, &cat, &c.CategoryName, &c.SiteID, &unit, &c.UnitNumber, &hh, &butler, &c.ButlerName,
		&c.Area, &c.Priority, &c.Source, &c.Description, &c.ContactName, &phoneEnc, &c.PreferredTime, &c.State, &c.Paused, &c.PauseReason,
		&assignee, &c.AssigneeName, &dep, &inst, &c.Reopened, &c.Materials, &c.LabourMinutes, &sat, &created, &ack, &disp, &acc, &arr,
		&comp, &closed, &due, &c.NodePath); err != nil {
		return nil, err
	}
	c.CategoryID, c.UnitID, c.HouseholdID, c.ButlerID, c.AssigneeID, c.DepartmentID, c.InstanceID = nullID(cat), nullID(unit), nullID(hh), nullID(butler), nullID(assignee), nullID(dep), nullID(inst)
	if sat.Valid {
		v := int(sat.Int64)
		c.Satisfaction = &v
	}
	c.CreatedAt = db.Time(created)
	c.AcknowledgedAt, c.DispatchedAt, c.AcceptedAt, c.ArrivedAt = db.TimePtr(ack), db.TimePtr(disp), db.TimePtr(acc), db.TimePtr(arr)
	c.CompletedAt, c.ClosedAt, c.DueAt = db.TimePtr(comp), db.TimePtr(closed), db.TimePtr(due)
	c.Overdue = c.State != StateClosed && c.DueAt != nil && c.DueAt.Before(now)
	if phoneEnc != "" && s.vault != nil {
		if clear, err := s.vault.Open("case.contact_phone", phoneEnc); err == nil {
			c.ContactPhone = pii.MaskPhone(clear)
		}
	}
	c.Allowed = Allowed(c.State, c.Paused)
	return &c, nil
}

// load reads a case without permission checks.
func (s *Service) load(ctx context.Context, q db.Querier, id int64) (*Case, error) {
	c, err := s.scanCase(q.QueryRowContext(ctx, `SELECT `+caseCols+caseFrom+` WHERE c.id = ?`, id), s.Now())
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.case.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("cases: load %d: %w", id, err)
	}
	return c, nil
}

// SealedColumns are the service desk's sealed values, for a key rotation
// (pii.Vault.RekeyColumn).
var SealedColumns = []pii.Column{{Table: "cases", Key: "id", Sealed: "contact_phone_enc", Field: "case.contact_phone"}}

// contactPhone returns the clear contact phone of a case ("" when none),
// for texting the resident; never shown on a page.
func (s *Service) contactPhone(ctx context.Context, id int64) string {
	var enc string
	if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT contact_phone_enc FROM cases WHERE id = ?`, id).Scan(&enc); err != nil || enc == "" || s.vault == nil {
		return ""
	}
	clear, err := s.vault.Open("case.contact_phone", enc)
	if err != nil {
		return ""
	}
	return clear
}

// event records a line of the case's timeline.
func (s *Service) event(ctx context.Context, tx *db.Tx, caseID int64, kind string, data any) error {
	a := audit.ActorFrom(ctx)
	var actor any
	if a.ID != 0 {
		actor = a.ID
	}
	body := ""
	if data != nil {
		body = mustJSON(data)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO case_events (case_id, at, kind, actor_id, actor_name, data) VALUES (?, ?, ?, ?, ?, ?)`,
		caseID, db.Ms(tx.Now), kind, actor, a.Name, body)
	if err != nil {
		return fmt.Errorf("cases: event: %w", err)
	}
	return nil
}

// nextNumber hands out the case number of a site, type and local day:
// BX-20261127-0001. The counter row is updated in the caller's transaction.
// See number for where that transaction is.
func (s *Service) nextNumber(ctx context.Context, siteID int64, typ string, now time.Time) (string, error) {
	prefix := numberPrefix[typ]
	day := now.In(shanghai).Format("20060102")
	var n int
	err := db.TxOrFail(ctx).QueryRowContext(ctx, `INSERT INTO case_numbers (site_id, prefix, day, last) VALUES (?, ?, ?, 1)
		ON CONFLICT (site_id, prefix, day) DO UPDATE SET last = case_numbers.last + 1 RETURNING last`, siteID, prefix, day).Scan(&n)
	if err != nil {
		return "", fmt.Errorf("cases: number: %w", err)
	}
	return prefix + "-" + day + "-" + fmt.Sprintf("%04d", n), nil
}

// number takes a new case's number before its create's transaction, or
// returns "" to have it taken inside. On SQLite it is part of the create's
// transaction: there is one writer anyway, and a create that fails gives
// its number back. On PostgreSQL the counter row of a site, type and day is
// every create's, and holding its lock for a whole create let one create
// through at a time (some 120 a second whatever the clients); there the
// number is taken in a short transaction of its own, committed first, so
// a create that then fails leaves a gap in the day's numbers. A create
// inside its caller's transaction takes it there.
func (s *Service) number(ctx context.Context, siteID int64, typ string, now time.Time) (string, error) {
	if s.db.OneWriter() || db.TxFrom(ctx) != nil {
		return "", nil
	}
	var n string
	err := s.db.WithTxAt(ctx, now, func(ctx context.Context, _ *db.Tx) error {
		var err error
		n, err = s.nextNumber(ctx, siteID, typ, now)
		return err
	})
	return n, err
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

func subject(id int64) string { return "case:" + strconv.FormatInt(id, 10) }
