package households

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/guanjia/guanjia/internal/db"
)

// Row is one person of a bulk load (an import file, the demo data), with
// the unit and household they belong to. Rows of one unit share its
// household; unit fields are read from the first row of a unit.
type Row struct {
	Line            int // the row's number in its file, for reports
	Unit            string
	AreaM2          *float64
	Layout          string
	UnitState       string
	Residency       string
	ButlerID        *int64
	Name            string
	Role            string
	Relation        string
	Gender          string
	Phones          []string
	IDNumber        string
	Birthday        string
	ElderlyAlone    bool
	ChildUnder14    bool
	NeedsAssistance bool
	Notes           string
	Plates          []string
	Pets            []PetInput
	// Consent text versions recorded with the row (channel "paper"); an
	// ID number, a birthday and a child's data each need theirs.
	IDConsent        string
	BirthdayConsent  string
	GuardianConsent  string
	GuardianRelation string

	butlerName string // as the import file names the butler
}

// LoadReport counts what a bulk load created.
type LoadReport struct {
	Units      int `json:"units"`
	Households int `json:"households"`
	People     int `json:"people"`
}

// maxParams keeps every multi-row statement under both databases' limits
// of bound parameters (SQLite 32,766, PostgreSQL 65,535).
const maxParams = 30000

// insertRows inserts rows into table in multi-row statements. returning,
// when not empty, names columns to read back; each returned row is passed
// to scan.
func insertRows(ctx context.Context, tx *db.Tx, table string, cols []string, rows [][]any, returning string, scan func(*sql.Rows) error) error {
	if len(rows) == 0 {
		return nil
	}
	per := maxParams / len(cols)
	one := "(" + db.Placeholders(len(cols)) + ")"
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		args := make([]any, 0, len(chunk)*len(cols))
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, r...)
		}
		if returning == "" {
			if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
				return fmt.Errorf("households: bulk insert %s: %w", table, err)
			}
			continue
		}
		res, err := tx.QueryContext(ctx, b.String()+" RETURNING "+returning, args...)
		if err != nil {
			return fmt.Errorf("households: bulk insert %s: %w", table, err)
		}
		for res.Next() {
			if err := scan(res); err != nil {
				res.Close()
				return err
			}
		}
		res.Close()
		if err := res.Err(); err != nil {
			return fmt.Errorf("households: bulk insert %s: %w", table, err)
		}
	}
	return nil
}

// siteBuildings maps the building codes of a site to their nodes.
func (s *Service) siteBuildings(ctx context.Context, siteID int64) (map[string][2]any, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id, path, code FROM org_nodes WHERE parent_id = ? AND kind = 'area'`, siteID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][2]any{}
	for rows.Next() {
		var id int64
		var path, code string
		if err := rows.Scan(&id, &path, &code); err != nil {
			return nil, err
		}
		if code != "" {
			out[code] = [2]any{id, path}
		}
	}
	return out, rows.Err()
}

// load writes validated rows for a site in the transaction: the units it
// does not have, a household for each unit without a current one, and the
// people with their consents, phones, vehicles, pets and search tokens. It
// checks nothing: callers validate first (ImportXLSX does, the demo's rows
// are right by construction).
func (s *Service) load(ctx context.Context, tx *db.Tx, siteID int64, sitePath string, rows []Row) (LoadReport, error) {
	var rep LoadReport
	now := db.Ms(tx.Now)
	buildings, err := s.siteBuildings(ctx, siteID)
	if err != nil {
		return rep, err
	}
	// Units.
	type unitRef struct {
		id   int64
		path string
	}
	units := map[string]unitRef{}
	urows, err := tx.QueryContext(ctx, `SELECT id, number, node_path FROM units WHERE site_id = ?`, siteID)
	if err != nil {
		return rep, err
	}
	for urows.Next() {
		var number string
		var u unitRef
		if err := urows.Scan(&u.id, &number, &u.path); err != nil {
			urows.Close()
			return rep, err
		}
		units[number] = u
	}
	urows.Close()
	var newUnits [][]any
	pending := map[string]string{}
	for _, r := range rows {
		if _, ok := units[r.Unit]; ok {
			continue
		}
		if _, ok := pending[r.Unit]; ok {
			continue
		}
		code, floor := splitNumber(r.Unit)
		path, bid := sitePath, any(nil)
		if b, ok := buildings[code]; ok {
			bid, path = b[0], b[1].(string)
		}
		state := r.UnitState
		if state == "" {
			state = "occupied"
		}
		pending[r.Unit] = path
		newUnits = append(newUnits, []any{siteID, bid, path, code, floor, r.Unit, r.AreaM2, r.Layout, state, now, now})
	}
	err = insertRows(ctx, tx, "units", []string{"site_id", "building_id", "node_path", "building", "floor", "number", "area_m2", "layout", "state", "created_at", "updated_at"},
		newUnits, "id, number", func(res *sql.Rows) error {
			var id int64
			var number string
			if err := res.Scan(&id, &number); err != nil {
				return err
			}
			units[number] = unitRef{id, pending[number]}
			return nil
		})
	if err != nil {
		return rep, err
	}
	rep.Units = len(newUnits)
	// Households.
	type hhRef struct {
		id   int64
		path string
	}
	byUnit := map[int64]hhRef{}
	hrows, err := tx.QueryContext(ctx, `SELECT id, unit_id, node_path FROM households WHERE site_id = ? AND status = 'current'`, siteID)
	if err != nil {
		return rep, err
	}
	for hrows.Next() {
		var h hhRef
		var unit int64
		if err := hrows.Scan(&h.id, &unit, &h.path); err != nil {
			hrows.Close()
			return rep, err
		}
		byUnit[unit] = h
	}
	hrows.Close()
	var newHH [][]any
	butlerOf := map[int64]*int64{}
	seenUnit := map[int64]bool{}
	for _, r := range rows {
		u := units[r.Unit]
		if _, ok := byUnit[u.id]; ok || seenUnit[u.id] {
			continue
		}
		seenUnit[u.id] = true
		res := r.Residency
		if res == "" {
			res = "living"
		}
		butlerOf[u.id] = r.ButlerID
		newHH = append(newHH, []any{u.id, siteID, u.path, nullID(r.ButlerID), "current", res, now, now})
	}
	var history, tokens [][]any
	numberOf := map[int64]string{}
	for number, u := range units {
		numberOf[u.id] = number
	}
	err = insertRows(ctx, tx, "households", []string{"unit_id", "site_id", "node_path", "butler_id", "status", "residency", "created_at", "updated_at"},
		newHH, "id, unit_id, node_path", func(res *sql.Rows) error {
			var h hhRef
			var unit int64
			if err := res.Scan(&h.id, &unit, &h.path); err != nil {
				return err
			}
			byUnit[unit] = h
			if b := butlerOf[unit]; b != nil {
				history = append(history, []any{h.id, *b, now})
			}
			for _, t := range unitTokens(numberOf[unit]) {
				tokens = append(tokens, []any{t, h.id, nil})
			}
			return nil
		})
	if err != nil {
		return rep, err
	}
	rep.Households = len(newHH)
	if err := insertRows(ctx, tx, "household_butlers", []string{"household_id", "butler_id", "from_at"}, history, "", nil); err != nil {
		return rep, err
	}
	// People.
	type personRef struct {
		row *Row
		hh  hhRef
	}
	byUID := map[string]personRef{}
	var people [][]any
	touched := map[int64]bool{}
	today := localDay(tx.Now, s.location(ctx, sitePath))
	for i := range rows {
		r := &rows[i]
		h := byUnit[units[r.Unit].id]
		touched[h.id] = true
		sv, err := s.seal(r.IDNumber, r.Birthday)
		if err != nil {
			return rep, err
		}
		idType := ""
		if r.IDNumber != "" {
			idType = "resident"
			if !ValidResidentID(r.IDNumber) {
				idType = "other"
			}
		}
		uid := newUID()
		byUID[uid] = personRef{r, h}
		people = append(people, []any{uid, h.id, h.path, r.Role, r.Relation, r.Name, r.Gender, idType, sv.idEnc, sv.idIdx, sv.birthdayEnc, sv.mdIdx,
			r.Notes, r.ElderlyAlone, isChild(r.ChildUnder14, r.Birthday, today), r.NeedsAssistance, "active", now, now})
	}
	var consents, phones, vehicles, pets [][]any
	var recorder any
	if p := principal(ctx); p != nil {
		recorder = p.StaffID
	}
	err = insertRows(ctx, tx, "household_people", []string{"uid", "household_id", "node_path", "role", "relation", "name", "gender", "id_type", "id_number_enc",
		"id_number_idx", "birthday_enc", "birthday_md_idx", "notes", "elderly_alone", "child_under_14", "needs_assistance", "status", "created_at", "updated_at"},
		people, "id, uid", func(res *sql.Rows) error {
			var id int64
			var uid string
			if err := res.Scan(&id, &uid); err != nil {
				return err
			}
			ref := byUID[uid]
			r := ref.row
			consent := func(purpose, version, by, relation string) {
				if version != "" {
					consents = append(consents, []any{id, purpose, version, "paper", by, relation, now, recorder, now})
				}
			}
			consent("id_number", r.IDConsent, "self", "")
			consent("birthday", r.BirthdayConsent, "self", "")
			consent("minor", r.GuardianConsent, "guardian", r.GuardianRelation)
			for i, ph := range r.Phones {
				enc, err := s.vault.Seal(fieldPhone, ph)
				if err != nil {
					return err
				}
				phones = append(phones, []any{id, "mobile", enc, s.vault.Index(fieldPhone, digits(ph)), i})
				for _, t := range s.phoneTokens(ph) {
					tokens = append(tokens, []any{t, ref.hh.id, id})
				}
			}
			for _, t := range nameTokens(r.Name) {
				tokens = append(tokens, []any{t, ref.hh.id, id})
			}
			for _, pl := range r.Plates {
				vehicles = append(vehicles, []any{id, pl, "", ""})
			}
			for _, p := range r.Pets {
				pets = append(pets, []any{id, p.Kind, p.Name, p.Notes})
			}
			return nil
		})
	if err != nil {
		return rep, err
	}
	rep.People = len(people)
	for _, ins := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"person_consents", []string{"person_id", "purpose", "text_version", "channel", "given_by", "guardian_relation", "given_at", "recorded_by", "created_at"}, consents},
		{"person_phones", []string{"person_id", "label", "phone_enc", "phone_idx", "sort"}, phones},
		{"person_vehicles", []string{"person_id", "plate", "model", "parking"}, vehicles},
		{"person_pets", []string{"person_id", "kind", "name", "notes"}, pets},
		{"household_search", []string{"token", "household_id", "person_id"}, tokens},
	} {
		if err := insertRows(ctx, tx, ins.table, ins.cols, ins.rows, "", nil); err != nil {
			return rep, err
		}
	}
	ids := make([]int64, 0, len(touched))
	for id := range touched {
		ids = append(ids, id)
	}
	return rep, s.refreshFlagsOf(ctx, tx, ids)
}

// refreshFlagsOf refreshes the flags of many households.
func (s *Service) refreshFlagsOf(ctx context.Context, tx *db.Tx, ids []int64) error {
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := []any{db.Ms(tx.Now)}
		for _, id := range chunk {
			args = append(args, id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE households SET
			elderly_alone = EXISTS (SELECT 1 FROM household_people WHERE household_id = households.id AND status = 'active' AND elderly_alone),
			has_child = EXISTS (SELECT 1 FROM household_people WHERE household_id = households.id AND status = 'active' AND child_under_14),
			needs_assistance = EXISTS (SELECT 1 FROM household_people WHERE household_id = households.id AND status = 'active' AND needs_assistance),
			updated_at = ? WHERE id IN (`+db.Placeholders(len(chunk))+`)`, args...); err != nil {
			return fmt.Errorf("households: refresh flags: %w", err)
		}
	}
	return nil
}

// SystemLoad writes rows for a site without permission checks (the demo
// data and tests). The rows must be valid.
func (s *Service) SystemLoad(ctx context.Context, siteID int64, rows []Row) (LoadReport, error) {
	var rep LoadReport
	err := s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var path string
		if err := tx.QueryRowContext(ctx, `SELECT path FROM org_nodes WHERE id = ?`, siteID).Scan(&path); err != nil {
			return fmt.Errorf("households: site %d: %w", siteID, err)
		}
		var err error
		rep, err = s.load(ctx, tx, siteID, path, rows)
		if err != nil {
			return err
		}
		return s.record(ctx, "import", "site", siteID, path, fmt.Sprintf("%d/%d/%d", rep.Units, rep.Households, rep.People), rep)
	})
	if err == nil {
		s.analyze(ctx)
	}
	return rep, err
}

// analyze refreshes PostgreSQL's statistics of this module's tables after
// a bulk load, so the next queries are planned on the new sizes rather
// than waiting for autovacuum. Outside a transaction only; a failure is
// logged. SQLite plans well enough without statistics.
func (s *Service) analyze(ctx context.Context) {
	if s.db.Dialect != db.Postgres || db.TxFrom(ctx) != nil {
		return
	}
	if _, err := s.db.W.ExecContext(ctx, `ANALYZE units, households, household_people, person_phones, household_search`); err != nil && s.log != nil {
		s.log.Warn("households: analyze after a bulk load", "err", err)
	}
}
