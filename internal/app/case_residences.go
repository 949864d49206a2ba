package app

import (
	"context"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/households"
)

// caseResidences lets the phone intake find the caller through the
// households search: unit number, name, pinyin initials or phone suffix in
// one box, people shown masked. Someone who takes calls without seeing
// household records (a dispatcher) still finds units by number.
type caseResidences struct {
	hh    *households.Service
	cases *cases.Service
	units cases.UnitNumbers
}

var _ cases.Residences = caseResidences{}

// Search asks the households search first, then unit numbers.
func (r caseResidences) Search(ctx context.Context, q string, limit int) ([]cases.Residence, error) {
	q = strings.TrimSpace(q)
	if q == "" || len([]rune(q)) > 50 {
		return []cases.Residence{}, nil
	}
	page, err := r.hh.ListHouseholds(ctx, households.HouseholdFilter{Q: q, PerPage: limit})
	if err != nil && errs.CodeOf(err) != errs.EInvalid && errs.CodeOf(err) != errs.EForbidden {
		return nil, err
	}
	if page == nil || len(page.Items) == 0 {
		return r.units.Search(ctx, q, limit)
	}
	sites, err := r.siteNames(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]cases.Residence, 0, len(page.Items))
	for _, it := range page.Items {
		if limit > 0 && len(out) == limit {
			break
		}
		h := it.Household
		hid := h.ID
		out = append(out, cases.Residence{UnitID: h.UnitID, Unit: h.UnitNumber, SiteID: h.SiteID, SiteName: sites[h.SiteID], HouseholdID: &hid,
			ButlerID: h.ButlerID, ButlerName: h.ButlerName, People: people(it.People, it.MatchedPersonID)})
	}
	return out, nil
}

// Residence returns the unit with its household's people when the caller
// may see them.
func (r caseResidences) Residence(ctx context.Context, unitID int64) (*cases.Residence, error) {
	res, err := r.units.Residence(ctx, unitID)
	if err != nil || res.HouseholdID == nil {
		return res, err
	}
	page, err := r.hh.ListHouseholds(ctx, households.HouseholdFilter{Q: res.Unit, PerPage: 50})
	if err != nil || page == nil {
		return res, nil // the people are a courtesy; the unit is what counts
	}
	for _, it := range page.Items {
		if it.Household.ID == *res.HouseholdID {
			res.People = people(it.People, nil)
		}
	}
	return res, nil
}

func (r caseResidences) siteNames(ctx context.Context) (map[int64]string, error) {
	sites, err := r.cases.Sites(ctx, auth.PermCaseCreate)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(sites))
	for _, s := range sites {
		out[s.ID] = s.Name
	}
	return out, nil
}

// people names a household's people with their first phone, masked; the
// person the search matched comes first.
func people(ps []households.Person, matched *int64) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		s := p.Name
		if len(p.Phones) > 0 && p.Phones[0].Masked != "" {
			s += " " + p.Phones[0].Masked
		}
		if matched != nil && p.ID == *matched {
			out = append([]string{s}, out...)
		} else {
			out = append(out, s)
		}
	}
	if len(out) > 3 {
		out = out[:3]
	}
	return out
}

// butlerCare puts a butler's due care tasks (households) on the service
// desk's workbench: one place for everything that is the butler's.
type butlerCare struct{ hh *households.Service }

var _ cases.Care = butlerCare{}

// DueCare lists the care tasks that have appeared by now.
func (b butlerCare) DueCare(ctx context.Context, butlerID int64, limit int) ([]cases.CareItem, error) {
	tasks, err := b.hh.DueCareTasks(ctx, butlerID, time.Now(), limit)
	if err != nil {
		return nil, err
	}
	out := make([]cases.CareItem, len(tasks))
	for i, t := range tasks {
		out[i] = cases.CareItem{Kind: t.Kind, HouseholdID: t.HouseholdID, Unit: t.UnitNumber, Person: t.PersonName, DueAt: t.DueAt, Overdue: t.Overdue}
	}
	return out, nil
}
