// Package notify is the outbox of notifications to staff and residents.
// A notification is written in the transaction of its cause: an in-app row
// (the bell, pushed live over SSE after the commit) and, when asked and the
// person's preferences allow, a text message queued on the SMS outbox.
// Texts come from the message catalogs (notify.<kind>.title / .sms) with
// the notification's parameters.
package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/i18n"
	"github.com/guanjia/guanjia/internal/live"
	"github.com/guanjia/guanjia/internal/sms"
)

// Note is a notification to a staff member.
type Note struct {
	RecipientID int64
	Kind        string         // e.g. case.new, case.dispatched
	Subject     string         // what it is about, e.g. "case:17"
	Params      map[string]any // template values
	Link        string         // where the bell takes them
	SMS         bool           // also by text message
	Urgent      bool           // ignores quiet hours
}

// Service writes notifications.
type Service struct {
	db   *db.DB
	sms  *sms.Service
	live *live.Hub
	cat  *i18n.Catalogs
	zone *time.Location
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// New returns the notification service.
func New(d *db.DB, s *sms.Service, h *live.Hub, cat *i18n.Catalogs) *Service {
	zone, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		zone = time.FixedZone("CST", 8*3600)
	}
	return &Service{db: d, sms: s, live: h, cat: cat, zone: zone, Now: func() time.Time { return time.Now().UTC() }}
}

// Payload is what a stored notification carries.
type Payload struct {
	Title  string         `json:"title"`
	Params map[string]any `json:"params,omitempty"`
	Link   string         `json:"link,omitempty"`
}

// Notify writes n in the transaction carried by ctx. It fails outside one.
func (s *Service) Notify(ctx context.Context, n Note) error {
	tx := db.TxFrom(ctx)
	if tx == nil {
		return errors.New("notify: Notify outside a transaction")
	}
	var locale, phone string
	err := tx.QueryRowContext(ctx, `SELECT locale, phone FROM staff WHERE id = ?`, n.RecipientID).Scan(&locale, &phone)
	if db.IsNoRows(err) {
		return nil // the person is gone: nothing to tell
	}
	if err != nil {
		return fmt.Errorf("notify: recipient %d: %w", n.RecipientID, err)
	}
	if locale == "" {
		locale = i18n.Default
	}
	kv := params(n.Params)
	p := Payload{Title: s.cat.T(locale, "notify."+n.Kind+".title", kv...), Params: n.Params, Link: n.Link}
	body, _ := json.Marshal(p)
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO notifications (recipient_id, kind, subject, payload, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		n.RecipientID, n.Kind, n.Subject, string(body), db.Ms(tx.Now)).Scan(&id); err != nil {
		return fmt.Errorf("notify: insert: %w", err)
	}
	if s.live != nil {
		data, _ := json.Marshal(map[string]any{"id": id, "kind": n.Kind, "title": p.Title, "link": n.Link})
		s.live.PublishAfter(ctx, live.Event{Topic: live.UserTopic(n.RecipientID), Type: "notification", Data: data})
	}
	if !n.SMS || phone == "" || s.sms == nil {
		return nil
	}
	ok, err := s.smsAllowed(ctx, n.RecipientID, n.Urgent, tx.Now)
	if err != nil || !ok {
		return err
	}
	_, err = s.sms.Enqueue(ctx, sms.Message{Phone: phone, Text: s.cat.T(locale, "notify."+n.Kind+".sms", kv...), Purpose: "notification"})
	return err
}

// TextPhone queues a text message to a phone that is not a staff member's
// (a resident), from the catalogs' notify.<kind>.sms in zh-CN.
func (s *Service) TextPhone(ctx context.Context, phone, kind string, values map[string]any) error {
	if phone == "" || s.sms == nil {
		return nil
	}
	_, err := s.sms.Enqueue(ctx, sms.Message{Phone: phone, Text: s.cat.T(i18n.Default, "notify."+kind+".sms", params(values)...), Purpose: "notification"})
	return err
}

func params(m map[string]any) []any {
	out := make([]any, 0, 2*len(m))
	for k, v := range m {
		out = append(out, k, v)
	}
	return out
}

// smsAllowed applies the person's preferences: texts off, or quiet hours
// for anything not urgent.
func (s *Service) smsAllowed(ctx context.Context, staffID int64, urgent bool, now time.Time) (bool, error) {
	p, err := s.Prefs(ctx, staffID)
	if err != nil {
		return false, err
	}
	if !p.SMS {
		return false, nil
	}
	return urgent || !inQuiet(now.In(s.zone), p.QuietStart, p.QuietEnd), nil
}

// inQuiet reports whether the local time falls in [start, end), which may
// run over midnight.
func inQuiet(t time.Time, start, end string) bool {
	m := t.Hour()*60 + t.Minute()
	a, b := clock(start), clock(end)
	if a < 0 || b < 0 || a == b {
		return false
	}
	if a < b {
		return m >= a && m < b
	}
	return m >= a || m < b
}

func clock(s string) int {
	var h, m int
	if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || h > 23 || m > 59 {
		return -1
	}
	return h*60 + m
}

// Item is a notification as the bell lists it.
type Item struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Subject   string     `json:"subject"`
	Title     string     `json:"title"`
	Link      string     `json:"link,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

// Page is a page of a person's notifications, newest first.
type Page struct {
	Unread int    `json:"unread"`
	Items  []Item `json:"items"`
	// NextBefore continues the list (the before of the next page); 0 when
	// this page is the last.
	NextBefore int64 `json:"next_before"`
}

// List returns a person's notifications older than the one with id before
// (0: from the newest), at most limit (1–100, else 30), with the unread
// count. The list is paged by id, so notifications that arrive meanwhile
// neither repeat nor hide one.
func (s *Service) List(ctx context.Context, staffID int64, unreadOnly bool, before int64, limit int) (*Page, error) {
	if limit <= 0 || limit > 100 {
		limit = 30
	}
	p := &Page{Items: []Item{}}
	if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE recipient_id = ? AND read_at IS NULL`, staffID).Scan(&p.Unread); err != nil {
		return nil, fmt.Errorf("notify: count: %w", err)
	}
	q := `SELECT id, kind, subject, payload, created_at, read_at FROM notifications WHERE recipient_id = ?`
	args := []any{staffID}
	if unreadOnly {
		q += ` AND read_at IS NULL`
	}
	if before > 0 {
		q += ` AND id < ?`
		args = append(args, before)
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("notify: list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var it Item
		var payload string
		var created int64
		var read sql.NullInt64
		if err := rows.Scan(&it.ID, &it.Kind, &it.Subject, &payload, &created, &read); err != nil {
			return nil, err
		}
		var pl Payload
		_ = json.Unmarshal([]byte(payload), &pl)
		it.Title, it.Link = pl.Title, pl.Link
		if it.Title == "" {
			it.Title = it.Kind
		}
		it.CreatedAt, it.ReadAt = db.Time(created), db.TimePtr(read)
		p.Items = append(p.Items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(p.Items) > limit {
		p.Items = p.Items[:limit]
		p.NextBefore = p.Items[limit-1].ID
	}
	return p, nil
}

// MarkRead marks one (id > 0) or all of a person's notifications read.
func (s *Service) MarkRead(ctx context.Context, staffID, id int64) error {
	return s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if id > 0 {
			res, err := tx.ExecContext(ctx, `UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE recipient_id = ? AND id = ?`, db.Ms(tx.Now), staffID, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errs.NotFound("error.not_found") // not theirs, or none such
			}
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE notifications SET read_at = ? WHERE recipient_id = ? AND read_at IS NULL`, db.Ms(tx.Now), staffID)
		return err
	})
}
