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
	if state != string(st.Status) {
		return st, fmt.Errorf("instance %d: row state %s, machine %s", id, state, st.Status)
	}
	var wantTasks, wantTimers, wantSubs []string
	for _, tok := range st.Tokens {
		if tok.Kind == machine.TokenTask {
			wantTasks = append(wantTasks, strconv.FormatInt(tok.ID, 10))
		}
	}
	for _, tm := range st.Timers {
		wantTimers = append(wantTimers, fmt.Sprintf("%d:%d", id, tm.ID))
	}
	for _, s := range st.Subs {
		wantSubs = append(wantSubs, strconv.FormatInt(s.ID, 10))
	}
	gotTasks, err := column(ctx, d, `SELECT token_id FROM flow_tasks WHERE instance_id = ? AND state = 'open'`, id)
	if err != nil {
		return st, err
	}
	gotTimers, err := column(ctx, d, `SELECT subject FROM timers WHERE kind = 'flow.timer' AND subject LIKE ? AND state = 'pending'`, fmt.Sprintf("%d:%%", id))
	if err != nil {
		return st, err
	}
	gotSubs, err := column(ctx, d, `SELECT sub_id FROM flow_subscriptions WHERE instance_id = ?`, id)
	if err != nil {
		return st, err
	}
	var problems []string
	for _, c := range []struct {
		what      string
		want, got []string
	}{{"open task tokens", wantTasks, gotTasks}, {"pending timers", wantTimers, gotTimers}, {"subscriptions", wantSubs, gotSubs}} {
		if w, g := sorted(c.want), sorted(c.got); w != g {
			problems = append(problems, fmt.Sprintf("%s: machine [%s], rows [%s]", c.what, w, g))
		}
	}
	if len(problems) > 0 {
		return st, fmt.Errorf("instance %d: %s", id, strings.Join(problems, "; "))
	}
	return st, nil
}

func column(ctx context.Context, d *db.DB, q string, args ...any) ([]string, error) {
	rows, err := d.Q(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
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
