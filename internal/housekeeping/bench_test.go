package housekeeping_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/housekeeping"
	"github.com/guanjia/guanjia/internal/org"
)

// bigHotel adds a hotel of floors × perFloor rooms with a mix of states
// and, with attendants > 0, that many attendants and the day's work.
type bigHotel struct {
	site  int64
	path  string
	rooms []int64
	staff []int64
}

func newBigHotel(tb testing.TB, e *apptest.Env, floors, perFloor, attendants int, allDirty bool) *bigHotel {
	tb.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "bench"})
	h := &bigHotel{}
	err := e.DB.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var company int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM org_nodes WHERE parent_id IS NULL ORDER BY id LIMIT 1`).Scan(&company); err != nil {
			return err
		}
		site, err := e.App.Org.SystemCreateNode(ctx, org.NodeInput{Kind: org.KindSite, SiteKind: "hotel", Name: "压测酒店", Calendar: "24x7"}, &company)
		if err != nil {
			return err
		}
		h.site, h.path = site.ID, site.Path
		rt, err := e.App.HK.CreateRoomType(ctx, housekeeping.RoomTypeInput{SiteID: site.ID, Code: "STD", Name: "标准间"})
		if err != nil {
			return err
		}
		for f := 1; f <= floors; f++ {
			fl, err := e.App.Org.SystemCreateNode(ctx, org.NodeInput{Kind: org.KindArea, AreaKind: "floor", Name: fmt.Sprintf("%d 楼", f)}, &site.ID)
			if err != nil {
				return err
			}
			var nums []string
			for i := 1; i <= perFloor; i++ {
				nums = append(nums, fmt.Sprintf("%d%02d", f, i))
			}
			res, err := e.App.HK.CreateRooms(ctx, housekeeping.RoomsInput{SiteID: site.ID, FloorID: fl.ID, Floor: f, TypeID: rt.ID, Numbers: nums})
			if err != nil {
				return err
			}
			for _, r := range res.Items {
				h.rooms = append(h.rooms, r.ID)
			}
		}
		// A mix: six rooms in ten occupied, some clean, some inspected, flags.
		for i, id := range h.rooms {
			occ, cl, flags := "vacant", "dirty", ""
			switch k := i % 10; {
			case allDirty:
				occ = "occupied"
			case k <= 3:
				occ = "occupied"
			case k == 4:
				occ, flags = "occupied", "dnd"
			case k == 5:
				occ, flags = "occupied", "due_out"
			case k == 6 || k == 7:
				cl = "inspected"
			case k == 8:
				cl, flags = "clean", "arrival"
			}
			if _, err := tx.ExecContext(ctx, `UPDATE hk_rooms SET occupancy = ?, cleaning = ?, flags = ? WHERE id = ?`, occ, cl, flags, id); err != nil {
				return err
			}
		}
		for i := 0; i < attendants; i++ {
			st, err := e.App.Org.SystemCreateStaff(ctx, org.StaffInput{NodeID: site.ID, Username: fmt.Sprintf("bench_att_%d", i), Name: fmt.Sprintf("服务员%02d", i)}, "bench-pass-1", false)
			if err != nil {
				return err
			}
			if err := e.App.Org.SystemGrant(ctx, st.ID, auth.RoleAttendant, site.ID); err != nil {
				return err
			}
			h.staff = append(h.staff, st.ID)
		}
		if attendants > 0 {
			if _, err := e.App.HK.Generate(ctx, housekeeping.WorkDayInput{SiteID: site.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func report(b *testing.B, ds []time.Duration) {
	b.ReportMetric(float64(percentile(ds, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(ds, 0.99).Microseconds())/1000, "p99-ms")
}

func eachDB(b *testing.B, fn func(b *testing.B, d *db.DB)) {
	for _, dialect := range dbtest.Dialects() {
		b.Run(string(dialect), func(b *testing.B) { fn(b, dbtest.Open(b, dialect)) })
	}
}

// BenchmarkBoardRender1000 renders the board page of a 1,000-room hotel
// (40 floors × 25, a mix of states, the day's work assigned to 70
// attendants) over HTTP as a signed-in manager: authentication, the
// queries, the template. Reports p50 and p99 per render.
func BenchmarkBoardRender1000(b *testing.B) {
	eachDB(b, func(b *testing.B, d *db.DB) {
		e := apptest.Start(b, d)
		h := newBigHotel(b, e, 40, 25, 70, false)
		if _, err := e.App.HK.AutoAssign(context.Background(), housekeeping.AutoAssignInput{SiteID: h.site}); err != nil {
			b.Fatal(err)
		}
		tok := e.Login("admin")
		time.Sleep(20 * time.Millisecond)
		past := time.Now().Add(-10 * time.Millisecond).UTC().Format(time.RFC3339Nano)
		get := func(path string) (time.Duration, int) {
			req, _ := http.NewRequest("GET", e.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			t0 := time.Now()
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Fatalf("%s: %d", path, res.StatusCode)
			}
			return time.Since(t0), int(n)
		}
		for _, kind := range []struct{ name, path string }{
			{"page", fmt.Sprintf("/hk/board?site_id=%d", h.site)},
			{"api", fmt.Sprintf("/api/v1/hk/board?site_id=%d", h.site)},
			{"replay", fmt.Sprintf("/hk/board?site_id=%d&at=%s", h.site, url.QueryEscape(past))},
		} {
			b.Run(kind.name, func(b *testing.B) {
				get(kind.path)
				var ds []time.Duration
				size := 0
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					d, n := get(kind.path)
					ds = append(ds, d)
					size = n
				}
				report(b, ds)
				b.ReportMetric(float64(size)/1024, "KiB")
			})
		}
	})
}

// BenchmarkStatusToSSE200 measures a status change delivered to 200 open
// boards: from sending the API request to each client reading the event
// off its stream. Reports p50 and p99 over every delivery.
func BenchmarkStatusToSSE200(b *testing.B) {
	eachDB(b, func(b *testing.B, d *db.DB) {
		e := apptest.Start(b, d)
		h := newBigHotel(b, e, 4, 25, 0, false)
		tok := e.Login("admin")
		const clients = 200
		topic := url.QueryEscape("node:" + h.path)
		type recv struct {
			room string
			at   time.Time
		}
		got := make(chan recv, clients*4)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var ready sync.WaitGroup
		tr := &http.Transport{MaxIdleConnsPerHost: clients}
		cl := &http.Client{Transport: tr}
		for i := 0; i < clients; i++ {
			ready.Add(1)
			go func() {
				req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+"/events?topic="+topic, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := cl.Do(req)
				if err != nil {
					ready.Done()
					return
				}
				defer res.Body.Close()
				sc := bufio.NewScanner(res.Body)
				sc.Buffer(make([]byte, 64<<10), 1<<20)
				first := true
				isRoom := false
				for sc.Scan() {
					line := sc.Text()
					if first && strings.HasPrefix(line, ": connected") {
						first = false
						ready.Done()
					}
					switch {
					case line == "event: hk.room":
						isRoom = true
					case isRoom && strings.HasPrefix(line, "data: "):
						isRoom = false
						i := strings.Index(line, `"id":`)
						j := strings.IndexAny(line[i+5:], ",}")
						got <- recv{room: line[i+5 : i+5+j], at: time.Now()}
					}
				}
			}()
		}
		ready.Wait()
		var ds []time.Duration
		post := func(room int64, body string) time.Time {
			req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/hk/rooms/%d/status", e.URL, room), strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			t0 := time.Now()
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Fatalf("status: %d", res.StatusCode)
			}
			return t0
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			room := h.rooms[i%len(h.rooms)]
			// Vacant rooms toggle housekeeping's check; a cheap, always allowed change.
			body := `{"hk_occupancy":"occupied"}`
			if i/len(h.rooms)%2 == 1 {
				body = `{"hk_occupancy":"vacant"}`
			}
			t0 := post(room, body)
			want := fmt.Sprint(room)
			for n := 0; n < clients; {
				select {
				case r := <-got:
					if r.room == want {
						ds = append(ds, r.at.Sub(t0))
						n++
					}
				case <-time.After(10 * time.Second):
					b.Fatalf("only %d of %d clients heard the change", n, clients)
				}
			}
		}
		b.StopTimer()
		report(b, ds)
		b.ReportMetric(float64(len(ds)), "deliveries")
		cancel()
	})
}

// BenchmarkAutoAssign1000x70 shares 1,000 rooms among 70 attendants: the
// plan alone (pure), and the service that reads the day's work, plans and
// writes every assignment in one transaction.
func BenchmarkAutoAssign1000x70(b *testing.B) {
	b.Run("plan", func(b *testing.B) {
		rooms := make([]housekeeping.PlanRoom, 1000)
		for i := range rooms {
			rooms[i] = housekeeping.PlanRoom{Floor: 1 + i/25, Credits: []int{10, 5, 10, 6, 20}[i%5]}
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			housekeeping.Plan(rooms, 70, 12, 16)
		}
	})
	eachDB(b, func(b *testing.B, d *db.DB) {
		e := apptest.Start(b, d)
		h := newBigHotel(b, e, 40, 25, 70, true)
		var day *housekeeping.WorkDay
		var ds []time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			var err error
			day, err = e.App.HK.AutoAssign(context.Background(), housekeeping.AutoAssignInput{SiteID: h.site, AttendantIDs: h.staff})
			if err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(t0))
		}
		b.StopTimer()
		report(b, ds)
		b.ReportMetric(float64(day.Total), "rooms")
		b.ReportMetric(float64(len(day.Attendants)), "attendants")
	})
}
