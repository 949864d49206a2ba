package housekeeping

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

// The setup page: a site's settings, its room types with their checklists,
// and adding rooms floor by floor.

func (h *HTTP) setupRoutes() []web.Route {
	return []web.Route{
		{Method: "GET", Path: "/hk/setup", Perm: auth.PermHKManage, Handler: h.setupPage},
		{Method: "POST", Path: "/hk/setup/settings", Perm: auth.PermHKManage, Handler: h.settingsForm},
		{Method: "POST", Path: "/hk/setup/types", Perm: auth.PermHKManage, Handler: h.typeForm},
		{Method: "POST", Path: "/hk/setup/types/{id}/checklist", Perm: auth.PermHKManage, Handler: h.checklistForm},
		{Method: "POST", Path: "/hk/setup/rooms", Perm: auth.PermHKManage, Handler: h.roomsForm},
	}
}

type setupFloor struct {
	ID   int64
	Name string
}

type setupType struct {
	RoomType
	Rooms int
	Lines string // the checklist, one step a line
	Own   bool   // the type has its own checklist
}

type setupData struct {
	*ledgerBase
	Settings SiteSettings
	Calls    string
	Types    []setupType
	Floors   []setupFloor
	Rooms    int
}

func (h *HTTP) setupData(c *web.Ctx) (*setupData, error) {
	ctx := c.R.Context()
	b, err := h.ledgerBase(c, auth.PermHKManage)
	if err != nil {
		return nil, err
	}
	d := &setupData{ledgerBase: b}
	site := b.Site
	if site == nil {
		// A hotel without rooms yet: the first hotel site the caller manages.
		rows, err := h.S.db.Q(ctx).QueryContext(ctx, `SELECT id FROM org_nodes WHERE kind = 'site' AND site_kind = 'hotel' ORDER BY path`)
		if err != nil {
			return nil, err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if rows.Scan(&id) == nil {
				ids = append(ids, id)
			}
		}
		rows.Close()
		for _, id := range ids {
			if st, err := h.S.site(ctx, id, auth.PermHKManage); err == nil {
				site = st
				break
			}
		}
		if id := c.QueryInt64("site_id"); id != 0 {
			if st, err := h.S.site(ctx, id, auth.PermHKManage); err == nil {
				site = st
			}
		}
		b.Site = site
	}
	if site == nil {
		return d, nil
	}
	if d.Settings, err = h.S.Settings(ctx, site.ID); err != nil {
		return nil, err
	}
	d.Calls = strings.Join(d.Settings.DNDCallTimes, ",")
	types, err := h.S.RoomTypes(ctx, site.ID)
	if err != nil {
		return nil, err
	}
	counts := map[int64]int{}
	rows, err := h.S.db.Q(ctx).QueryContext(ctx, `SELECT type_id, COUNT(*) FROM hk_rooms WHERE site_id = ? GROUP BY type_id`, site.ID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, err
		}
		counts[id] = n
		d.Rooms += n
	}
	rows.Close()
	for _, t := range types {
		st := setupType{RoomType: t, Rooms: counts[t.ID]}
		var lines []string
		for _, s := range t.Checklist {
			if s.Text != "" {
				lines = append(lines, s.Text)
				st.Own = true
			} else {
				lines = append(lines, c.L.T("hk.step."+s.ID))
			}
		}
		st.Lines = strings.Join(lines, "\n")
		d.Types = append(d.Types, st)
	}
	rows, err = h.S.db.Q(ctx).QueryContext(ctx, `SELECT id, name FROM org_nodes WHERE parent_id = ? AND kind = 'area' ORDER BY sort, id`, site.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var f setupFloor
		if err := rows.Scan(&f.ID, &f.Name); err != nil {
			return nil, err
		}
		d.Floors = append(d.Floors, f)
	}
	return d, rows.Err()
}

func (h *HTTP) setupPage(c *web.Ctx) error {
	return show(c, "hk_setup", func() (any, error) { return h.setupData(c) })
}

func (h *HTTP) setupError(c *web.Ctx, err error) error {
	return rerender(c, err, "hk_setup", func() (any, error) { return h.setupData(c) })
}

func (h *HTTP) settingsForm(c *web.Ctx) error {
	var f struct {
		SiteID             int64  `json:"site_id"`
		InspectionRequired bool   `json:"inspection_required"`
		Calls              string `json:"dnd_call_times"`
		RollTime           string `json:"roll_time"`
		RoomsMin           int    `json:"rooms_min"`
		RoomsMax           int    `json:"rooms_max"`
		LostFoundDays      int    `json:"lost_found_days"`
	}
	if err := c.Decode(&f); err != nil {
		return err
	}
	in := SiteSettingsInput{InspectionRequired: f.InspectionRequired, DNDCallTimes: splitTimes(strings.NewReplacer("，", ",", " ", ",").Replace(f.Calls)),
		RollTime: f.RollTime, RoomsMin: f.RoomsMin, RoomsMax: f.RoomsMax, LostFoundDays: f.LostFoundDays}
	if _, err := h.S.SaveSettings(c.R.Context(), f.SiteID, in); err != nil {
		return h.setupError(c, err)
	}
	return c.Redirect(fmt.Sprintf("/hk/setup?site_id=%d&done=saved", f.SiteID))
}

// tenths reads "1", "0.5" or "1.5" rooms as tenths of a credit.
func tenths(s string) (int, bool) {
	fen, ok := parseYuan(s)
	return int(fen / 10), ok && fen%10 == 0
}

func (h *HTTP) typeForm(c *web.Ctx) error {
	var f struct {
		SiteID          int64  `json:"site_id"`
		Code            string `json:"code"`
		Name            string `json:"name"`
		BedStyle        string `json:"bed_style"`
		CreditsCheckout string `json:"credits_checkout"`
		CreditsStayover string `json:"credits_stayover"`
		MinutesCheckout int    `json:"minutes_checkout"`
		MinutesStayover int    `json:"minutes_stayover"`
	}
	if err := c.Decode(&f); err != nil {
		return err
	}
	co, ok1 := tenths(f.CreditsCheckout)
	so, ok2 := tenths(f.CreditsStayover)
	if !ok1 || !ok2 {
		return h.setupError(c, errs.Invalid("credits", "error.field.wrong_type"))
	}
	in := RoomTypeInput{SiteID: f.SiteID, Code: f.Code, Name: f.Name, BedStyle: f.BedStyle,
		Credits: map[string]int{CleanCheckout: co, CleanStayover: so}, Minutes: map[string]int{CleanCheckout: f.MinutesCheckout, CleanStayover: f.MinutesStayover}}
	if _, err := h.S.CreateRoomType(c.R.Context(), in); err != nil {
		return h.setupError(c, err)
	}
	return c.Redirect(fmt.Sprintf("/hk/setup?site_id=%d&done=saved", f.SiteID))
}

func (h *HTTP) checklistForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var f struct {
		SiteID   int64  `json:"site_id"`
		Lines    string `json:"lines"`
		Standard bool   `json:"standard"`
	}
	if err := c.Decode(&f); err != nil {
		return err
	}
	var steps []ChecklistStep
	if !f.Standard {
		n := 0
		for _, line := range strings.Split(f.Lines, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				n++
				steps = append(steps, ChecklistStep{ID: "s" + strconv.Itoa(n), Text: line})
			}
		}
	}
	if err := h.S.SetChecklist(c.R.Context(), id, steps); err != nil {
		return h.setupError(c, err)
	}
	return c.Redirect(fmt.Sprintf("/hk/setup?site_id=%d&done=saved#type-%d", f.SiteID, id))
}

func (h *HTTP) roomsForm(c *web.Ctx) error {
	var f struct {
		SiteID  int64  `json:"site_id"`
		FloorID int64  `json:"floor_id"`
		Floor   int    `json:"floor"`
		TypeID  int64  `json:"type_id"`
		Numbers string `json:"numbers"`
	}
	if err := c.Decode(&f); err != nil {
		return err
	}
	nums, err := ExpandNumbers(f.Numbers)
	if err == nil {
		_, err = h.S.CreateRooms(c.R.Context(), RoomsInput{SiteID: f.SiteID, FloorID: f.FloorID, Floor: f.Floor, TypeID: f.TypeID, Numbers: nums})
	}
	if err != nil {
		return h.setupError(c, err)
	}
	return c.Redirect(fmt.Sprintf("/hk/setup?site_id=%d&done=saved", f.SiteID))
}
