package households

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

// Site is a site in view, for filters and forms.
type Site struct {
	ID   int64
	Name string
}

// Sites lists the sites the caller may view households of.
func (s *Service) Sites(ctx context.Context) ([]Site, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id, name, path FROM org_nodes WHERE kind = 'site' ORDER BY path`)
	if err != nil {
		return nil, fmt.Errorf("households: sites: %w", err)
	}
	defer rows.Close()
	var out []Site
	for rows.Next() {
		var st Site
		var path string
		if err := rows.Scan(&st.ID, &st.Name, &path); err != nil {
			return nil, err
		}
		if canSee(ctx, path) {
			out = append(out, st)
		}
	}
	return out, rows.Err()
}

// choices are the lists forms pick from.
type choices struct {
	Roles, UnitStates, Residencies, PhoneLabels, IDTypes, PetKinds, Genders   []string
	ConsentPurposes, ConsentChannels, ContactChannels, KeyPurposes            []string
	EventKinds, ArrivalPreparations, Flags, TaskKinds, TaskDues, UnmaskFields []string
	ConsentVersion                                                            string
}

// ConsentVersion is the version of the consent texts the forms record.
const ConsentVersion = "2026-01"

var formChoices = choices{Roles: Roles, UnitStates: UnitStates, Residencies: Residencies, PhoneLabels: PhoneLabels, IDTypes: IDTypes,
	PetKinds: PetKinds, Genders: Genders, ConsentPurposes: ConsentPurposes, ConsentChannels: ConsentChannels, ContactChannels: ContactChannels,
	KeyPurposes: KeyPurposes, EventKinds: EventKinds, ArrivalPreparations: ArrivalPreparations, Flags: HouseholdFlags, TaskKinds: TaskKinds,
	TaskDues: TaskDues, UnmaskFields: UnmaskFields, ConsentVersion: ConsentVersion}

// can says what the caller may do, for showing only the forms that work.
type can struct {
	Manage, Care, Assign, Unmask, Export, Erase, Review bool
}

func canAt(ctx context.Context, path string) can {
	p := principal(ctx)
	if path == "" {
		return can{Manage: p.CanAnywhere(PermManage), Care: p.CanAnywhere(PermCare), Assign: p.CanAnywhere(PermAssign), Unmask: p.CanAnywhere(PermUnmask),
			Export: p.CanAnywhere(PermExport), Erase: p.CanAnywhere(PermErase), Review: p.CanAnywhere(PermReview)}
	}
	return can{Manage: p.Can(PermManage, path), Care: p.Can(PermCare, path), Assign: p.Can(PermAssign, path), Unmask: p.Can(PermUnmask, path),
		Export: p.Can(PermExport, path), Erase: p.Can(PermErase, path), Review: p.Can(PermReview, path)}
}

type householdsData struct {
	Page    *HouseholdPage
	Filter  HouseholdFilter
	Mine    bool
	Base    string
	Sites   []Site
	Choices choices
	Can     can
}

func (h *HTTP) householdsPage(c *web.Ctx) error {
	ctx := c.R.Context()
	f, ferr := h.householdFilter(c)
	mine := c.Query("mine") == "1"
	if mine {
		f.ButlerID = principal(ctx).StaffID
	}
	d := &householdsData{Filter: f, Mine: mine, Choices: formChoices, Can: canAt(ctx, "")}
	var err error
	if ferr == nil {
		d.Page, err = h.Svc.ListHouseholds(ctx, f)
	}
	if err != nil && errs.CodeOf(err) != errs.EInvalid {
		return err
	}
	if ferr != nil {
		err = ferr
	}
	if d.Page == nil {
		d.Page = &HouseholdPage{Page: 1, PerPage: 50}
	}
	if d.Sites, err = h.Svc.Sites(ctx); err != nil {
		return err
	}
	q := url.Values{}
	for _, k := range []string{"q", "site_id", "flag", "residency", "mine", "butler_id"} {
		if v := c.Query(k); v != "" {
			q.Set(k, v)
		}
	}
	d.Base = "/households?" + q.Encode()
	return c.HTML(http.StatusOK, "households", d, ferr)
}

type householdData struct {
	P       *Profile
	Choices choices
	Can     can
	Saved   string
	Tab     string
}

func (h *HTTP) householdData(ctx context.Context, id int64) (*householdData, error) {
	p, err := h.Svc.Profile(ctx, id)
	if err != nil {
		return nil, err
	}
	return &householdData{P: p, Choices: formChoices, Can: canAt(ctx, p.Household.NodePath)}, nil
}

func (h *HTTP) householdPage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	d, err := h.householdData(c.R.Context(), id)
	if err != nil {
		return err
	}
	d.Saved = c.Query("saved")
	return c.HTML(http.StatusOK, "household", d, nil)
}

// back renders the household page with a form's error, or goes back to it.
func (h *HTTP) back(c *web.Ctx, householdID int64, what string, err error) error {
	code := errs.CodeOf(err)
	if err != nil && code != errs.EInvalid && code != errs.EConflict && code != errs.EForbidden {
		return err
	}
	if err != nil {
		d, derr := h.householdData(c.R.Context(), householdID)
		if derr != nil {
			return derr
		}
		return c.HTML(web.StatusOf(code), "household", d, err)
	}
	return c.Redirect(fmt.Sprintf("/households/%d?saved=%s", householdID, what))
}

func (h *HTTP) householdCreateForm(c *web.Ctx) error {
	var in HouseholdInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	hh, err := h.Svc.CreateHousehold(c.R.Context(), in)
	if err != nil {
		if errs.CodeOf(err) == errs.EInvalid && in.UnitID != 0 {
			return h.unitBack(c, in.UnitID, err)
		}
		return err
	}
	return c.Redirect(fmt.Sprintf("/households/%d?saved=household", hh.ID))
}

func (h *HTTP) householdUpdateForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in HouseholdInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	_, err = h.Svc.UpdateHousehold(c.R.Context(), id, in)
	return h.back(c, id, "household", err)
}

func (h *HTTP) moveOutForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in MoveOutInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	_, err = h.Svc.MoveOut(c.R.Context(), id, in)
	return h.back(c, id, "moved_out", err)
}

func (h *HTTP) eventForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in EventInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	_, err = h.Svc.AddEvent(c.R.Context(), id, in)
	return h.back(c, id, "event", err)
}

// arrivalFormInput is the arrival form: a local date-time and checkboxes.
type arrivalFormInput struct {
	ArriveAt *time.Time `json:"arrive_at"`
	Prepare  []string   `json:"prepare"`
	Notes    string     `json:"notes"`
}

func (h *HTTP) arrivalForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in arrivalFormInput
	if err := c.Decode(&in); err != nil {
		return h.back(c, id, "", err)
	}
	_, err = h.Svc.AddArrival(c.R.Context(), id, ArrivalInput(in))
	return h.back(c, id, "arrival", err)
}

func (h *HTTP) contactForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in ContactInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	_, err = h.Svc.AddContact(c.R.Context(), id, in)
	return h.back(c, id, "contact", err)
}

func (h *HTTP) keyForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in KeyInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	_, err = h.Svc.ReceiveKey(c.R.Context(), id, in)
	return h.back(c, id, "key", err)
}

func (h *HTTP) keyUseForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	k, err := h.Svc.visibleKey(c.R.Context(), id)
	if err != nil {
		return err
	}
	var in KeyUseInput
	if err := c.Decode(&in); err != nil {
		return h.back(c, k.HouseholdID, "", err)
	}
	_, err = h.Svc.LogKeyUse(c.R.Context(), id, in)
	return h.back(c, k.HouseholdID, "key_use", err)
}

func (h *HTTP) keyReturnForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	k, err := h.Svc.visibleKey(c.R.Context(), id)
	if err != nil {
		return err
	}
	var in KeyReturnInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	_, err = h.Svc.ReturnKey(c.R.Context(), id, in)
	return h.back(c, k.HouseholdID, "key_return", err)
}

func (h *HTTP) cancelEventForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	e, err := h.Svc.event(c.R.Context(), id)
	if err != nil {
		return err
	}
	_, err = h.Svc.CancelEvent(c.R.Context(), id)
	return h.back(c, e.HouseholdID, "event_cancelled", err)
}

// personForm is the person form as a browser posts it: masked values are
// never shown, so empty sensitive inputs keep what is stored.
type personForm struct {
	Role            string `json:"role"`
	Relation        string `json:"relation"`
	Name            string `json:"name"`
	Gender          string `json:"gender"`
	Phone1          string `json:"phone1"`
	Phone2          string `json:"phone2"`
	ClearPhones     bool   `json:"clear_phones"`
	IDType          string `json:"id_type"`
	IDNumber        string `json:"id_number"`
	ClearIDNumber   bool   `json:"clear_id_number"`
	Birthday        string `json:"birthday"`
	ClearBirthday   bool   `json:"clear_birthday"`
	Notes           string `json:"notes"`
	ElderlyAlone    bool   `json:"elderly_alone"`
	ChildUnder14    bool   `json:"child_under_14"`
	NeedsAssistance bool   `json:"needs_assistance"`
	Plates          string `json:"plates"`
	Pets            string `json:"pets"`
	// Consents given with this form.
	ConsentIDNumber  bool   `json:"consent_id_number"`
	ConsentBirthday  bool   `json:"consent_birthday"`
	ConsentMinor     bool   `json:"consent_minor"`
	GuardianRelation string `json:"guardian_relation"`
	ConsentChannel   string `json:"consent_channel"`
	TextVersion      string `json:"text_version"`
}

// input turns the form into a PersonInput; create forms keep nothing.
func (f personForm) input(create bool) PersonInput {
	in := PersonInput{Role: f.Role, Relation: f.Relation, Name: f.Name, Gender: f.Gender, IDType: f.IDType, Notes: f.Notes,
		ElderlyAlone: f.ElderlyAlone, ChildUnder14: f.ChildUnder14, NeedsAssistance: f.NeedsAssistance}
	var phones []PhoneInput
	for i, p := range []string{f.Phone1, f.Phone2} {
		if p = strings.TrimSpace(p); p != "" {
			phones = append(phones, PhoneInput{Label: []string{"mobile", "other"}[i], Number: p})
		}
	}
	if create || f.ClearPhones || len(phones) > 0 {
		in.Phones = orEmpty(phones)
	}
	keep := func(v string, clear bool) *string {
		v = strings.TrimSpace(v)
		if v == "" && !clear && !create {
			return nil
		}
		return &v
	}
	in.IDNumber, in.Birthday = keep(f.IDNumber, f.ClearIDNumber), keep(f.Birthday, f.ClearBirthday)
	plates := splitList(f.Plates)
	in.Vehicles = []VehicleInput{}
	for _, p := range plates {
		in.Vehicles = append(in.Vehicles, VehicleInput{Plate: p})
	}
	in.Pets = []PetInput{}
	for _, p := range splitList(f.Pets) {
		kind, name, ok := strings.Cut(p, ":")
		if !ok {
			kind, name, _ = strings.Cut(p, "：")
		}
		code := petWords[strings.TrimSpace(kind)]
		if code == "" {
			code = strings.TrimSpace(kind)
		}
		in.Pets = append(in.Pets, PetInput{Kind: code, Name: strings.TrimSpace(name)})
	}
	channel := f.ConsentChannel
	if channel == "" {
		channel = "paper"
	}
	version := strings.TrimSpace(f.TextVersion)
	if version == "" {
		version = ConsentVersion
	}
	if f.ConsentIDNumber {
		in.Consents = append(in.Consents, ConsentInput{Purpose: "id_number", TextVersion: version, Channel: channel, GivenBy: "self"})
	}
	if f.ConsentBirthday {
		in.Consents = append(in.Consents, ConsentInput{Purpose: "birthday", TextVersion: version, Channel: channel, GivenBy: "self"})
	}
	if f.ConsentMinor {
		in.Consents = append(in.Consents, ConsentInput{Purpose: "minor", TextVersion: version, Channel: channel, GivenBy: "guardian", GuardianRelation: f.GuardianRelation})
	}
	return in
}

// formOf fills the form from a stored person (sensitive fields empty).
func formOf(p *Person) personForm {
	f := personForm{Role: p.Role, Relation: p.Relation, Name: p.Name, Gender: p.Gender, IDType: p.IDType, Notes: p.Notes, ElderlyAlone: p.ElderlyAlone,
		ChildUnder14: p.ChildUnder14, NeedsAssistance: p.NeedsAssistance}
	var plates, pets []string
	for _, v := range p.Vehicles {
		plates = append(plates, v.Plate)
	}
	for _, pt := range p.Pets {
		pets = append(pets, wordOf(petWords, pt.Kind)+":"+pt.Name)
	}
	f.Plates, f.Pets = strings.Join(plates, "、"), strings.Join(pets, "、")
	return f
}

type personFormData struct {
	Household *Household
	Person    *Person
	Form      personForm
	Choices   choices
}

func (h *HTTP) personNewPage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	hh, err := h.Svc.Household(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "household_person_form", &personFormData{Household: hh, Form: personForm{Role: "family"}, Choices: formChoices}, nil)
}

func (h *HTTP) personCreateForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	hh, err := h.Svc.Household(c.R.Context(), id)
	if err != nil {
		return err
	}
	var f personForm
	if err := c.Decode(&f); err != nil {
		return err
	}
	p, err := h.Svc.CreatePerson(c.R.Context(), id, f.input(true))
	if errs.CodeOf(err) == errs.EInvalid {
		f.IDNumber = ""
		return c.HTML(http.StatusUnprocessableEntity, "household_person_form", &personFormData{Household: hh, Form: f, Choices: formChoices}, err)
	}
	if err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/households/%d?saved=person#person-%d", id, p.ID))
}

func (h *HTTP) personEditPage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	p, err := h.Svc.Person(c.R.Context(), id)
	if err != nil {
		return err
	}
	hh, err := h.Svc.Household(c.R.Context(), p.HouseholdID)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "household_person_form", &personFormData{Household: hh, Person: p, Form: formOf(p), Choices: formChoices}, nil)
}

func (h *HTTP) personUpdateForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	p, err := h.Svc.Person(c.R.Context(), id)
	if err != nil {
		return err
	}
	var f personForm
	if err := c.Decode(&f); err != nil {
		return err
	}
	_, err = h.Svc.UpdatePerson(c.R.Context(), id, f.input(false))
	if code := errs.CodeOf(err); code == errs.EInvalid || code == errs.EConflict {
		hh, herr := h.Svc.Household(c.R.Context(), p.HouseholdID)
		if herr != nil {
			return herr
		}
		f.IDNumber = ""
		return c.HTML(web.StatusOf(code), "household_person_form", &personFormData{Household: hh, Person: p, Form: f, Choices: formChoices}, err)
	}
	if err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/people/%d?saved=person", id))
}

type personData struct {
	Person    *Person
	Household *Household
	Choices   choices
	Can       can
	Saved     string
}

func (h *HTTP) personData(ctx context.Context, id int64) (*personData, error) {
	p, err := h.Svc.Person(ctx, id)
	if err != nil {
		return nil, err
	}
	hh, err := h.Svc.Household(ctx, p.HouseholdID)
	if err != nil {
		return nil, err
	}
	return &personData{Person: p, Household: hh, Choices: formChoices, Can: canAt(ctx, p.NodePath)}, nil
}

func (h *HTTP) personPage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	d, err := h.personData(c.R.Context(), id)
	if err != nil {
		return err
	}
	d.Saved = c.Query("saved")
	return c.HTML(http.StatusOK, "household_person", d, nil)
}

// personBack re-renders the person page with an error, or goes back to it.
func (h *HTTP) personBack(c *web.Ctx, id int64, what string, err error) error {
	code := errs.CodeOf(err)
	if err != nil && code != errs.EInvalid && code != errs.EConflict {
		return err
	}
	if err != nil {
		d, derr := h.personData(c.R.Context(), id)
		if derr != nil {
			return derr
		}
		return c.HTML(web.StatusOf(code), "household_person", d, err)
	}
	return c.Redirect(fmt.Sprintf("/people/%d?saved=%s", id, what))
}

type unmaskData struct {
	Person   *Person
	Unmasked *Unmasked
}

// unmaskForm shows one clear value: as an htmx fragment in place of the
// masked one, or as a page of its own without JavaScript.
func (h *HTTP) unmaskForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in UnmaskInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := h.Svc.Unmask(c.R.Context(), id, in)
	if err != nil {
		if errs.CodeOf(err) == errs.EInvalid && !c.IsHTMX() {
			return h.personBack(c, id, "", err)
		}
		return err
	}
	p, err := h.Svc.Person(c.R.Context(), id)
	if err != nil {
		return err
	}
	c.W.Header().Set("Cache-Control", "no-store")
	return c.HTML(http.StatusOK, "household_unmasked", &unmaskData{Person: p, Unmasked: out}, nil)
}

func (h *HTTP) consentForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in ConsentInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	_, err = h.Svc.AddConsent(c.R.Context(), id, in)
	return h.personBack(c, id, "consent", err)
}

func (h *HTTP) withdrawForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	co, err := h.Svc.WithdrawConsent(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/people/%d?saved=consent_withdrawn", co.PersonID))
}

// exportFormInput asks for a person's data as JSON or XLSX.
type exportFormInput struct {
	Reason string `json:"reason"`
	Format string `json:"format"` // json, xlsx
}

func (h *HTTP) exportForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in exportFormInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	out, err := h.Svc.ExportPerson(c.R.Context(), id, ExportInput{Reason: in.Reason})
	if err != nil {
		return h.personBack(c, id, "", err)
	}
	name := fmt.Sprintf("person-%d-%s", id, time.Now().Format("20060102"))
	c.W.Header().Set("Cache-Control", "no-store")
	if in.Format == "xlsx" {
		var buf bytes.Buffer
		if err := ExportPersonXLSX(&buf, out, c.L.T); err != nil {
			return err
		}
		return download(c, name+".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return download(c, name+".json", "application/json; charset=utf-8", b)
}

func download(c *web.Ctx, name, contentType string, body []byte) error {
	c.W.Header().Set("Content-Type", contentType)
	c.W.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	c.W.WriteHeader(http.StatusOK)
	_, err := c.W.Write(body)
	return err
}

func (h *HTTP) eraseForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	p, err := h.Svc.Person(c.R.Context(), id)
	if err != nil {
		return err
	}
	var in EraseInput
	if err := c.Decode(&in); err != nil {
		return h.personBack(c, id, "", err)
	}
	if err := h.Svc.ErasePerson(c.R.Context(), id, in); err != nil {
		return h.personBack(c, id, "", err)
	}
	return c.Redirect(fmt.Sprintf("/households/%d?saved=erased", p.HouseholdID))
}

type careData struct {
	List    *CareTaskList
	Filter  TaskFilter
	Butlers []Butler
	Mine    bool
	Choices choices
	Can     can
	Saved   string
}

func (h *HTTP) carePage(c *web.Ctx) error {
	ctx := c.R.Context()
	bid, ferr := queryID(c, "butler_id")
	f := TaskFilter{ButlerID: bid, Due: c.Query("due"), Kind: c.Query("kind"), Status: c.Query("status")}
	mine := c.Query("all") != "1" && bid == 0
	if mine {
		f.ButlerID = principal(ctx).StaffID
	}
	d := &careData{Filter: f, Mine: mine, Choices: formChoices, Can: canAt(ctx, ""), Saved: c.Query("saved")}
	var err error
	if ferr == nil {
		d.List, err = h.Svc.ListTasks(ctx, f)
	}
	if err != nil && errs.CodeOf(err) != errs.EInvalid {
		return err
	}
	if ferr != nil {
		err = ferr
	}
	if d.List == nil {
		d.List = &CareTaskList{}
	}
	if d.Butlers, err = h.Svc.Butlers(ctx); err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "household_care", d, ferr)
}

func (h *HTTP) completeForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in CareDoneInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	if _, err := h.Svc.CompleteTask(c.R.Context(), id, in); err != nil {
		return err
	}
	if next := c.R.FormValue("next"); strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") {
		return c.Redirect(next)
	}
	return c.Redirect("/care?saved=done")
}

type unitsData struct {
	Page    *UnitPage
	Filter  UnitFilter
	Sites   []Site
	Base    string
	Choices choices
	Can     can
	Form    UnitInput
}

func (h *HTTP) unitsData(c *web.Ctx) (*unitsData, error) {
	ctx := c.R.Context()
	q, ferr := queryIDs(c, "site_id")
	f := UnitFilter{SiteID: q["site_id"], Q: c.Query("q"), State: c.Query("state"), Page: c.QueryInt("page", 1)}
	d := &unitsData{Filter: f, Choices: formChoices, Can: canAt(ctx, "")}
	var err error
	if ferr == nil {
		d.Page, err = h.Svc.ListUnits(ctx, f)
		if err != nil && errs.CodeOf(err) != errs.EInvalid {
			return nil, err
		}
	}
	if d.Page == nil {
		d.Page = &UnitPage{Page: 1, PerPage: 50}
	}
	if d.Sites, err = h.Svc.Sites(ctx); err != nil {
		return nil, err
	}
	v := url.Values{}
	for _, k := range []string{"q", "site_id", "state"} {
		if x := c.Query(k); x != "" {
			v.Set(k, x)
		}
	}
	d.Base = "/units?" + v.Encode()
	return d, nil
}

func (h *HTTP) unitsPage(c *web.Ctx) error {
	d, err := h.unitsData(c)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "household_units", d, nil)
}

func (h *HTTP) unitCreateForm(c *web.Ctx) error {
	var in UnitInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	u, err := h.Svc.CreateUnit(c.R.Context(), in)
	if errs.CodeOf(err) == errs.EInvalid {
		d, derr := h.unitsData(c)
		if derr != nil {
			return derr
		}
		d.Form = in
		return c.HTML(http.StatusUnprocessableEntity, "household_units", d, err)
	}
	if err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/units/%d?saved=unit", u.ID))
}

type unitData struct {
	Unit    *Unit
	Form    UnitInput
	Butlers []Butler
	Choices choices
	Can     can
	Saved   string
}

func (h *HTTP) unitData(ctx context.Context, id int64) (*unitData, error) {
	u, err := h.Svc.Unit(ctx, id)
	if err != nil {
		return nil, err
	}
	bs, err := h.Svc.Butlers(ctx)
	if err != nil {
		return nil, err
	}
	return &unitData{Unit: u, Butlers: bs, Choices: formChoices, Can: canAt(ctx, u.NodePath),
		Form: UnitInput{SiteID: u.SiteID, BuildingID: u.BuildingID, Floor: u.Floor, Number: u.Number, AreaM2: u.AreaM2, Layout: u.Layout, State: u.State}}, nil
}

func (h *HTTP) unitPage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	d, err := h.unitData(c.R.Context(), id)
	if err != nil {
		return err
	}
	d.Saved = c.Query("saved")
	return c.HTML(http.StatusOK, "household_unit", d, nil)
}

func (h *HTTP) unitBack(c *web.Ctx, id int64, err error) error {
	d, derr := h.unitData(c.R.Context(), id)
	if derr != nil {
		return derr
	}
	return c.HTML(http.StatusUnprocessableEntity, "household_unit", d, err)
}

func (h *HTTP) unitUpdateForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in UnitInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	_, err = h.Svc.UpdateUnit(c.R.Context(), id, in)
	if errs.CodeOf(err) == errs.EInvalid {
		return h.unitBack(c, id, err)
	}
	if err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/units/%d?saved=unit", id))
}

type coverageData struct {
	Cov     *Coverage
	Butlers []Butler
	Sites   []Site
	SiteID  int64
	Saved   string
	Form    HandoverInput
	Can     can
}

func (h *HTTP) coverageData(c *web.Ctx) (*coverageData, error) {
	ctx := c.R.Context()
	site, _ := queryID(c, "site_id")
	cov, err := h.Svc.Coverage(ctx, site)
	if errs.CodeOf(err) == errs.EInvalid { // an unknown site in the URL: show them all
		site = 0
		cov, err = h.Svc.Coverage(ctx, 0)
	}
	if err != nil {
		return nil, err
	}
	bs, err := h.Svc.Butlers(ctx)
	if err != nil {
		return nil, err
	}
	sites, err := h.Svc.Sites(ctx)
	if err != nil {
		return nil, err
	}
	return &coverageData{Cov: cov, Butlers: bs, Sites: sites, SiteID: site, Saved: c.Query("saved"), Can: canAt(ctx, "")}, nil
}

func (h *HTTP) coveragePage(c *web.Ctx) error {
	d, err := h.coverageData(c)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "household_coverage", d, nil)
}

// handoverFormInput is the handover form: household ids as one text.
type handoverFormInput struct {
	FromButlerID int64  `json:"from_butler_id"`
	ToButlerID   int64  `json:"to_butler_id"`
	Units        string `json:"units"` // unit numbers or household ids; empty: all
	Reason       string `json:"reason"`
}

func (h *HTTP) handoverForm(c *web.Ctx) error {
	var in handoverFormInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	hi := HandoverInput{FromButlerID: in.FromButlerID, ToButlerID: in.ToButlerID, Reason: in.Reason}
	var err error
	if hi.HouseholdIDs, err = h.Svc.householdIDsOf(c.R.Context(), in.Units); err == nil {
		_, err = h.Svc.HandOver(c.R.Context(), hi)
	}
	if code := errs.CodeOf(err); code == errs.EInvalid || code == errs.EForbidden {
		d, derr := h.coverageData(c)
		if derr != nil {
			return derr
		}
		d.Form = hi
		return c.HTML(web.StatusOf(code), "household_coverage", d, err)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/butlers?saved=handover")
}

// householdIDsOf reads "1-0101, 1-0102 …" (unit numbers of current
// households the caller sees); EInvalid "units" for an unknown one.
func (s *Service) householdIDsOf(ctx context.Context, text string) ([]int64, error) {
	var out []int64
	for _, u := range splitList(strings.ReplaceAll(text, " ", ",")) {
		var id int64
		var path string
		err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT h.id, h.node_path FROM households h JOIN units u ON u.id = h.unit_id WHERE u.number = ? AND h.status = 'current' ORDER BY h.id LIMIT 1`, u).Scan(&id, &path)
		if err != nil || !canSee(ctx, path) {
			if n, perr := strconv.ParseInt(u, 10, 64); perr == nil && n > 0 {
				out = append(out, n)
				continue
			}
			return nil, errs.Invalid("units", "error.field.unknown_id")
		}
		out = append(out, id)
	}
	return out, nil
}

type importData struct {
	Sites    []Site
	SiteID   int64
	Report   *LoadReport
	Problems []ImportProblem
	Can      can
}

func (h *HTTP) importPage(c *web.Ctx) error {
	ctx := c.R.Context()
	sites, err := h.Svc.Sites(ctx)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "household_import", &importData{Sites: sites, Can: canAt(ctx, "")}, nil)
}

func (h *HTTP) importForm(c *web.Ctx) error {
	ctx := c.R.Context()
	sites, err := h.Svc.Sites(ctx)
	if err != nil {
		return err
	}
	d := &importData{Sites: sites, Can: canAt(ctx, "")}
	d.SiteID, _ = strconv.ParseInt(c.R.FormValue("site_id"), 10, 64)
	file, _, ferr := c.R.FormFile("file")
	if ferr != nil {
		return c.HTML(http.StatusUnprocessableEntity, "household_import", d, errs.Invalid("file", "error.field.required"))
	}
	defer file.Close()
	body, err := io.ReadAll(io.LimitReader(file, maxImport+1))
	if err != nil || len(body) > maxImport {
		return c.HTML(http.StatusUnprocessableEntity, "household_import", d, errs.Invalid("file", "error.body.too_large"))
	}
	rep, err := h.Svc.ImportXLSX(ctx, d.SiteID, bytes.NewReader(body))
	if err != nil {
		if ps, ok := ImportProblems(translateProblems(c, err)); ok {
			d.Problems = ps
		}
		if errs.CodeOf(err) != errs.EInvalid {
			return err
		}
		return c.HTML(http.StatusUnprocessableEntity, "household_import", d, err)
	}
	d.Report = rep
	return c.HTML(http.StatusOK, "household_import", d, nil)
}

func (h *HTTP) templateDownload(c *web.Ctx) error {
	var buf bytes.Buffer
	if err := Template(&buf); err != nil {
		return err
	}
	return download(c, "households-template.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
}

func (h *HTTP) exportMasked(c *web.Ctx) error {
	site, err := queryID(c, "site_id")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := h.Svc.ExportXLSX(c.R.Context(), &buf, site, false, ""); err != nil {
		return err
	}
	return download(c, fmt.Sprintf("households-%d-%s.xlsx", site, time.Now().Format("20060102")), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
}

// exportClearInput asks for a clear export.
type exportClearInput struct {
	SiteID int64  `json:"site_id"`
	Reason string `json:"reason"`
}

func (h *HTTP) exportClear(c *web.Ctx) error {
	var in exportClearInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := h.Svc.ExportXLSX(c.R.Context(), &buf, in.SiteID, true, in.Reason); err != nil {
		if errs.CodeOf(err) == errs.EInvalid {
			sites, serr := h.Svc.Sites(c.R.Context())
			if serr != nil {
				return serr
			}
			return c.HTML(http.StatusUnprocessableEntity, "household_import", &importData{Sites: sites, SiteID: in.SiteID, Can: canAt(c.R.Context(), "")}, err)
		}
		return err
	}
	c.W.Header().Set("Cache-Control", "no-store")
	return download(c, fmt.Sprintf("households-%d-clear-%s.xlsx", in.SiteID, time.Now().Format("20060102")), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
}

type accessLogData struct {
	Page *AccessPage
	Base string
}

func (h *HTTP) accessLogPage(c *web.Ctx) error {
	f, ferr := h.accessFilter(c)
	var p *AccessPage
	var err error
	if ferr == nil {
		if p, err = h.Svc.AccessLog(c.R.Context(), f); err != nil {
			return err
		}
	} else {
		p = &AccessPage{}
	}
	v := url.Values{}
	for _, k := range []string{"person_id", "staff_id", "field", "from", "to"} {
		if x := c.Query(k); x != "" {
			v.Set(k, x)
		}
	}
	return c.HTML(http.StatusOK, "pii_access_log", &accessLogData{Page: p, Base: "/pii/access-log?" + v.Encode()}, ferr)
}
