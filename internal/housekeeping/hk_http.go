package housekeeping

import (
	"net/http"
	"strconv"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

// HTTP serves the housekeeping API and pages.
type HTTP struct{ S *Service }

// HotelList lists the sites with rooms the caller may see.
type HotelList struct {
	Items []HotelSite `json:"items"`
}

// RoomTypeList lists a site's room types.
type RoomTypeList struct {
	Items []RoomType `json:"items"`
}

// Routes lists the housekeeping endpoints: the JSON API and the pages.
func (h *HTTP) Routes() []web.Route {
	site := web.Param{Name: "site_id", Type: "integer", Desc: "the hotel site; default: the caller's first site with rooms"}
	roomQuery := []web.Param{site, {Name: "floor", Type: "integer"}, {Name: "code", Desc: "VC, VD, OC, OD, DND, OOO, OOS or ready"},
		{Name: "cleaning"}, {Name: "flag", Desc: "a service flag, or skip/sleep"}, {Name: "attendant_id", Type: "integer"}}
	api := []web.Route{
		{Method: "GET", Path: "/api/v1/hk/sites", Perm: auth.PermHKView, Handler: h.apiSites,
			Doc: &web.Doc{Summary: "Hotel sites with rooms", Tag: "housekeeping", Resp: HotelList{}}},
		{Method: "GET", Path: "/api/v1/hk/rooms", Perm: auth.PermHKView, Handler: h.apiRooms,
			Doc: &web.Doc{Summary: "Rooms with every status dimension and the derived code", Tag: "housekeeping", Query: roomQuery, Resp: RoomList{}}},
		{Method: "POST", Path: "/api/v1/hk/rooms", Perm: auth.PermHKManage, Handler: h.apiCreateRooms,
			Doc: &web.Doc{Summary: "Add rooms of one type on one floor", Tag: "housekeeping", Body: RoomsInput{}, Resp: RoomsCreated{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/v1/hk/rooms/{id}", Perm: auth.PermHKView, Handler: h.apiRoom,
			Doc: &web.Doc{Summary: "One room", Tag: "housekeeping", Resp: Room{}}},
		{Method: "POST", Path: "/api/v1/hk/rooms/{id}/status", Perm: auth.PermHKView, Handler: h.apiStatus,
			Doc: &web.Doc{Summary: "Change one status dimension of a room; 409 names the allowed values", Tag: "housekeeping", Body: RoomStatusInput{}, Resp: Room{}}},
		{Method: "POST", Path: "/api/v1/hk/rooms/bulk-status", Perm: auth.PermHKView, Handler: h.apiBulk,
			Doc: &web.Doc{Summary: "Change one status dimension of several rooms, all or nothing", Tag: "housekeeping", Body: BulkStatusInput{}, Resp: BulkStatusResult{}}},
		{Method: "GET", Path: "/api/v1/hk/rooms/{id}/events", Perm: auth.PermHKView, Handler: h.apiTimeline,
			Doc: &web.Doc{Summary: "A room's timeline, newest first", Tag: "housekeeping",
				Query: []web.Param{{Name: "before", Type: "integer", Desc: "an event id: the page before it"}, {Name: "limit", Type: "integer"}}, Resp: EventPage{}}},
		{Method: "POST", Path: "/api/v1/hk/rooms/{id}/inspection", Perm: auth.PermHKInspect, Handler: h.apiInspect,
			Doc: &web.Doc{Summary: "Inspect a clean room: pass (inspected) or fail (dirty, with reasons)", Tag: "housekeeping", Body: InspectionInput{}, Resp: RoomInspection{}, Status: http.StatusCreated}},
		{Method: "POST", Path: "/api/v1/hk/rooms/{id}/damage", Perm: auth.PermHKClean, Handler: h.apiDamage,
			Doc: &web.Doc{Summary: "Report damage: maintenance in the process engine, optionally out of order", Tag: "housekeeping", Body: DamageReportInput{}, Resp: RepairOrder{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/v1/hk/board", Perm: auth.PermHKView, Handler: h.apiBoard,
			Doc: &web.Doc{Summary: "The room board by floor, now or at a past instant", Tag: "housekeeping",
				Query: append(roomQuery, web.Param{Name: "at", Desc: "RFC 3339 instant: the board as it was then"}), Resp: RoomBoard{}}},
		{Method: "POST", Path: "/api/v1/hk/front-office", Perm: auth.PermHKDesk, Handler: h.apiFeed,
			Doc: &web.Doc{Summary: "Front-office feed: arrivals, departures, check-ins, check-outs, in-house rooms", Tag: "housekeeping", Body: FeedInput{}, Resp: FeedResult{}}},
		{Method: "POST", Path: "/api/v1/hk/front-office/csv", Perm: auth.PermHKDesk, Handler: h.apiFeedCSV,
			Doc: &web.Doc{Summary: "Front-office feed as CSV (room,event)", Tag: "housekeeping", Query: []web.Param{site}, RawBody: []string{"text/csv"}, Resp: FeedResult{}}},
		{Method: "GET", Path: "/api/v1/hk/room-types", Perm: auth.PermHKView, Handler: h.apiTypes,
			Doc: &web.Doc{Summary: "Room types with credits, minutes and checklists", Tag: "housekeeping", Query: []web.Param{site}, Resp: RoomTypeList{}}},
		{Method: "POST", Path: "/api/v1/hk/room-types", Perm: auth.PermHKManage, Handler: h.apiCreateType,
			Doc: &web.Doc{Summary: "Add a room type", Tag: "housekeeping", Body: RoomTypeInput{}, Resp: RoomType{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/v1/hk/sites/{id}/settings", Perm: auth.PermHKView, Handler: h.apiSettings,
			Doc: &web.Doc{Summary: "A site's housekeeping settings", Tag: "housekeeping", Resp: SiteSettings{}}},
		{Method: "PUT", Path: "/api/v1/hk/sites/{id}/settings", Perm: auth.PermHKManage, Handler: h.apiSaveSettings,
			Doc: &web.Doc{Summary: "Change a site's housekeeping settings", Tag: "housekeeping", Body: SiteSettingsInput{}, Resp: SiteSettings{}}},
		{Method: "GET", Path: "/api/v1/hk/work", Perm: auth.PermHKView, Handler: h.apiWork,
			Doc: &web.Doc{Summary: "A day's work", Tag: "housekeeping",
				Query: []web.Param{site, {Name: "date", Desc: "YYYY-MM-DD; default today"}, {Name: "attendant_id", Type: "integer"}}, Resp: WorkList{}}},
		{Method: "POST", Path: "/api/v1/hk/work/generate", Perm: auth.PermHKInspect, Handler: h.apiGenerate,
			Doc: &web.Doc{Summary: "Generate the day's work from the rooms' states", Tag: "housekeeping", Body: WorkDayInput{}, Resp: WorkDay{}}},
		{Method: "POST", Path: "/api/v1/hk/work/auto-assign", Perm: auth.PermHKInspect, Handler: h.apiAutoAssign,
			Doc: &web.Doc{Summary: "Share the day's open work among attendants by credits", Tag: "housekeeping", Body: AutoAssignInput{}, Resp: WorkDay{}}},
		{Method: "POST", Path: "/api/v1/hk/work/{id}/assign", Perm: auth.PermHKInspect, Handler: h.apiMove,
			Doc: &web.Doc{Summary: "Give a room to an attendant at a position in their list", Tag: "housekeeping", Body: WorkMoveInput{}, Resp: WorkItem{}}},
		{Method: "POST", Path: "/api/v1/hk/work/{id}/start", Perm: auth.PermHKClean, Handler: h.apiStart,
			Doc: &web.Doc{Summary: "Start cleaning a room (cleaning)", Tag: "housekeeping", Resp: WorkItem{}}},
		{Method: "POST", Path: "/api/v1/hk/work/{id}/finish", Perm: auth.PermHKClean, Handler: h.apiFinish,
			Doc: &web.Doc{Summary: "Finish with every checklist step ticked (clean)", Tag: "housekeeping", Body: FinishCleanInput{}, Resp: WorkItem{}}},
		{Method: "POST", Path: "/api/v1/hk/work/{id}/skip", Perm: auth.PermHKClean, Handler: h.apiSkip,
			Doc: &web.Doc{Summary: "Do not enter: DND or refused service", Tag: "housekeeping", Body: SkipCleanInput{}, Resp: WorkItem{}}},
		{Method: "GET", Path: "/api/v1/hk/tasks", Perm: auth.PermHKView, Handler: h.apiTasks,
			Doc: &web.Doc{Summary: "DND calls, in-person checks and welfare checks", Tag: "housekeeping",
				Query: []web.Param{site, {Name: "state", Desc: "open (default) or closed (the last day)"}}, Resp: DNDTaskList{}}},
		{Method: "POST", Path: "/api/v1/hk/tasks/{id}/outcome", Perm: auth.PermHKView, Handler: h.apiOutcome,
			Doc: &web.Doc{Summary: "Record what a call or check found", Tag: "housekeeping", Body: DNDOutcomeInput{}, Resp: DNDTask{}}},
	}
	api = append(api, h.ledgerAPIRoutes()...)
	api = append(api, h.pageRoutes()...)
	api = append(api, h.setupRoutes()...)
	return append(api, h.ledgerPageRoutes()...)
}

func (h *HTTP) apiSites(c *web.Ctx) error {
	sites, err := h.S.Sites(c.R.Context(), auth.PermHKView)
	if err != nil {
		return err
	}
	if sites == nil {
		sites = []HotelSite{}
	}
	return c.JSON(http.StatusOK, HotelList{Items: sites})
}

func roomFilter(c *web.Ctx) RoomFilter {
	return RoomFilter{Floor: c.QueryInt("floor", 0), Code: c.Query("code"), Cleaning: c.Query("cleaning"), Flag: c.Query("flag"), AttendantID: c.QueryInt64("attendant_id")}
}

func (h *HTTP) apiRooms(c *web.Ctx) error {
	l, err := h.S.Rooms(c.R.Context(), c.QueryInt64("site_id"), roomFilter(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (h *HTTP) apiCreateRooms(c *web.Ctx) error {
	var in RoomsInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := h.S.CreateRooms(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (h *HTTP) apiRoom(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	r, err := h.S.Room(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (h *HTTP) apiStatus(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in RoomStatusInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	r, err := h.S.ChangeStatus(c.R.Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (h *HTTP) apiBulk(c *web.Ctx) error {
	var in BulkStatusInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := h.S.BulkStatus(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (h *HTTP) apiTimeline(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	tl, err := h.S.RoomTimeline(c.R.Context(), id, c.QueryInt64("before"), c.QueryInt("limit", 50))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tl)
}

func (h *HTTP) apiInspect(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in InspectionInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := h.S.Inspect(c.R.Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (h *HTTP) apiDamage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in DamageReportInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := h.S.ReportDamage(c.R.Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

// queryAt reads the "at" parameter: nil when absent, EInvalid when it is
// not an RFC 3339 instant.
func queryAt(c *web.Ctx) (*time.Time, error) {
	s := c.Query("at")
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, errs.Invalid("at", "error.field.wrong_type")
	}
	return &t, nil
}

func (h *HTTP) apiBoard(c *web.Ctx) error {
	at, err := queryAt(c)
	if err != nil {
		return err
	}
	b, err := h.S.Board(c.R.Context(), c.QueryInt64("site_id"), at, roomFilter(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b)
}

func (h *HTTP) apiFeed(c *web.Ctx) error {
	var in FeedInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := h.S.Feed(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (h *HTTP) apiFeedCSV(c *web.Ctx) error {
	b, err := c.RawBody(4 << 20)
	if err != nil {
		return err
	}
	items, err := ParseFeedCSV(b)
	if err != nil {
		return err
	}
	out, err := h.S.Feed(c.R.Context(), FeedInput{SiteID: c.QueryInt64("site_id"), Items: items})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (h *HTTP) apiTypes(c *web.Ctx) error {
	site, err := h.S.siteOrDefault(c.R.Context(), c.QueryInt64("site_id"), auth.PermHKView)
	if err != nil {
		return err
	}
	out := RoomTypeList{Items: []RoomType{}}
	if site != nil {
		if out.Items, err = h.S.RoomTypes(c.R.Context(), site.ID); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (h *HTTP) apiCreateType(c *web.Ctx) error {
	var in RoomTypeInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	t, err := h.S.CreateRoomType(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, t)
}

func (h *HTTP) apiSettings(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	site, err := h.S.site(c.R.Context(), id, auth.PermHKView)
	if err != nil {
		return err
	}
	st, err := h.S.Settings(c.R.Context(), site.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (h *HTTP) apiSaveSettings(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	if _, err := h.S.site(c.R.Context(), id, auth.PermHKManage); err != nil {
		return err
	}
	var in SiteSettingsInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	st, err := h.S.SaveSettings(c.R.Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (h *HTTP) apiWork(c *web.Ctx) error {
	l, err := h.S.Work(c.R.Context(), c.QueryInt64("site_id"), c.Query("date"), c.QueryInt64("attendant_id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (h *HTTP) apiGenerate(c *web.Ctx) error {
	var in WorkDayInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	d, err := h.S.Generate(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (h *HTTP) apiAutoAssign(c *web.Ctx) error {
	var in AutoAssignInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	d, err := h.S.AutoAssign(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (h *HTTP) apiMove(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in WorkMoveInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	w, err := h.S.Move(c.R.Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, w)
}

func (h *HTTP) apiStart(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	w, err := h.S.StartClean(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, w)
}

func (h *HTTP) apiFinish(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in FinishCleanInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	w, err := h.S.FinishClean(c.R.Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, w)
}

func (h *HTTP) apiSkip(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in SkipCleanInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	w, err := h.S.Skip(c.R.Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, w)
}

func (h *HTTP) apiTasks(c *web.Ctx) error {
	l, err := h.S.Tasks(c.R.Context(), c.QueryInt64("site_id"), c.Query("state"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (h *HTTP) apiOutcome(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in DNDOutcomeInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	t, err := h.S.TaskOutcome(c.R.Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
