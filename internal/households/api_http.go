package households

import (
	"bytes"
	"embed"
	"net/http"
	"strconv"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

//go:embed templates
var templates embed.FS

// HTTP serves the households API and pages.
type HTTP struct{ Svc *Service }

// AddPages registers this module's page templates.
func AddPages(r *web.Renderer) error { return r.AddPages(templates, "templates") }

// Nav lists this module's navigation entries.
func Nav() []web.NavItem {
	return []web.NavItem{
		{Key: "nav.households", Href: "/households", Perm: auth.PermHouseholdView},
		{Key: "nav.care", Href: "/care", Perm: auth.PermCareWork},
		{Key: "nav.butlers", Href: "/butlers", Perm: auth.PermHouseholdAssign},
		{Key: "nav.pii_log", Href: "/pii/access-log", Perm: auth.PermPIIReview, Group: "nav.group.admin"},
	}
}

// ButlerList lists the staff who can own households.
type ButlerList struct {
	Items []Butler `json:"items"`
}

// importTypes are the media types an import accepts.
var importTypes = []string{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream"}

// maxImport caps an uploaded import file.
const maxImport = 32 << 20

// Routes lists the households endpoints and pages.
func (h *HTTP) Routes() []web.Route {
	page := []web.Param{{Name: "page", Type: "integer"}, {Name: "per_page", Type: "integer"}}
	hhQuery := append([]web.Param{{Name: "q", Desc: "one box: unit 3-1502, name, pinyin initials, phone suffix"}, {Name: "site_id", Type: "integer"},
		{Name: "building_id", Type: "integer"}, {Name: "butler_id", Type: "integer"}, {Name: "flag", Desc: "elderly_alone, has_child, needs_assistance"},
		{Name: "residency", Desc: "living, absent"}}, page...)
	unitQuery := append([]web.Param{{Name: "site_id", Type: "integer"}, {Name: "building_id", Type: "integer"}, {Name: "q", Desc: "unit number prefix"},
		{Name: "state"}}, page...)
	taskQuery := []web.Param{{Name: "butler_id", Type: "integer", Desc: "0 or absent: every butler in view"}, {Name: "status", Desc: "open, done, cancelled"},
		{Name: "kind"}, {Name: "due", Desc: "today, overdue, upcoming, all"}}
	logQuery := []web.Param{{Name: "person_id", Type: "integer"}, {Name: "staff_id", Type: "integer"}, {Name: "field"}, {Name: "from", Desc: "YYYY-MM-DD"},
		{Name: "to", Desc: "YYYY-MM-DD"}, {Name: "before_id", Type: "integer"}}
	doc := func(summary string, body, resp any, status int) *web.Doc {
		return &web.Doc{Summary: summary, Tag: "households", Body: body, Resp: resp, Status: status}
	}
	created := http.StatusCreated
	return []web.Route{
		{Method: "GET", Path: "/api/v1/units", Perm: PermView, Handler: h.apiUnits,
			Doc: &web.Doc{Summary: "Units of the sites in view, by number", Tag: "households", Query: unitQuery, Resp: UnitPage{}}},
		{Method: "POST", Path: "/api/v1/units", Perm: PermManage, Handler: h.apiCreateUnit, Doc: doc("Add a unit", UnitInput{}, Unit{}, created)},
		{Method: "GET", Path: "/api/v1/units/{id}", Perm: PermView, Handler: h.apiUnit, Doc: doc("One unit", nil, Unit{}, 0)},
		{Method: "PUT", Path: "/api/v1/units/{id}", Perm: PermManage, Handler: h.apiUpdateUnit, Doc: doc("Change a unit", UnitInput{}, Unit{}, 0)},
		{Method: "GET", Path: "/api/v1/households", Perm: PermView, Handler: h.apiHouseholds,
			Doc: &web.Doc{Summary: "Search or page through households (people masked)", Tag: "households", Query: hhQuery, Resp: HouseholdPage{}}},
		{Method: "POST", Path: "/api/v1/households", Perm: PermManage, Handler: h.apiCreateHousehold,
			Doc: doc("Register the household of a unit", HouseholdInput{}, Household{}, created)},
		{Method: "GET", Path: "/api/v1/households/{id}", Perm: PermView, Handler: h.apiProfile,
			Doc: doc("A household's profile: people (masked), events, care, keys, butlers, timeline", nil, Profile{}, 0)},
		{Method: "PUT", Path: "/api/v1/households/{id}", Perm: PermManage, Handler: h.apiUpdateHousehold,
			Doc: doc("Change a household's residency, move-in day and notes", HouseholdInput{}, Household{}, 0)},
		{Method: "POST", Path: "/api/v1/households/{id}/move-out", Perm: PermManage, Handler: h.apiMoveOut,
			Doc: doc("A household moves out: people, tasks and search end, the unit is free", MoveOutInput{}, Household{}, 0)},
		{Method: "POST", Path: "/api/v1/households/{id}/people", Perm: PermManage, Handler: h.apiCreatePerson,
			Doc: doc("Add a person; sensitive fields need their consent (recorded in the same request)", PersonInput{}, Person{}, created)},
		{Method: "GET", Path: "/api/v1/people/{id}", Perm: PermView, Handler: h.apiPerson, Doc: doc("One person (masked)", nil, Person{}, 0)},
		{Method: "PUT", Path: "/api/v1/people/{id}", Perm: PermManage, Handler: h.apiUpdatePerson,
			Doc: doc("Change a person; absent phones, id_number, birthday keep their value", PersonInput{}, Person{}, 0)},
		{Method: "POST", Path: "/api/v1/people/{id}/unmask", Perm: PermUnmask, Handler: h.apiUnmask,
			Doc: doc("One clear value (phone, id_number, birthday); needs a reason and is logged", UnmaskInput{}, Unmasked{}, 0)},
		{Method: "POST", Path: "/api/v1/people/{id}/consents", Perm: PermManage, Handler: h.apiAddConsent,
			Doc: doc("Record a consent", ConsentInput{}, Consent{}, created)},
		{Method: "POST", Path: "/api/v1/consents/{id}/withdraw", Perm: PermManage, Handler: h.apiWithdrawConsent,
			Doc: doc("Withdraw a consent; the data it covered is deleted", nil, Consent{}, 0)},
		{Method: "POST", Path: "/api/v1/people/{id}/export", Perm: PermExport, Handler: h.apiExport,
			Doc: doc("Everything held about a person, in clear (logged with the reason)", ExportInput{}, PersonExport{}, 0)},
		{Method: "POST", Path: "/api/v1/people/{id}/erase", Perm: PermErase, Handler: h.apiErase,
			Doc: doc("Erase a person's personal data for good; confirm repeats the id", EraseInput{}, nil, http.StatusNoContent)},
		{Method: "POST", Path: "/api/v1/households/{id}/events", Perm: PermManage, Handler: h.apiAddEvent,
			Doc: doc("Record a life event; its tasks are created, each due on its day", EventInput{}, LifeEvent{}, created)},
		{Method: "POST", Path: "/api/v1/households/{id}/arrivals", Perm: PermCare, Handler: h.apiAddArrival,
			Doc: doc("An owner's \"I'm coming back\": preparations due before the arrival (needs a kept key)", ArrivalInput{}, LifeEvent{}, created)},
		{Method: "POST", Path: "/api/v1/events/{id}/cancel", Perm: PermManage, Handler: h.apiCancelEvent,
			Doc: doc("Cancel a life event and its open tasks", nil, LifeEvent{}, 0)},
		{Method: "GET", Path: "/api/v1/care-tasks", Perm: PermView, Handler: h.apiTasks,
			Doc: &web.Doc{Summary: "Care tasks in view", Tag: "households", Query: taskQuery, Resp: CareTaskList{}}},
		{Method: "POST", Path: "/api/v1/care-tasks/{id}/complete", Perm: PermCare, Handler: h.apiCompleteTask,
			Doc: doc("Mark a care task done, recording the contact", CareDoneInput{}, CareTask{}, 0)},
		{Method: "POST", Path: "/api/v1/households/{id}/contacts", Perm: PermCare, Handler: h.apiAddContact,
			Doc: doc("Record a visit, call or message", ContactInput{}, Contact{}, created)},
		{Method: "POST", Path: "/api/v1/households/{id}/keys", Perm: PermCare, Handler: h.apiReceiveKey,
			Doc: doc("Record a key received from an owner", KeyInput{}, Key{}, created)},
		{Method: "POST", Path: "/api/v1/keys/{id}/uses", Perm: PermCare, Handler: h.apiKeyUse,
			Doc: doc("Record a use of a kept key", KeyUseInput{}, Key{}, created)},
		{Method: "POST", Path: "/api/v1/keys/{id}/return", Perm: PermCare, Handler: h.apiKeyReturn,
			Doc: doc("Give a kept key back", KeyReturnInput{}, Key{}, 0)},
		{Method: "POST", Path: "/api/v1/handovers", Perm: PermAssign, Handler: h.apiHandover,
			Doc: doc("Hand households over to another butler, with their open tasks", HandoverInput{}, Handover{}, created)},
		{Method: "GET", Path: "/api/v1/butlers", Perm: PermView, Handler: h.apiButlers, Doc: doc("Staff who can own households", nil, ButlerList{}, 0)},
		{Method: "GET", Path: "/api/v1/butlers/coverage", Perm: PermView, Handler: h.apiCoverage,
			Doc: &web.Doc{Summary: "Each butler's households, care tasks and last contact", Tag: "households", Query: []web.Param{{Name: "site_id", Type: "integer"}}, Resp: Coverage{}}},
		{Method: "GET", Path: "/api/v1/pii/access-log", Perm: PermReview, Handler: h.apiAccessLog,
			Doc: &web.Doc{Summary: "Every clear personal value shown or exported: who, whose, which field, why, when", Tag: "households", Query: logQuery, Resp: AccessPage{}}},
		{Method: "POST", Path: "/api/v1/households/import", Perm: PermManage, Handler: h.apiImport,
			Doc: &web.Doc{Summary: "Import households and people from the XLSX template, all or nothing; problems are listed in error.details.problems",
				Tag: "households", Query: []web.Param{{Name: "site_id", Type: "integer"}}, RawBody: importTypes, Resp: LoadReport{}}},

		{Method: "GET", Path: "/households", Perm: PermView, Handler: h.householdsPage},
		{Method: "POST", Path: "/households", Perm: PermManage, Handler: h.householdCreateForm},
		{Method: "GET", Path: "/households/{id}", Perm: PermView, Handler: h.householdPage},
		{Method: "POST", Path: "/households/{id}", Perm: PermManage, Handler: h.householdUpdateForm},
		{Method: "POST", Path: "/households/{id}/move-out", Perm: PermManage, Handler: h.moveOutForm},
		{Method: "GET", Path: "/households/{id}/people/new", Perm: PermManage, Handler: h.personNewPage},
		{Method: "POST", Path: "/households/{id}/people", Perm: PermManage, Handler: h.personCreateForm},
		{Method: "POST", Path: "/households/{id}/events", Perm: PermManage, Handler: h.eventForm},
		{Method: "POST", Path: "/households/{id}/arrivals", Perm: PermCare, Handler: h.arrivalForm},
		{Method: "POST", Path: "/households/{id}/contacts", Perm: PermCare, Handler: h.contactForm},
		{Method: "POST", Path: "/households/{id}/keys", Perm: PermCare, Handler: h.keyForm},
		{Method: "GET", Path: "/people/{id}", Perm: PermView, Handler: h.personPage},
		{Method: "GET", Path: "/people/{id}/edit", Perm: PermManage, Handler: h.personEditPage},
		{Method: "POST", Path: "/people/{id}", Perm: PermManage, Handler: h.personUpdateForm},
		{Method: "POST", Path: "/people/{id}/unmask", Perm: PermUnmask, Handler: h.unmaskForm},
		{Method: "POST", Path: "/people/{id}/consents", Perm: PermManage, Handler: h.consentForm},
		{Method: "POST", Path: "/people/{id}/export", Perm: PermExport, Handler: h.exportForm},
		{Method: "POST", Path: "/people/{id}/erase", Perm: PermErase, Handler: h.eraseForm},
		{Method: "POST", Path: "/consents/{id}/withdraw", Perm: PermManage, Handler: h.withdrawForm},
		{Method: "POST", Path: "/events/{id}/cancel", Perm: PermManage, Handler: h.cancelEventForm},
		{Method: "POST", Path: "/keys/{id}/uses", Perm: PermCare, Handler: h.keyUseForm},
		{Method: "POST", Path: "/keys/{id}/return", Perm: PermCare, Handler: h.keyReturnForm},
		{Method: "GET", Path: "/care", Perm: PermCare, Handler: h.carePage},
		{Method: "POST", Path: "/care/tasks/{id}/complete", Perm: PermCare, Handler: h.completeForm},
		{Method: "GET", Path: "/units", Perm: PermView, Handler: h.unitsPage},
		{Method: "POST", Path: "/units", Perm: PermManage, Handler: h.unitCreateForm},
		{Method: "GET", Path: "/units/{id}", Perm: PermView, Handler: h.unitPage},
		{Method: "POST", Path: "/units/{id}", Perm: PermManage, Handler: h.unitUpdateForm},
		{Method: "GET", Path: "/butlers", Perm: PermAssign, Handler: h.coveragePage},
		{Method: "POST", Path: "/butlers/handover", Perm: PermAssign, Handler: h.handoverForm},
		{Method: "GET", Path: "/households/import", Perm: PermManage, Handler: h.importPage},
		{Method: "POST", Path: "/households/import", Perm: PermManage, Handler: h.importForm},
		{Method: "GET", Path: "/households/import/template.xlsx", Perm: PermManage, Handler: h.templateDownload},
		{Method: "GET", Path: "/households/export.xlsx", Perm: PermView, Handler: h.exportMasked},
		{Method: "POST", Path: "/households/export.xlsx", Perm: PermExport, Handler: h.exportClear},
		{Method: "GET", Path: "/pii/access-log", Perm: PermReview, Handler: h.accessLogPage},
	}
}

// queryID reads an optional positive id from the query; EInvalid naming
// the parameter when it is there but not an id.
func queryID(c *web.Ctx, name string) (int64, error) {
	s := c.Query(name)
	if s == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.Invalid(name, "error.field.wrong_type")
	}
	return id, nil
}

// queryInts reads several ids and the page numbers.
func queryIDs(c *web.Ctx, names ...string) (map[string]int64, error) {
	out := map[string]int64{}
	var v errs.Validation
	for _, n := range names {
		id, err := queryID(c, n)
		if err != nil {
			v.Add(n, "error.field.wrong_type")
		}
		out[n] = id
	}
	for _, n := range []string{"page", "per_page"} {
		if s := c.Query(n); s != "" {
			if x, err := strconv.Atoi(s); err != nil || x < 1 {
				v.Add(n, "error.field.wrong_type")
			}
		}
	}
	return out, v.Err()
}

func queryDay(c *web.Ctx, name string, v *errs.Validation) time.Time {
	s := c.Query(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.ParseInLocation("2006-01-02", s, defaultZone)
	if err != nil {
		v.Add(name, "error.hh.bad_date")
	}
	return t
}

func (h *HTTP) apiUnits(c *web.Ctx) error {
	q, err := queryIDs(c, "site_id", "building_id")
	if err != nil {
		return err
	}
	p, err := h.Svc.ListUnits(c.R.Context(), UnitFilter{SiteID: q["site_id"], BuildingID: q["building_id"], Q: c.Query("q"), State: c.Query("state"),
		Page: c.QueryInt("page", 1), PerPage: c.QueryInt("per_page", 50)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *HTTP) apiCreateUnit(c *web.Ctx) error {
	var in UnitInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	u, err := h.Svc.CreateUnit(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, u)
}

func (h *HTTP) apiUnit(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	u, err := h.Svc.Unit(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (h *HTTP) apiUpdateUnit(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in UnitInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	u, err := h.Svc.UpdateUnit(c.R.Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (h *HTTP) householdFilter(c *web.Ctx) (HouseholdFilter, error) {
	q, err := queryIDs(c, "site_id", "building_id", "butler_id")
	return HouseholdFilter{Q: c.Query("q"), SiteID: q["site_id"], BuildingID: q["building_id"], ButlerID: q["butler_id"], Flag: c.Query("flag"),
		Residency: c.Query("residency"), Page: c.QueryInt("page", 1), PerPage: c.QueryInt("per_page", 50)}, err
}

func (h *HTTP) apiHouseholds(c *web.Ctx) error {
	f, err := h.householdFilter(c)
	if err != nil {
		return err
	}
	p, err := h.Svc.ListHouseholds(c.R.Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *HTTP) apiCreateHousehold(c *web.Ctx) error {
	var in HouseholdInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	hh, err := h.Svc.CreateHousehold(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, hh)
}

func (h *HTTP) apiProfile(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	p, err := h.Svc.Profile(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// withID decodes the body into in and calls fn with the path id.
func withID[T any](c *web.Ctx, fn func(id int64, in T) (any, error), status int) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in T
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := fn(id, in)
	if err != nil {
		return err
	}
	return c.JSON(status, out)
}

func (h *HTTP) apiUpdateHousehold(c *web.Ctx) error {
	return withID(c, func(id int64, in HouseholdInput) (any, error) { return h.Svc.UpdateHousehold(c.R.Context(), id, in) }, http.StatusOK)
}

func (h *HTTP) apiMoveOut(c *web.Ctx) error {
	return withID(c, func(id int64, in MoveOutInput) (any, error) { return h.Svc.MoveOut(c.R.Context(), id, in) }, http.StatusOK)
}

func (h *HTTP) apiCreatePerson(c *web.Ctx) error {
	return withID(c, func(id int64, in PersonInput) (any, error) { return h.Svc.CreatePerson(c.R.Context(), id, in) }, http.StatusCreated)
}

func (h *HTTP) apiPerson(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	p, err := h.Svc.Person(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *HTTP) apiUpdatePerson(c *web.Ctx) error {
	return withID(c, func(id int64, in PersonInput) (any, error) { return h.Svc.UpdatePerson(c.R.Context(), id, in) }, http.StatusOK)
}

func (h *HTTP) apiUnmask(c *web.Ctx) error {
	return withID(c, func(id int64, in UnmaskInput) (any, error) { return h.Svc.Unmask(c.R.Context(), id, in) }, http.StatusOK)
}

func (h *HTTP) apiAddConsent(c *web.Ctx) error {
	return withID(c, func(id int64, in ConsentInput) (any, error) { return h.Svc.AddConsent(c.R.Context(), id, in) }, http.StatusCreated)
}

func (h *HTTP) apiWithdrawConsent(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	out, err := h.Svc.WithdrawConsent(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (h *HTTP) apiExport(c *web.Ctx) error {
	return withID(c, func(id int64, in ExportInput) (any, error) { return h.Svc.ExportPerson(c.R.Context(), id, in) }, http.StatusOK)
}

func (h *HTTP) apiErase(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in EraseInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	if err := h.Svc.ErasePerson(c.R.Context(), id, in); err != nil {
		return err
	}
	return c.NoContent()
}

func (h *HTTP) apiAddEvent(c *web.Ctx) error {
	return withID(c, func(id int64, in EventInput) (any, error) { return h.Svc.AddEvent(c.R.Context(), id, in) }, http.StatusCreated)
}

func (h *HTTP) apiAddArrival(c *web.Ctx) error {
	return withID(c, func(id int64, in ArrivalInput) (any, error) { return h.Svc.AddArrival(c.R.Context(), id, in) }, http.StatusCreated)
}

func (h *HTTP) apiCancelEvent(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	e, err := h.Svc.CancelEvent(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

func (h *HTTP) apiTasks(c *web.Ctx) error {
	q, err := queryIDs(c, "butler_id")
	if err != nil {
		return err
	}
	l, err := h.Svc.ListTasks(c.R.Context(), TaskFilter{ButlerID: q["butler_id"], Status: c.Query("status"), Kind: c.Query("kind"), Due: c.Query("due")})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (h *HTTP) apiCompleteTask(c *web.Ctx) error {
	return withID(c, func(id int64, in CareDoneInput) (any, error) { return h.Svc.CompleteTask(c.R.Context(), id, in) }, http.StatusOK)
}

func (h *HTTP) apiAddContact(c *web.Ctx) error {
	return withID(c, func(id int64, in ContactInput) (any, error) { return h.Svc.AddContact(c.R.Context(), id, in) }, http.StatusCreated)
}

func (h *HTTP) apiReceiveKey(c *web.Ctx) error {
	return withID(c, func(id int64, in KeyInput) (any, error) { return h.Svc.ReceiveKey(c.R.Context(), id, in) }, http.StatusCreated)
}

func (h *HTTP) apiKeyUse(c *web.Ctx) error {
	return withID(c, func(id int64, in KeyUseInput) (any, error) { return h.Svc.LogKeyUse(c.R.Context(), id, in) }, http.StatusCreated)
}

func (h *HTTP) apiKeyReturn(c *web.Ctx) error {
	return withID(c, func(id int64, in KeyReturnInput) (any, error) { return h.Svc.ReturnKey(c.R.Context(), id, in) }, http.StatusOK)
}

func (h *HTTP) apiHandover(c *web.Ctx) error {
	var in HandoverInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := h.Svc.HandOver(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (h *HTTP) apiButlers(c *web.Ctx) error {
	bs, err := h.Svc.Butlers(c.R.Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ButlerList{Items: bs})
}

func (h *HTTP) apiCoverage(c *web.Ctx) error {
	site, err := queryID(c, "site_id")
	if err != nil {
		return err
	}
	cov, err := h.Svc.Coverage(c.R.Context(), site)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cov)
}

func (h *HTTP) accessFilter(c *web.Ctx) (AccessFilter, error) {
	q, err := queryIDs(c, "person_id", "staff_id", "before_id")
	var v errs.Validation
	if err != nil {
		v.Add("query", "error.field.wrong_type")
	}
	f := AccessFilter{PersonID: q["person_id"], StaffID: q["staff_id"], BeforeID: q["before_id"], Field: c.Query("field")}
	f.From = queryDay(c, "from", &v)
	if to := queryDay(c, "to", &v); !to.IsZero() {
		f.To = to.AddDate(0, 0, 1)
	}
	if err != nil {
		return f, err
	}
	return f, v.Err()
}

func (h *HTTP) apiAccessLog(c *web.Ctx) error {
	f, err := h.accessFilter(c)
	if err != nil {
		return err
	}
	p, err := h.Svc.AccessLog(c.R.Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *HTTP) apiImport(c *web.Ctx) error {
	site, err := queryID(c, "site_id")
	if err != nil {
		return err
	}
	if site == 0 {
		return errs.Invalid("site_id", "error.field.required")
	}
	body, err := c.RawBody(maxImport)
	if err != nil {
		return err
	}
	rep, err := h.Svc.ImportXLSX(c.R.Context(), site, bytes.NewReader(body))
	if err != nil {
		return translateProblems(c, err)
	}
	return c.JSON(http.StatusOK, rep)
}

// translateProblems fills each import problem's message in the caller's
// language.
func translateProblems(c *web.Ctx, err error) error {
	if ps, ok := ImportProblems(err); ok {
		for i := range ps {
			ps[i].Message = c.L.T(ps[i].Key)
		}
	}
	return err
}
