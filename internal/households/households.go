// Package households is the butler's book of the people they serve: units
// under the site → building tree, the households living in them, their
// people, who owns each household, the care work (greetings, visits to
// elderly people living alone, life events, key custody) and the rules that
// protect the personal data it holds (PIPL): sealed at rest, masked by
// default, unmasked only with a reason that is logged, consent recorded,
// exported and erased on request.
package households

import "time"

// Unit states.
var UnitStates = []string{"unsold", "delivered", "decorating", "occupied", "vacant", "rented"}

// Person roles.
var Roles = []string{"owner", "co_resident", "tenant", "family"}

// Residency says whether the owner lives in the unit; an absent owner gets
// periodic greetings.
var Residencies = []string{"living", "absent"}

// Phone labels.
var PhoneLabels = []string{"mobile", "home", "work", "other"}

// ID document types.
var IDTypes = []string{"resident", "passport", "other"}

// Pet kinds.
var PetKinds = []string{"dog", "cat", "other"}

// Genders ("" is not stated).
var Genders = []string{"", "m", "f"}

// Consent purposes and what each allows:
//   - id_number: keep the person's ID number;
//   - birthday: keep the birthday and greet on it;
//   - minor: a guardian agrees to the processing of a child's data (a child
//     under 14 needs it for anything beyond name, role and relation).
var ConsentPurposes = []string{"id_number", "birthday", "minor"}

// Consent channels.
var ConsentChannels = []string{"paper", "app", "phone", "in_person"}

// Contact channels.
var ContactChannels = []string{"visit", "phone", "wechat", "sms", "other"}

// Key purposes.
var KeyPurposes = []string{"airing", "cleaning", "checks", "other"}

// Unmaskable fields.
var UnmaskFields = []string{"phone", "id_number", "birthday"}

// Unit is a flat, shop or other unit of a site.
type Unit struct {
	ID         int64     `json:"id"`
	SiteID     int64     `json:"site_id"`
	BuildingID *int64    `json:"building_id"`
	Building   string    `json:"building"`
	Floor      int       `json:"floor"`
	Number     string    `json:"number"`
	AreaM2     *float64  `json:"area_m2"`
	Layout     string    `json:"layout"`
	State      string    `json:"state"`
	NodePath   string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Joined for lists.
	HouseholdID *int64 `json:"household_id"`
	SiteName    string `json:"site_name,omitempty"`
}

// Household is the people living in (or owning) one unit.
type Household struct {
	ID              int64      `json:"id"`
	UnitID          int64      `json:"unit_id"`
	SiteID          int64      `json:"site_id"`
	UnitNumber      string     `json:"unit_number"`
	ButlerID        *int64     `json:"butler_id"`
	ButlerName      string     `json:"butler_name"`
	Status          string     `json:"status"`
	Residency       string     `json:"residency"`
	MovedInOn       string     `json:"moved_in_on"`
	MovedOutOn      string     `json:"moved_out_on"`
	Notes           string     `json:"notes"`
	ElderlyAlone    bool       `json:"elderly_alone"`
	HasChild        bool       `json:"has_child"`
	NeedsAssistance bool       `json:"needs_assistance"`
	LastContactAt   *time.Time `json:"last_contact_at"`
	LastVisitAt     *time.Time `json:"last_visit_at"`
	NodePath        string     `json:"-"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// Phone is a person's phone as everybody sees it: masked.
type Phone struct {
	ID     int64  `json:"id"`
	Label  string `json:"label"`
	Masked string `json:"masked"`
}

// Vehicle is a person's car.
type Vehicle struct {
	ID      int64  `json:"id"`
	Plate   string `json:"plate"`
	Model   string `json:"model"`
	Parking string `json:"parking"`
}

// Pet is a person's pet.
type Pet struct {
	ID    int64  `json:"id"`
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	Notes string `json:"notes"`
}

// Person is one member of a household, with every sealed field masked.
type Person struct {
	ID              int64     `json:"id"`
	HouseholdID     int64     `json:"household_id"`
	Role            string    `json:"role"`
	Relation        string    `json:"relation"`
	Name            string    `json:"name"`
	Gender          string    `json:"gender"`
	Phones          []Phone   `json:"phones"`
	IDType          string    `json:"id_type"`
	IDNumberMasked  string    `json:"id_number_masked"`
	BirthdayMasked  string    `json:"birthday_masked"`
	Notes           string    `json:"notes"`
	ElderlyAlone    bool      `json:"elderly_alone"`
	ChildUnder14    bool      `json:"child_under_14"`
	NeedsAssistance bool      `json:"needs_assistance"`
	Status          string    `json:"status"`
	Vehicles        []Vehicle `json:"vehicles"`
	Pets            []Pet     `json:"pets"`
	Consents        []Consent `json:"consents"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	NodePath        string    `json:"-"`
}

// Consent is one recorded consent.
type Consent struct {
	ID               int64      `json:"id"`
	PersonID         int64      `json:"person_id"`
	Purpose          string     `json:"purpose"`
	TextVersion      string     `json:"text_version"`
	Channel          string     `json:"channel"`
	GivenBy          string     `json:"given_by"`
	GuardianPersonID *int64     `json:"guardian_person_id"`
	GuardianRelation string     `json:"guardian_relation"`
	GivenAt          time.Time  `json:"given_at"`
	WithdrawnAt      *time.Time `json:"withdrawn_at"`
}

// Active reports whether the consent is in force.
func (c Consent) Active() bool { return c.WithdrawnAt == nil }

// LifeEvent is a life event of a household.
type LifeEvent struct {
	ID          int64      `json:"id"`
	HouseholdID int64      `json:"household_id"`
	Kind        string     `json:"kind"`
	StartsOn    string     `json:"starts_on"`
	EndsOn      string     `json:"ends_on"`
	At          *time.Time `json:"at"`
	Notes       string     `json:"notes"`
	Status      string     `json:"status"`
	CreatedAt   time.Time  `json:"created_at"`
}

// CareTask is a piece of care work due on a day.
type CareTask struct {
	ID          int64      `json:"id"`
	HouseholdID int64      `json:"household_id"`
	UnitNumber  string     `json:"unit_number"`
	PersonID    *int64     `json:"person_id"`
	PersonName  string     `json:"person_name"`
	EventID     *int64     `json:"event_id"`
	ButlerID    *int64     `json:"butler_id"`
	Kind        string     `json:"kind"`
	Subject     string     `json:"subject"`
	ShowFrom    time.Time  `json:"show_from"`
	DueAt       time.Time  `json:"due_at"`
	Status      string     `json:"status"`
	Overdue     bool       `json:"overdue"`
	DoneAt      *time.Time `json:"done_at"`
	Outcome     string     `json:"outcome"`
	CreatedAt   time.Time  `json:"created_at"`
}

// Contact is a visit, call or message to a household.
type Contact struct {
	ID          int64     `json:"id"`
	HouseholdID int64     `json:"household_id"`
	PersonID    *int64    `json:"person_id"`
	TaskID      *int64    `json:"task_id"`
	StaffID     *int64    `json:"staff_id"`
	StaffName   string    `json:"staff_name"`
	Channel     string    `json:"channel"`
	Kind        string    `json:"kind"`
	Note        string    `json:"note"`
	At          time.Time `json:"at"`
}

// Key is a key the butler keeps for a household.
type Key struct {
	ID                   int64      `json:"id"`
	HouseholdID          int64      `json:"household_id"`
	Label                string     `json:"label"`
	Purposes             []string   `json:"purposes"`
	Storage              string     `json:"storage"`
	ReceivedAt           time.Time  `json:"received_at"`
	ReceivedBy           *int64     `json:"received_by"`
	ReceivedFromPersonID *int64     `json:"received_from_person_id"`
	Notes                string     `json:"notes"`
	Status               string     `json:"status"`
	ReturnedAt           *time.Time `json:"returned_at"`
	ReturnedToPersonID   *int64     `json:"returned_to_person_id"`
	ReturnNote           string     `json:"return_note"`
	Uses                 []KeyUse   `json:"uses"`
	NodePath             string     `json:"-"`
}

// KeyUse is one time a kept key was taken out.
type KeyUse struct {
	ID            int64      `json:"id"`
	KeyID         int64      `json:"key_id"`
	StaffID       *int64     `json:"staff_id"`
	StaffName     string     `json:"staff_name"`
	TakenAt       time.Time  `json:"taken_at"`
	BackAt        *time.Time `json:"back_at"`
	AccompaniedBy string     `json:"accompanied_by"`
	Purpose       string     `json:"purpose"`
	Note          string     `json:"note"`
}

// ButlerSpell is one period in which a butler owned a household.
type ButlerSpell struct {
	ButlerID   int64      `json:"butler_id"`
	ButlerName string     `json:"butler_name"`
	From       time.Time  `json:"from"`
	To         *time.Time `json:"to"`
	Reason     string     `json:"reason"`
}

// Profile is everything the household page shows.
type Profile struct {
	Household Household     `json:"household"`
	Unit      Unit          `json:"unit"`
	People    []Person      `json:"people"`
	Events    []LifeEvent   `json:"events"`
	OpenTasks []CareTask    `json:"open_tasks"`
	CareDone  []CareTask    `json:"care_history"`
	Contacts  []Contact     `json:"contacts"`
	Keys      []Key         `json:"keys"`
	Butlers   []ButlerSpell `json:"butlers"`
	Timeline  []TimelineRow `json:"timeline"`
	// Cases lists the household's service cases once the service desk is
	// wired in (nil until then).
	Cases []CaseRef `json:"cases"`
}

// CaseRef is a service case as the profile lists it.
type CaseRef struct {
	ID     int64     `json:"id"`
	Title  string    `json:"title"`
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	URL    string    `json:"url"`
}

// TimelineRow is one line of a household's history.
type TimelineRow struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`   // audit, contact, task, key_use, event
	Action string    `json:"action"` // the audit action, channel, task kind, key purpose or event kind
	Actor  string    `json:"actor"`
	Detail string    `json:"detail"`
}

// AccessLogRow is one unmasked or exported value.
type AccessLogRow struct {
	ID          int64     `json:"id"`
	At          time.Time `json:"at"`
	StaffID     *int64    `json:"staff_id"`
	StaffName   string    `json:"staff_name"`
	IP          string    `json:"ip"`
	PersonID    *int64    `json:"person_id"`
	HouseholdID *int64    `json:"household_id"`
	UnitNumber  string    `json:"unit_number"`
	Field       string    `json:"field"`
	Reason      string    `json:"reason"`
}
