// Package web is the HTTP shell: routing with a permission rule on every
// route, sessions and CSRF, rendering as HTML or JSON, localised errors, the
// OpenAPI document and the operational endpoints.
package web

import (
	"github.com/guanjia/guanjia/internal/auth"
)

// Access says who may reach a route before the handler's own checks.
type Access int

// Access levels.
const (
	// Staff needs a signed-in staff member holding Perm somewhere (or any
	// signed-in staff member when Perm is empty).
	Staff Access = iota
	// Public needs nobody (login page, health checks).
	Public
	// Resident needs a signed-in portal user (a resident or a utility
	// customer); staff sessions do not count, and portal tokens reach
	// nothing else.
	Resident
)

// Route is one endpoint. Every route names its access rule, so the
// authorisation matrix test can be generated from the table.
type Route struct {
	Method  string
	Path    string // ServeMux pattern path, e.g. /api/v1/staff/{id}
	Access  Access
	Perm    auth.Perm
	Handler HandlerFunc
	Doc     *Doc // OpenAPI documentation; required for /api/ routes
	// NoCSRF exempts a cookie-authenticated unsafe request from the CSRF
	// token (only for endpoints that are safe without it, like login).
	NoCSRF bool
}

// IsAPI reports whether the route is part of the JSON API.
func (r Route) IsAPI() bool { return len(r.Path) >= 5 && r.Path[:5] == "/api/" }

// Doc documents an API operation for the OpenAPI file.
type Doc struct {
	Summary string
	Tag     string
	Query   []Param
	Body    any // a value of the request body type, or nil
	// RawBody lists the media types of a body that is not JSON (a BPMN
	// file, an iCalendar file), read by the handler itself.
	RawBody []string
	Resp    any // a value of the response type, or nil for no body
	Status  int // success status; 200 when zero
}

// Param is a query parameter.
type Param struct {
	Name, Type, Desc string
}

// Module contributes routes.
type Module interface {
	Routes() []Route
}
