// Package live pushes changes to open pages: inboxes, boards and bells
// update without a reload. Events go to topics ("user:42", "node:/1/4/",
// "case:17"); a browser subscribes over Server-Sent Events. Within one
// process delivery is a channel send; across instances on PostgreSQL every
// event also goes through NOTIFY, and each instance's LISTEN loop hands the
// others' events to its own subscribers.
package live

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
)

// Event is one change on a topic.
type Event struct {
	Topic string          `json:"topic"`
	Type  string          `json:"type"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// Sub is one subscriber (an open page).
type Sub struct {
	C      chan Event
	topics []string
	hub    *Hub
	once   sync.Once
	// Dropped is set when the subscriber fell behind and lost events; the
	// page should reload its data.
	Dropped bool
}

// Close unsubscribes.
func (s *Sub) Close() { s.once.Do(func() { s.hub.remove(s) }) }

// Hub fans events out to subscribers.
type Hub struct {
	mu       sync.RWMutex
	subs     map[string]map[*Sub]struct{}
	db       *db.DB
	log      *slog.Logger
	id       string
	done     chan struct{}
	stopOnce sync.Once
	// Buffer is each subscriber's queue; a subscriber that falls this far
	// behind is marked Dropped rather than slowing everyone down.
	Buffer int
	// outbox holds events for the other instances (PostgreSQL); one
	// goroutine sends them, several to a NOTIFY, so that no request waits
	// for a round trip per event.
	outbox      chan Event
	forwardOnce sync.Once
}

const channel = "guanjia_live"

// New returns a hub; call Run to join other instances on PostgreSQL.
func New(d *db.DB, log *slog.Logger) *Hub {
	return &Hub{subs: map[string]map[*Sub]struct{}{}, db: d, log: log, id: auth.RandomToken(8), Buffer: 64, done: make(chan struct{}),
		outbox: make(chan Event, 4096)}
}

// Shutdown ends every open stream (graceful shutdown: clients reconnect to
// another instance).
func (h *Hub) Shutdown() { h.stopOnce.Do(func() { close(h.done) }) }

// Subscribe opens a subscription to topics.
func (h *Hub) Subscribe(topics ...string) *Sub {
	s := &Sub{C: make(chan Event, h.Buffer), topics: topics, hub: h}
	h.mu.Lock()
	for _, t := range topics {
		if h.subs[t] == nil {
			h.subs[t] = map[*Sub]struct{}{}
		}
		h.subs[t][s] = struct{}{}
	}
	h.mu.Unlock()
	return s
}

func (h *Hub) remove(s *Sub) {
	h.mu.Lock()
	for _, t := range s.topics {
		delete(h.subs[t], s)
		if len(h.subs[t]) == 0 {
			delete(h.subs, t)
		}
	}
	h.mu.Unlock()
}

// Subscribers counts open subscriptions (metrics and tests).
func (h *Hub) Subscribers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	seen := map[*Sub]bool{}
	for _, m := range h.subs {
		for s := range m {
			seen[s] = true
		}
	}
	return len(seen)
}

// Publish delivers ev to this instance's subscribers now and, on
// PostgreSQL, queues it for the other instances. Call it after the change
// committed (see PublishAfter).
func (h *Hub) Publish(ev Event) {
	h.deliver(ev)
	if h.db == nil || h.db.Dialect != db.Postgres {
		return
	}
	// A NOTIFY per event, in the request, was eight round trips on a
	// new case and half of its time on PostgreSQL (BenchmarkCreateCaseHTTP).
	h.forwardOnce.Do(func() { go h.forward() })
	select {
	case h.outbox <- ev:
	default:
		h.log.Warn("live: too many events waiting for other instances; this one stays local", "topic", ev.Topic)
	}
}

// maxPayload keeps a NOTIFY under PostgreSQL's 8000-byte cap.
const maxPayload = 7900

// forward sends the outbox to the other instances until Shutdown: what
// has queued up meanwhile goes in one NOTIFY, in publishing order.
func (h *Hub) forward() {
	for {
		var batch []Event
		select {
		case <-h.done:
			return
		case ev := <-h.outbox:
			batch = append(batch, ev)
		}
	more:
		for len(batch) < 256 {
			select {
			case ev := <-h.outbox:
				batch = append(batch, ev)
			default:
				break more
			}
		}
		for len(batch) > 0 {
			n, payload := h.pack(batch)
			if payload != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				if _, err := h.db.W.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, string(payload)); err != nil {
					h.log.Warn("live: notify", "err", err)
				}
				cancel()
			}
			batch = batch[n:]
		}
	}
}

// pack encodes as many of evs from the first as fit in one payload and says
// how many; a single event too big for any payload stays local (nil).
func (h *Hub) pack(evs []Event) (int, []byte) {
	for n := len(evs); ; n = (n + 1) / 2 {
		b, err := json.Marshal(wire{Origin: h.id, Events: evs[:n]})
		if err == nil && len(b) <= maxPayload {
			return n, b
		}
		if n == 1 {
			return 1, nil
		}
	}
}

// PublishAfter publishes once the transaction in ctx commits (at once when
// there is none), so nobody sees a change that may still roll back.
func (h *Hub) PublishAfter(ctx context.Context, evs ...Event) {
	if tx := db.TxFrom(ctx); tx != nil {
		tx.AfterCommit(func() {
			for _, ev := range evs {
				h.Publish(ev)
			}
		})
		return
	}
	for _, ev := range evs {
		h.Publish(ev)
	}
}

// wire is a NOTIFY payload: events of one instance. The embedded event is
// what an instance that does not batch yet sends, during an upgrade.
type wire struct {
	*Event
	Origin string  `json:"origin"`
	Events []Event `json:"events,omitempty"`
}

func (h *Hub) deliver(ev Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs[ev.Topic] {
		select {
		case s.C <- ev:
		default:
			s.Dropped = true
		}
	}
}

// Run listens for other instances' events on PostgreSQL until ctx ends,
// reconnecting after failures. On SQLite (one process) it returns at once.
func (h *Hub) Run(ctx context.Context) {
	if h.db == nil || h.db.Dialect != db.Postgres || h.db.URL == "" {
		return
	}
	for ctx.Err() == nil {
		if err := h.listen(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("live: listen; retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}
}

func (h *Hub) listen(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, h.db.URL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN `+channel); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var w wire
		if json.Unmarshal([]byte(n.Payload), &w) != nil || w.Origin == h.id {
			continue
		}
		if w.Event != nil {
			h.deliver(*w.Event)
		}
		for _, ev := range w.Events {
			h.deliver(ev)
		}
	}
}
