package housekeeping

import (
	"slices"
	"sort"
	"strings"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
)

// The dimensions of a room's state. Each changes on its own; the familiar
// codes (VC, VD, OC, OD, OOO, OOS, DND), readiness and the discrepancies
// are derived from them in Derive and never stored.
const (
	DimCleaning    = "cleaning"     // what housekeeping has done
	DimOccupancy   = "occupancy"    // what the front office says
	DimHKOccupancy = "hk_occupancy" // what housekeeping found in the room
	DimBlock       = "block"        // out of order / out of service
	dimFlagPrefix  = "flag:"        // flag:dnd, flag:make_up, …
)

// Cleaning statuses.
const (
	Dirty     = "dirty"
	Cleaning  = "cleaning"
	Clean     = "clean"
	Inspected = "inspected"
	Pickup    = "pickup" // cleaned before, needs a touch-up before it is sold
)

// Occupancy values, of the front office and of housekeeping's own check.
const (
	Vacant   = "vacant"
	Occupied = "occupied"
	Unknown  = "unknown" // housekeeping has not checked since the front office last changed it
)

// Blocks.
const (
	BlockNone = "none"
	BlockOOO  = "ooo" // out of order, 维修房: off the inventory
	BlockOOS  = "oos" // out of service: on the inventory, not to be sold now
)

// Service flags.
const (
	FlagDND          = "dnd"           // do not disturb
	FlagMakeUp       = "make_up"       // make up room, 请即打扫
	FlagRefused      = "refused"       // the guest refused service today
	FlagSleepOut     = "sleep_out"     // occupied, bed not slept in
	FlagLightLuggage = "light_luggage" // no or light luggage
	FlagTurndown     = "turndown"      // turndown required
	FlagTurndownDone = "turndown_done" // turndown completed
	FlagDueOut       = "due_out"       // departure expected today
	FlagArrival      = "arrival"       // arrival expected today
)

// Value lists, in display order.
var (
	CleaningValues  = []string{Dirty, Cleaning, Clean, Inspected, Pickup}
	OccupancyValues = []string{Vacant, Occupied}
	HKValues        = []string{Unknown, Vacant, Occupied}
	BlockValues     = []string{BlockNone, BlockOOO, BlockOOS}
	FlagValues      = []string{FlagDND, FlagMakeUp, FlagRefused, FlagSleepOut, FlagLightLuggage, FlagTurndown, FlagTurndownDone, FlagDueOut, FlagArrival}
	// BlockReturnValues are the cleaning statuses a block may return to.
	BlockReturnValues = []string{Dirty, Clean, Inspected}
)

// stayFlags belong to a guest's stay and go when the guest checks out.
var stayFlags = []string{FlagDND, FlagMakeUp, FlagRefused, FlagSleepOut, FlagLightLuggage, FlagTurndown, FlagTurndownDone, FlagDueOut}

// State is a room's state, one field per dimension.
type State struct {
	Cleaning    string   `json:"cleaning"`
	Occupancy   string   `json:"occupancy"`
	HKOccupancy string   `json:"hk_occupancy"`
	Block       string   `json:"block"`
	BlockReason string   `json:"block_reason,omitempty"`
	BlockFrom   string   `json:"block_from,omitempty"`
	BlockUntil  string   `json:"block_until,omitempty"`
	BlockReturn string   `json:"block_return,omitempty"`
	Flags       []string `json:"flags"` // sorted
}

// NewState is a new room's state: vacant, dirty, unblocked.
func NewState() State {
	return State{Cleaning: Dirty, Occupancy: Vacant, HKOccupancy: Unknown, Block: BlockNone, Flags: []string{}}
}

// Has reports whether flag is set.
func (s State) Has(flag string) bool { return slices.Contains(s.Flags, flag) }

func (s State) with(flag string) State {
	if s.Has(flag) {
		return s
	}
	s.Flags = append(slices.Clone(s.Flags), flag)
	sort.Strings(s.Flags)
	return s
}

func (s State) without(flags ...string) State {
	out := make([]string, 0, len(s.Flags))
	for _, f := range s.Flags {
		if !slices.Contains(flags, f) {
			out = append(out, f)
		}
	}
	s.Flags = out
	return s
}

// FlagsText is the stored form of the flags: sorted and comma-separated.
func (s State) FlagsText() string { return strings.Join(s.Flags, ",") }

// ParseFlags reads the stored form.
func ParseFlags(text string) []string {
	if text == "" {
		return []string{}
	}
	fs := strings.Split(text, ",")
	sort.Strings(fs)
	return fs
}

// Value returns the state's value of a dimension ("on"/"off" for a flag).
func (s State) Value(dim string) string {
	switch dim {
	case DimCleaning:
		return s.Cleaning
	case DimOccupancy:
		return s.Occupancy
	case DimHKOccupancy:
		return s.HKOccupancy
	case DimBlock:
		return s.Block
	}
	if f, ok := strings.CutPrefix(dim, dimFlagPrefix); ok {
		if s.Has(f) {
			return "on"
		}
		return "off"
	}
	return ""
}

// The codes shown on the board.
const (
	CodeVC  = "VC"  // vacant clean (inspected: OK房)
	CodeVD  = "VD"  // vacant dirty, 走客房
	CodeOC  = "OC"  // occupied clean
	CodeOD  = "OD"  // occupied dirty
	CodeOOO = "OOO" // out of order, 维修房
	CodeOOS = "OOS" // out of service
	CodeDND = "DND" // occupied, do not disturb
)

// Codes lists the codes in board order.
var Codes = []string{CodeVC, CodeVD, CodeOC, CodeOD, CodeDND, CodeOOO, CodeOOS}

// Discrepancies between the front office and housekeeping.
const (
	DiscrepancySkip  = "skip"  // the front office says occupied, housekeeping found it vacant
	DiscrepancySleep = "sleep" // the front office says vacant, housekeeping found it occupied
)

// Derived is what the dimensions mean together.
type Derived struct {
	Code        string `json:"code"`
	Ready       bool   `json:"ready"`                 // may be sold now
	Discrepancy string `json:"discrepancy,omitempty"` // skip, sleep or ""
}

// Derive computes the code, readiness and discrepancy of a state. It is the
// one place these rules live. inspectionRequired says whether the hotel
// sells only inspected rooms (or also rooms that are only clean).
func Derive(s State, inspectionRequired bool) Derived {
	var d Derived
	switch {
	case s.Block == BlockOOO:
		d.Code = CodeOOO
	case s.Block == BlockOOS:
		d.Code = CodeOOS
	case s.Occupancy == Occupied && s.Has(FlagDND):
		d.Code = CodeDND
	case s.Occupancy == Occupied && (s.Cleaning == Clean || s.Cleaning == Inspected):
		d.Code = CodeOC
	case s.Occupancy == Occupied:
		d.Code = CodeOD
	case s.Cleaning == Clean || s.Cleaning == Inspected:
		d.Code = CodeVC
	default:
		d.Code = CodeVD
	}
	d.Ready = s.Occupancy == Vacant && s.Block == BlockNone &&
		(s.Cleaning == Inspected || (s.Cleaning == Clean && !inspectionRequired))
	switch {
	case s.Occupancy == Occupied && s.HKOccupancy == Vacant:
		d.Discrepancy = DiscrepancySkip
	case s.Occupancy == Vacant && s.HKOccupancy == Occupied:
		d.Discrepancy = DiscrepancySleep
	}
	return d
}

// Rule is one allowed change of one dimension: who may make it (any of
// Perms) and the condition on the rest of the state (Guard, "" for none).
type Rule struct {
	Dimension string
	From, To  string
	Perms     []auth.Perm
	Guard     string
}

// Guards: conditions on the state for a rule to apply.
const (
	GuardVacant    = "vacant"    // the front office says vacant: no block while a guest is in
	GuardOccupied  = "occupied"  // a guest is in: stay flags need one
	GuardUnblocked = "unblocked" // nobody checks in to a blocked room
	GuardTurndown  = "turndown"  // a turndown can be completed only when required
)

var guards = map[string]func(State) bool{
	GuardVacant:    func(s State) bool { return s.Occupancy == Vacant },
	GuardOccupied:  func(s State) bool { return s.Occupancy == Occupied },
	GuardUnblocked: func(s State) bool { return s.Block == BlockNone },
	GuardTurndown:  func(s State) bool { return s.Has(FlagTurndown) },
}

var (
	pClean   = []auth.Perm{auth.PermHKClean}
	pInspect = []auth.Perm{auth.PermHKInspect}
	pDesk    = []auth.Perm{auth.PermHKDesk}
	pWork    = []auth.Perm{auth.PermHKClean, auth.PermHKInspect}
	pAny     = []auth.Perm{auth.PermHKClean, auth.PermHKDesk, auth.PermHKInspect}
)

// Table is THE table of allowed changes. Anything not in it is refused
// with the changes that are allowed from the room's state.
var Table = buildTable()

func buildTable() []Rule {
	t := []Rule{
		{DimCleaning, Dirty, Cleaning, pClean, ""},
		{DimCleaning, Dirty, Clean, pWork, ""},
		{DimCleaning, Cleaning, Clean, pClean, ""},
		{DimCleaning, Cleaning, Dirty, pWork, ""},
		{DimCleaning, Clean, Inspected, pInspect, ""},
		{DimCleaning, Clean, Dirty, pWork, ""},
		{DimCleaning, Clean, Pickup, pWork, ""},
		{DimCleaning, Clean, Cleaning, pClean, ""},
		{DimCleaning, Inspected, Dirty, []auth.Perm{auth.PermHKInspect, auth.PermHKDesk}, ""},
		{DimCleaning, Inspected, Pickup, pInspect, ""},
		{DimCleaning, Pickup, Cleaning, pClean, ""},
		{DimCleaning, Pickup, Clean, pWork, ""},
		{DimCleaning, Pickup, Dirty, pWork, ""},

		{DimOccupancy, Vacant, Occupied, pDesk, GuardUnblocked},
		{DimOccupancy, Occupied, Vacant, pDesk, ""},

		{DimBlock, BlockNone, BlockOOO, pInspect, GuardVacant},
		{DimBlock, BlockNone, BlockOOS, pInspect, GuardVacant},
		{DimBlock, BlockOOO, BlockOOS, pInspect, ""},
		{DimBlock, BlockOOS, BlockOOO, pInspect, ""},
		{DimBlock, BlockOOO, BlockNone, pInspect, ""},
		{DimBlock, BlockOOS, BlockNone, pInspect, ""},
	}
	for _, from := range HKValues {
		for _, to := range HKValues {
			if from != to && to != Unknown {
				t = append(t, Rule{DimHKOccupancy, from, to, pAny, ""})
			}
		}
	}
	flagRule := map[string]struct {
		perms []auth.Perm
		guard string
	}{
		FlagDND:          {pAny, GuardOccupied},
		FlagMakeUp:       {pAny, GuardOccupied},
		FlagRefused:      {pAny, GuardOccupied}, // the attendant at the door notes it (seed article 1)
		FlagSleepOut:     {pAny, GuardOccupied},
		FlagLightLuggage: {pAny, GuardOccupied},
		FlagTurndown:     {pAny, GuardOccupied},
		FlagTurndownDone: {pWork, GuardTurndown},
		FlagDueOut:       {pDesk, GuardOccupied},
		FlagArrival:      {pDesk, ""},
	}
	for _, f := range FlagValues {
		r := flagRule[f]
		t = append(t, Rule{dimFlagPrefix + f, "off", "on", r.perms, r.guard}, Rule{dimFlagPrefix + f, "on", "off", r.perms, ""})
	}
	return t
}

// Dimensions lists every dimension, flags as "flag:NAME".
func Dimensions() []string {
	out := []string{DimCleaning, DimOccupancy, DimHKOccupancy, DimBlock}
	for _, f := range FlagValues {
		out = append(out, dimFlagPrefix+f)
	}
	return out
}

// Values lists the values of a dimension.
func Values(dim string) []string {
	switch dim {
	case DimCleaning:
		return CleaningValues
	case DimOccupancy:
		return OccupancyValues
	case DimHKOccupancy:
		return HKValues
	case DimBlock:
		return BlockValues
	}
	if strings.HasPrefix(dim, dimFlagPrefix) {
		return []string{"off", "on"}
	}
	return nil
}

// FlagDim is the dimension of a flag.
func FlagDim(flag string) string { return dimFlagPrefix + flag }

// rule finds the rule for a change, ignoring guards.
func rule(dim, from, to string) (Rule, bool) {
	for _, r := range Table {
		if r.Dimension == dim && r.From == from && r.To == to {
			return r, true
		}
	}
	return Rule{}, false
}

// Allowed lists the values dim may change to from s, guards applied. With
// can not nil, only those the caller holds a permission for.
func Allowed(s State, dim string, can func(auth.Perm) bool) []string {
	from := s.Value(dim)
	var out []string
	for _, r := range Table {
		if r.Dimension != dim || r.From != from {
			continue
		}
		if r.Guard != "" && !guards[r.Guard](s) {
			continue
		}
		if can != nil && !anyPerm(r.Perms, can) {
			continue
		}
		out = append(out, r.To)
	}
	return out
}

func anyPerm(perms []auth.Perm, can func(auth.Perm) bool) bool {
	for _, p := range perms {
		if can(p) {
			return true
		}
	}
	return false
}

// Change asks for one dimension to take a value. Block details go with a
// block change.
type Change struct {
	Dimension   string
	To          string
	BlockReason string
	BlockFrom   string
	BlockUntil  string
	BlockReturn string
}

// Delta is one dimension's change, for the room's timeline.
type Delta struct {
	Dimension string `json:"dimension"`
	From      string `json:"from"`
	To        string `json:"to"`
}

// TransitionError is a change the table refuses; it becomes a 409 that
// names the allowed values.
func transitionError(dim, from, to string, allowed []string) *errs.Error {
	if allowed == nil {
		allowed = []string{}
	}
	text := strings.Join(allowed, ", ")
	if text == "" {
		text = "—"
	}
	return errs.Newf(errs.EConflict, "error.hk.transition", "dimension", dim, "from", from, "to", to, "allowed", allowed, "allowed_text", text)
}

// Apply makes a change: it checks the table (the rule, its guard and,
// when can is not nil, the caller's permission) and returns the new state
// with every dimension that moved, the requested one first. A change the
// table does not allow is an EConflict naming the allowed values; a
// permission the caller lacks is EForbidden.
func Apply(s State, c Change, can func(auth.Perm) bool) (State, []Delta, error) {
	from := s.Value(c.Dimension)
	r, ok := rule(c.Dimension, from, c.To)
	if !ok || (r.Guard != "" && !guards[r.Guard](s)) {
		return s, nil, transitionError(c.Dimension, from, c.To, Allowed(s, c.Dimension, nil))
	}
	if can != nil && !anyPerm(r.Perms, can) {
		return s, nil, errs.Forbidden()
	}
	before := s
	n := s
	n.Flags = slices.Clone(s.Flags)
	switch c.Dimension {
	case DimCleaning:
		n.Cleaning = c.To
	case DimOccupancy:
		n.Occupancy = c.To
		n.HKOccupancy = Unknown // the front office's word supersedes the last check
		if c.To == Vacant {
			// Check-out: the room is dirty and the stay's flags go.
			if n.Cleaning != Dirty {
				n.Cleaning = Dirty
			}
			n = n.without(stayFlags...)
		} else {
			n = n.without(FlagArrival)
		}
	case DimHKOccupancy:
		n.HKOccupancy = c.To
	case DimBlock:
		n.Block = c.To
		if c.To == BlockNone {
			ret := before.BlockReturn
			if ret == "" {
				ret = Dirty
			}
			n.Cleaning = ret
			n.BlockReason, n.BlockFrom, n.BlockUntil, n.BlockReturn = "", "", "", ""
		} else {
			if c.BlockReason != "" || before.Block == BlockNone {
				n.BlockReason = c.BlockReason
			}
			if c.BlockFrom != "" || before.Block == BlockNone {
				n.BlockFrom = c.BlockFrom
			}
			if c.BlockUntil != "" || before.Block == BlockNone {
				n.BlockUntil = c.BlockUntil
			}
			if c.BlockReturn != "" || before.Block == BlockNone {
				n.BlockReturn = c.BlockReturn
			}
			if n.BlockReturn == "" {
				n.BlockReturn = Dirty
			}
		}
	default:
		flag := strings.TrimPrefix(c.Dimension, dimFlagPrefix)
		if c.To == "on" {
			n = n.with(flag)
			switch flag { // a guest shows one sign at a time
			case FlagDND:
				n = n.without(FlagMakeUp)
			case FlagMakeUp:
				n = n.without(FlagDND)
			}
		} else {
			n = n.without(flag)
			if flag == FlagTurndown {
				n = n.without(FlagTurndownDone)
			}
		}
	}
	return n, Deltas(before, n, c.Dimension), nil
}

// Deltas lists the dimensions that differ between two states, first the
// one named (the requested change), then the rest in dimension order.
func Deltas(a, b State, first string) []Delta {
	var out []Delta
	add := func(dim string) {
		if x, y := a.Value(dim), b.Value(dim); x != y {
			out = append(out, Delta{dim, x, y})
		}
	}
	if first != "" {
		add(first)
	}
	for _, dim := range Dimensions() {
		if dim != first {
			add(dim)
		}
	}
	return out
}
