package housekeeping

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

// The clerk's ledgers (seed article 5) and the reports, as pages; the
// attendant's own records (minibar count, laundry, found items) are on the
// work page and in the API.

func (h *HTTP) ledgerAPIRoutes() []web.Route {
	site := web.Param{Name: "site_id", Type: "integer", Desc: "the hotel site; default: the caller's first site with rooms"}
	return []web.Route{
		{Method: "POST", Path: "/api/v1/hk/rooms/{id}/minibar", Perm: auth.PermHKView, Handler: h.apiMinibar,
			Doc: &web.Doc{Summary: "Post a minibar count: consumption at today's prices and lines to replenish", Tag: "housekeeping", Body: MinibarInput{}, Resp: MinibarPosted{}, Status: http.StatusCreated}},
		{Method: "POST", Path: "/api/v1/hk/rooms/{id}/laundry", Perm: auth.PermHKView, Handler: h.apiLaundry,
			Doc: &web.Doc{Summary: "A guest's laundry bag picked up from the room", Tag: "housekeeping", Body: LaundryInput{}, Resp: LaundryBag{}, Status: http.StatusCreated}},
		{Method: "POST", Path: "/api/v1/hk/rooms/{id}/found", Perm: auth.PermHKView, Handler: h.apiFound,
			Doc: &web.Doc{Summary: "An item found in the room, to lost and found", Tag: "housekeeping", Body: FoundInput{}, Resp: FoundItem{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/v1/hk/minibar/items", Perm: auth.PermHKView, Handler: h.apiMinibarItems,
			Doc: &web.Doc{Summary: "Minibar items and prices", Tag: "housekeeping", Query: []web.Param{site}, Resp: MinibarItemList{}}},
		{Method: "GET", Path: "/api/v1/hk/minibar/sales", Perm: auth.PermHKDesk, Handler: h.apiMinibarSales,
			Doc: &web.Doc{Summary: "A day's minibar sales (酒水销量总表) and postings", Tag: "housekeeping",
				Query: []web.Param{site, {Name: "date", Desc: "YYYY-MM-DD; default today"}}, Resp: MinibarDay{}}},
		{Method: "GET", Path: "/api/v1/hk/reports", Perm: auth.PermHKInspect, Handler: h.apiReport,
			Doc: &web.Doc{Summary: "Rooms per attendant, minutes per clean type, inspections, DND outcomes, minibar sales, lost and found", Tag: "housekeeping",
				Query: []web.Param{site, {Name: "from", Desc: "YYYY-MM-DD"}, {Name: "to", Desc: "YYYY-MM-DD"}}, Resp: Report{}}},
	}
}

func (h *HTTP) ledgerPageRoutes() []web.Route {
	return []web.Route{
		{Method: "POST", Path: "/hk/rooms/{id}/minibar", Perm: auth.PermHKView, Handler: h.minibarForm},
		{Method: "POST", Path: "/hk/rooms/{id}/laundry", Perm: auth.PermHKView, Handler: h.laundryForm},
		{Method: "POST", Path: "/hk/rooms/{id}/found", Perm: auth.PermHKView, Handler: h.foundRoomForm},
		{Method: "GET", Path: "/hk/desk", Perm: auth.PermHKDesk, Handler: h.deskPage},
		{Method: "POST", Path: "/hk/shift", Perm: auth.PermHKDesk, Handler: h.shiftForm},
		{Method: "GET", Path: "/hk/minibar", Perm: auth.PermHKView, Handler: h.minibarPage},
		{Method: "POST", Path: "/hk/minibar/items", Perm: auth.PermHKManage, Handler: h.minibarItemForm},
		{Method: "POST", Path: "/hk/minibar/replenish", Perm: auth.PermHKView, Handler: h.replenishForm},
		{Method: "GET", Path: "/hk/minibar/folio.csv", Perm: auth.PermHKDesk, Handler: h.folioCSV},
		{Method: "GET", Path: "/hk/laundry", Perm: auth.PermHKDesk, Handler: h.laundryPage},
		{Method: "POST", Path: "/hk/laundry/{id}/return", Perm: auth.PermHKDesk, Handler: h.laundryReturnForm},
		{Method: "GET", Path: "/hk/lost-found", Perm: auth.PermHKDesk, Handler: h.lostFoundPage},
		{Method: "POST", Path: "/hk/lost-found", Perm: auth.PermHKDesk, Handler: h.foundForm},
		{Method: "POST", Path: "/hk/lost-found/{id}", Perm: auth.PermHKDesk, Handler: h.foundActionForm},
		{Method: "GET", Path: "/hk/keys", Perm: auth.PermHKDesk, Handler: h.keysPage},
		{Method: "POST", Path: "/hk/keys/{id}/issue", Perm: auth.PermHKDesk, Handler: h.keyIssueForm},
		{Method: "POST", Path: "/hk/keys/{id}/return", Perm: auth.PermHKDesk, Handler: h.keyReturnForm},
		{Method: "GET", Path: "/hk/lent", Perm: auth.PermHKDesk, Handler: h.lentPage},
		{Method: "POST", Path: "/hk/lent", Perm: auth.PermHKDesk, Handler: h.lendForm},
		{Method: "POST", Path: "/hk/lent/{id}/return", Perm: auth.PermHKDesk, Handler: h.lentReturnForm},
		{Method: "GET", Path: "/hk/handover", Perm: auth.PermHKView, Handler: h.handoverPage},
		{Method: "POST", Path: "/hk/handover", Perm: auth.PermHKView, Handler: h.handoverForm},
		{Method: "POST", Path: "/hk/handover/{id}/read", Perm: auth.PermHKView, Handler: h.handoverReadForm},
		{Method: "GET", Path: "/hk/guests", Perm: auth.PermHKDesk, Handler: h.guestsPage},
		{Method: "POST", Path: "/hk/guests", Perm: auth.PermHKDesk, Handler: h.guestForm},
		{Method: "GET", Path: "/hk/reports", Perm: auth.PermHKInspect, Handler: h.reportsPage},
	}
}

// ---- API ----

func (h *HTTP) apiMinibar(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in MinibarInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := h.S.PostMinibar(c.R.Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (h *HTTP) apiLaundry(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in LaundryInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := h.S.PickupLaundry(c.R.Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (h *HTTP) apiFound(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in FoundInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := h.S.RecordFoundInRoom(c.R.Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (h *HTTP) apiMinibarItems(c *web.Ctx) error {
	site, err := h.S.siteOrDefault(c.R.Context(), c.QueryInt64("site_id"), auth.PermHKView)
	if err != nil {
		return err
	}
	out := MinibarItemList{Items: []MinibarItem{}}
	if site != nil {
		if out.Items, err = h.S.MinibarItems(c.R.Context(), site.ID); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, out)
}

// queryDate reads a date parameter: the site's today when absent, EInvalid
// when malformed.
func (h *HTTP) queryDate(c *web.Ctx, site *HotelSite) (string, error) {
	d := c.Query("date")
	if d == "" {
		return site.Today(h.S.now(c.R.Context())), nil
	}
	if _, err := time.Parse(time.DateOnly, d); err != nil {
		return "", errs.Invalid("date", "error.field.wrong_type")
	}
	return d, nil
}

func (h *HTTP) apiMinibarSales(c *web.Ctx) error {
	site, err := h.S.siteOrDefault(c.R.Context(), c.QueryInt64("site_id"), auth.PermHKDesk)
	if err != nil {
		return err
	}
	if site == nil {
		return c.JSON(http.StatusOK, MinibarDay{Lines: []SalesLine{}, Postings: []MinibarPosting{}})
	}
	date, err := h.queryDate(c, site)
	if err != nil {
		return err
	}
	d, err := h.S.MinibarSales(c.R.Context(), site.ID, date)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (h *HTTP) apiReport(c *web.Ctx) error {
	r, err := h.S.Report(c.R.Context(), c.QueryInt64("site_id"), c.Query("from"), c.Query("to"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// ---- the attendant's records from the work page ----

type minibarForm struct {
	Next string `json:"next"`
}

func (h *HTTP) minibarForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var f minibarForm
	if err := c.Decode(&f); err != nil {
		return err
	}
	// One quantity field per item: qty_<item id>.
	var in MinibarInput
	for k, vs := range c.R.PostForm {
		item, ok := strings.CutPrefix(k, "qty_")
		if !ok || len(vs) == 0 || strings.TrimSpace(vs[0]) == "" {
			continue
		}
		iid, err1 := strconv.ParseInt(item, 10, 64)
		q, err2 := strconv.Atoi(strings.TrimSpace(vs[0]))
		if err1 != nil || err2 != nil {
			return errs.Invalid("lines", "error.field.wrong_type")
		}
		if q > 0 {
			in.Lines = append(in.Lines, MinibarLine{ItemID: iid, Qty: q})
		}
	}
	_, err = h.S.PostMinibar(c.R.Context(), id, in)
	return h.recordDone(c, id, f.Next, "minibar", err)
}

// recordDone answers a record form: back to where it came from with a
// confirmation, or the room page with the error.
func (h *HTTP) recordDone(c *web.Ctx, roomID int64, next, done string, err error) error {
	if err != nil {
		return rerender(c, err, "hk_room", func() (any, error) { return h.roomData(c, roomID) })
	}
	back := localNext(next, "/hk/rooms/"+itoa(roomID))
	return c.Redirect(back + sep(back) + "done=" + done)
}

func (h *HTTP) laundryForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var f struct {
		BagNo  string `json:"bag_no"`
		Pieces int    `json:"pieces"`
		Note   string `json:"note"`
		Next   string `json:"next"`
	}
	if err := c.Decode(&f); err != nil {
		return err
	}
	_, err = h.S.PickupLaundry(c.R.Context(), id, LaundryInput{BagNo: f.BagNo, Pieces: f.Pieces, Note: f.Note})
	return h.recordDone(c, id, f.Next, "laundry", err)
}

func (h *HTTP) foundRoomForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var f struct {
		Description string `json:"description"`
		Valuable    bool   `json:"valuable"`
		Storage     string `json:"storage"`
		Next        string `json:"next"`
	}
	if err := c.Decode(&f); err != nil {
		return err
	}
	_, err = h.S.RecordFoundInRoom(c.R.Context(), id, FoundInput{Description: f.Description, Valuable: f.Valuable, Storage: f.Storage})
	return h.recordDone(c, id, f.Next, "found", err)
}

// ---- the clerk's desk ----

type ledgerBase struct {
	Site  *HotelSite
	Sites []HotelSite
	Flash string
	Today string
}

func (h *HTTP) ledgerBase(c *web.Ctx, perm auth.Perm) (*ledgerBase, error) {
	ctx := c.R.Context()
	b := &ledgerBase{Flash: flashKey(c.Query("done"))}
	var err error
	if b.Sites, err = h.S.Sites(ctx, perm); err != nil {
		return nil, err
	}
	if b.Site, err = h.S.siteOrDefault(ctx, c.QueryInt64("site_id"), perm); err != nil {
		return nil, err
	}
	if b.Site != nil {
		b.Today = b.Site.Today(h.S.now(ctx))
	}
	return b, nil
}

type deskData struct {
	*ledgerBase
	Shift       *ShiftChecklist
	Keys        *KeyCheck
	Replenish   int
	Laundry     int
	LostFound   int
	Disposable  int
	Lent        int
	Unread      int
	OpenTasks   int
	ShiftHours  string
	ShiftChoice []string
}

func (h *HTTP) deskPage(c *web.Ctx) error {
	ctx := c.R.Context()
	b, err := h.ledgerBase(c, auth.PermHKDesk)
	if err != nil {
		return err
	}
	d := &deskData{ledgerBase: b, ShiftChoice: []string{ShiftEarly, ShiftMiddle, ShiftNight}}
	if b.Site == nil {
		return c.HTML(http.StatusOK, "hk_desk", d, nil)
	}
	shift, date := CurrentShift(h.S.now(ctx).In(b.Site.Zone))
	if s := c.Query("shift"); s != "" {
		if _, ok := ShiftItems[s]; ok {
			shift = s
		}
	}
	if q := c.Query("date"); q != "" {
		if _, err := time.Parse(time.DateOnly, q); err == nil {
			date = q
		}
	}
	for _, s := range Shifts {
		if s.Key == shift {
			d.ShiftHours = s.From + "–" + s.To
		}
	}
	if d.Shift, err = h.S.ShiftChecklist(ctx, b.Site.ID, date, shift); err != nil {
		return err
	}
	if d.Keys, err = h.S.CheckKeys(ctx, b.Site.ID); err != nil {
		return err
	}
	rep, err := h.S.ToReplenish(ctx, b.Site.ID)
	if err != nil {
		return err
	}
	d.Replenish = len(rep)
	lau, err := h.S.Laundry(ctx, b.Site.ID, true)
	if err != nil {
		return err
	}
	d.Laundry = len(lau)
	lf, err := h.S.LostFound(ctx, b.Site.ID, true)
	if err != nil {
		return err
	}
	d.LostFound = len(lf)
	for _, f := range lf {
		if f.Disposable {
			d.Disposable++
		}
	}
	lent, err := h.S.LentItems(ctx, b.Site.ID, true)
	if err != nil {
		return err
	}
	d.Lent = len(lent)
	hos, err := h.S.Handovers(ctx, b.Site.ID, 30)
	if err != nil {
		return err
	}
	for _, e := range hos {
		if !e.ReadByMe && e.WriterID != c.P.StaffID {
			d.Unread++
		}
	}
	tasks, err := h.S.Tasks(ctx, b.Site.ID, "open")
	if err != nil {
		return err
	}
	d.OpenTasks = len(tasks.Items)
	return c.HTML(http.StatusOK, "hk_desk", d, nil)
}

func (h *HTTP) shiftForm(c *web.Ctx) error {
	var in ShiftTickInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	if err := h.S.TickShift(c.R.Context(), in); err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/hk/desk?site_id=%d&shift=%s&date=%s#shift", in.SiteID, in.Shift, in.Date))
}

// ---- minibar ----

type minibarData struct {
	*ledgerBase
	Items     []MinibarItem
	Replenish []MinibarPosting
	Day       *MinibarDay
	Date      string
	CanManage bool
	CanDesk   bool
}

func (h *HTTP) minibarData(c *web.Ctx) (*minibarData, error) {
	ctx := c.R.Context()
	b, err := h.ledgerBase(c, auth.PermHKView)
	if err != nil {
		return nil, err
	}
	d := &minibarData{ledgerBase: b}
	if b.Site == nil {
		return d, nil
	}
	if d.Date, err = h.queryDate(c, b.Site); err != nil {
		d.Date = b.Today
	}
	if d.Items, err = h.S.MinibarItems(ctx, b.Site.ID); err != nil {
		return nil, err
	}
	if d.Replenish, err = h.S.ToReplenish(ctx, b.Site.ID); err != nil {
		return nil, err
	}
	if d.Day, err = h.S.MinibarSales(ctx, b.Site.ID, d.Date); err != nil {
		return nil, err
	}
	d.CanManage = c.P.Can(auth.PermHKManage, b.Site.Path)
	d.CanDesk = c.P.Can(auth.PermHKDesk, b.Site.Path)
	return d, nil
}

func (h *HTTP) minibarPage(c *web.Ctx) error {
	return show(c, "hk_minibar", func() (any, error) { return h.minibarData(c) })
}

func (h *HTTP) minibarItemForm(c *web.Ctx) error {
	var f struct {
		SiteID int64  `json:"site_id"`
		Code   string `json:"code"`
		Name   string `json:"name"`
		Price  string `json:"price"` // yuan, "12.50"
		Par    int    `json:"par"`
	}
	if err := c.Decode(&f); err != nil {
		return err
	}
	fen, ok := parseYuan(f.Price)
	in := MinibarItemInput{SiteID: f.SiteID, Code: f.Code, Name: f.Name, PriceFen: fen, Par: f.Par}
	var err error
	if !ok {
		err = errs.Invalid("price_fen", "error.field.wrong_type")
	} else {
		_, err = h.S.CreateMinibarItem(c.R.Context(), in)
	}
	if err != nil {
		return rerender(c, err, "hk_minibar", func() (any, error) { return h.minibarData(c) })
	}
	return c.Redirect(fmt.Sprintf("/hk/minibar?site_id=%d&done=saved", f.SiteID))
}

// parseYuan reads "12", "12.5" or "12.50" as fen.
func parseYuan(s string) (int64, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "¥")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		return 0, false
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 {
		return 0, false
	}
	f := int64(0)
	if frac != "" {
		if f, err = strconv.ParseInt((frac + "0")[:2], 10, 64); err != nil {
			return 0, false
		}
	}
	return w*100 + f, true
}

func (h *HTTP) replenishForm(c *web.Ctx) error {
	var f struct {
		SiteID int64    `json:"site_id"`
		IDs    []string `json:"posting_ids"`
		Next   string   `json:"next"`
	}
	if err := c.Decode(&f); err != nil {
		return err
	}
	var ids []int64
	for _, s := range f.IDs {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	if _, err := h.S.Replenish(c.R.Context(), f.SiteID, ids); err != nil {
		return err
	}
	back := localNext(f.Next, fmt.Sprintf("/hk/minibar?site_id=%d", f.SiteID))
	return c.Redirect(back + sep(back) + "done=replenished")
}

func (h *HTTP) folioCSV(c *web.Ctx) error {
	site, err := h.S.siteOrDefault(c.R.Context(), c.QueryInt64("site_id"), auth.PermHKDesk)
	if err != nil {
		return err
	}
	if site == nil {
		return errs.NotFound("error.hk.site_not_found")
	}
	date, err := h.queryDate(c, site)
	if err != nil {
		return err
	}
	ps, err := h.S.ExportFolio(c.R.Context(), site.ID, date)
	if err != nil {
		return err
	}
	c.W.Header().Set("Content-Type", "text/csv; charset=utf-8")
	c.W.Header().Set("Content-Disposition", `attachment; filename="minibar-`+date+`.csv"`)
	c.W.WriteHeader(http.StatusOK)
	_, _ = c.W.Write([]byte("\xef\xbb\xbf")) // Excel reads UTF-8 with a BOM
	w := csv.NewWriter(c.W)
	_ = w.Write([]string{c.L.T("hk.room"), c.L.T("hk.minibar.item"), c.L.T("hk.minibar.qty"), c.L.T("hk.minibar.price"), c.L.T("hk.minibar.amount"), c.L.T("hk.minibar.posted_at")})
	for _, p := range ps {
		_ = w.Write([]string{p.RoomNumber, p.ItemName, strconv.Itoa(p.Qty), fmt.Sprintf("%.2f", float64(p.PriceFen)/100), fmt.Sprintf("%.2f", float64(p.AmountFen)/100),
			web.FormatTime(p.PostedAt, "2006-01-02 15:04")})
	}
	w.Flush()
	return w.Error()
}

// ---- laundry ----

type laundryData struct {
	*ledgerBase
	Open     []LaundryBag
	Returned []LaundryBag
}

func (h *HTTP) laundryPage(c *web.Ctx) error {
	b, err := h.ledgerBase(c, auth.PermHKDesk)
	if err != nil {
		return err
	}
	d := &laundryData{ledgerBase: b}
	if b.Site != nil {
		if d.Open, err = h.S.Laundry(c.R.Context(), b.Site.ID, true); err != nil {
			return err
		}
		if d.Returned, err = h.S.Laundry(c.R.Context(), b.Site.ID, false); err != nil {
			return err
		}
	}
	return c.HTML(http.StatusOK, "hk_laundry", d, nil)
}

func (h *HTTP) laundryReturnForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var f struct {
		SiteID int64  `json:"site_id"`
		Charge string `json:"charge"`
	}
	if err := c.Decode(&f); err != nil {
		return err
	}
	fen, ok := parseYuan(f.Charge)
	if !ok {
		return errs.Invalid("charge", "error.field.wrong_type")
	}
	if err := h.S.ReturnLaundry(c.R.Context(), id, fen); err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/hk/laundry?site_id=%d&done=saved", f.SiteID))
}

// ---- lost and found ----

type lostFoundData struct {
	*ledgerBase
	Open   []FoundItem
	Closed []FoundItem
	Days   int
	Form   FoundInput
}

func (h *HTTP) lostFoundData(c *web.Ctx) (*lostFoundData, error) {
	b, err := h.ledgerBase(c, auth.PermHKDesk)
	if err != nil {
		return nil, err
	}
	d := &lostFoundData{ledgerBase: b}
	if b.Site == nil {
		return d, nil
	}
	ctx := c.R.Context()
	st, err := h.S.Settings(ctx, b.Site.ID)
	if err != nil {
		return nil, err
	}
	d.Days = st.LostFoundDays
	if d.Open, err = h.S.LostFound(ctx, b.Site.ID, true); err != nil {
		return nil, err
	}
	if d.Closed, err = h.S.LostFound(ctx, b.Site.ID, false); err != nil {
		return nil, err
	}
	return d, nil
}

func (h *HTTP) lostFoundPage(c *web.Ctx) error {
	return show(c, "hk_lost_found", func() (any, error) { return h.lostFoundData(c) })
}

func (h *HTTP) foundForm(c *web.Ctx) error {
	var f struct {
		SiteID      int64  `json:"site_id"`
		Place       string `json:"place"`
		Description string `json:"description"`
		Valuable    bool   `json:"valuable"`
		Storage     string `json:"storage"`
	}
	if err := c.Decode(&f); err != nil {
		return err
	}
	in := FoundInput{Place: f.Place, Description: f.Description, Valuable: f.Valuable, Storage: f.Storage}
	if _, err := h.S.RecordFound(c.R.Context(), f.SiteID, in); err != nil {
		return formError(err, func(status int) error {
			d, derr := h.lostFoundData(c)
			if derr != nil {
				return derr
			}
			d.Form = in
			return c.HTML(status, "hk_lost_found", d, err)
		})
	}
	return c.Redirect(fmt.Sprintf("/hk/lost-found?site_id=%d&done=saved", f.SiteID))
}

func (h *HTTP) foundActionForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in struct {
		SiteID    int64  `json:"site_id"`
		Action    string `json:"action"`
		ClaimedBy string `json:"claimed_by"`
		Note      string `json:"note"`
	}
	if err := c.Decode(&in); err != nil {
		return err
	}
	if err := h.S.FoundAction(c.R.Context(), id, FoundActionInput{Action: in.Action, ClaimedBy: in.ClaimedBy, Note: in.Note}); err != nil {
		return rerender(c, err, "hk_lost_found", func() (any, error) { return h.lostFoundData(c) })
	}
	return c.Redirect(fmt.Sprintf("/hk/lost-found?site_id=%d&done=saved", in.SiteID))
}

// ---- keys and pagers ----

type keysData struct {
	*ledgerBase
	Keys    []Key
	Check   *KeyCheck
	Staff   []Attendant
	Shift   string
	Shifts  []string
	Pagers  []Key
	KeyList []Key
}

func (h *HTTP) keysData(c *web.Ctx) (*keysData, error) {
	ctx := c.R.Context()
	b, err := h.ledgerBase(c, auth.PermHKDesk)
	if err != nil {
		return nil, err
	}
	d := &keysData{ledgerBase: b, Shifts: []string{"day", "middle", "night"}, Shift: "day"}
	if b.Site == nil {
		return d, nil
	}
	if d.Keys, err = h.S.Keys(ctx, b.Site.ID); err != nil {
		return nil, err
	}
	for _, k := range d.Keys {
		if k.Kind == "key" {
			d.KeyList = append(d.KeyList, k)
		} else {
			d.Pagers = append(d.Pagers, k)
		}
	}
	if d.Check, err = h.S.CheckKeys(ctx, b.Site.ID); err != nil {
		return nil, err
	}
	if d.Staff, err = h.S.siteAttendants(ctx, b.Site); err != nil {
		return nil, err
	}
	if hm := h.S.now(ctx).In(b.Site.Zone).Format("15:04"); hm >= "15:30" {
		d.Shift = "middle"
	}
	return d, nil
}

func (h *HTTP) keysPage(c *web.Ctx) error {
	return show(c, "hk_keys", func() (any, error) { return h.keysData(c) })
}

func (h *HTTP) keyIssueForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var f struct {
		SiteID  int64  `json:"site_id"`
		StaffID int64  `json:"staff_id"`
		Shift   string `json:"shift"`
	}
	if err := c.Decode(&f); err != nil {
		return err
	}
	if err := h.S.IssueKey(c.R.Context(), id, KeyIssueInput{StaffID: f.StaffID, Shift: f.Shift}); err != nil {
		return rerender(c, err, "hk_keys", func() (any, error) { return h.keysData(c) })
	}
	return c.Redirect(fmt.Sprintf("/hk/keys?site_id=%d&done=saved", f.SiteID))
}

func (h *HTTP) keyReturnForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var f struct {
		SiteID int64 `json:"site_id"`
	}
	if err := c.Decode(&f); err != nil {
		return err
	}
	if err := h.S.ReturnKey(c.R.Context(), id); err != nil {
		return rerender(c, err, "hk_keys", func() (any, error) { return h.keysData(c) })
	}
	return c.Redirect(fmt.Sprintf("/hk/keys?site_id=%d&done=saved", f.SiteID))
}

// ---- items lent ----

type lentData struct {
	*ledgerBase
	Open     []LentItem
	Returned []LentItem
}

func (h *HTTP) lentData(c *web.Ctx) (*lentData, error) {
	b, err := h.ledgerBase(c, auth.PermHKDesk)
	if err != nil {
		return nil, err
	}
	d := &lentData{ledgerBase: b}
	if b.Site != nil {
		if d.Open, err = h.S.LentItems(c.R.Context(), b.Site.ID, true); err != nil {
			return nil, err
		}
		if d.Returned, err = h.S.LentItems(c.R.Context(), b.Site.ID, false); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (h *HTTP) lentPage(c *web.Ctx) error {
	return show(c, "hk_lent", func() (any, error) { return h.lentData(c) })
}

func (h *HTTP) lendForm(c *web.Ctx) error {
	var f struct {
		SiteID int64  `json:"site_id"`
		Room   string `json:"room"`
		Item   string `json:"item"`
		Qty    int    `json:"qty"`
		Note   string `json:"note"`
	}
	if err := c.Decode(&f); err != nil {
		return err
	}
	ctx := c.R.Context()
	var roomID int64
	err := h.S.db.Q(ctx).QueryRowContext(ctx, `SELECT id FROM hk_rooms WHERE site_id = ? AND number = ?`, f.SiteID, strings.TrimSpace(f.Room)).Scan(&roomID)
	if err != nil {
		err = errs.Invalid("room", "error.hk.unknown_room")
	} else {
		_, err = h.S.Lend(ctx, roomID, LendInput{Item: f.Item, Qty: f.Qty, Note: f.Note})
	}
	if err != nil {
		return rerender(c, err, "hk_lent", func() (any, error) { return h.lentData(c) })
	}
	return c.Redirect(fmt.Sprintf("/hk/lent?site_id=%d&done=saved", f.SiteID))
}

func (h *HTTP) lentReturnForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var f struct {
		SiteID int64 `json:"site_id"`
	}
	if err := c.Decode(&f); err != nil {
		return err
	}
	if err := h.S.ReturnLent(c.R.Context(), id); err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/hk/lent?site_id=%d&done=saved", f.SiteID))
}

// ---- handover ----

type handoverData struct {
	*ledgerBase
	Entries  []HandoverEntry
	CanWrite bool
	Shift    string
	Shifts   []string
}

func (h *HTTP) handoverData(c *web.Ctx) (*handoverData, error) {
	b, err := h.ledgerBase(c, auth.PermHKView)
	if err != nil {
		return nil, err
	}
	d := &handoverData{ledgerBase: b, Shifts: []string{ShiftEarly, ShiftMiddle, ShiftNight, "day"}}
	if b.Site == nil {
		return d, nil
	}
	if d.Entries, err = h.S.Handovers(c.R.Context(), b.Site.ID, 50); err != nil {
		return nil, err
	}
	d.CanWrite = c.P.Can(auth.PermHKDesk, b.Site.Path) || c.P.Can(auth.PermHKInspect, b.Site.Path)
	d.Shift, _ = CurrentShift(h.S.now(c.R.Context()).In(b.Site.Zone))
	return d, nil
}

func (h *HTTP) handoverPage(c *web.Ctx) error {
	return show(c, "hk_handover", func() (any, error) { return h.handoverData(c) })
}

func (h *HTTP) handoverForm(c *web.Ctx) error {
	var in HandoverInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	if _, err := h.S.WriteHandover(c.R.Context(), in); err != nil {
		return rerender(c, err, "hk_handover", func() (any, error) { return h.handoverData(c) })
	}
	return c.Redirect(fmt.Sprintf("/hk/handover?site_id=%d&done=saved", in.SiteID))
}

func (h *HTTP) handoverReadForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var f struct {
		SiteID int64 `json:"site_id"`
	}
	if err := c.Decode(&f); err != nil {
		return err
	}
	if err := h.S.ReadHandover(c.R.Context(), id); err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/hk/handover?site_id=%d#h%d", f.SiteID, id))
}

// ---- repeat guests ----

type guestsData struct {
	*ledgerBase
	Notes []GuestNote
	Q     string
}

func (h *HTTP) guestsPage(c *web.Ctx) error {
	b, err := h.ledgerBase(c, auth.PermHKDesk)
	if err != nil {
		return err
	}
	d := &guestsData{ledgerBase: b, Q: c.Query("q")}
	if b.Site != nil {
		if d.Notes, err = h.S.GuestNotes(c.R.Context(), b.Site.ID, d.Q); err != nil {
			return err
		}
	}
	return c.HTML(http.StatusOK, "hk_guests", d, nil)
}

func (h *HTTP) guestForm(c *web.Ctx) error {
	var in GuestNoteInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	if err := h.S.AddGuestNote(c.R.Context(), in); err != nil {
		return formError(err, func(status int) error {
			b, berr := h.ledgerBase(c, auth.PermHKDesk)
			if berr != nil {
				return berr
			}
			d := &guestsData{ledgerBase: b}
			if b.Site != nil {
				d.Notes, _ = h.S.GuestNotes(c.R.Context(), b.Site.ID, "")
			}
			return c.HTML(status, "hk_guests", d, err)
		})
	}
	return c.Redirect(fmt.Sprintf("/hk/guests?site_id=%d&done=saved", in.SiteID))
}

// ---- reports ----

type reportsData struct {
	*ledgerBase
	Report *Report
	Rooms  int
	Bars   []reportBar
}

type reportBar struct {
	Date  string
	Rooms int
	Pct   int
}

func (h *HTTP) reportsPage(c *web.Ctx) error {
	b, err := h.ledgerBase(c, auth.PermHKInspect)
	if err != nil {
		return err
	}
	siteID := int64(0)
	if b.Site != nil {
		siteID = b.Site.ID
	}
	r, err := h.S.Report(c.R.Context(), siteID, c.Query("from"), c.Query("to"))
	if errs.CodeOf(err) == errs.EInvalid {
		r, err = h.S.Report(c.R.Context(), siteID, "", "")
	}
	if err != nil {
		return err
	}
	d := &reportsData{ledgerBase: b, Report: r}
	most := 1
	for _, day := range r.Days {
		most = max(most, day.Rooms)
		d.Rooms += day.Rooms
	}
	for _, day := range r.Days {
		d.Bars = append(d.Bars, reportBar{Date: day.Date, Rooms: day.Rooms, Pct: day.Rooms * 100 / most})
	}
	return c.HTML(http.StatusOK, "hk_reports", d, nil)
}
