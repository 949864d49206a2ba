package app

import (
	"context"
	"fmt"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/demo"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow/templates"
	"github.com/guanjia/guanjia/internal/households"
	"github.com/guanjia/guanjia/internal/org"
)

// LoadDemo loads the demo data (see package demo) with every module's part.
func (a *App) LoadDemo(ctx context.Context) (bool, error) {
	return demo.Load(ctx, a.DB, a.Org, a.demoSteps()...)
}

// demoSteps lists the modules' parts of the demo data.
func (a *App) demoSteps() []demo.Step {
	return []demo.Step{
		a.HK.DemoStep(a.Org),
		households.DemoStep(a.Households, a.Org, a.Auth),
		func(ctx context.Context, s *demo.Sites) error {
			return a.Cases.DemoCases(ctx, s.Garden, s.Staff["technician"])
		},
	}
}

// EnsureAdmin creates a first administrator when there is none: a company
// root if needed and the account "admin" with a random password, which is
// returned so the caller can print it once. It returns "" when an
// administrator exists already.
func (a *App) EnsureAdmin(ctx context.Context) (string, error) {
	n, err := a.Org.CountAdmins(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	password := auth.RandomPassword()
	ctx = audit.WithActor(ctx, audit.Actor{Name: "first-start"})
	err = a.DB.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		_, err := a.CreateAdmin(ctx, "admin", "管理员", password, true)
		return err
	})
	return password, err
}

// CreateAdmin creates an administrator on the first company root, creating
// the root when the database has none. mustChange forces a new password at
// first login.
func (a *App) CreateAdmin(ctx context.Context, username, name, password string, mustChange bool) (*org.Staff, error) {
	var st *org.Staff
	err := a.DB.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		roots, err := a.Org.Roots(ctx)
		if err != nil {
			return err
		}
		var rootID int64
		if len(roots) > 0 {
			rootID = roots[0].ID
		} else {
			n, err := a.Org.SystemCreateNode(ctx, org.NodeInput{Kind: org.KindCompany, Name: "公司", Timezone: "Asia/Shanghai"}, nil)
			if err != nil {
				return err
			}
			rootID = n.ID
		}
		st, err = a.Org.SystemCreateStaff(ctx, org.StaffInput{NodeID: rootID, Username: username, Name: name}, password, mustChange)
		if err != nil {
			return err
		}
		return a.Org.SystemGrant(ctx, st.ID, auth.RoleAdmin, rootID)
	})
	return st, err
}

// EnsureTemplates deploys each shipped process template (the 业扩 flows)
// whose key has no version yet, so every installation can start them; an
// admin's later versions are left alone.
func (a *App) EnsureTemplates(ctx context.Context) error {
	for _, t := range templates.List() {
		if _, err := a.Flow.Latest(ctx, t.Key); err == nil {
			continue
		} else if errs.CodeOf(err) != errs.ENotFound {
			return err
		}
		if _, err := a.Flow.DeploySystem(audit.WithActor(ctx, audit.Actor{Name: "templates"}), templates.Files()[t.File]); err != nil {
			return fmt.Errorf("app: deploy template %s: %w", t.Key, err)
		}
	}
	return nil
}
