package cases

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// Residence is a unit a caller may be calling about, with its current
// household and butler when it has one.
type Residence struct {
	UnitID      int64
	Unit        string // "1-0101"
	SiteID      int64
	SiteName    string
	HouseholdID *int64
	ButlerID    *int64
	ButlerName  string
	// People names the household's people as the finder shows them
	// (masked phones), e.g. "张三 138****0001"; empty when unknown.
	People []string
}

// Residences finds the units a caller taking a phone call may pick, within
// the caller's reach (case.create). The households module's search (unit,
// name, pinyin, phone suffix) can stand behind it; the default searches
// unit numbers.
type Residences interface {
	// Search returns up to limit residences matching what was typed.
	Search(ctx context.Context, q string, limit int) ([]Residence, error)
	// Residence returns one unit; ENotFound when it is not within reach.
	Residence(ctx context.Context, unitID int64) (*Residence, error)
}

// CareItem is a care task of a butler's households (a birthday, a visit
// to someone elderly living alone, a step of a life event) on the
// workbench beside the cases.
type CareItem struct {
	Kind        string // the households module's task kind (hh.task.kind.<kind>)
	HouseholdID int64
	Unit        string
	Person      string
	DueAt       time.Time
	Overdue     bool
}

// Care lists a butler's care tasks that are due, most urgent first; the
// households module stands behind it. Nil shows no care group.
type Care interface {
	DueCare(ctx context.Context, butlerID int64, limit int) ([]CareItem, error)
}

// UnitNumbers is the default Residences: a prefix search on unit numbers
// ("1-01" finds 1-0101 … 1-0104), walking the units_number index.
type UnitNumbers struct{ DB *db.DB }

var _ Residences = UnitNumbers{}

var unitPrefixRe = regexp.MustCompile(`^[0-9A-Za-z]{1,4}(-[0-9A-Za-z]{0,6})?$`)

const residenceCols = `u.id, u.number, u.site_id, n.name, h.id, h.butler_id, COALESCE(b.name, '')`

const residenceFrom = ` FROM units u JOIN org_nodes n ON n.id = u.site_id
	LEFT JOIN households h ON h.unit_id = u.id AND h.status = 'current' LEFT JOIN staff b ON b.id = h.butler_id`

// Search finds units whose number starts with q.
func (f UnitNumbers) Search(ctx context.Context, q string, limit int) ([]Residence, error) {
	q = strings.Join(strings.Fields(q), "")
	if q == "" || !unitPrefixRe.MatchString(q) {
		return []Residence{}, nil
	}
	if limit <= 0 || limit > 50 {
		limit = 20
	}
	scope, args := auth.ScopeSQL("u.node_path", auth.FromContext(ctx).Scope(auth.PermCaseCreate))
	if auth.FromContext(ctx) == nil {
		scope, args = "1=1", nil
	}
	rows, err := f.DB.Q(ctx).QueryContext(ctx, `SELECT `+residenceCols+residenceFrom+` WHERE u.number >= ? AND u.number < ? AND `+scope+`
		ORDER BY u.number, u.id LIMIT ?`, append(append([]any{q, q + "\U0010FFFF"}, args...), limit)...)
	if err != nil {
		return nil, fmt.Errorf("cases: search units: %w", err)
	}
	defer rows.Close()
	out := []Residence{}
	for rows.Next() {
		r, err := scanResidence(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// Residence returns one unit within the caller's reach.
func (f UnitNumbers) Residence(ctx context.Context, unitID int64) (*Residence, error) {
	var path string
	r, err := scanResidence(f.DB.Q(ctx).QueryRowContext(ctx, `SELECT `+residenceCols+`, u.node_path`+residenceFrom+` WHERE u.id = ?`, unitID), &path)
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("cases: unit %d: %w", unitID, err)
	}
	if p := auth.FromContext(ctx); p != nil && !p.Can(auth.PermCaseCreate, path) {
		return nil, errs.NotFound("error.not_found")
	}
	return r, nil
}

func scanResidence(row interface{ Scan(...any) error }, extra ...any) (*Residence, error) {
	var r Residence
	var hh, butler sql.NullInt64
	if err := row.Scan(append([]any{&r.UnitID, &r.Unit, &r.SiteID, &r.SiteName, &hh, &butler, &r.ButlerName}, extra...)...); err != nil {
		return nil, err
	}
	r.HouseholdID, r.ButlerID = nullID(hh), nullID(butler)
	return &r, nil
}
