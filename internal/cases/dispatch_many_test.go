package cases_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
)

// Batch dispatch over the API is all or nothing: three new cases go to the
// technician together; a batch holding a closed case is refused naming
// that case, and its other case stays where it was.
func TestDispatchMany(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		site, unit, category := fixture(t, e)
		butler := e.Login("butler")
		tech := e.StaffID("technician")
		open := func() int64 {
			var out cases.Created
			if res := e.Do("POST", "/api/v1/cases", butler, map[string]any{"type": "repair", "site_id": site, "unit_id": unit, "category_id": category,
				"description": "楼道灯不亮"}, &out); res.StatusCode != http.StatusCreated {
				t.Fatalf("create: %d %s", res.StatusCode, res.Body)
			}
			return out.Case.ID
		}
		state := func(id int64) (string, *int64) {
			var c cases.Case
			if res := e.Do("GET", fmt.Sprintf("/api/v1/cases/%d", id), butler, nil, &c); res.StatusCode != http.StatusOK {
				t.Fatalf("get %d: %d", id, res.StatusCode)
			}
			return c.State, c.AssigneeID
		}
		ids := []int64{open(), open(), open()}
		var out cases.Dispatched
		if res := e.Do("POST", "/api/v1/cases/dispatch", butler, map[string]any{"case_ids": ids, "assignee_id": tech}, &out); res.StatusCode != http.StatusOK || len(out.Cases) != 3 {
			t.Fatalf("batch: %d %s", res.StatusCode, res.Body)
		}
		for _, id := range ids {
			if st, who := state(id); st != cases.StateDispatched || who == nil || *who != tech {
				t.Fatalf("case %d: %s %v", id, st, who)
			}
		}
		fresh, closed := open(), open()
		act(t, e, butler, closed, "close", map[string]any{"reason": "重复报事"}, http.StatusOK)
		res := e.Do("POST", "/api/v1/cases/dispatch", butler, map[string]any{"case_ids": []int64{fresh, closed}, "assignee_id": tech}, nil)
		if res.StatusCode != http.StatusConflict || !strings.Contains(string(res.Body), strconv.FormatInt(closed, 10)) {
			t.Fatalf("batch with a closed case: %d %s", res.StatusCode, res.Body)
		}
		if st, who := state(fresh); st != cases.StateNew || who != nil {
			t.Fatalf("the batch's other case changed: %s %v", st, who)
		}
		for name, body := range map[string]map[string]any{
			"no cases":   {"case_ids": []int64{}, "assignee_id": tech},
			"twice":      {"case_ids": []int64{fresh, fresh}, "assignee_id": tech},
			"no target":  {"case_ids": []int64{fresh}},
			"two target": {"case_ids": []int64{fresh}, "assignee_id": tech, "department_id": 1},
		} {
			if res := e.Do("POST", "/api/v1/cases/dispatch", butler, body, nil); res.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d %s", name, res.StatusCode, res.Body)
			}
		}
		// The list page: tick two open cases and dispatch them.
		a, b := open(), open()
		u := signIn(t, e, "butler")
		page := u.get("/cases?state=open")
		if page.StatusCode != http.StatusOK || !strings.Contains(string(page.Body), `id="batch-dispatch"`) ||
			!strings.Contains(string(page.Body), fmt.Sprintf(`name="case_ids" value="%d" form="batch-dispatch"`, a)) {
			t.Fatalf("list page: %d, no batch form", page.StatusCode)
		}
		res = u.post("/cases/dispatch", url.Values{"case_ids": {strconv.FormatInt(a, 10), strconv.FormatInt(b, 10)}, "target": {"person"},
			"assignee_id": {strconv.FormatInt(tech, 10)}, "next": {"/cases?state=open"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/cases?state=open&ok=batch" {
			t.Fatalf("batch form: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		for _, id := range []int64{a, b} {
			if st, _ := state(id); st != cases.StateDispatched {
				t.Fatalf("case %d after the form: %s", id, st)
			}
		}
		// Nothing ticked: the list again with the reason, nothing changed.
		if res := u.post("/cases/dispatch", url.Values{"target": {"person"}, "assignee_id": {strconv.FormatInt(tech, 10)}}); res.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(string(res.Body), `id="batch-error"`) {
			t.Fatalf("empty batch form: %d", res.StatusCode)
		}
	})
}
