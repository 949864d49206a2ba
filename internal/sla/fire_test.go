package sla_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/sla"
)

// TestBreachFiresOnceWithTwoInstances runs two application instances' timer
// schedulers against one database and checks that every warning and breach
// is recorded exactly once.
func TestBreachFiresOnceWithTwoInstances(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a, b := newEnv(t, d, true), newEnv(t, d, false)
		real := func() time.Time { return time.Now().UTC() }
		a.sla.Now, b.sla.Now = real, real
		var mu sync.Mutex
		var lags []time.Duration
		observe := func(_ int64, due time.Time) {
			mu.Lock()
			lags = append(lags, time.Since(due))
			mu.Unlock()
		}
		a.sla.AfterBreach, b.sla.AfterBreach = observe, observe
		ctx := t.Context()
		garden := a.sitePath("GARDEN")
		const n = 200
		// The acknowledgement target is 10 minutes: cycles started 10 minutes
		// ago less 1.5 s breach 1.5 s from now, their warnings are overdue.
		start := time.Now().UTC().Add(-10*time.Minute + 1500*time.Millisecond)
		err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			for i := range n {
				in := sla.StartInput{Subject: fmt.Sprintf("case:%d", i), Metric: sla.MetricFirstResponse,
					Match: sla.Match{CaseType: sla.CaseRepair, NodePath: garden}, At: start.Add(time.Duration(i) * 5 * time.Millisecond)}
				if _, err := a.sla.Start(ctx, in); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for _, e := range []*env{a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); e.timers.Run(runCtx) }()
		}
		deadline := time.Now().Add(30 * time.Second)
		for a.count(`SELECT COUNT(*) FROM sla_events WHERE kind = 'breach'`) < n && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(time.Second) // a duplicate firing would land now
		cancel()
		wg.Wait()
		for _, kind := range []string{"warning", "breach"} {
			if got := a.count(`SELECT COUNT(*) FROM sla_events WHERE kind = ?`, kind); got != n {
				t.Errorf("%s events: %d, want %d", kind, got, n)
			}
			if dup := a.count(`SELECT COUNT(*) FROM (SELECT cycle_id FROM sla_events WHERE kind = ? GROUP BY cycle_id HAVING COUNT(*) > 1) x`, kind); dup != 0 {
				t.Errorf("%d cycles with more than one %s", dup, kind)
			}
		}
		if got := a.count(`SELECT COUNT(*) FROM sla_cycles WHERE breached_at IS NOT NULL`); got != n {
			t.Errorf("breached cycles: %d", got)
		}
		// The garden's one supervisor hears of each breach once.
		if got := a.count(`SELECT COUNT(*) FROM notifications WHERE kind = 'sla.breach'`); got != n {
			t.Errorf("breach notifications: %d, want %d", got, n)
		}
		mu.Lock()
		slices.Sort(lags)
		if len(lags) == n {
			t.Logf("%s: fired by a %d, b %d; breach lag p50 %v p99 %v max %v", d.Dialect, a.timers.FiredCount(), b.timers.FiredCount(),
				lags[n/2], lags[n*99/100], lags[n-1])
		} else {
			t.Errorf("%d breach commits observed, want %d", len(lags), n)
		}
		mu.Unlock()
	})
}
