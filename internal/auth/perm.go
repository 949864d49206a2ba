package auth

import "sort"

// Perm is one permission. The list is fixed in code; roles pick from it.
type Perm string

// Platform permissions. Modules add theirs here so the list stays one list.
const (
	PermOrgView        Perm = "org.view"
	PermOrgManage      Perm = "org.manage"
	PermStaffView      Perm = "staff.view"
	PermStaffManage    Perm = "staff.manage"
	PermRoleManage     Perm = "role.manage"
	PermTokenManage    Perm = "token.manage"
	PermAuditView      Perm = "audit.view"
	PermAnnounceManage Perm = "announcement.manage"

	PermFlowDesign   Perm = "flow.design"
	PermFlowStart    Perm = "flow.start"
	PermFlowView     Perm = "flow.view"
	PermTaskWork     Perm = "task.work"
	PermTaskDispatch Perm = "task.dispatch"
	PermMessageSend  Perm = "message.send"

	PermCalendarView   Perm = "calendar.view"
	PermCalendarManage Perm = "calendar.manage"
	PermSLAManage      Perm = "sla.manage"

	PermCaseView     Perm = "case.view"     // cases in the subtree
	PermCaseCreate   Perm = "case.create"   // take a call, enter a case
	PermCaseDispatch Perm = "case.dispatch" // acknowledge, dispatch, transfer, remind
	PermCaseWork     Perm = "case.work"     // a technician's accept, arrive, pause, complete
	PermCaseVisit    Perm = "case.visit"    // return visits, reopen, close
	PermCaseForce    Perm = "case.force"    // 强制回单: close on behalf of a technician
	PermCaseManage   Perm = "case.manage"   // categories

	PermHouseholdView   Perm = "household.view"   // units, households, people (masked)
	PermHouseholdManage Perm = "household.manage" // edit them, events, import
	PermHouseholdAssign Perm = "household.assign" // choose butlers, hand households over
	PermCareWork        Perm = "care.work"        // care tasks, contacts, key custody
	PermPIIUnmask       Perm = "pii.unmask"       // see a clear value, with a logged reason
	PermPIIExport       Perm = "pii.export"       // export everything about a person
	PermPIIErase        Perm = "pii.erase"        // erase a person on request
	PermPIIReview       Perm = "pii.review"       // read the log of unmasked values

	PermHKView    Perm = "hk.view"    // housekeeping: the room board, rooms, timelines, reports
	PermHKClean   Perm = "hk.clean"   // an attendant's work: clean, checklist, minibar, laundry, found items, damage
	PermHKInspect Perm = "hk.inspect" // a supervisor's: inspect, assign the day's work, blocks, bulk changes
	PermHKDesk    Perm = "hk.desk"    // the clerk's: front-office feed, DND calls, keys, ledgers, handover
	PermHKManage  Perm = "hk.manage"  // rooms, room types, minibar items, settings
)

// AllPerms lists every permission, sorted.
func AllPerms() []Perm {
	all := []Perm{
		PermOrgView, PermOrgManage, PermStaffView, PermStaffManage, PermRoleManage,
		PermTokenManage, PermAuditView, PermAnnounceManage,
		PermFlowDesign, PermFlowStart, PermFlowView, PermTaskWork, PermTaskDispatch, PermMessageSend,
		PermCalendarView, PermCalendarManage, PermSLAManage,
		PermCaseView, PermCaseCreate, PermCaseDispatch, PermCaseWork, PermCaseVisit, PermCaseForce, PermCaseManage,
		PermHouseholdView, PermHouseholdManage, PermHouseholdAssign, PermCareWork,
		PermPIIUnmask, PermPIIExport, PermPIIErase, PermPIIReview,
		PermHKView, PermHKClean, PermHKInspect, PermHKDesk, PermHKManage,
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return all
}

// IsPerm reports whether s names a permission.
func IsPerm(s string) bool {
	for _, p := range AllPerms() {
		if string(p) == s {
			return true
		}
	}
	return false
}

// Built-in role keys.
const (
	RoleAdmin      = "admin"
	RoleManager    = "manager"
	RoleSupervisor = "supervisor"
	RoleButler     = "butler"
	RoleTechnician = "technician"
	RoleAttendant  = "attendant"
	RoleClerk      = "clerk"
	RoleDispatcher = "dispatcher"
)

// BuiltinRoles lists the built-in role keys in display order.
var BuiltinRoles = []string{RoleAdmin, RoleManager, RoleSupervisor, RoleButler, RoleTechnician, RoleAttendant, RoleClerk, RoleDispatcher}

// BuiltinPerms returns the permissions of a built-in role; nil for others.
// Built-in roles are defined here, not in the database, so an upgrade that
// adds a permission gives it to the roles that should have it.
func BuiltinPerms(role string) []Perm {
	base := builtinBase(role)
	if role == RoleAdmin || base == nil {
		return base
	}
	return append(append(base, caseRolePerms[role]...), hkRolePerms[role]...)
}

// hkRolePerms are the housekeeping permissions of the built-in roles.
var hkRolePerms = map[string][]Perm{
	RoleManager:    {PermHKView, PermHKClean, PermHKInspect, PermHKDesk, PermHKManage},
	RoleSupervisor: {PermHKView, PermHKClean, PermHKInspect, PermHKDesk},
	RoleAttendant:  {PermHKView, PermHKClean},
	RoleClerk:      {PermHKView, PermHKDesk},
}

// caseRolePerms are the service-desk permissions of the built-in roles.
var caseRolePerms = map[string][]Perm{
	RoleManager:    {PermCaseView, PermCaseCreate, PermCaseDispatch, PermCaseWork, PermCaseVisit, PermCaseForce, PermCaseManage},
	RoleSupervisor: {PermCaseView, PermCaseCreate, PermCaseDispatch, PermCaseWork, PermCaseVisit, PermCaseForce},
	RoleButler:     {PermCaseView, PermCaseCreate, PermCaseDispatch, PermCaseVisit},
	RoleTechnician: {PermCaseView, PermCaseWork},
	RoleClerk:      {PermCaseView, PermCaseCreate},
	RoleDispatcher: {PermCaseView, PermCaseCreate, PermCaseDispatch},
}

func builtinBase(role string) []Perm {
	work := []Perm{PermOrgView, PermStaffView, PermFlowView, PermTaskWork, PermCalendarView}
	switch role {
	case RoleAdmin:
		return AllPerms()
	case RoleManager:
		return append(work, PermAuditView, PermAnnounceManage, PermFlowStart, PermTaskDispatch, PermStaffManage,
			PermHouseholdView, PermHouseholdManage, PermHouseholdAssign, PermCareWork, PermPIIUnmask, PermPIIExport)
	case RoleSupervisor:
		return append(work, PermAnnounceManage, PermFlowStart, PermTaskDispatch,
			PermHouseholdView, PermHouseholdManage, PermHouseholdAssign, PermCareWork, PermPIIUnmask)
	case RoleButler:
		// A butler calls their owners: unmasking a phone is part of the
		// work, and every time is logged with its reason.
		return append(work, PermFlowStart, PermHouseholdView, PermHouseholdManage, PermCareWork, PermPIIUnmask)
	case RoleTechnician, RoleAttendant:
		return work
	case RoleClerk:
		return append(work, PermFlowStart, PermHouseholdView)
	case RoleDispatcher:
		return append(work, PermFlowStart, PermTaskDispatch)
	}
	return nil
}
