package flow

import (
	"context"
	"fmt"
	"strings"
)

// StaffNames returns the display names of staff ids (deployers, assignees
// and dispatchers named in a timeline). Unknown ids are left out. Names are
// not personal data in the PIPL sense here: every colleague sees them on
// the tasks they share.
func (e *Engine) StaffNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	uniq := make([]any, 0, len(ids))
	seen := map[int64]bool{}
	for _, id := range ids {
		if id != 0 && !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	for len(uniq) > 0 {
		n := min(len(uniq), 200)
		batch := uniq[:n]
		uniq = uniq[n:]
		rows, err := e.db.Q(ctx).QueryContext(ctx, `SELECT id, name FROM staff WHERE id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(batch)), ", ")+`)`, batch...)
		if err != nil {
			return nil, fmt.Errorf("flow: staff names: %w", err)
		}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = name
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
