package calendar

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchStarts returns instants spread over 2025, so that the benchmarks do
// not keep hitting the same cache lines.
func benchStarts(c *Calendar) []time.Time {
	rng := rand.New(rand.NewPCG(1, 2))
	first := time.Date(2025, 1, 1, 0, 0, 0, 0, c.Location())
	starts := make([]time.Time, 1024)
	for i := range starts {
		starts[i] = first.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
	}
	return starts
}

func BenchmarkAdd(b *testing.B) {
	c := mustBuiltin(b, KeyCNWorkday)
	starts := benchStarts(c)
	workingDay := 7*time.Hour + 30*time.Minute
	for _, bc := range []struct {
		name string
		d    time.Duration
	}{
		{"1h", time.Hour},
		{"1day", workingDay},
		{"30days", 30 * workingDay},
	} {
		b.Run(bc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := c.Add(starts[i&1023], bc.d); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkBetween(b *testing.B) {
	c := mustBuiltin(b, KeyCNWorkday)
	starts := benchStarts(c)
	i := 0
	for b.Loop() {
		c.Between(starts[i&1023], starts[(i+1)&1023])
		i++
	}
}

func BenchmarkAddDays(b *testing.B) {
	c := mustBuiltin(b, KeyCNWorkday)
	starts := benchStarts(c)
	for _, n := range []int{3, 30} {
		b.Run(fmt.Sprintf("%ddays", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := c.AddDays(starts[i&1023], n); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkIsWorking(b *testing.B) {
	c := mustBuiltin(b, KeyCNWorkday)
	starts := benchStarts(c)
	i := 0
	for b.Loop() {
		c.IsWorking(starts[i&1023])
		i++
	}
}

// BenchmarkNew measures compiling cn-workday's 2020–2035 horizon, the cost
// of loading a calendar from the database.
func BenchmarkNew(b *testing.B) {
	spec, err := BuiltinSpec(KeyCNWorkday)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := New(spec); err != nil {
			b.Fatal(err)
		}
	}
}
