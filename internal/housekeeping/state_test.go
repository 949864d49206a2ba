package housekeeping

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
)

// allowedSpec is the transition table written out by hand, as a
// housekeeping manager would read it: for each dimension and each from
// value, the values it may become when no guard stands in the way. The
// test holds the code's Table to it in both directions.
var allowedSpec = map[string]map[string][]string{
	DimCleaning: {
		Dirty:     {Cleaning, Clean},
		Cleaning:  {Clean, Dirty},
		Clean:     {Inspected, Dirty, Pickup, Cleaning},
		Inspected: {Dirty, Pickup},
		Pickup:    {Cleaning, Clean, Dirty},
	},
	DimOccupancy:   {Vacant: {Occupied}, Occupied: {Vacant}},
	DimHKOccupancy: {Unknown: {Vacant, Occupied}, Vacant: {Occupied}, Occupied: {Vacant}},
	DimBlock: {
		BlockNone: {BlockOOO, BlockOOS},
		BlockOOO:  {BlockOOS, BlockNone},
		BlockOOS:  {BlockOOO, BlockNone},
	},
}

// guardSpec says when a change is refused although the table lists it.
func guardSpec(s State, dim, to string) bool {
	switch {
	case dim == DimOccupancy && to == Occupied:
		return s.Block == BlockNone // nobody checks in to a blocked room
	case dim == DimBlock && s.Block == BlockNone && to != BlockNone:
		return s.Occupancy == Vacant // no block while a guest is in
	case dim == FlagDim(FlagTurndownDone) && to == "on":
		return s.Has(FlagTurndown)
	case strings.HasPrefix(dim, dimFlagPrefix) && to == "on" && dim != FlagDim(FlagArrival):
		return s.Occupancy == Occupied
	}
	return true
}

// allStates is every combination of the dimensions with a few flag sets.
func allStates() []State {
	flagSets := [][]string{{}, {FlagDND}, {FlagMakeUp}, {FlagTurndown}, {FlagTurndown, FlagTurndownDone}, {FlagDueOut, FlagArrival}, {FlagRefused, FlagSleepOut, FlagLightLuggage}}
	var out []State
	for _, c := range CleaningValues {
		for _, o := range OccupancyValues {
			for _, h := range HKValues {
				for _, b := range BlockValues {
					for _, fs := range flagSets {
						s := State{Cleaning: c, Occupancy: o, HKOccupancy: h, Block: b, Flags: slices.Clone(fs)}
						if b != BlockNone {
							s.BlockReason, s.BlockReturn = "漏水", Inspected
						}
						out = append(out, s)
					}
				}
			}
		}
	}
	return out
}

// TestTransitionTableExhaustive tries every change of every dimension from
// every state: the table allows exactly what the spec allows, guards
// refuse exactly what guardSpec refuses, a refusal names the allowed
// values, and the side effects of the changes that go through hold.
func TestTransitionTableExhaustive(t *testing.T) {
	all := func(auth.Perm) bool { return true }
	cases, allowed := 0, 0
	for _, s := range allStates() {
		for _, dim := range Dimensions() {
			for _, to := range Values(dim) {
				cases++
				from := s.Value(dim)
				var inTable bool
				if spec, ok := allowedSpec[dim]; ok {
					inTable = slices.Contains(spec[from], to)
				} else { // a flag toggles
					inTable = from != to
				}
				want := inTable && guardSpec(s, dim, to)
				n, deltas, err := Apply(s, Change{Dimension: dim, To: to, BlockReason: "维修"}, all)
				if want != (err == nil) {
					t.Fatalf("%+v: %s %s→%s: err %v, want allowed=%v", s, dim, from, to, err, want)
				}
				if err != nil {
					var e *errs.Error
					if !errors.As(err, &e) || e.Code != errs.EConflict {
						t.Fatalf("%s %s→%s: %v, want a conflict", dim, from, to, err)
					}
					got := e.Args["allowed"].([]string)
					if !slices.Equal(got, Allowed(s, dim, nil)) || slices.Contains(got, to) {
						t.Fatalf("%s %s→%s: allowed %v", dim, from, to, got)
					}
					if n.Value(dim) != from {
						t.Fatalf("refused change moved the state")
					}
					continue
				}
				allowed++
				if n.Value(dim) != to {
					t.Fatalf("%s %s→%s: state has %s", dim, from, to, n.Value(dim))
				}
				if len(deltas) == 0 || deltas[0] != (Delta{dim, from, to}) {
					t.Fatalf("%s %s→%s: deltas %v", dim, from, to, deltas)
				}
				checkSideEffects(t, s, n, dim, to)
			}
		}
	}
	t.Logf("%d changes tried, %d allowed", cases, allowed)
}

func checkSideEffects(t *testing.T, before, after State, dim, to string) {
	t.Helper()
	switch {
	case dim == DimOccupancy && to == Vacant:
		if after.Cleaning != Dirty {
			t.Fatalf("check-out left the room %s", after.Cleaning)
		}
		for _, f := range stayFlags {
			if after.Has(f) {
				t.Fatalf("check-out kept %s", f)
			}
		}
		if after.HKOccupancy != Unknown {
			t.Fatal("check-out kept housekeeping's old check")
		}
	case dim == DimOccupancy && to == Occupied:
		if after.Has(FlagArrival) || after.HKOccupancy != Unknown || after.Cleaning != before.Cleaning {
			t.Fatalf("check-in: %+v", after)
		}
	case dim == DimBlock && to == BlockNone:
		if after.Cleaning != before.BlockReturn || after.BlockReason != "" {
			t.Fatalf("release: cleaning %s, want %s", after.Cleaning, before.BlockReturn)
		}
	case dim == DimBlock:
		if after.BlockReason == "" || after.BlockReturn == "" {
			t.Fatalf("block without reason or return status: %+v", after)
		}
	case dim == FlagDim(FlagDND) && to == "on":
		if after.Has(FlagMakeUp) {
			t.Fatal("DND kept make-up")
		}
	case dim == FlagDim(FlagMakeUp) && to == "on":
		if after.Has(FlagDND) {
			t.Fatal("make-up kept DND")
		}
	case dim == FlagDim(FlagTurndown) && to == "off":
		if after.Has(FlagTurndownDone) {
			t.Fatal("turndown off kept turndown done")
		}
	}
	// Nothing else moves.
	for _, d := range Deltas(before, after, dim)[1:] {
		if !sideEffectAllowed(dim, to, d) {
			t.Fatalf("%s→%s also moved %+v", dim, to, d)
		}
	}
}

func sideEffectAllowed(dim, to string, d Delta) bool {
	switch dim {
	case DimOccupancy:
		return d.Dimension == DimCleaning || d.Dimension == DimHKOccupancy || strings.HasPrefix(d.Dimension, dimFlagPrefix)
	case DimBlock:
		return to == BlockNone && d.Dimension == DimCleaning
	case FlagDim(FlagDND):
		return d.Dimension == FlagDim(FlagMakeUp)
	case FlagDim(FlagMakeUp):
		return d.Dimension == FlagDim(FlagDND)
	case FlagDim(FlagTurndown):
		return d.Dimension == FlagDim(FlagTurndownDone)
	}
	return false
}

// TestReachableStatesKeepInvariants walks every state reachable from a new
// room through allowed changes and checks what must always hold: no block
// with a guest in, no stay flag without a guest, one door sign at a time.
func TestReachableStatesKeepInvariants(t *testing.T) {
	all := func(auth.Perm) bool { return true }
	key := func(s State) string {
		return fmt.Sprint(s.Cleaning, s.Occupancy, s.HKOccupancy, s.Block, s.FlagsText())
	}
	seen := map[string]bool{}
	queue := []State{NewState()}
	seen[key(queue[0])] = true
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if s.Occupancy == Occupied && s.Block != BlockNone {
			t.Fatalf("blocked with a guest in: %+v", s)
		}
		if s.Has(FlagDND) && s.Has(FlagMakeUp) {
			t.Fatalf("DND and make-up together: %+v", s)
		}
		if s.Has(FlagTurndownDone) && !s.Has(FlagTurndown) {
			t.Fatalf("turndown done without turndown: %+v", s)
		}
		if s.Occupancy == Vacant {
			for _, f := range stayFlags {
				if s.Has(f) {
					t.Fatalf("%s on a vacant room: %+v", f, s)
				}
			}
		}
		if Derive(s, true).Ready && s.Cleaning != Inspected {
			t.Fatalf("ready but not inspected: %+v", s)
		}
		for _, dim := range Dimensions() {
			for _, to := range Allowed(s, dim, nil) {
				n, _, err := Apply(s, Change{Dimension: dim, To: to, BlockReason: "r"}, all)
				if err != nil {
					t.Fatalf("allowed change refused: %v", err)
				}
				if k := key(n); !seen[k] {
					seen[k] = true
					queue = append(queue, n)
				}
			}
		}
	}
	if len(seen) < 100 {
		t.Fatalf("only %d reachable states", len(seen))
	}
	t.Logf("%d reachable states", len(seen))
}

// TestPermissions: the table's permission column holds for each role.
func TestPermissions(t *testing.T) {
	holds := func(role string) func(auth.Perm) bool {
		perms := auth.BuiltinPerms(role)
		return func(p auth.Perm) bool { return slices.Contains(perms, p) }
	}
	occupied := NewState()
	occupied.Occupancy = Occupied
	clean := NewState()
	clean.Cleaning = Clean
	cases := []struct {
		role string
		s    State
		c    Change
		ok   bool
	}{
		{auth.RoleAttendant, NewState(), Change{Dimension: DimCleaning, To: Cleaning}, true},
		{auth.RoleAttendant, clean, Change{Dimension: DimCleaning, To: Inspected}, false},
		{auth.RoleSupervisor, clean, Change{Dimension: DimCleaning, To: Inspected}, true},
		{auth.RoleAttendant, NewState(), Change{Dimension: DimOccupancy, To: Occupied}, false},
		{auth.RoleClerk, NewState(), Change{Dimension: DimOccupancy, To: Occupied}, true},
		{auth.RoleClerk, NewState(), Change{Dimension: DimCleaning, To: Cleaning}, false},
		{auth.RoleAttendant, NewState(), Change{Dimension: DimBlock, To: BlockOOO, BlockReason: "x"}, false},
		{auth.RoleSupervisor, NewState(), Change{Dimension: DimBlock, To: BlockOOO, BlockReason: "x"}, true},
		{auth.RoleAttendant, occupied, Change{Dimension: FlagDim(FlagDND), To: "on"}, true},
		{auth.RoleAttendant, occupied, Change{Dimension: FlagDim(FlagDueOut), To: "on"}, false},
		{auth.RoleClerk, occupied, Change{Dimension: FlagDim(FlagRefused), To: "on"}, true},
		{auth.RoleButler, NewState(), Change{Dimension: DimCleaning, To: Cleaning}, false},
	}
	for _, c := range cases {
		_, _, err := Apply(c.s, c.c, holds(c.role))
		if (err == nil) != c.ok {
			t.Errorf("%s %s→%s: %v, want ok=%v", c.role, c.c.Dimension, c.c.To, err, c.ok)
		}
		if err != nil && !c.ok && errs.CodeOf(err) != errs.EForbidden {
			t.Errorf("%s %s→%s: %v, want forbidden", c.role, c.c.Dimension, c.c.To, err)
		}
	}
}

// TestDerive: the codes, readiness and discrepancies.
func TestDerive(t *testing.T) {
	st := func(c, o, h, b string, flags ...string) State {
		return State{Cleaning: c, Occupancy: o, HKOccupancy: h, Block: b, Flags: flags}
	}
	cases := []struct {
		s           State
		inspection  bool
		code        string
		ready       bool
		discrepancy string
	}{
		{st(Inspected, Vacant, Unknown, BlockNone), true, CodeVC, true, ""},
		{st(Clean, Vacant, Unknown, BlockNone), true, CodeVC, false, ""},
		{st(Clean, Vacant, Unknown, BlockNone), false, CodeVC, true, ""},
		{st(Dirty, Vacant, Unknown, BlockNone), true, CodeVD, false, ""},
		{st(Cleaning, Vacant, Unknown, BlockNone), true, CodeVD, false, ""},
		{st(Pickup, Vacant, Unknown, BlockNone), false, CodeVD, false, ""},
		{st(Clean, Occupied, Unknown, BlockNone), true, CodeOC, false, ""},
		{st(Dirty, Occupied, Unknown, BlockNone), true, CodeOD, false, ""},
		{st(Dirty, Occupied, Unknown, BlockNone, FlagDND), true, CodeDND, false, ""},
		{st(Inspected, Vacant, Unknown, BlockOOO), true, CodeOOO, false, ""},
		{st(Inspected, Vacant, Unknown, BlockOOS), true, CodeOOS, false, ""},
		{st(Dirty, Occupied, Vacant, BlockNone), true, CodeOD, false, DiscrepancySkip},
		{st(Inspected, Vacant, Occupied, BlockNone), true, CodeVC, true, DiscrepancySleep},
		{st(Inspected, Vacant, Vacant, BlockNone), true, CodeVC, true, ""},
	}
	for i, c := range cases {
		d := Derive(c.s, c.inspection)
		if d.Code != c.code || d.Ready != c.ready || d.Discrepancy != c.discrepancy {
			t.Errorf("%d %+v: %+v, want %s ready=%v %q", i, c.s, d, c.code, c.ready, c.discrepancy)
		}
	}
}
