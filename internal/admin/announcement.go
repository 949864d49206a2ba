// Package admin holds the system pages an administrator works with: the
// system log, API tokens and announcements.
package admin

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// Announcement is a notice to staff, company-wide or for one subtree.
type Announcement struct {
	ID        int64      `json:"id"`
	NodeID    int64      `json:"node_id"`
	NodeName  string     `json:"node_name"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	PublishAt time.Time  `json:"publish_at"`
	ExpireAt  *time.Time `json:"expire_at"`
	CreatedAt time.Time  `json:"created_at"`
	nodePath  string
}

// AnnouncementInput creates or changes an announcement.
type AnnouncementInput struct {
	NodeID    int64      `json:"node_id"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	PublishAt *time.Time `json:"publish_at"` // default now
	ExpireAt  *time.Time `json:"expire_at"`
}

// Announcements stores announcements.
type Announcements struct {
	db    *db.DB
	audit *audit.Log
}

// NewAnnouncements returns the announcement store.
func NewAnnouncements(d *db.DB, log *audit.Log) *Announcements {
	return &Announcements{db: d, audit: log}
}

const annCols = `a.id, a.node_id, n.name, a.node_path, a.title, a.body, a.publish_at, a.expire_at, a.created_at`

func scanAnn(row interface{ Scan(...any) error }) (*Announcement, error) {
	var a Announcement
	var pub, created int64
	var exp sql.NullInt64
	if err := row.Scan(&a.ID, &a.NodeID, &a.NodeName, &a.nodePath, &a.Title, &a.Body, &pub, &exp, &created); err != nil {
		return nil, err
	}
	a.PublishAt, a.ExpireAt, a.CreatedAt = db.Time(pub), db.TimePtr(exp), db.Time(created)
	return &a, nil
}

// Current returns the announcements in force now for a staff member at
// nodePath: those published on the node's ancestors (or the node itself)
// or below it, newest first.
func (s *Announcements) Current(ctx context.Context, nodePath string, now time.Time, limit int) ([]Announcement, error) {
	ancestors := ancestorPaths(nodePath)
	args := []any{db.Ms(now), db.Ms(now)}
	conds := make([]string, 0, len(ancestors)+1)
	for _, p := range ancestors {
		conds = append(conds, "a.node_path = ?")
		args = append(args, p)
	}
	conds = append(conds, "a.node_path LIKE ?")
	args = append(args, nodePath+"%", limit)
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+annCols+` FROM announcements a JOIN org_nodes n ON n.id = a.node_id
		WHERE a.publish_at <= ? AND (a.expire_at IS NULL OR a.expire_at > ?) AND (`+strings.Join(conds, " OR ")+`)
		ORDER BY a.publish_at DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("admin: current announcements: %w", err)
	}
	return collect(rows)
}

func collect(rows *sql.Rows) ([]Announcement, error) {
	defer rows.Close()
	out := []Announcement{}
	for rows.Next() {
		a, err := scanAnn(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// ancestorPaths returns "/1/", "/1/4/", "/1/4/9/" for "/1/4/9/".
func ancestorPaths(path string) []string {
	var out []string
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			out = append(out, path[:i+1])
		}
	}
	return out
}

// List returns the announcements the caller manages (all states), newest first.
func (s *Announcements) List(ctx context.Context, limit int) ([]Announcement, error) {
	cond, args := auth.ScopeSQL("a.node_path", auth.FromContext(ctx).Scope(auth.PermAnnounceManage))
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+annCols+` FROM announcements a JOIN org_nodes n ON n.id = a.node_id WHERE `+cond+` ORDER BY a.publish_at DESC, a.id DESC LIMIT ?`,
		append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("admin: list announcements: %w", err)
	}
	return collect(rows)
}

func (s *Announcements) validate(ctx context.Context, in *AnnouncementInput, now time.Time) (string, error) {
	var v errs.Validation
	in.Title, in.Body = strings.TrimSpace(in.Title), strings.TrimSpace(in.Body)
	v.Required("title", in.Title)
	v.MaxLen("title", in.Title, 200)
	v.MaxLen("body", in.Body, 10000)
	if in.PublishAt == nil {
		in.PublishAt = &now
	}
	if in.ExpireAt != nil && !in.ExpireAt.After(*in.PublishAt) {
		v.Add("expire_at", "error.field.bad_range")
	}
	var path string
	if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT path FROM org_nodes WHERE id = ?`, in.NodeID).Scan(&path); err != nil {
		v.Add("node_id", "error.field.unknown_id")
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	if !auth.FromContext(ctx).Can(auth.PermAnnounceManage, path) {
		return "", errs.Forbidden()
	}
	return path, nil
}

// Create publishes an announcement; it needs announcement.manage on the node.
func (s *Announcements) Create(ctx context.Context, in AnnouncementInput) (*Announcement, error) {
	path, err := s.validate(ctx, &in, time.Now().UTC())
	if err != nil {
		return nil, err
	}
	var out *Announcement
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO announcements (node_id, node_path, title, body, publish_at, expire_at, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, in.NodeID, path, in.Title, in.Body, db.Ms(*in.PublishAt), db.MsPtr(in.ExpireAt),
			nullID(audit.ActorFrom(ctx).ID), db.Ms(tx.Now), db.Ms(tx.Now)).Scan(&id); err != nil {
			return fmt.Errorf("admin: insert announcement: %w", err)
		}
		a, err := s.get(ctx, id)
		if err != nil {
			return err
		}
		out = a
		return s.audit.Record(ctx, audit.Entry{Action: "create", Entity: "announcement", EntityID: id, NodePath: path, Summary: a.Title, After: a})
	})
	return out, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func (s *Announcements) get(ctx context.Context, id int64) (*Announcement, error) {
	a, err := scanAnn(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+annCols+` FROM announcements a JOIN org_nodes n ON n.id = a.node_id WHERE a.id = ?`, id))
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.announce.not_found")
	}
	return a, err
}

// Delete removes an announcement; it needs announcement.manage on its node.
func (s *Announcements) Delete(ctx context.Context, id int64) error {
	a, err := s.get(ctx, id)
	if err != nil {
		return err
	}
	if !auth.FromContext(ctx).Can(auth.PermAnnounceManage, a.nodePath) {
		return errs.NotFound("error.announce.not_found")
	}
	return s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM announcements WHERE id = ?`, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "delete", Entity: "announcement", EntityID: id, NodePath: a.nodePath, Summary: a.Title, Before: a})
	})
}
