package sla_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/sla"
)

// benchCycles is how many open cycles the benchmarks load:
// GUANJIA_BENCH_CYCLES, 100,000 by default.
func benchCycles() int {
	if n, err := strconv.Atoi(os.Getenv("GUANJIA_BENCH_CYCLES")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// load starts n cycles through the public API, chunk per transaction, as a
// service desk would over a busy month; each has its row, its timer and
// the timer's River job.
func load(b *testing.B, e *env, n int, in func(i int) sla.StartInput) {
	b.Helper()
	ctx := context.Background()
	const chunk = 2000
	start := time.Now()
	for i := 0; i < n; i += chunk {
		err := e.d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			for j := i; j < min(i+chunk, n); j++ {
				if _, err := e.sla.Start(ctx, in(j)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d open cycles in %v (%.0f starts/s)", n, time.Since(start).Round(time.Millisecond), float64(n)/time.Since(start).Seconds())
}

// BenchmarkRecompute measures how long the open cycles on cn-workday take to
// follow a calendar change that moves every one of their deadlines: a new
// public holiday two working days from now, inside every cycle's window.
func BenchmarkRecompute(b *testing.B) {
	for _, dialect := range dbtest.Dialects() {
		b.Run(fmt.Sprintf("%s/%d", dialect, benchCycles()), func(b *testing.B) {
			n := benchCycles()
			e := newEnvWith(b, dbtest.Open(b, dialect), true, false)
			ctx := admin(context.Background())
			pid := e.policy("bench-office", calendar.KeyCNWorkday, sla.TargetInput{Metric: sla.MetricResolution, Minutes: 10 * 450, Business: true, WarnPct: 80}, sla.DefaultLadder())
			e.now = time.Date(2026, 3, 2, 9, 0, 0, 0, shanghai).UTC() // a Monday
			load(b, e, n, func(i int) sla.StartInput {
				return sla.StartInput{Subject: "case:" + strconv.Itoa(i), Metric: sla.MetricResolution, PolicyID: pid,
					At: e.now.Add(-time.Duration(i%(8*3600)) * time.Second)}
			})
			rec, err := e.cals.Record(ctx, calendar.KeyCNWorkday)
			if err != nil {
				b.Fatal(err)
			}
			var plain calendar.YearData
			for _, x := range rec.Spec.Years {
				if x.Year == 2026 {
					plain = x
				}
			}
			extra := plain
			extra.Holidays = append(slices.Clone(plain.Holidays), calendar.NamedDate{Date: calendar.Date{Year: 2026, Month: 3, Day: 4}, Name: "基准测试假日"})
			round := 0
			for b.Loop() {
				y := extra // odd rounds take the holiday away again: every deadline moves back
				if round%2 == 1 {
					y = plain
				}
				round++
				began := time.Now()
				if _, err := e.cals.SetYear(ctx, calendar.KeyCNWorkday, y); err != nil {
					b.Fatal(err)
				}
				rs, err := e.sla.Recomputes(ctx, 1)
				if err != nil || len(rs) == 0 {
					b.Fatalf("no recompute recorded: %v", err)
				}
				if err := e.sla.RunRecompute(ctx, rs[0].ID); err != nil {
					b.Fatal(err)
				}
				took := time.Since(began)
				rs, _ = e.sla.Recomputes(ctx, 1)
				b.ReportMetric(took.Seconds(), "s/recompute")
				b.ReportMetric(float64(rs[0].Processed)/took.Seconds(), "cycles/s")
				b.Logf("%s: %d open cycles, %d deadlines moved, in %v (batches of %d)", dialect, rs[0].Processed, rs[0].Changed, took.Round(time.Millisecond), e.sla.Batch)
			}
		})
	}
}

// BenchmarkBreachLag loads n open cycles due over the next day, then 2,000
// more due one by one over the next 20 seconds, runs two instances' timer
// schedulers and measures, for each of the 2,000, the time from its
// deadline to the commit of its breach (the row, the supervisor's
// notification, the timeline event and the system log entry).
func BenchmarkBreachLag(b *testing.B) {
	for _, dialect := range dbtest.Dialects() {
		b.Run(fmt.Sprintf("%s/%d", dialect, benchCycles()), func(b *testing.B) {
			n := benchCycles()
			const m, spread = 2000, 20 * time.Second
			d := dbtest.Open(b, dialect)
			a, other := newEnvWith(b, d, true, false), newEnvWith(b, d, false, false)
			garden := a.sitePath("GARDEN")
			pid := a.policy("bench-ack", calendar.Key24x7, sla.TargetInput{Metric: "ack", Minutes: 24 * 60, Business: true},
				[]sla.Step{{On: sla.OnBreach, Notify: sla.NotifySupervisor}})
			real := func() time.Time { return time.Now().UTC() }
			a.sla.Now, other.sla.Now = real, real
			t0 := time.Now().UTC()
			// Background: due spread over the next 24 hours.
			load(b, a, n, func(i int) sla.StartInput {
				return sla.StartInput{Subject: "bg:" + strconv.Itoa(i), Metric: "ack", PolicyID: pid,
					Match: sla.Match{NodePath: garden}, At: t0.Add(time.Duration(i) * 24 * time.Hour / time.Duration(n))}
			})
			var mu sync.Mutex
			var lags []time.Duration
			observe := func(_ int64, due time.Time) {
				lag := time.Since(due)
				mu.Lock()
				lags = append(lags, lag)
				mu.Unlock()
			}
			round := 0
			for b.Loop() {
				round++
				mu.Lock()
				lags = lags[:0]
				mu.Unlock()
				first := time.Now().UTC().Add(30 * time.Second)
				// Measured: a 24-hour limit started 24 hours before each deadline.
				load(b, a, m, func(i int) sla.StartInput {
					due := first.Add(time.Duration(i) * spread / m)
					return sla.StartInput{Subject: fmt.Sprintf("m%d:%d", round, i), Metric: "ack", PolicyID: pid,
						Match: sla.Match{NodePath: garden}, At: due.Add(-24 * time.Hour)}
				})
				a.sla.AfterBreach, other.sla.AfterBreach = observe, observe
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				for _, e := range []*env{a, other} {
					wg.Add(1)
					go func() { defer wg.Done(); e.timers.Run(ctx) }()
				}
				deadline := first.Add(spread + 60*time.Second)
				for time.Now().Before(deadline) {
					mu.Lock()
					done := len(lags)
					mu.Unlock()
					if done >= m {
						break
					}
					time.Sleep(200 * time.Millisecond)
				}
				cancel()
				wg.Wait()
				a.sla.AfterBreach, other.sla.AfterBreach = nil, nil
				mu.Lock()
				if len(lags) < m {
					b.Fatalf("%d of %d breaches observed", len(lags), m)
				}
				ls := slices.Clone(lags[:m])
				mu.Unlock()
				slices.Sort(ls)
				p50, p99, worst := ls[m/2], ls[m*99/100], ls[m-1]
				b.ReportMetric(float64(p50.Microseconds())/1000, "ms-p50")
				b.ReportMetric(float64(p99.Microseconds())/1000, "ms-p99")
				b.ReportMetric(float64(worst.Microseconds())/1000, "ms-max")
				b.Logf("%s: %d open cycles + %d due over %v; breach lag p50 %v p99 %v max %v; fired by the two instances %d + %d",
					dialect, n, m, spread, p50.Round(time.Microsecond), p99.Round(time.Microsecond), worst.Round(time.Microsecond), a.timers.FiredCount(), other.timers.FiredCount())
			}
		})
	}
}
