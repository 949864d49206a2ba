package housekeeping

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/errs"
)

// TestChangeStatus: a change the table allows goes through with its event;
// one it refuses is a conflict naming the allowed values and writes nothing.
func TestChangeStatus(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHotel(t, d, 1, 3, false)
		r := h.set("101", RoomStatusInput{Cleaning: Cleaning})
		if r.Cleaning != Cleaning || r.Code != CodeVD {
			t.Fatalf("after start: %+v", r)
		}
		events := h.count(`SELECT COUNT(*) FROM hk_room_events WHERE room_id = ?`, h.rooms["101"])
		_, err := h.s.ChangeStatus(context.Background(), h.rooms["101"], RoomStatusInput{Cleaning: Inspected})
		var e *errs.Error
		if !errors.As(err, &e) || e.Code != errs.EConflict || !slices.Equal(e.Args["allowed"].([]string), []string{Clean, Dirty}) {
			t.Fatalf("cleaning→inspected: %v %+v", err, e)
		}
		if n := h.count(`SELECT COUNT(*) FROM hk_room_events WHERE room_id = ?`, h.rooms["101"]); n != events {
			t.Fatal("a refused change wrote an event")
		}
		h.set("101", RoomStatusInput{Cleaning: Clean})
		r = h.set("101", RoomStatusInput{Cleaning: Inspected})
		if !r.Ready || r.Code != CodeVC {
			t.Fatalf("inspected vacant: %+v", r)
		}
		// Check-in, then a block is refused while the guest is in.
		h.set("101", RoomStatusInput{Occupancy: Occupied})
		if _, err := h.s.ChangeStatus(context.Background(), h.rooms["101"], RoomStatusInput{Block: BlockOOO, BlockReason: "漏水"}); errs.CodeOf(err) != errs.EConflict {
			t.Fatalf("block with a guest in: %v", err)
		}
		// Check-out makes it dirty; then out of order returns to inspected.
		r = h.set("101", RoomStatusInput{Occupancy: Vacant})
		if r.Cleaning != Dirty || r.Code != CodeVD {
			t.Fatalf("after check-out: %+v", r)
		}
		r = h.set("101", RoomStatusInput{Block: BlockOOO, BlockReason: "空调坏", BlockReturn: Inspected, BlockUntil: "2026-11-30"})
		if r.Code != CodeOOO || r.BlockFrom != "2026-11-27" || r.BlockUntil != "2026-11-30" {
			t.Fatalf("OOO: %+v", r)
		}
		r = h.set("101", RoomStatusInput{Block: BlockNone})
		if r.Cleaning != Inspected || r.Code != CodeVC || r.BlockReason != "" {
			t.Fatalf("released: %+v", r)
		}
		// Bad input.
		for _, in := range []RoomStatusInput{{}, {Cleaning: "shiny"}, {Cleaning: Dirty, Occupancy: Vacant}, {Block: BlockOOO},
			{Flags: map[string]bool{"sparkly": true}}, {Block: BlockOOS, BlockReason: "x", BlockUntil: "tomorrow"}} {
			if _, err := h.s.ChangeStatus(context.Background(), h.rooms["102"], in); errs.CodeOf(err) != errs.EInvalid {
				t.Errorf("%+v: %v, want invalid", in, err)
			}
		}
		// Discrepancies: housekeeping finds a vacant room slept in.
		r = h.set("102", RoomStatusInput{HKOccupancy: Occupied})
		if r.Discrepancy != DiscrepancySleep {
			t.Fatalf("sleep: %+v", r)
		}
	})
}

// TestReplayEqualsLive makes a few hundred random allowed changes and, at
// every change, remembers the live board; the board replayed at each of
// those instants must equal what was live then, room by room.
func TestReplayEqualsLive(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHotel(t, d, 3, 6, false)
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(8, 27))
		type snap struct {
			at    time.Time
			board map[int64]State
		}
		live := func() map[int64]State {
			b, err := h.s.Board(ctx, h.site, nil, RoomFilter{})
			if err != nil {
				t.Fatal(err)
			}
			out := map[int64]State{}
			for _, f := range b.Floors {
				for _, r := range f.Rooms {
					out[r.ID] = comparable(r.State)
				}
			}
			return out
		}
		var snaps []snap
		ids := make([]int64, 0, len(h.rooms))
		for _, id := range h.rooms {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		changes := 0
		for step := 0; step < 300; step++ {
			h.clock.Add(time.Duration(1+rng.IntN(90)) * time.Second)
			id := ids[rng.IntN(len(ids))]
			r, err := h.s.loadRoom(ctx, id, false)
			if err != nil {
				t.Fatal(err)
			}
			dims := Dimensions()
			dim := dims[rng.IntN(len(dims))]
			allowed := Allowed(r.State, dim, nil)
			if len(allowed) == 0 {
				continue
			}
			to := allowed[rng.IntN(len(allowed))]
			in := RoomStatusInput{}
			switch dim {
			case DimCleaning:
				in.Cleaning = to
			case DimOccupancy:
				in.Occupancy = to
			case DimHKOccupancy:
				in.HKOccupancy = to
			case DimBlock:
				in.Block, in.BlockReason = to, "维修"
			default:
				in.Flags = map[string]bool{dim[len(dimFlagPrefix):]: to == "on"}
			}
			if _, err := h.s.ChangeStatus(ctx, id, in); err != nil {
				t.Fatalf("step %d %s→%s: %v", step, dim, to, err)
			}
			changes++
			snaps = append(snaps, snap{h.clock.Now(), live()})
		}
		for i, sn := range snaps {
			at := sn.at
			b, err := h.s.Board(ctx, h.site, &at, RoomFilter{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[int64]State{}
			for _, f := range b.Floors {
				for _, r := range f.Rooms {
					got[r.ID] = comparable(r.State)
				}
			}
			if !reflect.DeepEqual(got, sn.board) {
				for id, want := range sn.board {
					if !reflect.DeepEqual(got[id], want) {
						t.Errorf("snapshot %d at %s, room %d: replay %+v, live was %+v", i, at, id, got[id], want)
					}
				}
				t.FailNow()
			}
		}
		// Before the rooms existed the board is empty.
		early := at("07:00")
		if b, _ := h.s.Board(ctx, h.site, &early, RoomFilter{}); b.Total != 0 {
			t.Errorf("board before the rooms existed: %d rooms", b.Total)
		}
		t.Logf("%d changes, %d events, every snapshot replayed", changes, h.count(`SELECT COUNT(*) FROM hk_room_events`))
	})
}

// comparable keeps what the board shows of a state (block dates are not
// part of the event's snapshot).
func comparable(s State) State {
	return State{Cleaning: s.Cleaning, Occupancy: s.Occupancy, HKOccupancy: s.HKOccupancy, Block: s.Block, BlockReason: s.BlockReason, Flags: slices.Clone(s.Flags)}
}

// TestFrontOfficeFeed: check-out makes a room dirty; a batch with one bad
// line changes nothing; a resent batch changes nothing twice.
func TestFrontOfficeFeed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHotel(t, d, 1, 4, false)
		ctx, _ := h.staff("desk", "clerk")
		h.set("101", RoomStatusInput{Cleaning: Clean})
		h.set("101", RoomStatusInput{Cleaning: Inspected})
		h.set("102", RoomStatusInput{Block: BlockOOO, BlockReason: "漏水"})
		in := FeedInput{SiteID: h.site, Items: []FeedItem{{"101", "入住"}, {"103", "check_in"}, {"103", "预离"}, {"104", "arrival"}}}
		res, err := h.s.Feed(ctx, in)
		if err != nil || res.Applied != 4 {
			t.Fatalf("feed: %+v %v", res, err)
		}
		if r := h.room("101"); r.Code != CodeOC || r.Occupancy != Occupied {
			t.Fatalf("101 after check-in: %+v", r)
		}
		if res, err := h.s.Feed(ctx, in); err != nil || res.Applied != 0 || res.Unchanged != 4 {
			t.Fatalf("resent: %+v %v", res, err)
		}
		// A check-in to the room out of order refuses the batch.
		_, err = h.s.Feed(ctx, FeedInput{SiteID: h.site, Items: []FeedItem{{"101", "check_out"}, {"102", "check_in"}}})
		var e *errs.Error
		if !errors.As(err, &e) || e.Fields["items[1].event"] == "" {
			t.Fatalf("conflicting batch: %v", err)
		}
		if r := h.room("101"); r.Occupancy != Occupied {
			t.Fatal("a refused batch checked 101 out")
		}
		_, err = h.s.Feed(ctx, FeedInput{SiteID: h.site, Items: []FeedItem{{"999", "check_in"}}})
		if !errors.As(err, &e) || e.Fields["items[0].room"] == "" {
			t.Fatalf("unknown room: %v", err)
		}
		if _, err := h.s.Feed(ctx, FeedInput{SiteID: h.site, Items: []FeedItem{{"101", "退房"}}}); err != nil {
			t.Fatal(err)
		}
		if r := h.room("101"); r.Cleaning != Dirty || r.Code != CodeVD || len(r.Flags) != 0 {
			t.Fatalf("101 after check-out: %+v", r)
		}
		items, err := ParseFeedCSV([]byte("\xef\xbb\xbf房号,事件\n101,入住\n 103 , 退房\n\n"))
		if err != nil || len(items) != 2 || items[1] != (FeedItem{"103", "退房"}) {
			t.Fatalf("csv: %+v %v", items, err)
		}
	})
}

// TestNightlyRoll: at the roll time every occupied room becomes dirty,
// once a day.
func TestNightlyRoll(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHotel(t, d, 1, 3, false)
		for _, n := range []string{"101", "102"} {
			h.set(n, RoomStatusInput{Occupancy: Occupied})
			h.set(n, RoomStatusInput{Cleaning: Clean})
		}
		h.set("102", RoomStatusInput{Flags: on(FlagMakeUp)})
		h.clock.Set(at("23:00"))
		if rolls, err := h.s.RollDue(context.Background()); err != nil || len(rolls) != 0 {
			t.Fatalf("before the roll time: %+v %v", rolls, err)
		}
		h.clock.Set(at("03:05").Add(24 * time.Hour))
		rolls, err := h.s.RollDue(context.Background())
		if err != nil || len(rolls) != 1 || rolls[0].Rooms != 2 || rolls[0].Date != "2026-11-28" {
			t.Fatalf("roll: %+v %v", rolls, err)
		}
		for _, n := range []string{"101", "102"} {
			if r := h.room(n); r.Cleaning != Dirty || r.Code != CodeOD || r.Has(FlagMakeUp) {
				t.Errorf("%s after roll: %+v", n, r)
			}
		}
		if r := h.room("103"); r.Cleaning != Dirty || r.Occupancy != Vacant {
			t.Errorf("vacant room rolled: %+v", r)
		}
		h.clock.Add(time.Hour)
		if rolls, _ := h.s.RollDue(context.Background()); len(rolls) != 0 {
			t.Fatal("rolled twice in a day")
		}
	})
}

// TestPlan: caps, balance and floors.
func TestPlan(t *testing.T) {
	var rooms []PlanRoom
	for f := 1; f <= 10; f++ {
		for i := 0; i < 15; i++ {
			c := 10
			if i%3 == 0 {
				c = 5
			}
			rooms = append(rooms, PlanRoom{Floor: f, Credits: c})
		}
	}
	who := Plan(rooms, 12, 12, 16)
	rooms4, credits, floors := map[int]int{}, map[int]int{}, map[int]map[int]bool{}
	for i, a := range who {
		if a < 0 {
			t.Fatalf("room %d unassigned with room to spare", i)
		}
		rooms4[a]++
		credits[a] += rooms[i].Credits
		if floors[a] == nil {
			floors[a] = map[int]bool{}
		}
		floors[a][rooms[i].Floor] = true
	}
	lo, hi := 1<<30, 0
	for a, n := range rooms4 {
		if n > 16 {
			t.Errorf("attendant %d has %d rooms", a, n)
		}
		if len(floors[a]) > 2 {
			t.Errorf("attendant %d works %d floors", a, len(floors[a]))
		}
		lo, hi = min(lo, credits[a]), max(hi, credits[a])
	}
	if hi-lo > 25 {
		t.Errorf("credits range %d–%d", lo, hi)
	}
	// Too few attendants: the cap leaves rooms unassigned.
	who = Plan(rooms[:40], 2, 12, 16)
	n := 0
	for _, a := range who {
		if a < 0 {
			n++
		}
	}
	if n != 8 {
		t.Errorf("unassigned %d, want 8", n)
	}
	// Few rooms: fewer attendants, each at least the minimum.
	who = Plan(rooms[:30], 6, 12, 16)
	used := map[int]bool{}
	for _, a := range who {
		used[a] = true
	}
	if len(used) != 2 {
		t.Errorf("30 rooms used %d attendants, want 2", len(used))
	}
	_ = fmt.Sprint()
}
