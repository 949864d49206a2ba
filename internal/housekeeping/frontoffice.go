package housekeeping

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/jobs"
)

// Front-office events.
const (
	FOArrival   = "arrival"   // expected today
	FODeparture = "departure" // expected to leave today
	FOCheckIn   = "check_in"
	FOCheckOut  = "check_out" // makes the room dirty
	FOInHouse   = "in_house"  // the guest is in (reconciliation)
	FONoArrival = "arrival_cancelled"
)

// FOEvents lists the front-office events.
var FOEvents = []string{FOArrival, FODeparture, FOCheckIn, FOCheckOut, FOInHouse, FONoArrival}

// foAliases are the words a front-office export may use.
var foAliases = map[string]string{
	"预抵": FOArrival, "预离": FODeparture, "入住": FOCheckIn, "退房": FOCheckOut, "离店": FOCheckOut, "在住": FOInHouse, "取消预抵": FONoArrival,
	"arrival": FOArrival, "departure": FODeparture, "check_in": FOCheckIn, "checkin": FOCheckIn, "check_out": FOCheckOut, "checkout": FOCheckOut,
	"in_house": FOInHouse, "inhouse": FOInHouse, "arrival_cancelled": FONoArrival,
}

// FeedItem is one line of the front office's feed.
type FeedItem struct {
	Room  string `json:"room"`
	Event string `json:"event"`
}

// FeedInput is a batch from the front office.
type FeedInput struct {
	SiteID int64      `json:"site_id"`
	Items  []FeedItem `json:"items"`
}

// FeedResult says what a batch changed.
type FeedResult struct {
	Applied   int `json:"applied"`   // lines that changed a room
	Unchanged int `json:"unchanged"` // lines the rooms already showed
}

// foChange is what a front-office event asks of a room; nil when the room
// already shows it (feeds are resent; a repeat changes nothing).
func foChange(st State, event string) *Change {
	switch event {
	case FOArrival:
		if !st.Has(FlagArrival) {
			return &Change{Dimension: FlagDim(FlagArrival), To: "on"}
		}
	case FONoArrival:
		if st.Has(FlagArrival) {
			return &Change{Dimension: FlagDim(FlagArrival), To: "off"}
		}
	case FODeparture:
		if !st.Has(FlagDueOut) {
			return &Change{Dimension: FlagDim(FlagDueOut), To: "on"}
		}
	case FOCheckIn, FOInHouse:
		if st.Occupancy != Occupied {
			return &Change{Dimension: DimOccupancy, To: Occupied}
		}
	case FOCheckOut:
		if st.Occupancy != Vacant {
			return &Change{Dimension: DimOccupancy, To: Vacant}
		}
	}
	return nil
}

// Feed applies a batch from the front office, all or nothing: a line with
// an unknown room or event, or one the room's state does not allow (a
// check-in to a room out of order), refuses the whole batch naming the line
// (items[3].room, items[3].event). A line the room already shows changes
// nothing. Needs hk.desk on the site.
func (s *Service) Feed(ctx context.Context, in FeedInput) (*FeedResult, error) {
	var v errs.Validation
	if len(in.Items) > 5000 {
		v.Add("items", "error.field.too_long")
	}
	for i, it := range in.Items {
		v.MaxLen(fmt.Sprintf("items[%d].room", i), it.Room, 20)
		v.MaxLen(fmt.Sprintf("items[%d].event", i), it.Event, 30)
	}
	site, err := s.siteInput(ctx, in.SiteID, auth.PermHKDesk, "site_id")
	if err != nil {
		if e := v.Err(); e != nil && errs.CodeOf(err) == errs.EInvalid {
			return nil, e
		}
		return nil, err
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if len(in.Items) == 0 {
		return nil, errs.Invalid("items", "error.field.required")
	}
	for i, it := range in.Items {
		ev, ok := foAliases[strings.ToLower(strings.TrimSpace(it.Event))]
		if !ok {
			v.Add(fmt.Sprintf("items[%d].event", i), "error.field.invalid_choice")
		}
		in.Items[i].Event = ev
		in.Items[i].Room = strings.TrimSpace(it.Room)
		if in.Items[i].Room == "" {
			v.Add(fmt.Sprintf("items[%d].room", i), "error.field.required")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := &FeedResult{}
	err = s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var lines errs.Validation
		for i, it := range in.Items {
			var id int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM hk_rooms WHERE site_id = ? AND number = ?`, site.ID, it.Room).Scan(&id)
			if db.IsNoRows(err) {
				lines.Add(fmt.Sprintf("items[%d].room", i), "error.hk.unknown_room")
				continue
			}
			if err != nil {
				return err
			}
			r, err := s.loadRoom(ctx, id, true)
			if err != nil {
				return err
			}
			c := foChange(r.State, it.Event)
			if c == nil {
				out.Unchanged++
				continue
			}
			err = s.apply(ctx, r, *c, "front_office", it.Event, 0, true)
			switch errs.CodeOf(err) {
			case "":
				out.Applied++
			case errs.EConflict:
				lines.Add(fmt.Sprintf("items[%d].event", i), "error.hk.feed_conflict")
			default:
				return err
			}
		}
		if err := lines.Err(); err != nil {
			return err
		}
		return s.record(ctx, "feed", "hk_rooms", site.ID, site.Path, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ParseFeedCSV reads a front-office export: one line per room and event,
// "room,event" (a header line naming room/event or 房号/事件 is skipped;
// events may be in Chinese: 预抵, 预离, 入住, 退房, 在住). A malformed file is
// EInvalid on body.
func ParseFeedCSV(b []byte) ([]FeedItem, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // Excel's BOM
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	var out []FeedItem
	for line := 0; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errs.Invalid("body", "error.hk.csv")
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) < 2 {
			return nil, errs.Invalid("body", "error.hk.csv")
		}
		room, ev := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if line == 0 && (strings.EqualFold(room, "room") || room == "房号") {
			continue
		}
		out = append(out, FeedItem{Room: room, Event: ev})
	}
	if len(out) == 0 {
		return nil, errs.Invalid("body", "error.hk.csv")
	}
	return out, nil
}

// ---- the nightly roll ----

// RollResult says what a nightly roll did.
type RollResult struct {
	SiteID int64  `json:"site_id"`
	Date   string `json:"date"`
	Rooms  int    `json:"rooms"` // occupied rooms made dirty
}

// Roll is the night's roll of a site: every occupied room needs a clean
// again (dirty), and the day's flags (make-up, refused, turndown done,
// sleep-out) and service times go. It records the roll's date, so a roll
// runs once a day however often it is asked for.
func (s *Service) Roll(ctx context.Context, siteID int64) (*RollResult, error) {
	out := &RollResult{SiteID: siteID}
	err := s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		site, err := s.loadSite(ctx, siteID)
		if err != nil {
			return err
		}
		out.Date = site.Today(tx.Now)
		rooms, err := s.currentRooms(ctx, siteID)
		if err != nil {
			return err
		}
		for _, listed := range rooms {
			if listed.Occupancy != Occupied {
				continue
			}
			r, err := s.loadRoom(ctx, listed.ID, true)
			if err != nil {
				return err
			}
			if r.Occupancy != Occupied {
				continue
			}
			before := r.State
			n := r.State.without(FlagMakeUp, FlagRefused, FlagTurndownDone, FlagSleepOut)
			if n.Cleaning != Dirty && n.Cleaning != Cleaning {
				n.Cleaning = Dirty
			}
			deltas := Deltas(before, n, DimCleaning)
			if len(deltas) == 0 {
				continue
			}
			r.State = n
			r.ServiceAt = nil
			evs := make([]eventIn, len(deltas))
			for i, d := range deltas {
				evs[i] = eventIn{Kind: "roll", Delta: d}
			}
			if err := s.addEvents(ctx, r, evs...); err != nil {
				return err
			}
			if err := s.saveState(ctx, r); err != nil {
				return err
			}
			if err := s.publishRoom(ctx, r); err != nil {
				return err
			}
			out.Rooms++
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO hk_settings (site_id, last_roll_on, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (site_id) DO UPDATE SET last_roll_on = excluded.last_roll_on, updated_at = excluded.updated_at`, siteID, out.Date, db.Ms(tx.Now))
		if err != nil {
			return fmt.Errorf("housekeeping: roll date: %w", err)
		}
		return s.record(ctx, "roll", "hk_rooms", siteID, site.Path, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RollDue rolls every site whose roll time has passed today (site local)
// and that has not rolled today. It returns the rolls made.
func (s *Service) RollDue(ctx context.Context) ([]RollResult, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT DISTINCT site_id FROM hk_room_types ORDER BY site_id`)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: roll sites: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	ctx = audit.WithActor(ctx, audit.Actor{Name: "nightly-roll"})
	var out []RollResult
	now := s.Now()
	for _, id := range ids {
		site, err := s.loadSite(ctx, id)
		if err != nil {
			return out, err
		}
		st, err := s.Settings(ctx, id)
		if err != nil {
			return out, err
		}
		local := now.In(site.Zone)
		today := local.Format(time.DateOnly)
		if st.LastRollOn >= today || local.Format("15:04") < st.RollTime {
			continue
		}
		// The roll belongs to the night: a first start in the day, or a
		// process that was down all night, only notes the date rather than
		// making rooms cleaned this morning dirty again.
		rt, _ := time.ParseInLocation("2006-01-02 15:04", today+" "+st.RollTime, site.Zone)
		if st.LastRollOn == "" || now.Sub(rt) > rollWindow {
			if err := s.noteRoll(ctx, id, today); err != nil {
				return out, err
			}
			continue
		}
		res, err := s.Roll(ctx, id)
		if err != nil {
			return out, err
		}
		out = append(out, *res)
	}
	return out, nil
}

// rollWindow is how long after the roll time a missed roll still runs.
const rollWindow = 6 * time.Hour

func (s *Service) noteRoll(ctx context.Context, siteID int64, date string) error {
	return s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO hk_settings (site_id, last_roll_on, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (site_id) DO UPDATE SET last_roll_on = excluded.last_roll_on, updated_at = excluded.updated_at`, siteID, date, db.Ms(tx.Now))
		return err
	})
}

// RollArgs is the periodic job that runs due nightly rolls.
type RollArgs struct{}

// Kind names the job.
func (RollArgs) Kind() string { return "hk.roll" }

type rollWorker struct {
	river.WorkerDefaults[RollArgs]
	s   *Service
	log *slog.Logger
}

func (w *rollWorker) Work(ctx context.Context, _ *river.Job[RollArgs]) error {
	rolls, err := w.s.RollDue(ctx)
	for _, r := range rolls {
		w.log.Info("housekeeping: nightly roll", "site", r.SiteID, "date", r.Date, "rooms", r.Rooms)
	}
	return err
}

func (s *Service) registerJobs(q *jobs.Queue) {
	jobs.Register(q, &rollWorker{s: s, log: s.log})
	q.Every(5*time.Minute, func() river.JobArgs { return RollArgs{} })
}
