package apptest

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Latencies collects durations from many goroutines, for benchmarks whose
// targets are percentiles rather than the mean that ns/op gives.
type Latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

// Add records one duration; safe for concurrent use.
func (l *Latencies) Add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// Len returns how many durations were recorded.
func (l *Latencies) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.d)
}

// Percentile returns the nearest-rank p-th percentile (0 < p ≤ 100), or 0
// when nothing was recorded.
func (l *Latencies) Percentile(p float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	slices.Sort(l.d)
	i := int(float64(len(l.d))*p/100+0.999999) - 1
	return l.d[max(0, min(i, len(l.d)-1))]
}

// Report adds p50, p99 and max in milliseconds to the benchmark's line,
// each unit prefixed with name ("" for none).
func (l *Latencies) Report(b *testing.B, name string) {
	if name != "" {
		name += "-"
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(l.Percentile(50)), name+"p50-ms")
	b.ReportMetric(ms(l.Percentile(99)), name+"p99-ms")
	b.ReportMetric(ms(l.Percentile(100)), name+"max-ms")
}

// ReportLoad adds the machine's one-minute load average to the benchmark's
// line: figures taken while other work shares the cores say so.
func ReportLoad(b *testing.B) {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return
	}
	var load float64
	if _, err := fmt.Sscan(string(raw), &load); err == nil {
		b.ReportMetric(load, "load1")
	}
}

// CPUTime returns the CPU time this process has used, user and system:
// taken before and after a benchmark's loop it gives the CPU an op costs,
// a figure that other work on the machine disturbs far less than the
// wall-clock rate.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Busy sends n requests from clients concurrent clients, each sending its
// next as soon as its last is answered (a closed loop: the most the server
// does, and the latency at that queue), and records each request's
// latency. do gets the request's number, 0 to n-1. It returns the time the
// n requests took and the first error of do; a client stops at its error.
func Busy(n, clients int, do func(i int) error, lat *Latencies) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				began := time.Now()
				if err := do(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
				lat.Add(time.Since(began))
			}
		}()
	}
	wg.Wait()
	return time.Since(start), first
}

// Paced sends n requests at a fixed rate (per second) from workers
// concurrent clients, as independent callers arrive (an open loop), and
// records each request's latency from the instant it was due to be sent:
// a request that waited for a free client counts its wait, so a stall is
// not hidden by the clients slowing down (coordinated omission). It
// returns the time from the first due instant to the last completion and
// the first error of do, which gets the request's number, 0 to n-1.
func Paced(rate float64, n, workers int, do func(i int) error, lat *Latencies) (time.Duration, error) {
	type slot struct {
		i  int
		at time.Time
	}
	due := make(chan slot, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range due {
				if wait := time.Until(s.at); wait > 0 {
					time.Sleep(wait)
				}
				err := do(s.i)
				lat.Add(time.Since(s.at))
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	start := time.Now().Add(10 * time.Millisecond)
	interval := time.Duration(float64(time.Second) / rate)
	for i := range n {
		due <- slot{i, start.Add(time.Duration(i) * interval)}
	}
	close(due)
	wg.Wait()
	return time.Since(start), first
}
