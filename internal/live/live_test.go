package live_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/live"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// On PostgreSQL an event published on one instance reaches the subscribers
// of another, in publishing order, also in a burst that the publishing
// instance packs several to a NOTIFY; an event too big for a NOTIFY stays
// on its own instance.
func TestEventsReachOtherInstances(t *testing.T) {
	if !containsPostgres(dbtest.Dialects()) {
		t.Skip("needs PostgreSQL (" + dbtest.EnvPostgres + ")")
	}
	d := dbtest.Open(t, db.Postgres)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, b := live.New(d, log), live.New(d, log)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Run(ctx)
	t.Cleanup(func() { a.Shutdown(); b.Shutdown() })
	sub := b.Subscribe("node:/1/")
	defer sub.Close()
	b.Buffer = 1024
	// b listens once it hears a probe.
	deadline := time.Now().Add(10 * time.Second)
	for heard := false; !heard; {
		if time.Now().After(deadline) {
			t.Fatal("the other instance never heard a probe")
		}
		a.Publish(live.Event{Topic: "node:/1/", Type: "probe"})
		select {
		case <-sub.C:
			heard = true
		case <-time.After(200 * time.Millisecond):
		}
	}
	for drained := false; !drained; {
		select {
		case <-sub.C:
		case <-time.After(300 * time.Millisecond):
			drained = true
		}
	}
	big := live.Event{Topic: "node:/1/", Type: "big", Data: []byte(`"` + strings.Repeat("x", 9000) + `"`)}
	const n = 50
	for i := 0; i < n; i++ {
		if i == n/2 {
			a.Publish(big)
		}
		a.Publish(live.Event{Topic: "node:/1/", Type: "case.updated", Data: []byte(fmt.Sprintf(`{"seq":%d}`, i))})
	}
	for i := 0; i < n; i++ {
		select {
		case ev := <-sub.C:
			if want := fmt.Sprintf(`{"seq":%d}`, i); ev.Type != "case.updated" || string(ev.Data) != want {
				t.Fatalf("event %d: %s %s, want case.updated %s", i, ev.Type, ev.Data, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d never arrived", i)
		}
	}
}

func containsPostgres(ds []db.Dialect) bool {
	for _, d := range ds {
		if d == db.Postgres {
			return true
		}
	}
	return false
}
