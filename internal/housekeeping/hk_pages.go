package housekeeping

import (
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/i18n"
	"github.com/guanjia/guanjia/internal/web"
)

//go:embed templates
var templatesFS embed.FS

// AddPages registers the housekeeping pages; every page gets the shared
// partials of templates/partials.tmpl.
func AddPages(r *web.Renderer) error {
	return r.AddPages(templatesFS, "templates", "templates/partials.tmpl")
}

// Nav lists the housekeeping entries of the main navigation.
func Nav() []web.NavItem {
	return []web.NavItem{
		{Key: "nav.hk_board", Href: "/hk/board", Perm: auth.PermHKView},
		{Key: "nav.hk_my", Href: "/hk/my", Perm: auth.PermHKClean},
		{Key: "nav.hk_assign", Href: "/hk/assign", Perm: auth.PermHKInspect},
		{Key: "nav.hk_tasks", Href: "/hk/tasks", Perm: auth.PermHKDesk},
		{Key: "nav.hk_desk", Href: "/hk/desk", Perm: auth.PermHKDesk},
		{Key: "nav.hk_reports", Href: "/hk/reports", Perm: auth.PermHKInspect},
		{Key: "nav.hk_setup", Href: "/hk/setup", Perm: auth.PermHKManage, Group: "nav.group.admin"},
	}
}

func (h *HTTP) pageRoutes() []web.Route {
	return []web.Route{
		{Method: "GET", Path: "/hk", Perm: auth.PermHKView, Handler: h.homePage},
		{Method: "GET", Path: "/hk/board", Perm: auth.PermHKView, Handler: h.boardPage},
		{Method: "POST", Path: "/hk/board/bulk", Perm: auth.PermHKView, Handler: h.bulkForm},
		{Method: "GET", Path: "/hk/rooms/{id}", Perm: auth.PermHKView, Handler: h.roomPage},
		{Method: "POST", Path: "/hk/rooms/{id}/status", Perm: auth.PermHKView, Handler: h.statusForm},
		{Method: "POST", Path: "/hk/rooms/{id}/inspect", Perm: auth.PermHKInspect, Handler: h.inspectForm},
		{Method: "POST", Path: "/hk/rooms/{id}/damage", Perm: auth.PermHKClean, Handler: h.damageForm},
		{Method: "GET", Path: "/hk/my", Perm: auth.PermHKClean, Handler: h.myPage},
		{Method: "GET", Path: "/hk/work/{id}", Perm: auth.PermHKClean, Handler: h.workPage},
		{Method: "POST", Path: "/hk/work/{id}/start", Perm: auth.PermHKClean, Handler: h.startForm},
		{Method: "POST", Path: "/hk/work/{id}/finish", Perm: auth.PermHKClean, Handler: h.finishForm},
		{Method: "POST", Path: "/hk/work/{id}/skip", Perm: auth.PermHKClean, Handler: h.skipForm},
		{Method: "POST", Path: "/hk/work/{id}/reorder", Perm: auth.PermHKClean, Handler: h.reorderForm},
		{Method: "POST", Path: "/hk/work/{id}/assign", Perm: auth.PermHKInspect, Handler: h.assignForm},
		{Method: "GET", Path: "/hk/assign", Perm: auth.PermHKInspect, Handler: h.assignPage},
		{Method: "POST", Path: "/hk/assign/generate", Perm: auth.PermHKInspect, Handler: h.generateForm},
		{Method: "POST", Path: "/hk/assign/auto", Perm: auth.PermHKInspect, Handler: h.autoForm},
		{Method: "GET", Path: "/hk/sheets", Perm: auth.PermHKView, Handler: h.sheetsPage},
		{Method: "GET", Path: "/hk/tasks", Perm: auth.PermHKView, Handler: h.tasksPage},
		{Method: "POST", Path: "/hk/tasks/{id}/outcome", Perm: auth.PermHKView, Handler: h.outcomeForm},
		{Method: "GET", Path: "/hk/front-office", Perm: auth.PermHKDesk, Handler: h.frontOfficePage},
		{Method: "POST", Path: "/hk/front-office", Perm: auth.PermHKDesk, Handler: h.frontOfficeForm},
	}
}

func (h *HTTP) homePage(c *web.Ctx) error {
	if c.P.CanAnywhere(auth.PermHKClean) && !c.P.CanAnywhere(auth.PermHKInspect) {
		return c.Redirect("/hk/my")
	}
	return c.Redirect("/hk/board")
}

// words are the short labels the board's script needs to redraw a room.
func words(l i18n.Localizer) map[string]string {
	w := map[string]string{}
	for _, c := range Codes {
		w["code."+c] = l.T("hk.code." + c)
	}
	w["code.VC.ready"] = l.T("hk.code.VC.ready")
	for _, c := range CleaningValues {
		w["cleaning."+c] = l.T("hk.cleaning." + c)
	}
	for _, f := range FlagValues {
		w["flag."+f] = l.T("hk.flag_short." + f)
	}
	w["disc.skip"] = l.T("hk.disc_short.skip")
	w["disc.sleep"] = l.T("hk.disc_short.sleep")
	w["changed"] = l.T("hk.board.changed")
	w["floor_n"] = l.T("hk.floor_n")
	return w
}

// ---- the board ----

type boardData struct {
	Board      *RoomBoard
	Sites      []HotelSite
	Filter     RoomFilter
	Attendants []Attendant
	Floors     []int
	Words      map[string]string
	Topic      string
	Live       bool
	Minute     int // minutes since the start of the shown day
	MaxMinute  int
	AtLabel    string
	CanBulk    bool
	Flash      string
	Codes      []string
	Flags      []string
	Cleanings  []string
	Grid       template.HTML
}

func (h *HTTP) boardData(c *web.Ctx) (*boardData, error) {
	ctx := c.R.Context()
	d := &boardData{Filter: roomFilter(c), Words: words(c.L), Live: true, Codes: Codes, Flags: FlagValues, Cleanings: CleaningValues}
	var err error
	if d.Sites, err = h.S.Sites(ctx, auth.PermHKView); err != nil {
		return nil, err
	}
	siteID := c.QueryInt64("site_id")
	site, err := h.S.siteOrDefault(ctx, siteID, auth.PermHKView)
	if err != nil {
		return nil, err
	}
	var at *time.Time
	now := h.S.now(ctx)
	if site != nil {
		local := now.In(site.Zone)
		dayStart := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, site.Zone)
		d.MaxMinute = int(now.Sub(dayStart).Minutes())
		d.Minute = d.MaxMinute
		if s := c.Query("minute"); s != "" {
			if m, err := strconv.Atoi(s); err == nil && m >= 0 && m < d.MaxMinute {
				t := dayStart.Add(time.Duration(m) * time.Minute)
				at, d.Minute = &t, m
			}
		} else if t, err := queryAt(c); err != nil {
			return nil, err
		} else if t != nil && t.Before(now) {
			at = t
			if t.After(dayStart) {
				d.Minute = int(t.Sub(dayStart).Minutes())
			} else {
				d.Minute = 0
			}
		}
		d.Topic = "node:" + site.Path
	}
	d.Live = at == nil
	// The board lists every room; the filter hides, so live counts stay
	// right and a filter change needs no reload.
	if d.Board, err = h.S.Board(ctx, siteID, at, RoomFilter{}); err != nil {
		return nil, err
	}
	if at != nil {
		d.AtLabel = web.FormatTime(*at, "2006-01-02 15:04")
	}
	if site != nil {
		if d.Attendants, err = h.S.siteAttendants(ctx, site); err != nil {
			return nil, err
		}
		d.CanBulk = c.P.Can(auth.PermHKInspect, site.Path) || c.P.Can(auth.PermHKDesk, site.Path)
	}
	for _, f := range d.Board.Floors {
		d.Floors = append(d.Floors, f.Floor)
	}
	d.Grid = gridHTML(d.Board, d.Filter, d.Words)
	d.Flash = flashKey(c.Query("done"))
	return d, nil
}

func (h *HTTP) boardPage(c *web.Ctx) error {
	return show(c, "hk_board", func() (any, error) { return h.boardData(c) })
}

// bulkFormInput is the board's bulk form.
type bulkFormInput struct {
	SiteID  int64    `json:"site_id"`
	RoomIDs []string `json:"room_ids"`
	Change  string   `json:"change"` // "cleaning:clean", "flag:make_up:on", …
	Reason  string   `json:"block_reason"`
}

func (h *HTTP) bulkForm(c *web.Ctx) error {
	var in bulkFormInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	b := BulkStatusInput{}
	for _, s := range in.RoomIDs {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return errs.Invalid("room_ids", "error.field.wrong_type")
		}
		b.RoomIDs = append(b.RoomIDs, id)
	}
	dim, val, _ := strings.Cut(in.Change, ":")
	switch dim {
	case DimCleaning:
		b.Cleaning = val
	case DimOccupancy:
		b.Occupancy = val
	case DimHKOccupancy:
		b.HKOccupancy = val
	case DimBlock:
		b.Block, b.BlockReason = val, in.Reason
	case "flag":
		f, state, _ := strings.Cut(val, ":")
		b.Flags = map[string]bool{f: state == "on"}
	}
	back := "/hk/board?site_id=" + itoa(in.SiteID)
	if _, err := h.S.BulkStatus(c.R.Context(), b); err != nil {
		if code := errs.CodeOf(err); code == errs.EInvalid || code == errs.EConflict || code == errs.EForbidden {
			d, derr := h.boardData(c)
			if derr != nil {
				return derr
			}
			return c.HTML(web.StatusOf(code), "hk_board", d, err)
		}
		return err
	}
	return c.Redirect(back + "&done=bulk")
}

// ---- a room ----

type roomData struct {
	Room        *Room
	Type        *RoomType
	Events      []eventRow
	Maintenance []RepairOrder
	Changes     []changeOption
	CanInspect  bool
	CanDamage   bool
	Inspection  []ChecklistStep
	Flash       string
	Work        *WorkItem
}

// eventRow is a timeline entry in words.
type eventRow struct {
	RoomEvent
	What, From, To, NoteText string
}

// valueLabel is the word for a value of a dimension.
func valueLabel(l i18n.Localizer, dim, v string) string {
	if strings.HasPrefix(dim, dimFlagPrefix) {
		return l.T("hk.onoff." + v)
	}
	return l.T("hk." + dim + "." + v)
}

func eventRows(l i18n.Localizer, evs []RoomEvent) []eventRow {
	out := make([]eventRow, len(evs))
	for i, e := range evs {
		out[i] = eventRow{RoomEvent: e, NoteText: e.Note}
		switch {
		case strings.HasPrefix(e.Kind, "outcome_"):
			code, rest, _ := strings.Cut(e.Note, ": ")
			out[i].NoteText = l.T("hk.outcome." + code)
			if rest != "" {
				out[i].NoteText += "：" + rest
			}
		case e.Kind == "clean_started" && e.Note != "":
			out[i].NoteText = l.T("hk.clean_type." + e.Note)
		case e.Kind == "front_office" && e.Note != "":
			out[i].NoteText = l.T("hk.fo." + e.Note)
		case e.Kind == "skipped" && e.Note == "":
			out[i].NoteText = ""
		}
		if e.Dimension != "" {
			out[i].What = l.T("hk.dimname." + e.Dimension)
			out[i].From, out[i].To = valueLabel(l, e.Dimension, e.From), valueLabel(l, e.Dimension, e.To)
		}
	}
	return out
}

// changeOption is one button of the room page: a change the table allows
// from the room's state and the caller holds a permission for.
type changeOption struct {
	Dimension string
	To        string
	Field     string // the form field
	Value     string
	Label     string // i18n key
	Block     bool
}

func (h *HTTP) roomData(c *web.Ctx, id int64) (*roomData, error) {
	ctx := c.R.Context()
	r, err := h.S.Room(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &roomData{Room: r, Flash: flashKey(c.Query("done"))}
	if d.Type, err = h.S.roomType(ctx, r.TypeID); err != nil {
		return nil, err
	}
	d.Inspection = d.Type.Inspection
	tl, err := h.S.RoomTimeline(ctx, id, 0, 30)
	if err != nil {
		return nil, err
	}
	d.Events = eventRows(c.L, tl.Items)
	if d.Maintenance, err = h.S.RoomMaintenance(ctx, id); err != nil {
		return nil, err
	}
	can := callerCan(ctx, r.NodePath)
	for _, dim := range Dimensions() {
		for _, to := range Allowed(r.State, dim, can) {
			o := changeOption{Dimension: dim, To: to}
			switch {
			case strings.HasPrefix(dim, dimFlagPrefix):
				f := strings.TrimPrefix(dim, dimFlagPrefix)
				o.Field, o.Value, o.Label = "flag", f+":"+to, "hk.flag_"+to+"."+f
			case dim == DimBlock:
				o.Field, o.Value, o.Label, o.Block = dim, to, "hk.block_to."+to, to != BlockNone
			default:
				o.Field, o.Value, o.Label = dim, to, "hk."+dim+"_to."+to
			}
			d.Changes = append(d.Changes, o)
		}
	}
	d.CanInspect = c.P.Can(auth.PermHKInspect, r.NodePath) && r.Cleaning == Clean
	d.CanDamage = c.P.Can(auth.PermHKClean, r.NodePath) || c.P.Can(auth.PermHKInspect, r.NodePath)
	if r.WorkID != 0 {
		if w, err := h.S.WorkItem(ctx, r.WorkID); err == nil {
			d.Work = w
		}
	}
	return d, nil
}

func (h *HTTP) roomPage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	return show(c, "hk_room", func() (any, error) { return h.roomData(c, id) })
}

// rerender shows page again, with err on its form, when err is the
// user's to correct (see formError); data reloads what the page shows.
func rerender(c *web.Ctx, err error, page string, data func() (any, error)) error {
	return formError(err, func(status int) error {
		d, derr := data()
		if derr != nil {
			return derr
		}
		return c.HTML(status, page, d, err)
	})
}

// show renders page with what data loads.
func show(c *web.Ctx, page string, data func() (any, error)) error {
	d, err := data()
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, page, d, nil)
}

// formError re-renders a page with the error of a form, or passes on an
// error that is not the user's.
func formError(err error, render func(status int) error) error {
	switch code := errs.CodeOf(err); code {
	case errs.EInvalid, errs.EConflict, errs.EForbidden:
		return render(web.StatusOf(code))
	}
	return err
}

type statusFormInput struct {
	Cleaning    string `json:"cleaning"`
	Occupancy   string `json:"occupancy"`
	HKOccupancy string `json:"hk_occupancy"`
	Block       string `json:"block"`
	BlockReason string `json:"block_reason"`
	BlockUntil  string `json:"block_until"`
	BlockReturn string `json:"block_return"`
	Flag        string `json:"flag"` // "dnd:on"
	Note        string `json:"note"`
	Next        string `json:"next"`
}

func (h *HTTP) statusForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var f statusFormInput
	if err := c.Decode(&f); err != nil {
		return err
	}
	in := RoomStatusInput{Cleaning: f.Cleaning, Occupancy: f.Occupancy, HKOccupancy: f.HKOccupancy, Block: f.Block, BlockReason: f.BlockReason,
		BlockUntil: f.BlockUntil, BlockReturn: f.BlockReturn, Note: f.Note}
	if f.Flag != "" {
		name, state, _ := strings.Cut(f.Flag, ":")
		in.Flags = map[string]bool{name: state == "on"}
	}
	if _, err := h.S.ChangeStatus(c.R.Context(), id, in); err != nil {
		return rerender(c, err, "hk_room", func() (any, error) { return h.roomData(c, id) })
	}
	return c.Redirect(localNext(f.Next, "/hk/rooms/"+itoa(id)+"?done=status"))
}

// localNext is a same-site path to go to after a form, else def.
func localNext(next, def string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return def
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return def
	}
	return next
}

type inspectFormInput struct {
	Result  string   `json:"result"`
	Score   string   `json:"score"`
	Failed  []string `json:"failed_items"`
	Reasons string   `json:"reasons"`
}

func (h *HTTP) inspectForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var f inspectFormInput
	if err := c.Decode(&f); err != nil {
		return err
	}
	score, serr := strconv.Atoi(strings.TrimSpace(f.Score))
	if serr != nil {
		score = -1
	}
	if _, err := h.S.Inspect(c.R.Context(), id, InspectionInput{Result: f.Result, Score: score, FailedItems: f.Failed, Reasons: f.Reasons}); err != nil {
		return rerender(c, err, "hk_room", func() (any, error) { return h.roomData(c, id) })
	}
	return c.Redirect("/hk/rooms/" + itoa(id) + "?done=inspected")
}

type damageFormInput struct {
	Description string `json:"description"`
	OutOfOrder  bool   `json:"out_of_order"`
	Until       string `json:"until"`
	Next        string `json:"next"`
}

func (h *HTTP) damageForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var f damageFormInput
	if err := c.Decode(&f); err != nil {
		return err
	}
	if _, err := h.S.ReportDamage(c.R.Context(), id, DamageReportInput{Description: f.Description, OutOfOrder: f.OutOfOrder, Until: f.Until}); err != nil {
		return rerender(c, err, "hk_room", func() (any, error) { return h.roomData(c, id) })
	}
	return c.Redirect(localNext(f.Next, "/hk/rooms/"+itoa(id)) + sep(f.Next) + "done=damage")
}

func sep(next string) string {
	if strings.Contains(next, "?") {
		return "&"
	}
	return "?"
}

// ---- the attendant ----

type myData struct {
	Items []WorkItem
	Done  int
	Left  int
	Flash string
}

func (h *HTTP) myPage(c *web.Ctx) error {
	items, err := h.S.MyWork(c.R.Context())
	if err != nil {
		return err
	}
	d := &myData{Items: items, Flash: flashKey(c.Query("done"))}
	for _, w := range items {
		if w.State == WorkDone {
			d.Done++
		} else {
			d.Left++
		}
	}
	return c.HTML(http.StatusOK, "hk_my", d, nil)
}

type workData struct {
	Minibar  []MinibarItem
	Work     *WorkItem
	Room     *Room
	Type     *RoomType
	Checked  []string
	Mine     bool
	Flash    string
	Steps    []ChecklistStep
	BedStyle string
}

func (h *HTTP) workData(c *web.Ctx, id int64) (*workData, error) {
	ctx := c.R.Context()
	w, r, err := h.S.loadWork(ctx, id, false)
	if err != nil {
		return nil, err
	}
	t, err := h.S.roomType(ctx, r.TypeID)
	if err != nil {
		return nil, err
	}
	if r, err = h.S.Room(ctx, r.ID); err != nil {
		return nil, err
	}
	items, err := h.S.MinibarItems(ctx, r.SiteID)
	if err != nil {
		return nil, err
	}
	var active []MinibarItem
	for _, m := range items {
		if m.Active {
			active = append(active, m)
		}
	}
	return &workData{Work: w, Room: r, Type: t, Steps: t.Checklist, Checked: w.Steps, BedStyle: t.BedStyle, Minibar: active,
		Mine: w.AttendantID != nil && *w.AttendantID == c.P.StaffID, Flash: flashKey(c.Query("done"))}, nil
}

func (h *HTTP) workPage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	return show(c, "hk_work", func() (any, error) { return h.workData(c, id) })
}

func (h *HTTP) workFormError(c *web.Ctx, id int64, err error, checked []string) error {
	return formError(err, func(status int) error {
		d, derr := h.workData(c, id)
		if derr != nil {
			return derr
		}
		if checked != nil {
			d.Checked = checked
		}
		return c.HTML(status, "hk_work", d, err)
	})
}

func (h *HTTP) startForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	if _, err := h.S.StartClean(c.R.Context(), id); err != nil {
		return h.workFormError(c, id, err, nil)
	}
	return c.Redirect("/hk/work/" + itoa(id) + "?done=started")
}

func (h *HTTP) finishForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in FinishCleanInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	if _, err := h.S.FinishClean(c.R.Context(), id, in); err != nil {
		return h.workFormError(c, id, err, in.Steps)
	}
	return c.Redirect("/hk/my?done=finished")
}

func (h *HTTP) skipForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in SkipCleanInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	if _, err := h.S.Skip(c.R.Context(), id, in); err != nil {
		return h.workFormError(c, id, err, nil)
	}
	return c.Redirect("/hk/my?done=skipped")
}

type reorderInput struct {
	Direction string `json:"direction"`
}

func (h *HTTP) reorderForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in reorderInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	delta := 1
	if in.Direction == "up" {
		delta = -1
	}
	if _, err := h.S.Reorder(c.R.Context(), id, delta); err != nil {
		return err
	}
	return c.Redirect("/hk/my#w" + itoa(id))
}

// ---- assignment ----

type assignData struct {
	Site       *HotelSite
	Sites      []HotelSite
	Date       string
	Day        *WorkDay
	Columns    []assignColumn
	Unassigned []WorkItem
	Attendants []Attendant
	Flash      string
	MaxRooms   int
	// Rostered are the attendants on the day shift's roster (all when
	// nobody is rostered): the auto-assignment's default choice.
	Rostered map[int64]bool
}

type assignColumn struct {
	Attendant Attendant
	Load      AttendantLoad
	Items     []WorkItem
}

func (h *HTTP) assignData(c *web.Ctx) (*assignData, error) {
	ctx := c.R.Context()
	d := &assignData{Flash: flashKey(c.Query("done"))}
	var err error
	if d.Sites, err = h.S.Sites(ctx, auth.PermHKInspect); err != nil {
		return nil, err
	}
	site, err := h.S.siteOrDefault(ctx, c.QueryInt64("site_id"), auth.PermHKInspect)
	if err != nil || site == nil {
		return d, err
	}
	d.Site = site
	d.Date = c.Query("date")
	if _, err := time.Parse(time.DateOnly, d.Date); err != nil {
		d.Date = site.Today(h.S.now(ctx))
	}
	st, err := h.S.Settings(ctx, site.ID)
	if err != nil {
		return nil, err
	}
	d.MaxRooms = st.RoomsMax
	if d.Day, err = h.S.workDay(ctx, site, d.Date); err != nil {
		return nil, err
	}
	if d.Attendants, err = h.S.siteAttendants(ctx, site); err != nil {
		return nil, err
	}
	rostered, err := h.S.Attendants(ctx, site, d.Date)
	if err != nil {
		return nil, err
	}
	d.Rostered = map[int64]bool{}
	for _, a := range rostered {
		d.Rostered[a.ID] = true
	}
	items, err := h.S.workItems(ctx, site.ID, d.Date, 0, 0)
	if err != nil {
		return nil, err
	}
	cols := map[int64]*assignColumn{}
	for _, a := range d.Attendants {
		cols[a.ID] = &assignColumn{Attendant: a, Load: AttendantLoad{StaffID: a.ID, Name: a.Name}}
	}
	for _, w := range items {
		if w.AttendantID == nil {
			d.Unassigned = append(d.Unassigned, w)
			continue
		}
		col, ok := cols[*w.AttendantID]
		if !ok {
			col = &assignColumn{Attendant: Attendant{ID: *w.AttendantID, Name: w.AttendantName}}
			cols[*w.AttendantID] = col
			d.Attendants = append(d.Attendants, col.Attendant)
		}
		col.Items = append(col.Items, w)
	}
	for _, l := range d.Day.Attendants {
		if col, ok := cols[l.StaffID]; ok {
			col.Load = l
		}
	}
	for _, a := range d.Attendants {
		d.Columns = append(d.Columns, *cols[a.ID])
	}
	return d, nil
}

func (h *HTTP) assignPage(c *web.Ctx) error {
	return show(c, "hk_assign", func() (any, error) { return h.assignData(c) })
}

func (h *HTTP) generateForm(c *web.Ctx) error {
	var in WorkDayInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	if _, err := h.S.Generate(c.R.Context(), in); err != nil {
		return rerender(c, err, "hk_assign", func() (any, error) { return h.assignData(c) })
	}
	return c.Redirect("/hk/assign?site_id=" + itoa(in.SiteID) + "&date=" + url.QueryEscape(in.Date) + "&done=generated")
}

type autoFormInput struct {
	SiteID       int64    `json:"site_id"`
	Date         string   `json:"date"`
	AttendantIDs []string `json:"attendant_ids"`
	MaxRooms     int      `json:"max_rooms"`
}

func (h *HTTP) autoForm(c *web.Ctx) error {
	var f autoFormInput
	if err := c.Decode(&f); err != nil {
		return err
	}
	in := AutoAssignInput{SiteID: f.SiteID, Date: f.Date, MaxRooms: f.MaxRooms}
	for _, s := range f.AttendantIDs {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			in.AttendantIDs = append(in.AttendantIDs, id)
		}
	}
	if _, err := h.S.AutoAssign(c.R.Context(), in); err != nil {
		return rerender(c, err, "hk_assign", func() (any, error) { return h.assignData(c) })
	}
	return c.Redirect("/hk/assign?site_id=" + itoa(f.SiteID) + "&date=" + url.QueryEscape(f.Date) + "&done=assigned")
}

type assignFormInput struct {
	AttendantID int64  `json:"attendant_id"`
	Position    int    `json:"position"`
	Next        string `json:"next"`
}

func (h *HTTP) assignForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var f assignFormInput
	if err := c.Decode(&f); err != nil {
		return err
	}
	w, err := h.S.Move(c.R.Context(), id, WorkMoveInput{AttendantID: &f.AttendantID, Position: f.Position})
	if err != nil {
		return err
	}
	if c.IsHTMX() {
		return c.NoContent()
	}
	return c.Redirect(localNext(f.Next, "/hk/assign?site_id="+itoa(w.SiteID)+"&date="+w.Date))
}

type sheetData struct {
	Site    *HotelSite
	Date    string
	Columns []assignColumn
	Steps   []ChecklistStep
}

func (h *HTTP) sheetsPage(c *web.Ctx) error {
	ctx := c.R.Context()
	site, err := h.S.siteOrDefault(ctx, c.QueryInt64("site_id"), auth.PermHKView)
	if err != nil {
		return err
	}
	d := &sheetData{Site: site, Steps: StandardChecklist}
	if site == nil {
		return c.HTML(http.StatusOK, "hk_sheets", d, nil)
	}
	d.Date = c.Query("date")
	if _, err := time.Parse(time.DateOnly, d.Date); err != nil {
		d.Date = site.Today(h.S.now(ctx))
	}
	only := c.QueryInt64("attendant_id")
	if !c.P.Can(auth.PermHKInspect, site.Path) && !canBelow(c.P, auth.PermHKInspect, site.Path) {
		only = c.P.StaffID // an attendant prints their own sheet
	}
	items, err := h.S.workItems(ctx, site.ID, d.Date, only, 0)
	if err != nil {
		return err
	}
	var cur *assignColumn
	for _, w := range items {
		if w.AttendantID == nil {
			continue
		}
		if cur == nil || cur.Attendant.ID != *w.AttendantID {
			d.Columns = append(d.Columns, assignColumn{Attendant: Attendant{ID: *w.AttendantID, Name: w.AttendantName}})
			cur = &d.Columns[len(d.Columns)-1]
		}
		cur.Items = append(cur.Items, w)
		cur.Load.Rooms++
		cur.Load.Credits += w.Credits
		cur.Load.Minutes += w.Minutes
	}
	return c.HTML(http.StatusOK, "hk_sheets", d, nil)
}

// ---- DND tasks ----

type tasksData struct {
	Open     *DNDTaskList
	Closed   *DNDTaskList
	Site     *HotelSite
	Sites    []HotelSite
	CanClose bool
	Flash    string
	Topic    string
	Outcomes map[string][]string
	Now      time.Time
}

func (h *HTTP) tasksData(c *web.Ctx) (*tasksData, error) {
	ctx := c.R.Context()
	d := &tasksData{Flash: flashKey(c.Query("done")), Outcomes: taskOutcomes, Now: h.S.now(ctx)}
	var err error
	if d.Sites, err = h.S.Sites(ctx, auth.PermHKView); err != nil {
		return nil, err
	}
	site, err := h.S.siteOrDefault(ctx, c.QueryInt64("site_id"), auth.PermHKView)
	if err != nil {
		return nil, err
	}
	d.Site = site
	if d.Open, err = h.S.Tasks(ctx, c.QueryInt64("site_id"), "open"); err != nil {
		return nil, err
	}
	if d.Closed, err = h.S.Tasks(ctx, c.QueryInt64("site_id"), "closed"); err != nil {
		return nil, err
	}
	if site != nil {
		d.Topic = "node:" + site.Path
		d.CanClose = c.P.Can(auth.PermHKDesk, site.Path) || c.P.Can(auth.PermHKInspect, site.Path)
	}
	return d, nil
}

func (h *HTTP) tasksPage(c *web.Ctx) error {
	return show(c, "hk_tasks", func() (any, error) { return h.tasksData(c) })
}

type outcomeFormInput struct {
	Outcome   string     `json:"outcome"`
	ServiceAt *time.Time `json:"service_at"`
	Note      string     `json:"note"`
}

func (h *HTTP) outcomeForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var f outcomeFormInput
	if err := c.Decode(&f); err != nil {
		return err
	}
	t, err := h.S.TaskOutcome(c.R.Context(), id, DNDOutcomeInput(f))
	if err != nil {
		return rerender(c, err, "hk_tasks", func() (any, error) { return h.tasksData(c) })
	}
	return c.Redirect("/hk/tasks?site_id=" + itoa(t.SiteID) + "&done=outcome")
}

// ---- the front office ----

type frontOfficeData struct {
	Sites  []HotelSite
	SiteID int64
	Text   string
	Result *FeedResult
}

func (h *HTTP) frontOfficePage(c *web.Ctx) error {
	sites, err := h.S.Sites(c.R.Context(), auth.PermHKDesk)
	if err != nil {
		return err
	}
	d := &frontOfficeData{Sites: sites}
	if len(sites) > 0 {
		d.SiteID = sites[0].ID
	}
	return c.HTML(http.StatusOK, "hk_front_office", d, nil)
}

type frontOfficeForm struct {
	SiteID int64  `json:"site_id"`
	Text   string `json:"text"`
}

func (h *HTTP) frontOfficeForm(c *web.Ctx) error {
	ctx := c.R.Context()
	var f frontOfficeForm
	if err := c.Decode(&f); err != nil {
		return err
	}
	text := f.Text
	if file, _, err := c.R.FormFile("file"); err == nil {
		b := make([]byte, 0, 4096)
		buf := make([]byte, 4096)
		for len(b) < 4<<20 {
			n, rerr := file.Read(buf)
			b = append(b, buf[:n]...)
			if rerr != nil {
				break
			}
		}
		file.Close()
		if len(strings.TrimSpace(string(b))) > 0 {
			text = string(b)
		}
	}
	sites, err := h.S.Sites(ctx, auth.PermHKDesk)
	if err != nil {
		return err
	}
	d := &frontOfficeData{Sites: sites, SiteID: f.SiteID, Text: f.Text}
	items, err := ParseFeedCSV([]byte(text))
	if err == nil {
		d.Result, err = h.S.Feed(ctx, FeedInput{SiteID: f.SiteID, Items: items})
	}
	if err != nil {
		return formError(err, func(status int) error { return c.HTML(status, "hk_front_office", d, err) })
	}
	return c.HTML(http.StatusOK, "hk_front_office", d, nil)
}

// flashKey keeps only the confirmations the pages know.
func flashKey(s string) string {
	switch s {
	case "bulk", "status", "inspected", "damage", "started", "finished", "skipped", "generated", "assigned", "outcome",
		"minibar", "laundry", "found", "saved", "replenished":
		return "hk.flash." + s
	}
	return ""
}
