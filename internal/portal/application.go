package portal

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow"
)

// Application is a utility customer's application: a process instance
// whose customer_ref is one of the customer's accounts (业扩: a new
// connection, more capacity).
type Application struct {
	ID        int64      `json:"id"`
	Number    string     `json:"number"`  // the application number (the instance's business key)
	Account   string     `json:"account"` // the account it is for
	Process   string     `json:"process"` // e.g. 居民新装
	State     string     `json:"state"`   // active, completed, terminated, failed, cancelled
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
	// Current names the steps it waits at, with the nearest due date.
	Current   []string   `json:"current_steps"`
	DueAt     *time.Time `json:"due_at"`
	NextSteps string     `json:"next_steps,omitempty"` // what happens next, as the process author wrote it
	Materials string     `json:"materials,omitempty"`  // what to prepare for the current step
	// Done and Active are the diagram's element ids (filled for one
	// application, not in lists).
	Done       []string `json:"done_elements,omitempty"`
	Active     []string `json:"active_elements,omitempty"`
	HasDiagram bool     `json:"has_diagram"`
}

// ApplicationList lists applications.
type ApplicationList struct {
	Items []Application `json:"items"`
}

// Applications lists the applications of the resident's accounts, newest
// first (at most 50: a customer has a handful).
func (s *Service) Applications(ctx context.Context, r *Resident) ([]Application, error) {
	out := []Application{}
	if len(r.Accounts) == 0 {
		return out, nil
	}
	args := make([]any, len(r.Accounts))
	for i, a := range r.Accounts {
		args[i] = a
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT i.id, i.business_key, i.customer_ref, d.name, d.format, i.state, i.started_at, i.ended_at
		FROM flow_instances i JOIN flow_definitions d ON d.id = i.definition_id
		WHERE i.customer_ref IN (`+db.Placeholders(len(args))+`) ORDER BY i.id DESC LIMIT 50`, args...)
	if err != nil {
		return nil, fmt.Errorf("portal: applications: %w", err)
	}
	for rows.Next() {
		a, err := scanApplication(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, *a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.fillCurrent(ctx, &out[i], r.Kiosk); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func scanApplication(row interface{ Scan(...any) error }) (*Application, error) {
	var a Application
	var format string
	var started int64
	var ended sql.NullInt64
	if err := row.Scan(&a.ID, &a.Number, &a.Account, &a.Process, &format, &a.State, &started, &ended); err != nil {
		return nil, err
	}
	a.StartedAt, a.EndedAt, a.HasDiagram, a.Current = db.Time(started), db.TimePtr(ended), format == flow.FormatBPMN, []string{}
	return &a, nil
}

// fillCurrent adds the open steps, their nearest due date and the author's
// texts of the first, and masks the numbers on a lobby screen.
func (s *Service) fillCurrent(ctx context.Context, a *Application, kiosk bool) error {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT name, due_at FROM flow_tasks WHERE instance_id = ? AND state = 'open' ORDER BY id`, a.ID)
	if err != nil {
		return fmt.Errorf("portal: steps of %d: %w", a.ID, err)
	}
	for rows.Next() {
		var name string
		var due sql.NullInt64
		if err := rows.Scan(&name, &due); err != nil {
			rows.Close()
			return err
		}
		if !slices.Contains(a.Current, name) {
			a.Current = append(a.Current, name)
		}
		if t := db.TimePtr(due); t != nil && (a.DueAt == nil || t.Before(*a.DueAt)) {
			a.DueAt = t
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(a.Current) > 0 {
		if ns, mat, err := s.currentTexts(ctx, a.ID); err == nil {
			a.NextSteps, a.Materials = ns, mat
		}
	}
	if kiosk {
		a.Number, a.Account = maskNumber(a.Number), maskNumber(a.Account)
	}
	return nil
}

// Application returns one of the resident's applications with the
// diagram's done and active elements; ENotFound for anyone else's.
func (s *Service) Application(ctx context.Context, r *Resident, id int64) (*Application, error) {
	a, err := scanApplication(s.db.Q(ctx).QueryRowContext(ctx, `SELECT i.id, i.business_key, i.customer_ref, d.name, d.format, i.state, i.started_at, i.ended_at
		FROM flow_instances i JOIN flow_definitions d ON d.id = i.definition_id WHERE i.id = ?`, id))
	if db.IsNoRows(err) || (err == nil && (a.Account == "" || !slices.Contains(r.Accounts, a.Account))) {
		return nil, errs.NotFound("error.portal.application_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("portal: application %d: %w", id, err)
	}
	v, err := s.flow.Get(system(ctx), id)
	if err != nil {
		return nil, err
	}
	a.Done, a.Active = v.DoneElements, v.ActiveElements
	if err := s.fillCurrent(ctx, a, r.Kiosk); err != nil {
		return nil, err
	}
	return a, nil
}

// ApplicationDiagram returns the BPMN file of one of the resident's
// applications; ENotFound for anyone else's, or when the process was
// written in the YAML form and has no diagram.
func (s *Service) ApplicationDiagram(ctx context.Context, r *Resident, id int64) ([]byte, error) {
	var defID int64
	var ref string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT definition_id, customer_ref FROM flow_instances WHERE id = ?`, id).Scan(&defID, &ref)
	if db.IsNoRows(err) || (err == nil && (ref == "" || !slices.Contains(r.Accounts, ref))) {
		return nil, errs.NotFound("error.portal.application_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("portal: application %d: %w", id, err)
	}
	def, err := s.flow.Definition(ctx, defID)
	if err != nil {
		return nil, err
	}
	if def.Format != flow.FormatBPMN {
		return nil, errs.NotFound("error.not_found")
	}
	return []byte(def.Source), nil
}
