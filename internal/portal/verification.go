package portal

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/blob"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/notify"
	"github.com/guanjia/guanjia/internal/pii"
)

// Verification states.
const (
	VerifyPending  = "pending"
	VerifyApproved = "approved"
	VerifyRejected = "rejected"
)

// VerifyRoles are what a person may claim to be at a unit.
var VerifyRoles = []string{"owner", "co_resident", "tenant"}

// VerifyCodeRequest asks for a code that proves the phone is in the hands
// of the person asking to be verified.
type VerifyCodeRequest struct {
	Phone string `json:"phone"`
}

// RequestVerifyCode texts a code to any phone — the person is about to say
// where they live, so the phone need not be known yet. Same limits as the
// sign-in codes (counted separately), the same per-IP window and the same
// lock.
func (s *Service) RequestVerifyCode(ctx context.Context, in VerifyCodeRequest, ip string) (*CodeSent, error) {
	req := CodeRequest{Phone: in.Phone}
	if strings.TrimSpace(in.Phone) == "" {
		return nil, errs.Invalid("phone", "error.field.required")
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	now := s.Now()
	if !s.ips.allow(ip, now, s.cfg.PerIPPerHour) {
		return nil, errs.Newf(errs.ETooMany, "error.portal.too_many_codes", "retry_after", 3600)
	}
	if err := s.issue(ctx, req.Phone, purposeVerify, true, now); err != nil {
		return nil, err
	}
	return &CodeSent{MaskedPhone: pii.MaskPhone(req.Phone), ExpiresIn: int(s.cfg.CodeTTL.Seconds())}, nil
}

// VerificationInput is a request to be recognised as living at a unit,
// sent with a photo of proof (a deed, a lease, a utility bill).
type VerificationInput struct {
	Phone  string `json:"phone"`
	Code   string `json:"code"`
	SiteID int64  `json:"site_id"`
	Unit   string `json:"unit"` // the unit number, "3-1502"
	Role   string `json:"role"` // owner, co_resident, tenant
	Name   string `json:"name"`
}

// VerificationSent is the answer to a request: it waits for the butler.
type VerificationSent struct {
	ID    int64  `json:"id"`
	State string `json:"state"`
}

// unitRef is a unit found for a request.
type unitRef struct {
	ID       int64
	SiteID   int64
	NodePath string
	Label    string // "示例花园 3-1502"
}

func (in *VerificationInput) validate(proof []byte) error {
	var v errs.Validation
	in.Phone, in.Code, in.Name = strings.TrimSpace(in.Phone), strings.TrimSpace(in.Code), strings.TrimSpace(in.Name)
	in.Unit = normaliseUnit(in.Unit)
	v.Required("phone", in.Phone)
	v.Check(in.Phone == "" || phoneRe.MatchString(in.Phone), "phone", "error.field.bad_phone")
	v.Check(len(in.Code) == 6 && digits(in.Code) == in.Code, "code", "error.portal.bad_code")
	v.Check(in.SiteID > 0, "site_id", "error.field.required")
	v.Required("unit", in.Unit)
	v.MaxLen("unit", in.Unit, 32)
	v.OneOf("role", in.Role, VerifyRoles...)
	v.Required("name", in.Name)
	v.MaxLen("name", in.Name, 50)
	v.Check(len(proof) > 0, "file", "error.portal.proof_required")
	return v.Err()
}

// normaliseUnit accepts what people type on a phone keyboard: full-width
// digits and dashes, spaces around them.
func normaliseUnit(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case r == '－' || r == '—' || r == '–':
			b.WriteRune('-')
		case r == ' ' || r == '　':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unit finds a unit of a residential or commercial site by number; field
// errors when the site or the unit is unknown.
func (s *Service) unit(ctx context.Context, siteID int64, number string) (*unitRef, error) {
	u := &unitRef{}
	var site string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT n.name FROM org_nodes n WHERE n.id = ? AND n.kind = 'site' AND n.site_kind IN ('residential', 'commercial')`, siteID).Scan(&site)
	if db.IsNoRows(err) {
		return nil, errs.Invalid("site_id", "error.field.unknown_id")
	}
	if err != nil {
		return nil, fmt.Errorf("portal: site %d: %w", siteID, err)
	}
	err = s.db.Q(ctx).QueryRowContext(ctx, `SELECT id, site_id, node_path FROM units WHERE site_id = ? AND number = ?`, siteID, number).Scan(&u.ID, &u.SiteID, &u.NodePath)
	if db.IsNoRows(err) {
		return nil, errs.Invalid("unit", "error.portal.unknown_unit")
	}
	if err != nil {
		return nil, fmt.Errorf("portal: unit %s: %w", number, err)
	}
	u.Label = site + " " + number
	return u, nil
}

// SubmitVerification records a request to be recognised at a unit, after
// checking the code sent by RequestVerifyCode, stores the proof photo and
// tells the unit's butler. Nothing of the household is visible until a
// butler approves. Field errors for bad input (checked before the code is
// used up), EUnauthorized "error.portal.wrong_code" for a wrong code,
// EConflict when the phone already waits for the same unit.
func (s *Service) SubmitVerification(ctx context.Context, in VerificationInput, proof []byte, store blob.Store) (*VerificationSent, error) {
	if err := in.validate(proof); err != nil {
		return nil, err
	}
	u, err := s.unit(ctx, in.SiteID, in.Unit)
	if err != nil {
		return nil, err
	}
	idxs := s.phoneIndexes(in.Phone)
	var waiting int
	if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM portal_verifications WHERE phone_idx = ? AND state = 'pending' AND unit_id = ?`, idxs[0], u.ID).Scan(&waiting); err != nil {
		return nil, fmt.Errorf("portal: pending requests: %w", err)
	}
	if waiting > 0 {
		return nil, errs.New(errs.EConflict, "error.portal.verification_pending")
	}
	now := s.Now()
	if err := s.consume(ctx, in.Phone, purposeVerify, in.Code, now, nil); err != nil {
		return nil, err
	}
	key, err := store.Put(ctx, proof)
	if err != nil {
		return nil, fmt.Errorf("portal: store proof: %w", err)
	}
	enc, err := s.vault.Seal("portal.phone", in.Phone)
	if err != nil {
		return nil, err
	}
	out := &VerificationSent{State: VerifyPending}
	err = s.db.WithTxAt(ctx, now, func(ctx context.Context, tx *db.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO portal_verifications (phone_idx, phone_enc, unit_id, node_path, role, name, proof_key, state, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?) RETURNING id`, idxs[0], enc, u.ID, u.NodePath, in.Role, in.Name, key, db.Ms(now)).Scan(&out.ID); err != nil {
			return fmt.Errorf("portal: insert verification: %w", err)
		}
		if err := s.record(ctx, audit.Entry{Action: "create", Entity: "portal_verification", EntityID: out.ID, NodePath: u.NodePath,
			Summary: u.Label, After: map[string]any{"unit_id": u.ID, "role": in.Role, "phone": pii.MaskPhone(in.Phone)}}); err != nil {
			return err
		}
		return s.tellButlers(ctx, tx, u, out.ID, in)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) record(ctx context.Context, e audit.Entry) error {
	if s.audit == nil {
		return nil
	}
	return s.audit.Record(ctx, e)
}

// tellButlers notifies the unit's butler: the current household's butler
// when it has one, else whoever holds household.manage nearest above the
// unit (the site's butlers and supervisors, not every manager of the
// group).
func (s *Service) tellButlers(ctx context.Context, tx *db.Tx, u *unitRef, id int64, in VerificationInput) error {
	if s.notify == nil {
		return nil
	}
	var butler sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT butler_id FROM households WHERE unit_id = ? AND status = 'current'`, u.ID).Scan(&butler)
	if err != nil && !db.IsNoRows(err) {
		return fmt.Errorf("portal: household butler: %w", err)
	}
	var to []int64
	if butler.Valid {
		to = []int64{butler.Int64}
	} else if to, err = s.holdersNearest(ctx, tx, u.NodePath, auth.PermHouseholdManage); err != nil {
		return err
	}
	for _, staffID := range to {
		if err := s.notify.Notify(ctx, notify.Note{RecipientID: staffID, Kind: "portal.verification", Subject: fmt.Sprintf("portal_verification:%d", id),
			Params: map[string]any{"unit": u.Label, "name": in.Name}, Link: "/verifications", SMS: true}); err != nil {
			return err
		}
	}
	return nil
}

// holdersNearest returns the active staff holding perm on the deepest
// nodes above (or at) path that have any holder. Built-in roles keep their
// permissions in code, custom roles in role_permissions.
func (s *Service) holdersNearest(ctx context.Context, tx *db.Tx, path string, perm auth.Perm) ([]int64, error) {
	var builtin []any
	for _, key := range auth.BuiltinRoles {
		if slices.Contains(auth.BuiltinPerms(key), perm) {
			builtin = append(builtin, key)
		}
	}
	hasPerm := `EXISTS (SELECT 1 FROM role_permissions rp WHERE rp.role_id = r.id AND rp.perm = ?)`
	args := []any{string(perm)}
	if len(builtin) > 0 {
		hasPerm = `((r.builtin AND r.key IN (` + db.Placeholders(len(builtin)) + `)) OR ` + hasPerm + `)`
		args = append(builtin, args...)
	}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT g.staff_id, n.depth FROM role_grants g
		JOIN roles r ON r.id = g.role_id
		JOIN org_nodes n ON n.id = g.node_id
		JOIN staff st ON st.id = g.staff_id AND st.status = 'active'
		WHERE `+hasPerm+` AND ? LIKE n.path || '%' ORDER BY n.depth DESC, g.staff_id`, append(args, path)...)
	if err != nil {
		return nil, fmt.Errorf("portal: holders of %s: %w", perm, err)
	}
	defer rows.Close()
	var out []int64
	deepest := -1
	for rows.Next() {
		var id int64
		var depth int
		if err := rows.Scan(&id, &depth); err != nil {
			return nil, err
		}
		if deepest >= 0 && depth < deepest {
			break
		}
		deepest = depth
		out = append(out, id)
	}
	return out, rows.Err()
}

// Verification is a request as the butler reviews it. The phone is
// masked; the proof is fetched separately.
type Verification struct {
	ID          int64      `json:"id"`
	Phone       string     `json:"phone"` // masked
	SiteName    string     `json:"site_name"`
	UnitID      int64      `json:"unit_id"`
	Unit        string     `json:"unit"`
	Role        string     `json:"role"`
	Name        string     `json:"name"`
	State       string     `json:"state"`
	Reason      string     `json:"reason,omitempty"`
	HasProof    bool       `json:"has_proof"`
	HouseholdID *int64     `json:"household_id"`
	DecidedBy   string     `json:"decided_by,omitempty"`
	DecidedAt   *time.Time `json:"decided_at"`
	CreatedAt   time.Time  `json:"created_at"`
	NodePath    string     `json:"-"`
	proofKey    string
}

// VerificationFilter selects requests.
type VerificationFilter struct {
	State    string // pending (default), approved, rejected
	BeforeID int64
	Limit    int
}

// VerificationPage is a page of requests, newest first.
type VerificationPage struct {
	Items  []Verification `json:"items"`
	More   bool           `json:"more"`
	NextID int64          `json:"next_before_id,omitempty"`
}

const verificationCols = `v.id, v.phone_enc, n.name, v.unit_id, u.number, v.role, v.name, v.state, v.reason, v.proof_key, v.household_id, COALESCE(st.name, ''), v.decided_at, v.created_at, v.node_path
	FROM portal_verifications v JOIN units u ON u.id = v.unit_id JOIN org_nodes n ON n.id = u.site_id LEFT JOIN staff st ON st.id = v.decided_by`

func (s *Service) scanVerification(row interface{ Scan(...any) error }) (*Verification, error) {
	var v Verification
	var enc string
	var hh, decided sql.NullInt64
	var created int64
	if err := row.Scan(&v.ID, &enc, &v.SiteName, &v.UnitID, &v.Unit, &v.Role, &v.Name, &v.State, &v.Reason, &v.proofKey, &hh, &v.DecidedBy, &decided, &created, &v.NodePath); err != nil {
		return nil, err
	}
	if phone, err := s.vault.Open("portal.phone", enc); err == nil {
		v.Phone = pii.MaskPhone(phone)
	}
	if hh.Valid {
		v.HouseholdID = &hh.Int64
	}
	v.HasProof, v.DecidedAt, v.CreatedAt = v.proofKey != "", db.TimePtr(decided), db.Time(created)
	return &v, nil
}

// Verifications lists requests at units in the caller's household.manage
// scope.
func (s *Service) Verifications(ctx context.Context, f VerificationFilter) (*VerificationPage, error) {
	if f.State == "" {
		f.State = VerifyPending
	}
	var v errs.Validation
	v.OneOf("state", f.State, VerifyPending, VerifyApproved, VerifyRejected)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	cond, args := auth.ScopeSQL("v.node_path", auth.FromContext(ctx).Scope(auth.PermHouseholdManage))
	cond += " AND v.state = ?"
	args = append(args, f.State)
	if f.BeforeID > 0 {
		cond += " AND v.id < ?"
		args = append(args, f.BeforeID)
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+verificationCols+` WHERE `+cond+` ORDER BY v.id DESC LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("portal: list verifications: %w", err)
	}
	defer rows.Close()
	p := &VerificationPage{Items: []Verification{}}
	for rows.Next() {
		x, err := s.scanVerification(rows)
		if err != nil {
			return nil, err
		}
		p.Items = append(p.Items, *x)
	}
	if len(p.Items) > f.Limit {
		p.Items, p.More = p.Items[:f.Limit], true
		p.NextID = p.Items[f.Limit-1].ID
	}
	return p, rows.Err()
}

// VerificationByID returns one request in the caller's scope; ENotFound
// otherwise.
func (s *Service) VerificationByID(ctx context.Context, id int64) (*Verification, error) {
	v, err := s.scanVerification(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+verificationCols+` WHERE v.id = ?`, id))
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.portal.verification_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("portal: verification %d: %w", id, err)
	}
	if !auth.FromContext(ctx).Can(auth.PermHouseholdManage, v.NodePath) {
		return nil, errs.NotFound("error.portal.verification_not_found")
	}
	return v, nil
}

// Proof returns the blob key of a request's proof photo (the caller reads
// it from the store); ENotFound outside the caller's scope.
func (s *Service) Proof(ctx context.Context, id int64) (string, error) {
	v, err := s.VerificationByID(ctx, id)
	if err != nil {
		return "", err
	}
	if v.proofKey == "" {
		return "", errs.NotFound("error.not_found")
	}
	return v.proofKey, nil
}

// RejectInput gives the reason a request is turned down; the person reads
// it in the text message.
type RejectInput struct {
	Reason string `json:"reason"`
}

// ApproveVerification recognises the phone at the unit: its portal now
// includes the unit's current household (created when the unit has none).
// ENotFound outside the caller's scope; EConflict when already decided.
func (s *Service) ApproveVerification(ctx context.Context, id int64) error {
	return s.decide(ctx, id, VerifyApproved, "")
}

// RejectVerification turns a request down with a reason (required, at
// most 500 characters).
func (s *Service) RejectVerification(ctx context.Context, id int64, in RejectInput) error {
	var v errs.Validation
	in.Reason = strings.TrimSpace(in.Reason)
	v.Required("reason", in.Reason)
	v.MaxLen("reason", in.Reason, 500)
	if err := v.Err(); err != nil {
		return err
	}
	return s.decide(ctx, id, VerifyRejected, in.Reason)
}

func (s *Service) decide(ctx context.Context, id int64, state, reason string) error {
	v, err := s.VerificationByID(ctx, id)
	if err != nil {
		return err
	}
	if v.State != VerifyPending {
		return errs.New(errs.EConflict, "error.portal.verification_decided")
	}
	p := auth.FromContext(ctx)
	var by any
	if p != nil {
		by = p.StaffID
	}
	return s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var hh any
		if state == VerifyApproved {
			id, err := s.householdOf(ctx, tx, v.UnitID)
			if err != nil {
				return err
			}
			hh = id
		}
		res, err := tx.ExecContext(ctx, `UPDATE portal_verifications SET state = ?, household_id = ?, reason = ?, decided_by = ?, decided_at = ? WHERE id = ? AND state = 'pending'`,
			state, hh, reason, by, db.Ms(tx.Now), id)
		if err != nil {
			return fmt.Errorf("portal: decide %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.New(errs.EConflict, "error.portal.verification_decided")
		}
		if err := s.record(ctx, audit.Entry{Action: state, Entity: "portal_verification", EntityID: id, NodePath: v.NodePath,
			Summary: v.SiteName + " " + v.Unit, Before: map[string]any{"state": VerifyPending}, After: map[string]any{"state": state, "household_id": hh, "reason": reason}}); err != nil {
			return err
		}
		return s.textApplicant(ctx, tx, id, state, v.SiteName+" "+v.Unit, reason)
	})
}

// householdOf returns the unit's current household, creating an empty one
// (no butler yet) when the unit has none: a new owner of an empty unit is
// its first household member.
func (s *Service) householdOf(ctx context.Context, tx *db.Tx, unitID int64) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM households WHERE unit_id = ? AND status = 'current'`, unitID).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !db.IsNoRows(err) {
		return 0, fmt.Errorf("portal: household of unit %d: %w", unitID, err)
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO households (unit_id, site_id, node_path, status, created_at, updated_at)
		SELECT id, site_id, node_path, 'current', ?, ? FROM units WHERE id = ? RETURNING id`, db.Ms(tx.Now), db.Ms(tx.Now), unitID).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("portal: household for unit %d: %w", unitID, err)
	}
	return id, nil
}

// textApplicant tells the person the decision by text message.
func (s *Service) textApplicant(ctx context.Context, tx *db.Tx, id int64, state, unit, reason string) error {
	if s.notify == nil {
		return nil
	}
	var enc string
	if err := tx.QueryRowContext(ctx, `SELECT phone_enc FROM portal_verifications WHERE id = ?`, id).Scan(&enc); err != nil {
		return err
	}
	phone, err := s.vault.Open("portal.phone", enc)
	if err != nil {
		return err
	}
	return s.notify.TextPhone(ctx, phone, "portal.verification."+state, map[string]any{"unit": unit, "reason": reason})
}
