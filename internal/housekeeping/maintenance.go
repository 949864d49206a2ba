package housekeeping

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow"
)

// Damage found in a room becomes repair work. With the service desk
// beside housekeeping (Deps.Desk, as the application wires it), it is a
// repair case on the hotel's site, dispatched, worked, visited and timed
// like any other, and the case's completion reports back (CaseCompleted).
// Housekeeping on its own starts hk_maintenance (below) instead: a repair
// task for the site's engineering department or its technicians whose
// completion runs the engine's service task hk.maintenance_done. Either
// way the room's timeline shows it, and a room put out of order for it
// returns to service (dirty, to be cleaned).

const (
	maintenanceKey     = "hk_maintenance"
	jobMaintenanceDone = "hk.maintenance_done"
)

// maintenanceProcess is the small process shipped until cases exist.
var maintenanceProcess = []byte(`key: hk_maintenance
name: 客房维修
steps:
  - id: repair
    name: 客房维修
    candidate_groups: ["dept:engineering", technician]
    due: PT4H
    next_steps: 工程部维修人员到房间维修，修好后回单。
    form:
      - {id: fixed, label: 已修复, type: boolean, required: true}
      - {id: repair_note, label: 维修说明, type: string}
  - id: report_back
    name: 回报客房部
    type: serviceTask
    job_type: hk.maintenance_done
`)

func (s *Service) ensureProcess(ctx context.Context) error {
	if s.flow == nil {
		return nil
	}
	if _, err := s.flow.Latest(ctx, maintenanceKey); err == nil {
		return nil
	} else if errs.CodeOf(err) != errs.ENotFound {
		return err
	}
	if _, err := s.flow.DeploySystem(ctx, maintenanceProcess); err != nil {
		return fmt.Errorf("housekeeping: deploy %s: %w", maintenanceKey, err)
	}
	return nil
}

// DamageReportInput reports damage in a room.
type DamageReportInput struct {
	Description string `json:"description"`
	// OutOfOrder also takes the room off sale until the repair is done.
	OutOfOrder bool   `json:"out_of_order"`
	Until      string `json:"until"` // YYYY-MM-DD, optional
}

// RepairOrder is damage handed to the engine.
type RepairOrder struct {
	ID          int64      `json:"id"`
	RoomID      int64      `json:"room_id"`
	Description string     `json:"description"`
	OutOfOrder  bool       `json:"out_of_order"`
	InstanceID  *int64     `json:"instance_id"`
	CaseID      *int64     `json:"case_id"`
	CaseNumber  string     `json:"case_number,omitempty"`
	State       string     `json:"state"`
	ReportedAt  time.Time  `json:"reported_at"`
	DoneAt      *time.Time `json:"done_at,omitempty"`
	DoneNote    string     `json:"done_note,omitempty"`
}

// ReportDamage records damage (seed article 1: report to the supervisor and
// maintenance), starts the maintenance process and, when asked and the room
// is vacant, puts the room out of order. Needs hk.clean on the room.
func (s *Service) ReportDamage(ctx context.Context, roomID int64, in DamageReportInput) (*RepairOrder, error) {
	var v errs.Validation
	v.Required("description", in.Description)
	v.MaxLen("description", in.Description, 1000)
	v.MaxLen("until", in.Until, 10)
	if in.Until != "" && !v.Has("until") {
		if _, err := time.Parse(time.DateOnly, in.Until); err != nil {
			v.Add("until", "error.field.wrong_type")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := &RepairOrder{RoomID: roomID, Description: strings.TrimSpace(in.Description), OutOfOrder: in.OutOfOrder, State: "open"}
	err := s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, err := s.visibleRoom(ctx, roomID, true)
		if err != nil {
			return err
		}
		if !can(ctx, auth.PermHKClean, r.NodePath) && !can(ctx, auth.PermHKInspect, r.NodePath) {
			return errs.Forbidden()
		}
		if in.OutOfOrder && r.Block == BlockNone && r.Occupancy != Vacant {
			return transitionError(DimBlock, r.Block, BlockOOO, Allowed(r.State, DimBlock, nil))
		}
		var by any
		if p := auth.FromContext(ctx); p != nil {
			by = p.StaffID
		}
		out.ReportedAt = tx.Now
		if err := tx.QueryRowContext(ctx, `INSERT INTO hk_maintenance (site_id, room_id, description, set_ooo, reported_by, reported_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			r.SiteID, r.ID, out.Description, in.OutOfOrder, by, db.Ms(tx.Now)).Scan(&out.ID); err != nil {
			return fmt.Errorf("housekeeping: maintenance: %w", err)
		}
		if s.desk != nil {
			id, number, err := s.desk.OpenRepair(ctx, RepairRequest{SiteID: r.SiteID, Room: r.Number, Description: out.Description})
			if err != nil {
				return fmt.Errorf("housekeeping: open repair case: %w", err)
			}
			out.CaseID, out.CaseNumber = &id, number
			if _, err := tx.ExecContext(ctx, `UPDATE hk_maintenance SET case_id = ? WHERE id = ?`, id, out.ID); err != nil {
				return err
			}
		} else if s.flow != nil {
			site := r.SiteID
			started, err := s.flow.StartSystem(ctx, flow.StartInput{DefinitionKey: maintenanceKey, SiteID: &site, BusinessKey: "HK-" + r.Number,
				CustomerRef: r.Number, Variables: map[string]any{"room": r.Number, "description": out.Description, "maintenance_id": out.ID}})
			if err != nil {
				return fmt.Errorf("housekeeping: start maintenance: %w", err)
			}
			out.InstanceID = &started.ID
			if _, err := tx.ExecContext(ctx, `UPDATE hk_maintenance SET instance_id = ? WHERE id = ?`, started.ID, out.ID); err != nil {
				return err
			}
		}
		if err := s.addEvents(ctx, r, eventIn{Kind: "damage", Note: out.Description, RefID: out.ID}); err != nil {
			return err
		}
		if err := s.saveState(ctx, r); err != nil {
			return err
		}
		if in.OutOfOrder && r.Block == BlockNone {
			return s.apply(ctx, r, Change{Dimension: DimBlock, To: BlockOOO, BlockReason: truncate(out.Description, 200), BlockUntil: in.Until, BlockReturn: Dirty},
				"status", "", out.ID, false)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// maintenanceDone is the engine's service task at the end of the process.
func (s *Service) maintenanceDone(ctx context.Context, j flow.Job) (map[string]any, error) {
	id, ok := asInt(j.Variables["maintenance_id"])
	if !ok {
		return nil, &flow.BPMNError{Code: "no_maintenance", Message: "maintenance_id missing"}
	}
	fixed, _ := j.Variables["fixed"].(bool)
	note, _ := j.Variables["repair_note"].(string)
	return nil, s.MaintenanceDone(ctx, id, fixed, note)
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return int64(n), true
	case interface{ Int64() (int64, error) }:
		x, err := n.Int64()
		return x, err == nil
	case string:
		x, err := strconv.ParseInt(n, 10, 64)
		return x, err == nil
	}
	return 0, false
}

// CaseCompleted is the service desk's completion hook: when the completed
// case was opened for damage in a room, the maintenance is done (fixed,
// with the completion note). Other cases are none of housekeeping's.
func (s *Service) CaseCompleted(ctx context.Context, caseID int64, note string) error {
	var id int64
	err := db.TxOrFail(ctx).QueryRowContext(ctx, `SELECT id FROM hk_maintenance WHERE case_id = ?`, caseID).Scan(&id)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("housekeeping: maintenance of case %d: %w", caseID, err)
	}
	return s.MaintenanceDone(ctx, id, true, note)
}

// MaintenanceDone closes maintenance: the timeline shows it and, when it
// was fixed and had put the room out of order, the room returns to service
// as dirty. Done twice is done once.
func (s *Service) MaintenanceDone(ctx context.Context, id int64, fixed bool, note string) error {
	return s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var roomID int64
		var state string
		var ooo bool
		err := tx.QueryRowContext(ctx, `SELECT room_id, state, set_ooo FROM hk_maintenance WHERE id = ?`+s.db.ForUpdate(), id).Scan(&roomID, &state, &ooo)
		if db.IsNoRows(err) {
			return nil
		}
		if err != nil || state == "done" {
			return err
		}
		r, err := s.loadRoom(ctx, roomID, true)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE hk_maintenance SET state = 'done', done_at = ?, done_note = ? WHERE id = ?`, db.Ms(tx.Now), truncate(note, 1000), id); err != nil {
			return err
		}
		kind := "repaired"
		if !fixed {
			kind = "repair_failed"
		}
		if err := s.addEvents(ctx, r, eventIn{Kind: kind, Note: note, RefID: id}); err != nil {
			return err
		}
		if err := s.saveState(ctx, r); err != nil {
			return err
		}
		if fixed && ooo && r.Block == BlockOOO {
			return s.apply(ctx, r, Change{Dimension: DimBlock, To: BlockNone}, "status", "", id, false)
		}
		return s.publishRoom(ctx, r)
	})
}

// RoomMaintenance lists a room's maintenance, newest first.
func (s *Service) RoomMaintenance(ctx context.Context, roomID int64) ([]RepairOrder, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT m.id, m.room_id, m.description, m.set_ooo, m.instance_id, m.case_id, COALESCE(c.number, ''), m.state, m.reported_at, m.done_at, m.done_note
		FROM hk_maintenance m LEFT JOIN cases c ON c.id = m.case_id WHERE m.room_id = ? ORDER BY m.id DESC LIMIT 20`, roomID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []RepairOrder{}
	for rows.Next() {
		var m RepairOrder
		var rep int64
		var done *int64
		if err := rows.Scan(&m.ID, &m.RoomID, &m.Description, &m.OutOfOrder, &m.InstanceID, &m.CaseID, &m.CaseNumber, &m.State, &rep, &done, &m.DoneNote); err != nil {
			return nil, err
		}
		m.ReportedAt = db.Time(rep)
		if done != nil {
			t := db.Time(*done)
			m.DoneAt = &t
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
