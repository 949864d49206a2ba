// Package org is the organisation: the tree company → region → site → area,
// departments and positions per site, staff accounts, roles and the grants
// that give a role to a person on a subtree.
package org

import "time"

// Node kinds.
const (
	KindCompany = "company"
	KindRegion  = "region"
	KindSite    = "site"
	KindArea    = "area"
)

// NodeKinds lists node kinds top-down.
var NodeKinds = []string{KindCompany, KindRegion, KindSite, KindArea}

// SiteKinds lists the kinds of site.
var SiteKinds = []string{"residential", "commercial", "hotel", "utility", "showflat"}

// AreaKinds lists the kinds of area.
var AreaKinds = []string{"building", "floor", "zone"}

// DepartmentKinds lists the department kinds; "custom" is named by the user.
var DepartmentKinds = []string{"customer_service", "engineering", "security", "cleaning", "landscaping", "housekeeping", "front_office", "custom"}

// StaffStatuses lists staff statuses.
var StaffStatuses = []string{"active", "on_leave", "left"}

// Node is one node of the organisation tree.
type Node struct {
	ID        int64     `json:"id"`
	ParentID  *int64    `json:"parent_id"`
	Kind      string    `json:"kind"`
	SiteKind  string    `json:"site_kind,omitempty"`
	AreaKind  string    `json:"area_kind,omitempty"`
	Name      string    `json:"name"`
	Code      string    `json:"code"`
	Path      string    `json:"path"`
	Depth     int       `json:"depth"`
	Timezone  string    `json:"timezone,omitempty"`
	Calendar  string    `json:"calendar,omitempty"`
	Address   string    `json:"address,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Department is a department of a site (or of any node).
type Department struct {
	ID        int64     `json:"id"`
	NodeID    int64     `json:"node_id"`
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Position is a job title defined on a node.
type Position struct {
	ID     int64  `json:"id"`
	NodeID int64  `json:"node_id"`
	Name   string `json:"name"`
}

// Staff is a staff account.
type Staff struct {
	ID           int64      `json:"id"`
	NodeID       int64      `json:"node_id"`
	NodePath     string     `json:"-"`
	DepartmentID *int64     `json:"department_id"`
	PositionID   *int64     `json:"position_id"`
	Username     string     `json:"username"`
	Name         string     `json:"name"`
	Phone        string     `json:"phone"`
	Status       string     `json:"status"`
	Locale       string     `json:"locale,omitempty"`
	LastLoginAt  *time.Time `json:"last_login_at"`
	LockedUntil  *time.Time `json:"locked_until"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	// Joined for display.
	NodeName       string `json:"node_name,omitempty"`
	DepartmentName string `json:"department_name,omitempty"`
	PositionName   string `json:"position_name,omitempty"`
}

// Role is a named set of permissions.
type Role struct {
	ID      int64    `json:"id"`
	Key     string   `json:"key"`
	Name    string   `json:"name"`
	Builtin bool     `json:"builtin"`
	NodeID  *int64   `json:"node_id"`
	Perms   []string `json:"permissions"`
}

// RoleGrant gives a role to a staff member on a node's subtree.
type RoleGrant struct {
	ID        int64     `json:"id"`
	StaffID   int64     `json:"staff_id"`
	RoleID    int64     `json:"role_id"`
	RoleKey   string    `json:"role_key"`
	NodeID    int64     `json:"node_id"`
	NodeName  string    `json:"node_name"`
	CreatedAt time.Time `json:"created_at"`
}
