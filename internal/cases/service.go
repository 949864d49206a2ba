package cases

import (
	"context"
	"embed"
	"fmt"
	"log/slog"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/blob"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow"
	"github.com/guanjia/guanjia/internal/live"
	"github.com/guanjia/guanjia/internal/notify"
	"github.com/guanjia/guanjia/internal/pii"
	"github.com/guanjia/guanjia/internal/sla"
)

//go:embed processes/*.yaml
var processFS embed.FS

// Service is the service desk.
type Service struct {
	db     *db.DB
	flow   *flow.Engine
	sla    *sla.Service
	audit  *audit.Log
	live   *live.Hub
	notify *notify.Service
	blobs  blob.Store
	vault  *pii.Vault
	log    *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
	// completed run in the transaction of every completion.
	completed []CompletedHook
}

// CompletedHook runs in the transaction that completes a case (note is
// the completion note): the module that opened the case finishes its own
// side. An error rolls the completion back.
type CompletedHook func(ctx context.Context, c *Case, note string) error

// OnCompleted adds a hook run at every completion. Call it while wiring.
func (s *Service) OnCompleted(h CompletedHook) { s.completed = append(s.completed, h) }

// Deps are the services the desk works with.
type Deps struct {
	DB     *db.DB
	Flow   *flow.Engine
	SLA    *sla.Service
	Audit  *audit.Log
	Live   *live.Hub
	Notify *notify.Service
	Blobs  blob.Store
	Vault  *pii.Vault
	Log    *slog.Logger
}

// New returns the service desk.
func New(d Deps) *Service {
	return &Service{db: d.DB, flow: d.Flow, sla: d.SLA, audit: d.Audit, live: d.Live, notify: d.Notify, blobs: d.Blobs, vault: d.Vault, log: d.Log,
		Now: func() time.Time { return time.Now().UTC() }}
}

// EnsureProcesses deploys the shipped case processes whose keys have no
// version yet.
func (s *Service) EnsureProcesses(ctx context.Context) error {
	files, err := processFS.ReadDir("processes")
	if err != nil {
		return err
	}
	for _, f := range files {
		src, err := processFS.ReadFile("processes/" + f.Name())
		if err != nil {
			return err
		}
		key := f.Name()[:len(f.Name())-len(".yaml")]
		if _, err := s.flow.Latest(ctx, key); err == nil {
			continue
		} else if errs.CodeOf(err) != errs.ENotFound {
			return err
		}
		if _, err := s.flow.DeploySystem(audit.WithActor(ctx, audit.Actor{Name: "cases"}), src); err != nil {
			return fmt.Errorf("cases: deploy %s: %w", key, err)
		}
	}
	return nil
}
