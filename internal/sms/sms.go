// Package sms sends text messages through a provider. A message is a row
// written in the transaction of its cause and delivered by a River job with
// retries, so a rolled-back change sends nothing and a provider outage
// loses nothing.
package sms

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/jobs"
	"github.com/guanjia/guanjia/internal/pii"
)

// Message is one text to one phone.
type Message struct {
	Phone   string
	Text    string
	Purpose string // otp, notification, …
}

// Provider delivers a message.
type Provider interface {
	Name() string
	Send(ctx context.Context, m Message) error
}

// Console is the default provider: it writes one line per message, with
// the phone number and the text, to its writer (the server log), so a
// development or demo setup needs no gateway.
type Console struct {
	mu sync.Mutex
	W  io.Writer
}

// Name names the provider.
func (*Console) Name() string { return "console" }

// Send writes "SMS to PHONE: TEXT".
func (c *Console) Send(_ context.Context, m Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := fmt.Fprintf(c.W, "SMS to %s: %s\n", m.Phone, strings.ReplaceAll(m.Text, "\n", " "))
	return err
}

// HTTPGateway posts each message to a gateway URL. Template is the request body
// with {phone} and {text} replaced (JSON-escaped); the default is
// {"phone":"{phone}","text":"{text}"}.
type HTTPGateway struct {
	URL      string
	Template string
	Header   map[string]string
	Client   *http.Client
}

// Name names the provider.
func (*HTTPGateway) Name() string { return "http" }

// Send posts the message; a non-2xx answer is an error (retried).
func (h *HTTPGateway) Send(ctx context.Context, m Message) error {
	tpl := h.Template
	if tpl == "" {
		tpl = `{"phone":"{phone}","text":"{text}"}`
	}
	esc := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b[1 : len(b)-1])
	}
	body := strings.NewReplacer("{phone}", esc(m.Phone), "{text}", esc(m.Text)).Replace(tpl)
	req, err := http.NewRequestWithContext(ctx, "POST", h.URL, bytes.NewReader([]byte(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h.Header {
		req.Header.Set(k, v)
	}
	c := h.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("sms gateway answered %d", res.StatusCode)
	}
	return nil
}

// Service queues and delivers messages.
type Service struct {
	db       *db.DB
	q        *jobs.Queue
	provider Provider
	log      *slog.Logger
}

// New returns the service and registers its delivery worker.
func New(d *db.DB, q *jobs.Queue, p Provider, log *slog.Logger) *Service {
	s := &Service{db: d, q: q, provider: p, log: log}
	jobs.Register(q, &worker{s: s})
	return s
}

// Provider returns the provider in use.
func (s *Service) Provider() Provider { return s.provider }

// SendArgs is the delivery job.
type SendArgs struct {
	MessageID int64 `json:"message_id"`
}

// Kind names the job.
func (SendArgs) Kind() string { return "sms.send" }

// Enqueue writes a message in the transaction carried by ctx; it is sent
// after the commit. It fails outside a transaction.
func (s *Service) Enqueue(ctx context.Context, m Message) (int64, error) {
	tx := db.TxFrom(ctx)
	if tx == nil {
		return 0, errors.New("sms: Enqueue outside a transaction")
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO sms_messages (phone, body, purpose, provider, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		m.Phone, m.Text, m.Purpose, s.provider.Name(), db.Ms(tx.Now)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("sms: enqueue: %w", err)
	}
	if _, err := s.q.Insert(ctx, SendArgs{MessageID: id}, &river.InsertOpts{MaxAttempts: 8, Priority: 1}); err != nil {
		return 0, err
	}
	return id, nil
}

type worker struct {
	river.WorkerDefaults[SendArgs]
	s *Service
}

// Work sends one queued message and records the outcome.
func (w *worker) Work(ctx context.Context, j *river.Job[SendArgs]) error {
	return w.s.Deliver(ctx, j.Args.MessageID, j.Attempt >= j.MaxAttempts)
}

// Deliver sends a queued message now. last marks the final attempt, after
// which a failure is recorded as final.
func (s *Service) Deliver(ctx context.Context, id int64, last bool) error {
	var m Message
	var state string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT phone, body, purpose, state FROM sms_messages WHERE id = ?`, id).Scan(&m.Phone, &m.Text, &m.Purpose, &state)
	if db.IsNoRows(err) || state == "sent" {
		return nil
	}
	if err != nil {
		return err
	}
	sendErr := s.provider.Send(ctx, m)
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if sendErr == nil {
			// A one-time code is kept only until it is delivered: the portal
			// stores codes as keyed hashes, and so must the outbox.
			body := m.Text
			if m.Purpose == "otp" {
				body = codeRe.ReplaceAllString(body, "******")
			}
			_, err := tx.ExecContext(ctx, `UPDATE sms_messages SET state = 'sent', sent_at = ?, attempts = attempts + 1, last_error = '', body = ? WHERE id = ?`, db.Ms(tx.Now), body, id)
			return err
		}
		next, body := "queued", m.Text
		if last {
			next = "failed"
			if m.Purpose == "otp" {
				body = codeRe.ReplaceAllString(body, "******")
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE sms_messages SET state = ?, attempts = attempts + 1, last_error = ?, body = ? WHERE id = ?`, next, sendErr.Error(), body, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sms: record delivery of %d: %w", id, err)
	}
	if sendErr != nil && last {
		s.log.Error("sms: giving up", "message", id, "err", sendErr)
		return nil
	}
	return sendErr // River retries with backoff
}

// Sent is a stored message for the admin page.
type Sent struct {
	ID        int64      `json:"id"`
	Phone     string     `json:"phone"`
	Text      string     `json:"text"`
	Purpose   string     `json:"purpose"`
	State     string     `json:"state"`
	Provider  string     `json:"provider"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at"`
}

// List returns messages newest first for the admin page, with phones
// masked and one-time codes hidden: the page is for checking delivery, not
// for reading codes.
func (s *Service) List(ctx context.Context, beforeID int64, limit int) ([]Sent, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	q := `SELECT id, phone, body, purpose, state, provider, attempts, last_error, created_at, sent_at FROM sms_messages`
	args := []any{}
	if beforeID > 0 {
		q += ` WHERE id < ?`
		args = append(args, beforeID)
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sms: list: %w", err)
	}
	defer rows.Close()
	out := []Sent{}
	for rows.Next() {
		var m Sent
		var created int64
		var sent sql.NullInt64
		if err := rows.Scan(&m.ID, &m.Phone, &m.Text, &m.Purpose, &m.State, &m.Provider, &m.Attempts, &m.LastError, &created, &sent); err != nil {
			return nil, err
		}
		m.Phone = pii.MaskPhone(m.Phone)
		if m.Purpose == "otp" {
			m.Text = codeRe.ReplaceAllString(m.Text, "******")
		}
		m.CreatedAt, m.SentAt = db.Time(created), db.TimePtr(sent)
		out = append(out, m)
	}
	return out, rows.Err()
}

var codeRe = regexp.MustCompile(`\b\d{4,8}\b`)
