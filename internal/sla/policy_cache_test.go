package sla_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/sla"
)

// Policies are cached per instance. A change made on one instance governs
// the next cycle started on any other at once, and a change that rolled
// back governs nothing, even on the instance that read it inside its
// transaction.
func TestPolicyChangeReachesEveryInstance(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newEnv(t, d, true)
		b := newEnv(t, d, false)
		ctx := admin(t.Context())
		target := func(minutes int) sla.TargetInput {
			return sla.TargetInput{Metric: "fix", Name: "fix", Minutes: minutes, WarnPct: 80, StartEvent: "created"}
		}
		id := a.policy("cachetest", "24x7", target(60), nil)
		n := 0
		start := func(e *env, ctx context.Context) time.Duration {
			t.Helper()
			n++
			c, err := e.sla.Start(ctx, sla.StartInput{Subject: "case:" + itoa(int64(9000+n)), Metric: "fix", Match: sla.Match{CaseType: "cachetest"}})
			if err != nil {
				t.Fatal(err)
			}
			return c.DueAt.Sub(c.StartedAt)
		}
		if got := start(a, ctx); got != time.Hour {
			t.Fatalf("A before: %v", got)
		}
		if got := start(b, ctx); got != time.Hour {
			t.Fatalf("B before: %v", got)
		}
		p, err := a.sla.Policy(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		in := p.Input()
		in.Targets = []sla.TargetInput{target(30)}
		if _, err := a.sla.UpdatePolicy(ctx, id, in); err != nil {
			t.Fatal(err)
		}
		if got := start(b, ctx); got != 30*time.Minute {
			t.Fatalf("B after A's change: %v, want 30m", got)
		}
		// A change that rolls back, with a cycle started inside it.
		if p, err = a.sla.Policy(ctx, id); err != nil {
			t.Fatal(err)
		}
		in = p.Input()
		in.Targets = []sla.TargetInput{target(5)}
		undo := errors.New("undo")
		err = d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			if _, err := a.sla.UpdatePolicy(ctx, id, in); err != nil {
				return err
			}
			if got := start(a, ctx); got != 5*time.Minute {
				t.Errorf("inside the change: %v, want 5m", got)
			}
			return undo
		})
		if !errors.Is(err, undo) {
			t.Fatal(err)
		}
		for name, e := range map[string]*env{"A": a, "B": b} {
			if got := start(e, ctx); got != 30*time.Minute {
				t.Fatalf("%s after the rollback: %v, want 30m", name, got)
			}
		}
	})
}
