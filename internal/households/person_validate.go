package households

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
)

// Permissions of this module (defined with the others in package auth).
const (
	PermView    = auth.PermHouseholdView
	PermManage  = auth.PermHouseholdManage
	PermAssign  = auth.PermHouseholdAssign
	PermCare    = auth.PermCareWork
	PermUnmask  = auth.PermPIIUnmask
	PermExport  = auth.PermPIIExport
	PermErase   = auth.PermPIIErase
	PermReview  = auth.PermPIIReview
	maxNameLen  = 50
	maxNoteLen  = 2000
	maxShortLen = 100
)

// PhoneInput is one phone number.
type PhoneInput struct {
	Label  string `json:"label"`
	Number string `json:"number"`
}

// VehicleInput is one car.
type VehicleInput struct {
	Plate   string `json:"plate"`
	Model   string `json:"model"`
	Parking string `json:"parking"`
}

// PetInput is one pet.
type PetInput struct {
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	Notes string `json:"notes"`
}

// ConsentInput records a consent given now (or at GivenOn, a past day).
type ConsentInput struct {
	Purpose          string `json:"purpose"`
	TextVersion      string `json:"text_version"`
	Channel          string `json:"channel"`
	GivenBy          string `json:"given_by"` // self (default) or guardian
	GuardianPersonID *int64 `json:"guardian_person_id"`
	GuardianRelation string `json:"guardian_relation"`
}

// PersonInput is what a caller sets on a person. On an update, a nil
// Phones, Vehicles or Pets keeps what is stored and an empty list removes
// it; a nil IDNumber or Birthday keeps the stored value and "" removes it.
// Masked values are never sent back, so an edit form leaves them nil.
type PersonInput struct {
	Role            string         `json:"role"`
	Relation        string         `json:"relation"`
	Name            string         `json:"name"`
	Gender          string         `json:"gender"`
	Phones          []PhoneInput   `json:"phones"`
	IDType          string         `json:"id_type"`
	IDNumber        *string        `json:"id_number"`
	Birthday        *string        `json:"birthday"` // YYYY-MM-DD
	Notes           string         `json:"notes"`
	ElderlyAlone    bool           `json:"elderly_alone"`
	ChildUnder14    bool           `json:"child_under_14"`
	NeedsAssistance bool           `json:"needs_assistance"`
	Vehicles        []VehicleInput `json:"vehicles"`
	Pets            []PetInput     `json:"pets"`
	// Consents are recorded with the change, before the consent rules are
	// checked: a form that takes an ID number can take its consent too.
	Consents []ConsentInput `json:"consents"`
}

var (
	phoneRe   = regexp.MustCompile(`^\+?[0-9][0-9 \-]{3,22}[0-9]$`)
	plateRe   = regexp.MustCompile(`^[\p{Han}A-Z0-9·\-]{5,10}$`)
	otherIDRe = regexp.MustCompile(`^[A-Za-z0-9\-]{5,30}$`)
	dateRe    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// digits returns the digits of a phone number.
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ValidResidentID checks an 18-character resident identity number (GB
// 11643-1999): region, birth date and the ISO 7064 MOD 11-2 check digit.
func ValidResidentID(s string) bool {
	if len(s) != 18 {
		return false
	}
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * weights[i]
	}
	check := "10X98765432"[sum%11]
	last := s[17]
	if last == 'x' {
		last = 'X'
	}
	if last != check {
		return false
	}
	_, err := time.Parse("20060102", s[6:14])
	return err == nil
}

// parseDay parses YYYY-MM-DD.
func parseDay(s string) (time.Time, bool) {
	if !dateRe.MatchString(s) {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02", s)
	return t, err == nil
}

// ageOn returns the age in whole years on day of a person born on birth.
func ageOn(birth, day time.Time) int {
	age := day.Year() - birth.Year()
	if day.Month() < birth.Month() || (day.Month() == birth.Month() && day.Day() < birth.Day()) {
		age--
	}
	return age
}

// normalise trims and tidies the input in place.
func (in *PersonInput) normalise() {
	in.Role, in.Relation, in.Name = strings.TrimSpace(in.Role), strings.TrimSpace(in.Relation), strings.TrimSpace(in.Name)
	in.Notes = strings.TrimSpace(in.Notes)
	if in.IDNumber != nil {
		v := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(*in.IDNumber), " ", ""))
		in.IDNumber = &v
	}
	if in.Birthday != nil {
		v := strings.TrimSpace(*in.Birthday)
		in.Birthday = &v
	}
	if in.IDType == "" && in.IDNumber != nil && *in.IDNumber != "" {
		in.IDType = "resident"
	}
	for i := range in.Phones {
		in.Phones[i].Number = strings.TrimSpace(in.Phones[i].Number)
		in.Phones[i].Label = strings.TrimSpace(in.Phones[i].Label)
		if in.Phones[i].Label == "" {
			in.Phones[i].Label = "mobile"
		}
	}
	for i := range in.Vehicles {
		in.Vehicles[i].Plate = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(in.Vehicles[i].Plate), " ", ""))
		in.Vehicles[i].Model = strings.TrimSpace(in.Vehicles[i].Model)
		in.Vehicles[i].Parking = strings.TrimSpace(in.Vehicles[i].Parking)
	}
	for i := range in.Pets {
		in.Pets[i].Name = strings.TrimSpace(in.Pets[i].Name)
		in.Pets[i].Notes = strings.TrimSpace(in.Pets[i].Notes)
		if in.Pets[i].Kind == "" {
			in.Pets[i].Kind = "dog"
		}
	}
	for i := range in.Consents {
		c := &in.Consents[i]
		c.TextVersion, c.GuardianRelation = strings.TrimSpace(c.TextVersion), strings.TrimSpace(c.GuardianRelation)
		if c.GivenBy == "" {
			c.GivenBy = "self"
		}
	}
}

// validate checks the fields that need no database. today is the site's
// local date (for ages and future birthdays).
func (in *PersonInput) validate(v *errs.Validation, today time.Time) {
	v.Required("name", in.Name)
	v.MaxLen("name", in.Name, maxNameLen)
	v.OneOf("role", in.Role, Roles...)
	v.MaxLen("relation", in.Relation, 20)
	v.OneOf("gender", in.Gender, Genders...)
	v.MaxLen("notes", in.Notes, maxNoteLen)
	if len(in.Phones) > 5 {
		v.Add("phones", "error.person.too_many")
	}
	seen := map[string]bool{}
	for i, p := range in.Phones {
		f := fmt.Sprintf("phones[%d]", i)
		switch {
		case len(p.Number) > 30 || len(p.Label) > 20:
			v.Add(f, "error.field.too_long")
		case !phoneRe.MatchString(p.Number):
			v.Add(f, "error.field.bad_phone")
		case !slices.Contains(PhoneLabels, p.Label):
			v.Add(f, "error.field.invalid_choice")
		case seen[digits(p.Number)]:
			v.Add(f, "error.person.phone_twice")
		}
		seen[digits(p.Number)] = true
	}
	if in.IDNumber != nil && *in.IDNumber != "" {
		id := *in.IDNumber
		v.OneOf("id_type", in.IDType, IDTypes...)
		switch {
		case len(id) > 30:
			v.Add("id_number", "error.field.too_long")
		case in.IDType == "resident" && !ValidResidentID(id):
			v.Add("id_number", "error.person.bad_id_number")
		case in.IDType != "resident" && !otherIDRe.MatchString(id):
			v.Add("id_number", "error.person.bad_id_number")
		}
	} else if in.IDType != "" {
		v.OneOf("id_type", in.IDType, IDTypes...)
	}
	if in.Birthday != nil && *in.Birthday != "" {
		b, ok := parseDay(*in.Birthday)
		switch {
		case len(*in.Birthday) > 10 || !ok:
			v.Add("birthday", "error.hh.bad_date")
		case b.After(today) || b.Year() < 1890:
			v.Add("birthday", "error.field.bad_range")
		}
	}
	if len(in.Vehicles) > 10 {
		v.Add("vehicles", "error.person.too_many")
	}
	for i, c := range in.Vehicles {
		f := fmt.Sprintf("vehicles[%d]", i)
		switch {
		case len([]rune(c.Plate)) > 10 || len([]rune(c.Model)) > 50 || len([]rune(c.Parking)) > 20:
			v.Add(f, "error.field.too_long")
		case !plateRe.MatchString(c.Plate):
			v.Add(f, "error.person.bad_plate")
		}
	}
	if len(in.Pets) > 10 {
		v.Add("pets", "error.person.too_many")
	}
	for i, p := range in.Pets {
		f := fmt.Sprintf("pets[%d]", i)
		switch {
		case len([]rune(p.Name)) > 30 || len([]rune(p.Notes)) > 200:
			v.Add(f, "error.field.too_long")
		case !slices.Contains(PetKinds, p.Kind):
			v.Add(f, "error.field.invalid_choice")
		}
	}
	if len(in.Consents) > 5 {
		v.Add("consents", "error.person.too_many")
	}
	for i, c := range in.Consents {
		validateConsent(v, fmt.Sprintf("consents[%d].", i), c)
	}
}

// validateConsent checks one consent's own fields; prefix is "" for a
// consent on its own and "consents[i]." inside a person.
func validateConsent(v *errs.Validation, prefix string, c ConsentInput) {
	v.OneOf(prefix+"purpose", c.Purpose, ConsentPurposes...)
	v.Required(prefix+"text_version", c.TextVersion)
	v.MaxLen(prefix+"text_version", c.TextVersion, 20)
	v.OneOf(prefix+"channel", c.Channel, ConsentChannels...)
	v.OneOf(prefix+"given_by", c.GivenBy, "self", "guardian")
	v.MaxLen(prefix+"guardian_relation", c.GuardianRelation, 20)
	if c.Purpose == "minor" && c.GivenBy != "guardian" {
		v.Add(prefix+"given_by", "error.consent.minor_needs_guardian")
	}
	if c.GivenBy == "guardian" && c.GuardianRelation == "" {
		v.Add(prefix+"guardian_relation", "error.field.required")
	}
}
