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
)

// AllPerms lists every permission, sorted.
func AllPerms() []Perm {
	all := []Perm{
		PermOrgView, PermOrgManage, PermStaffView, PermStaffManage, PermRoleManage,
		PermTokenManage, PermAuditView, PermAnnounceManage,
		PermFlowDesign, PermFlowStart, PermFlowView, PermTaskWork, PermTaskDispatch, PermMessageSend,
		PermCalendarView, PermCalendarManage, PermSLAManage,
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
	work := []Perm{PermOrgView, PermStaffView, PermFlowView, PermTaskWork, PermCalendarView}
	switch role {
	case RoleAdmin:
		return AllPerms()
	case RoleManager:
		return append(work, PermAuditView, PermAnnounceManage, PermFlowStart, PermTaskDispatch, PermStaffManage)
	case RoleSupervisor:
		return append(work, PermAnnounceManage, PermFlowStart, PermTaskDispatch)
	case RoleButler:
		return append(work, PermFlowStart)
	case RoleTechnician, RoleAttendant:
		return work
	case RoleClerk:
		return append(work, PermFlowStart)
	case RoleDispatcher:
		return append(work, PermFlowStart, PermTaskDispatch)
	}
	return nil
}
