package housekeeping

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/flow"
	"github.com/guanjia/guanjia/internal/jobs"
	"github.com/guanjia/guanjia/internal/live"
	"github.com/guanjia/guanjia/internal/org"
	"github.com/guanjia/guanjia/internal/timers"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// clock is a fake clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t.UTC()
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// hotel is a test hotel: a site with floors, a room type and rooms, on a
// service with the real timers, job queue and engine, and a fake clock.
type hotel struct {
	t      testing.TB
	d      *db.DB
	s      *Service
	org    *org.Service
	timers *timers.Service
	flow   *flow.Engine
	jobs   *jobs.Queue
	hub    *live.Hub
	clock  *clock
	site   int64
	floors []int64
	typeID int64
	rooms  map[string]int64 // number → id
}

var shanghai = func() *time.Location { l, _ := time.LoadLocation("Asia/Shanghai"); return l }()

// at is a local time in the hotel, on 2026-11-27.
func at(hhmm string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", "2026-11-27 "+hhmm, shanghai)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// newHotel builds a hotel with floors × perFloor rooms ("101"…), all vacant
// and dirty, at 2026-11-27 08:00 Shanghai time. workers starts River's
// workers (the engine's service tasks run).
func newHotel(t testing.TB, d *db.DB, floors, perFloor int, workers bool) *hotel {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := &hotel{t: t, d: d, clock: &clock{}, rooms: map[string]int64{}}
	h.clock.Set(at("08:00"))
	al := audit.New(d)
	h.org = org.NewService(d, al, auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1})
	if err := h.org.EnsureBuiltinRoles(ctx); err != nil {
		t.Fatal(err)
	}
	h.jobs = jobs.New(d, log)
	tcfg := timers.DefaultConfig()
	h.timers = timers.New(d, h.jobs, log, tcfg)
	h.timers.Now = h.clock.Now
	h.flow = flow.New(d, h.jobs, h.timers, al, log)
	h.hub = live.New(d, log)
	h.s = New(Deps{DB: d, Audit: al, Live: h.hub, Timers: h.timers, Flow: h.flow, Jobs: h.jobs, Log: log})
	h.s.Now = h.clock.Now
	if err := h.jobs.Build(workers); err != nil {
		t.Fatal(err)
	}
	if workers {
		wctx, cancel := context.WithCancel(ctx)
		if err := h.jobs.Start(wctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cancel()
			sctx, c2 := context.WithTimeout(context.Background(), 5*time.Second)
			defer c2()
			_ = h.jobs.Stop(sctx)
		})
	}
	if err := h.s.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		co, err := h.org.SystemCreateNode(ctx, org.NodeInput{Kind: org.KindCompany, Name: "集团", Timezone: "Asia/Shanghai"}, nil)
		if err != nil {
			return err
		}
		site, err := h.org.SystemCreateNode(ctx, org.NodeInput{Kind: org.KindSite, SiteKind: "hotel", Name: "测试酒店", Calendar: "24x7"}, &co.ID)
		if err != nil {
			return err
		}
		h.site = site.ID
		for f := 1; f <= floors; f++ {
			n, err := h.org.SystemCreateNode(ctx, org.NodeInput{Kind: org.KindArea, AreaKind: "floor", Name: fmt.Sprintf("%d 楼", f)}, &site.ID)
			if err != nil {
				return err
			}
			h.floors = append(h.floors, n.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := h.s.CreateRoomType(ctx, RoomTypeInput{SiteID: h.site, Code: "STD", Name: "标准间"})
	if err != nil {
		t.Fatal(err)
	}
	h.typeID = rt.ID
	for f := 1; f <= floors; f++ {
		var nums []string
		for i := 1; i <= perFloor; i++ {
			nums = append(nums, fmt.Sprintf("%d%02d", f, i))
		}
		res, err := h.s.CreateRooms(ctx, RoomsInput{SiteID: h.site, FloorID: h.floors[f-1], Floor: f, TypeID: rt.ID, Numbers: nums})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Items {
			h.rooms[r.Number] = r.ID
		}
	}
	return h
}

// staff adds a staff member with a role on the site and returns a context
// acting as them.
func (h *hotel) staff(username, role string) (context.Context, int64) {
	h.t.Helper()
	ctx := context.Background()
	var id int64
	err := h.d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		st, err := h.org.SystemCreateStaff(ctx, org.StaffInput{NodeID: h.site, Username: username, Name: username}, "pw-"+username+"-123", false)
		if err != nil {
			return err
		}
		id = st.ID
		return h.org.SystemGrant(ctx, st.ID, role, h.site)
	})
	if err != nil {
		h.t.Fatal(err)
	}
	var path string
	if err := h.d.Q(ctx).QueryRowContext(ctx, `SELECT path FROM org_nodes WHERE id = ?`, h.site).Scan(&path); err != nil {
		h.t.Fatal(err)
	}
	perms := map[auth.Perm]bool{}
	for _, p := range auth.BuiltinPerms(role) {
		perms[p] = true
	}
	p := &auth.Principal{StaffID: id, Username: username, Name: username, NodePath: path,
		Grants: []auth.Grant{{RoleKey: role, NodeID: h.site, NodePath: path, Perms: perms}}}
	ctx = auth.WithPrincipal(ctx, p)
	ctx = audit.WithActor(ctx, audit.Actor{ID: id, Name: username})
	return ctx, id
}

// set changes a room as the system, failing the test on error.
func (h *hotel) set(number string, in RoomStatusInput) *Room {
	h.t.Helper()
	r, err := h.s.ChangeStatus(context.Background(), h.rooms[number], in)
	if err != nil {
		h.t.Fatalf("%s %+v: %v", number, in, err)
	}
	return r
}

func (h *hotel) room(number string) *Room {
	h.t.Helper()
	r, err := h.s.Room(context.Background(), h.rooms[number])
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *hotel) count(q string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.d.Q(context.Background()).QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func on(flag string) map[string]bool  { return map[string]bool{flag: true} }
func off(flag string) map[string]bool { return map[string]bool{flag: false} }
