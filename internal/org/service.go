package org

import (
	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
)

// Service holds the organisation rules. Every method checks the caller's
// permission on the subtree it touches and returns errs.EForbidden (or
// ENotFound, for things outside the caller's view) when it is missing.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	argon2 auth.Argon2Params
}

// NewService returns the organisation service.
func NewService(d *db.DB, log *audit.Log, argon2 auth.Argon2Params) *Service {
	return &Service{db: d, audit: log, argon2: argon2}
}
