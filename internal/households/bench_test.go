package households

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/org"
)

var (
	benchSurnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	benchGiven    = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华红志玉兰建国婷欣怡子涵浩然梓轩雨桐一诺宇航思远晓东秀文博嘉俊海燕春梅晨阳鑫宁凯琳佳慧颖斌飞鹏辉")
)

// benchName is a plausible name: frequent surnames more often.
func benchName(r *rand.Rand) string {
	s := benchSurnames[int(float64(len(benchSurnames))*r.Float64()*r.Float64())]
	g := string(benchGiven[r.IntN(len(benchGiven))])
	if r.IntN(3) > 0 {
		g += string(benchGiven[r.IntN(len(benchGiven))])
	}
	return string(s) + g
}

// bigWorld is sites × buildings × floors × doors households with two
// people each (a third with a consented birthday, 5 % elderly living
// alone, 3 % absent owners), loaded as the import loads them.
type bigWorld struct {
	*world
	households int
	units      []string
	phones     []string
	names      []string
	load       time.Duration
}

func newBigWorld(b *testing.B, d *db.DB, sites, buildings, floors, doors int) *bigWorld {
	b.Helper()
	w := newWorld(b, d)
	bw := &bigWorld{world: w}
	r := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	var siteIDs []int64
	err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var co int64
		if err := tx.QueryRowContext(ctx, `SELECT MIN(id) FROM org_nodes`).Scan(&co); err != nil {
			return err
		}
		for s := 0; s < sites; s++ {
			site, err := w.org.SystemCreateNode(ctx, org.NodeInput{Kind: org.KindSite, SiteKind: "residential", Name: fmt.Sprintf("小区%d", s)}, &co)
			if err != nil {
				return err
			}
			for bl := 1; bl <= buildings; bl++ {
				if _, err := w.org.SystemCreateNode(ctx, org.NodeInput{Kind: org.KindArea, AreaKind: "building", Name: fmt.Sprintf("%d 栋", bl), Code: fmt.Sprint(bl)}, &site.ID); err != nil {
					return err
				}
			}
			siteIDs = append(siteIDs, site.ID)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	butlers := []int64{w.staff["butler"], w.staff["butler2"]}
	start := time.Now()
	n := 0
	for _, site := range siteIDs {
		var rows []Row
		for bl := 1; bl <= buildings; bl++ {
			for f := 1; f <= floors; f++ {
				for u := 1; u <= doors; u++ {
					n++
					unit := fmt.Sprintf("%d-%02d%02d", bl, f, u)
					res := "living"
					if r.IntN(100) < 3 {
						res = "absent"
					}
					for k := 0; k < 2; k++ {
						phone := fmt.Sprintf("13%09d", (n*2+k)*7919%1000000000)
						row := Row{Unit: unit, Residency: res, ButlerID: &butlers[n%2], Name: benchName(r), Role: []string{"owner", "co_resident"}[k],
							Phones: []string{phone}}
						if r.IntN(3) == 0 {
							row.Birthday = time.Date(1940+r.IntN(60), time.January, 1+r.IntN(365), 0, 0, 0, 0, time.UTC).Format("2006-01-02")
							row.BirthdayConsent = "v1"
						}
						if k == 0 && r.IntN(20) == 0 {
							row.ElderlyAlone = true
						}
						rows = append(rows, row)
						if len(bw.phones) < 5000 {
							bw.phones = append(bw.phones, phone)
							bw.names = append(bw.names, row.Name)
						}
					}
					if len(bw.units) < 5000 {
						bw.units = append(bw.units, unit)
					}
				}
			}
		}
		t0 := time.Now()
		if _, err := w.svc.SystemLoad(ctx, site, rows); err != nil {
			b.Fatal(err)
		}
		if testing.Verbose() {
			fmt.Printf("site %d: %d rows in %v\n", site, len(rows), time.Since(t0).Round(time.Millisecond))
		}
	}
	bw.households, bw.load = n, time.Since(start)
	return bw
}

// cpuTime is the CPU time this process has used (user and system): the
// benchmarks report it next to wall time because the machine they run on
// is shared, and wall time alone then measures the neighbours.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// percentile returns the p-th percentile (0–100) of sorted durations.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}

func reportLatencies(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	b.ReportMetric(float64(percentile(ds, 50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(ds, 99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(ds[len(ds)-1].Microseconds())/1000, "max-ms")
}

// BenchmarkHouseholds loads 100,000 households with 200,000 people (10
// sites × 20 buildings × 25 floors × 20 doors; GUANJIA_BENCH_SITES=n for
// fewer) and measures the one-box
// search as the households API runs it (scope, people masked) and the
// care-task generation of a holiday eve.
func BenchmarkHouseholds(b *testing.B) {
	for _, dialect := range dbtest.Dialects() {
		b.Run(string(dialect), func(b *testing.B) {
			sites := 10
			if n, err := strconv.Atoi(os.Getenv("GUANJIA_BENCH_SITES")); err == nil && n > 0 {
				sites = n // a quicker, smaller run
			}
			bw := newBigWorld(b, dbtest.Open(b, dialect), sites, 20, 25, 20)
			people := count(b, bw.db, "household_people")
			b.Logf("%s: loaded %d households, %d people in %v", dialect, bw.households, people, bw.load.Round(time.Millisecond))
			ctx := bw.as("admin")
			kinds := []struct {
				name string
				q    func(r *rand.Rand) string
			}{
				{"unit", func(r *rand.Rand) string { return bw.units[r.IntN(len(bw.units))] }},
				{"unit_prefix", func(r *rand.Rand) string { return bw.units[r.IntN(len(bw.units))][:4] }},
				{"name", func(r *rand.Rand) string { return bw.names[r.IntN(len(bw.names))] }},
				{"surname", func(r *rand.Rand) string { return string(benchSurnames[r.IntN(20)]) }},
				{"initials", func(r *rand.Rand) string { return Initials(bw.names[r.IntN(len(bw.names))]) }},
				{"phone_suffix", func(r *rand.Rand) string { p := bw.phones[r.IntN(len(bw.phones))]; return p[len(p)-4:] }},
				{"phone", func(r *rand.Rand) string { return bw.phones[r.IntN(len(bw.phones))] }},
			}
			b.Run("search", func(b *testing.B) {
				r := rand.New(rand.NewPCG(3, 4))
				ds := make([]time.Duration, 0, b.N)
				byKind := map[string][]time.Duration{}
				found := 0
				c0 := cpuTime()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					k := kinds[i%len(kinds)]
					q := k.q(r)
					t0 := time.Now()
					page, err := bw.svc.ListHouseholds(ctx, HouseholdFilter{Q: q})
					d := time.Since(t0)
					if err != nil {
						b.Fatal(err)
					}
					found += len(page.Items)
					ds = append(ds, d)
					byKind[k.name] = append(byKind[k.name], d)
				}
				b.StopTimer()
				b.ReportMetric(float64((cpuTime()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
				if found == 0 {
					b.Fatal("the searches found nothing")
				}
				for name, kd := range byKind {
					slices.Sort(kd)
					if len(kd) >= 50 {
						b.Logf("%-12s n=%5d p50=%6.2fms p99=%6.2fms", name, len(kd), float64(percentile(kd, 50).Microseconds())/1000, float64(percentile(kd, 99).Microseconds())/1000)
					}
				}
				reportLatencies(b, ds)
			})
			b.Run("care_100k", func(b *testing.B) {
				eve := at("2026-02-14 06:00") // the day before the Spring Festival holiday
				var rep CareReport
				var cpu time.Duration
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					if _, err := bw.db.W.ExecContext(context.Background(), `DELETE FROM care_tasks`); err != nil {
						b.Fatal(err)
					}
					c0 := cpuTime()
					b.StartTimer()
					var err error
					if rep, err = bw.svc.GenerateCare(context.Background(), eve); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					cpu += cpuTime() - c0
					b.StartTimer()
				}
				b.StopTimer()
				if rep.Holidays != bw.households {
					b.Fatalf("holiday tasks %d for %d households", rep.Holidays, bw.households)
				}
				b.ReportMetric(float64(rep.Total()), "tasks/op")
				b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
				b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
				b.Logf("report %+v", rep)
			})
		})
	}
}

// BenchmarkImport50k imports a 50,000-row XLSX file (25,000 units of two
// people each) into an empty site: parse, validate as a whole, write.
func BenchmarkImport50k(b *testing.B) {
	const units = 25000
	r := rand.New(rand.NewPCG(5, 6))
	var rows []map[string]any
	for n := 0; n < units; n++ {
		unit := fmt.Sprintf("%d-%02d%02d", 1+n/500, 1+n%500/20, 1+n%20)
		first := ""
		for k := 0; k < 2; k++ {
			name := benchName(r)
			for name == first { // two people of one unit share no name (the import would refuse it)
				name = benchName(r)
			}
			first = name
			row := map[string]any{"unit": unit, "name": name, "role": []string{"业主", "同住人"}[k], "phone": fmt.Sprintf("13%09d", (n*2+k)*7919%1000000000),
				"butler": "butler", "layout": "3室2厅", "area_m2": 89.5}
			if r.IntN(3) == 0 {
				row["birthday"], row["birthday_consent"] = time.Date(1950+r.IntN(50), 1, 1+r.IntN(365), 0, 0, 0, 0, time.UTC).Format("2006-01-02"), "v1"
			}
			rows = append(rows, row)
		}
	}
	file := sheet(b, rows).Bytes()
	b.Logf("file: %d rows, %.1f MB", len(rows), float64(len(file))/1e6)
	for _, dialect := range dbtest.Dialects() {
		b.Run(string(dialect), func(b *testing.B) {
			var cpu time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				w := newWorld(b, dbtest.Open(b, dialect))
				// The site needs the buildings the unit numbers name.
				err := w.db.WithTx(context.Background(), func(ctx context.Context, tx *db.Tx) error {
					for bl := 3; bl <= units/500; bl++ {
						if _, err := w.org.SystemCreateNode(ctx, org.NodeInput{Kind: org.KindArea, AreaKind: "building", Name: fmt.Sprintf("%d 栋", bl), Code: fmt.Sprint(bl)}, &w.site); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				ctx := w.as("butler")
				c0 := cpuTime()
				b.StartTimer()
				rep, err := w.svc.ImportXLSX(ctx, w.site, bytes.NewReader(file))
				b.StopTimer()
				cpu += cpuTime() - c0
				if ps, _ := ImportProblems(err); len(ps) > 0 {
					b.Fatalf("%d problems, first %+v", len(ps), ps[0])
				}
				if err != nil {
					b.Fatal(err)
				}
				if rep.People != len(rows) {
					b.Fatalf("imported %d people of %d", rep.People, len(rows))
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
