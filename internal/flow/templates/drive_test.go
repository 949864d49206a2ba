package templates_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
	"unicode"

	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/flow/machine"
	"github.com/guanjia/guanjia/internal/flow/model"
)

type vars = map[string]any

// driver runs one instance of a template in memory on the cn-workday
// calendar, the next step one working day after the last, filling every form with valid values
// and checking each due date and deadline against dueDays and windowDays
// as tasks and timers appear.
type driver struct {
	t        *testing.T
	key      string
	supply   int // 0 single, 1 dual: the column of dueDays and windowDays
	cal      *calendar.Calendar
	def      *model.Definition
	m        *machine.Machine
	st       *machine.State
	now      time.Time
	tasks    map[int64]machine.TaskCreated // open tasks by id
	timers   map[string]machine.TimerScheduled
	visited  []string // task names in creation order, a multi-instance once
	assignee map[string]string
}

func drive(t *testing.T, key, supply string) *driver {
	t.Helper()
	cal := cnWorkday(t)
	d := &driver{t: t, key: key, cal: cal, def: mustParse(t, key), m: machine.New(machine.Options{Resolver: workdays{cal}}),
		now:   time.Date(2025, 11, 3, 10, 0, 0, 0, cal.Location()),
		tasks: map[int64]machine.TaskCreated{}, timers: map[string]machine.TimerScheduled{}, assignee: map[string]string{}}
	if supply == "dual" {
		d.supply = 1
	}
	start := vars{}
	if supply != "" {
		start["supply"] = supply
	}
	d.apply(d.m.Start(d.def, start, d.now))
	return d
}

// apply takes an event's result, round-tripping the state through JSON as
// the runtime stores it, and checks what the effects ask for.
func (d *driver) apply(st *machine.State, effects []machine.Effect, err error) {
	d.t.Helper()
	if err != nil {
		d.t.Fatalf("%s: %v", d.key, err)
	}
	data, err := json.Marshal(st)
	if err != nil {
		d.t.Fatal(err)
	}
	d.st = new(machine.State)
	if err := json.Unmarshal(data, d.st); err != nil {
		d.t.Fatal(err)
	}
	for _, e := range effects {
		switch x := e.(type) {
		case machine.TaskCreated:
			d.tasks[x.TokenID] = x
			if x.MIIndex <= 0 {
				d.visited = append(d.visited, x.Name)
			}
			if x.Assignee != "" {
				d.assignee[x.ElementID] = x.Assignee
			}
			d.checkDue(x)
		case machine.TaskCancelled:
			delete(d.tasks, x.TokenID)
		case machine.TimerScheduled:
			d.timers[x.ElementID] = x
			if w, ok := windowDays[d.key][x.ElementID]; ok {
				d.wantTimer(x.ElementID, d.now, w[d.supply])
			} else {
				d.t.Errorf("%s: unexpected timer %s", d.key, x.ElementID)
			}
		case machine.TimerCancelled:
			delete(d.timers, x.ElementID)
		}
	}
}

func (d *driver) checkDue(x machine.TaskCreated) {
	d.t.Helper()
	days, ok := dueDays[d.key][x.ElementID]
	if !ok {
		if !x.DueAt.IsZero() {
			d.t.Errorf("%s/%s: due %v, want none", d.key, x.ElementID, x.DueAt)
		}
		return
	}
	want := d.addDays(days[d.supply])
	if !x.DueAt.Equal(want) {
		d.t.Errorf("%s/%s created %v: due %v, want %d working days later, %v", d.key, x.ElementID, d.now, x.DueAt, days[d.supply], want)
	}
}

func (d *driver) addDays(n int) time.Time {
	d.t.Helper()
	at, err := d.cal.AddDays(d.now, n)
	if err != nil {
		d.t.Fatal(err)
	}
	return at
}

func (d *driver) wantTimer(id string, from time.Time, days int) {
	d.t.Helper()
	want, err := d.cal.AddDays(from, days)
	if err != nil {
		d.t.Fatal(err)
	}
	if got := d.timerAt(id); !got.Equal(want) {
		d.t.Errorf("%s/%s: fires %v, want %d working days after %v", d.key, id, got, days, from)
	}
}

func (d *driver) timerAt(id string) time.Time {
	d.t.Helper()
	tm, ok := d.timers[id]
	if !ok {
		d.t.Fatalf("%s: no timer %s; timers %v", d.key, id, d.timers)
	}
	return tm.At
}

func (d *driver) due(id string) time.Time {
	d.t.Helper()
	for _, x := range d.tasks {
		if x.ElementID == id {
			return x.DueAt
		}
	}
	d.t.Fatalf("%s: no open %s", d.key, id)
	return time.Time{}
}

// complete completes the one open task of element id with its form filled
// in and overrides applied; every override must be a field of the form.
func (d *driver) complete(id string, overrides vars) {
	d.t.Helper()
	d.completeWith(id, overrides, nil)
}

// completeWith is complete plus extra variables the form cannot declare.
func (d *driver) completeWith(id string, overrides, extra vars) {
	d.t.Helper()
	open := d.open(id)
	if len(open) != 1 {
		d.t.Fatalf("%s: want one open %s, have %v (open: %v)", d.key, id, open, d.openElements())
	}
	d.finish(open[0], overrides, extra)
}

// completeFor completes the instance of a multi-instance task assigned to
// who.
func (d *driver) completeFor(id, who string, overrides vars) {
	d.t.Helper()
	for _, tid := range d.open(id) {
		if d.tasks[tid].Assignee == who {
			d.finish(tid, overrides, nil)
			return
		}
	}
	d.t.Fatalf("%s: no open %s for %s", d.key, id, who)
}

func (d *driver) finish(taskID int64, overrides, extra vars) {
	d.t.Helper()
	el := d.def.Elements[d.tasks[taskID].ElementID]
	v := formValues(el)
	for k, x := range overrides {
		if _, ok := v[k]; !ok {
			d.t.Fatalf("%s/%s: %s is not a field of its form", d.key, el.ID, k)
		}
		v[k] = x
	}
	for k, x := range extra {
		v[k] = x
	}
	delete(d.tasks, taskID)
	d.apply(d.m.CompleteTask(d.def, d.st, taskID, v, d.now))
	d.now = d.addDays(1)
}

// formValues fills every field of a step's form with a valid value.
func formValues(el *model.Element) vars {
	v := vars{}
	for _, f := range el.Human.FormFields {
		switch f.Type {
		case "string":
			v[f.ID] = "测试"
		case "long":
			v[f.ID] = 100
		case "boolean":
			v[f.ID] = true
		case "date":
			v[f.ID] = "2025-11-03"
		case "enum":
			v[f.ID] = f.Values[0]
		}
	}
	return v
}

func (d *driver) fire(id string) {
	d.t.Helper()
	tm := d.timers[id]
	delete(d.timers, id)
	d.now = tm.At
	d.apply(d.m.FireTimer(d.def, d.st, tm.ID, d.now))
}

// open returns the ids of the open tasks of element id, oldest first.
func (d *driver) open(id string) []int64 {
	var out []int64
	for tid, x := range d.tasks {
		if x.ElementID == id {
			out = append(out, tid)
		}
	}
	slices.Sort(out)
	return out
}

func (d *driver) openElements() []string {
	var out []string
	for _, x := range d.tasks {
		out = append(out, x.ElementID)
	}
	slices.Sort(out)
	return out
}

func (d *driver) wantAssignees(id string, who ...string) {
	d.t.Helper()
	var got []string
	for _, tid := range d.open(id) {
		got = append(got, d.tasks[tid].Assignee)
	}
	if !slices.Equal(got, who) {
		d.t.Fatalf("%s/%s: assignees %v, want %v", d.key, id, got, who)
	}
}

func (d *driver) wantCompleted() {
	d.t.Helper()
	if d.st.Status != machine.StatusCompleted || len(d.tasks) != 0 || len(d.timers) != 0 {
		d.t.Fatalf("%s: status %s, open tasks %v, timers %v", d.key, d.st.Status, d.openElements(), d.timers)
	}
}

// gaoyaApplication takes 高压 from 受理 to the first 供电方案审核.
func (d *driver) gaoyaApplication() {
	d.t.Helper()
	d.complete("accept_application", vars{"supply": []string{"single", "dual"}[d.supply]})
	d.complete("survey_dispatch", vars{"surveyor": "chen"})
	d.complete("survey_and_draft_scheme", vars{"supply": []string{"single", "dual"}[d.supply]})
}

// gaoyaToContract takes 高压 straight to 拟订供用电合同.
func (d *driver) gaoyaToContract() {
	d.t.Helper()
	d.gaoyaApplication()
	for _, id := range []string{"scheme_review", "scheme_reply", "accept_drawings", "drawing_review_dispatch", "drawing_review",
		"drawing_reply", "accept_mid_check", "mid_check", "mid_check_reply", "accept_completion", "completion_dispatch",
		"completion_acceptance", "acceptance_reply"} {
		d.complete(id, nil)
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
