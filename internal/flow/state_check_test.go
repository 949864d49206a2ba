package flow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/flow/machine"
)

// instanceState reads an instance's row state and its machine state.
func instanceState(ctx context.Context, d *db.DB, id int64) (string, *machine.State, error) {
	var state, raw string
	if err := d.Q(ctx).QueryRowContext(ctx, `SELECT state, machine FROM flow_instances WHERE id = ?`, id).Scan(&state, &raw); err != nil {
		return "", nil, fmt.Errorf("instance %d: %w", id, err)
	}
	st := &machine.State{}
	if err := json.Unmarshal([]byte(raw), st); err != nil {
		return "", nil, fmt.Errorf("instance %d state: %w", id, err)
	}
	return state, st, nil
}

// checkInstance verifies that the rows around an instance agree with its
// machine state: one open task row per waiting task token and none for any
// other token, one pending timer row per machine timer, one subscription
// row per machine subscription, and the row's state equals the machine's.
// It returns the machine state.
func checkInstance(ctx context.Context, d *db.DB, id int64) (*machine.State, error) {
	state, st, err := instanceState(ctx, d, id)
	if err != nil {
		return nil, err
	}
	var rows instanceRows
	if rows.tasks, err = column(ctx, d, `SELECT token_id FROM flow_tasks WHERE instance_id = ? AND state = 'open'`, id); err != nil {
		return st, err
	}
	if rows.timers, err = column(ctx, d, `SELECT subject FROM timers WHERE kind = 'flow.timer' AND subject LIKE ? AND state = 'pending'`, fmt.Sprintf("%d:%%", id)); err != nil {
		return st, err
	}
	if rows.subs, err = column(ctx, d, `SELECT sub_id FROM flow_subscriptions WHERE instance_id = ?`, id); err != nil {
		return st, err
	}
	return st, compareInstance(id, state, st, rows)
}

// instanceRows are the rows that mirror one instance's machine state.
type instanceRows struct{ tasks, timers, subs []string }

func compareInstance(id int64, state string, st *machine.State, rows instanceRows) error {
	if state != string(st.Status) {
		return fmt.Errorf("instance %d: row state %s, machine %s", id, state, st.Status)
	}
	var want instanceRows
	for _, tok := range st.Tokens {
		if tok.Kind == machine.TokenTask {
			want.tasks = append(want.tasks, strconv.FormatInt(tok.ID, 10))
		}
	}
	for _, tm := range st.Timers {
		want.timers = append(want.timers, subjectOf(id, tm.ID))
	}
	for _, s := range st.Subs {
		want.subs = append(want.subs, strconv.FormatInt(s.ID, 10))
	}
	var problems []string
	for _, c := range []struct {
		what      string
		want, got []string
	}{{"open task tokens", want.tasks, rows.tasks}, {"pending timers", want.timers, rows.timers}, {"subscriptions", want.subs, rows.subs}} {
		if w, g := sorted(c.want), sorted(c.got); w != g {
			problems = append(problems, fmt.Sprintf("%s: machine [%s], rows [%s]", c.what, w, g))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("instance %d: %s", id, strings.Join(problems, "; "))
	}
	return nil
}

// checkAllInstances is checkInstance for every instance, reading each table
// once. It returns the machine states and the problems found.
func checkAllInstances(ctx context.Context, d *db.DB) (map[int64]*machine.State, []error, error) {
	states := map[int64]*machine.State{}
	rowState := map[int64]string{}
	mirror := map[int64]*instanceRows{}
	rows, err := d.Q(ctx).QueryContext(ctx, `SELECT id, state, machine FROM flow_instances`)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var id int64
		var state, raw string
		if err := rows.Scan(&id, &state, &raw); err != nil {
			rows.Close()
			return nil, nil, err
		}
		st := &machine.State{}
		if err := json.Unmarshal([]byte(raw), st); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("instance %d state: %w", id, err)
		}
		states[id], rowState[id], mirror[id] = st, state, &instanceRows{}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var problems []error
	add := func(q string, to func(r *instanceRows, v string)) error {
		rows, err := d.Q(ctx).QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var inst, v string
			if err := rows.Scan(&inst, &v); err != nil {
				return err
			}
			inst, _, _ = strings.Cut(inst, ":") // a timer's subject is "instance:timer"
			id, _ := strconv.ParseInt(inst, 10, 64)
			r := mirror[id]
			if r == nil {
				problems = append(problems, fmt.Errorf("row of a missing instance %d: %s", id, v))
				continue
			}
			to(r, v)
		}
		return rows.Err()
	}
	if err := add(`SELECT instance_id, token_id FROM flow_tasks WHERE state = 'open'`, func(r *instanceRows, v string) { r.tasks = append(r.tasks, v) }); err != nil {
		return nil, nil, err
	}
	if err := add(`SELECT subject, subject FROM timers WHERE kind = 'flow.timer' AND state = 'pending'`, func(r *instanceRows, v string) { r.timers = append(r.timers, v) }); err != nil {
		return nil, nil, err
	}
	if err := add(`SELECT instance_id, sub_id FROM flow_subscriptions`, func(r *instanceRows, v string) { r.subs = append(r.subs, v) }); err != nil {
		return nil, nil, err
	}
	for id, st := range states {
		if err := compareInstance(id, rowState[id], st, *mirror[id]); err != nil {
			problems = append(problems, err)
		}
	}
	return states, problems, nil
}

func column(ctx context.Context, d *db.DB, q string, args ...any) ([]string, error) {
	out, err := db.Column[string](ctx, d.Q(ctx), q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q, err)
	}
	return out, nil
}

func sorted(s []string) string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return strings.Join(c, " ")
}

func subjectOf(instanceID, timerID int64) string { return fmt.Sprintf("%d:%d", instanceID, timerID) }

func atoi(tb interface{ Fatal(...any) }, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
