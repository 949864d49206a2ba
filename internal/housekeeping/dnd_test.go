package housekeeping

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/errs"
)

type pendingTimer struct {
	id   int64
	kind string
	due  time.Time
}

func (h *hotel) pending(roomID int64) []pendingTimer {
	h.t.Helper()
	rows, err := h.d.Q(context.Background()).QueryContext(context.Background(), `SELECT id, kind, due_at FROM timers WHERE state = 'pending' AND subject = ? ORDER BY due_at, id`,
		roomSubject(roomID))
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var out []pendingTimer
	for rows.Next() {
		var p pendingTimer
		var due int64
		if err := rows.Scan(&p.id, &p.kind, &due); err != nil {
			h.t.Fatal(err)
		}
		p.due = db.Time(due)
		out = append(out, p)
	}
	return out
}

// fireDue moves the clock to t and fires every pending timer due by then,
// as the timer service would.
func (h *hotel) fireDue(t time.Time) int {
	h.t.Helper()
	h.clock.Set(t)
	rows, err := h.d.Q(context.Background()).QueryContext(context.Background(), `SELECT id FROM timers WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, id`, db.Ms(t))
	if err != nil {
		h.t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	n := 0
	for _, id := range ids {
		ok, err := h.timers.Fire(context.Background(), id)
		if err != nil {
			h.t.Fatalf("fire %d: %v", id, err)
		}
		if ok {
			n++
		}
	}
	return n
}

func (h *hotel) openTasks(kind string) []DNDTask {
	h.t.Helper()
	l, err := h.s.Tasks(context.Background(), h.site, "open")
	if err != nil {
		h.t.Fatal(err)
	}
	var out []DNDTask
	for _, t := range l.Items {
		if kind == "" || t.Kind == kind {
			out = append(out, t)
		}
	}
	return out
}

func (h *hotel) timeline(number string) []string {
	h.t.Helper()
	tl, err := h.s.RoomTimeline(context.Background(), h.rooms[number], 0, 200)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for i := len(tl.Items) - 1; i >= 0; i-- {
		e := tl.Items[i]
		s := e.Kind
		if e.Dimension != "" {
			s += " " + e.Dimension + ":" + e.From + "→" + e.To
		}
		if e.Note != "" {
			s += " (" + e.Note + ")"
		}
		out = append(out, s)
	}
	return out
}

// TestDNDWorkflow runs DND on a fake clock: the 12:00 and 14:00 calls, no
// answer sending the duty manager and security, service later lifting DND
// and cancelling what is left; a second room refusing service; a third
// keeping DND for a day and getting a welfare check.
func TestDNDWorkflow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHotel(t, d, 1, 3, false)
		clerk, _ := h.staff("clerk1", "clerk")
		for _, n := range []string{"101", "102", "103"} {
			h.set(n, RoomStatusInput{Occupancy: Occupied})
		}
		h.clock.Set(at("09:10"))
		h.set("101", RoomStatusInput{Flags: on(FlagDND)})
		p := h.pending(h.rooms["101"])
		if len(p) != 2 || p[0].kind != timerDNDCall || !p[0].due.Equal(at("12:00")) || p[1].kind != timerDNDWelfare || !p[1].due.Equal(at("09:10").Add(24*time.Hour)) {
			t.Fatalf("timers after DND: %+v", p)
		}
		if r := h.room("101"); r.Code != CodeDND {
			t.Fatalf("code %s", r.Code)
		}
		if n := h.fireDue(at("11:59")); n != 0 || len(h.openTasks("")) != 0 {
			t.Fatal("a call before 12:00")
		}
		// 12:00: the clerk's call; nobody answers.
		h.fireDue(at("12:00"))
		calls := h.openTasks(TaskDNDCall)
		if len(calls) != 1 || calls[0].Slot != "12:00" || calls[0].RoomNumber != "101" {
			t.Fatalf("12:00 calls: %+v", calls)
		}
		if p := h.pending(h.rooms["101"]); p[0].kind != timerDNDCall || !p[0].due.Equal(at("14:00")) {
			t.Fatalf("next call: %+v", p)
		}
		h.clock.Set(at("12:05"))
		if _, err := h.s.TaskOutcome(clerk, calls[0].ID, DNDOutcomeInput{Outcome: "no_answer"}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.s.TaskOutcome(clerk, calls[0].ID, DNDOutcomeInput{Outcome: "no_answer"}); errs.CodeOf(err) != errs.EConflict {
			t.Fatalf("closing twice: %v", err)
		}
		checks := h.openTasks(TaskDNDCheck)
		if len(checks) != 1 || !checks[0].DueAt.Equal(at("12:20")) {
			t.Fatalf("duty manager check: %+v", checks)
		}
		h.clock.Set(at("12:30"))
		if _, err := h.s.TaskOutcome(clerk, checks[0].ID, DNDOutcomeInput{Outcome: "guest_ok", Note: "客人在休息"}); err != nil {
			t.Fatal(err)
		}
		// 14:00: the second call; the guest asks for service at 15:00.
		h.fireDue(at("14:00"))
		calls = h.openTasks(TaskDNDCall)
		if len(calls) != 1 || calls[0].Slot != "14:00" {
			t.Fatalf("14:00 calls: %+v", calls)
		}
		h.clock.Set(at("14:02"))
		if _, err := h.s.TaskOutcome(clerk, calls[0].ID, DNDOutcomeInput{Outcome: "service_later"}); errs.CodeOf(err) != errs.EInvalid {
			t.Fatalf("service later without a time: %v", err)
		}
		later := at("15:00")
		if _, err := h.s.TaskOutcome(clerk, calls[0].ID, DNDOutcomeInput{Outcome: "service_later", ServiceAt: &later}); err != nil {
			t.Fatal(err)
		}
		r := h.room("101")
		if r.Has(FlagDND) || !r.Has(FlagMakeUp) || r.ServiceAt == nil || !r.ServiceAt.Equal(later) || r.Code != CodeOD {
			t.Fatalf("after service later: %+v", r)
		}
		if p := h.pending(h.rooms["101"]); len(p) != 0 {
			t.Fatalf("timers left after DND lifted: %+v", p)
		}
		want := []string{"task_dnd_call (12:00)", "outcome_dnd_call (no_answer)", "task_dnd_check", "outcome_dnd_check (guest_ok: 客人在休息)",
			"task_dnd_call (14:00)", "outcome_dnd_call (service_later)", "dnd_outcome flag:dnd:on→off", "dnd_outcome flag:make_up:off→on"}
		tl := strings.Join(h.timeline("101"), "\n")
		for _, w := range want {
			if !strings.Contains(tl, w) {
				t.Errorf("timeline lacks %q:\n%s", w, tl)
			}
		}

		// 102 refuses at 12:00: no 14:00 call.
		h.clock.Set(at("10:00"))
		h.set("102", RoomStatusInput{Flags: on(FlagDND)})
		h.fireDue(at("12:00").Add(time.Minute))
		var call102 DNDTask
		for _, c := range h.openTasks(TaskDNDCall) {
			if c.RoomNumber == "102" {
				call102 = c
			}
		}
		if call102.ID == 0 {
			t.Fatal("no call for 102")
		}
		if _, err := h.s.TaskOutcome(clerk, call102.ID, DNDOutcomeInput{Outcome: "refused"}); err != nil {
			t.Fatal(err)
		}
		if r := h.room("102"); !r.Has(FlagRefused) || !r.Has(FlagDND) {
			t.Fatalf("refused: %+v", r)
		}
		for _, p := range h.pending(h.rooms["102"]) {
			if p.kind == timerDNDCall {
				t.Fatal("a call still scheduled after refusal")
			}
		}

		// 103 keeps DND from 10:30 for a day: a welfare check.
		h.clock.Set(at("10:30"))
		h.set("103", RoomStatusInput{Flags: on(FlagDND)})
		h.fireDue(at("10:30").Add(24*time.Hour + time.Minute))
		var welfare []DNDTask
		for _, w := range h.openTasks(TaskWelfare) {
			if w.RoomNumber == "103" {
				welfare = append(welfare, w)
			}
		}
		if len(welfare) != 1 {
			t.Fatalf("welfare checks: %+v", welfare)
		}
		if _, err := h.s.TaskOutcome(clerk, welfare[0].ID, DNDOutcomeInput{Outcome: "no_one_inside"}); err != nil {
			t.Fatal(err)
		}
		if r := h.room("103"); r.Discrepancy != DiscrepancySkip {
			t.Fatalf("nobody inside an occupied room is a skip: %+v", r)
		}
		// Lifting DND cancels the open calls and the timers.
		if n := len(h.openTasks(TaskDNDCall)); n == 0 {
			t.Fatal("expected open calls for 103 and 102")
		}
		h.set("103", RoomStatusInput{Flags: off(FlagDND)})
		for _, c := range h.openTasks(TaskDNDCall) {
			if c.RoomNumber == "103" {
				t.Fatal("open call for 103 after DND lifted")
			}
		}
		if p := h.pending(h.rooms["103"]); len(p) != 0 {
			t.Fatalf("timers for 103: %+v", p)
		}
	})
}
