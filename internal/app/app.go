// Package app wires the application: config → database → services → HTTP.
// Nothing here is global; cmd/guanjia builds one App per process and tests
// build as many as they like.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/riverqueue/river"

	"github.com/guanjia/guanjia/internal/admin"
	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/blob"
	"github.com/guanjia/guanjia/internal/calendars"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/flow"
	"github.com/guanjia/guanjia/internal/households"
	"github.com/guanjia/guanjia/internal/housekeeping"
	"github.com/guanjia/guanjia/internal/i18n"
	"github.com/guanjia/guanjia/internal/jobs"
	"github.com/guanjia/guanjia/internal/live"
	"github.com/guanjia/guanjia/internal/notify"
	"github.com/guanjia/guanjia/internal/org"
	"github.com/guanjia/guanjia/internal/pii"
	"github.com/guanjia/guanjia/internal/portal"
	"github.com/guanjia/guanjia/internal/sla"
	"github.com/guanjia/guanjia/internal/sms"
	"github.com/guanjia/guanjia/internal/timers"
	"github.com/guanjia/guanjia/internal/web"
)

// Config is everything the process is told at start.
type Config struct {
	Addr          string // listen address
	DataDir       string // SQLite file and uploaded files
	DBURL         string // postgres://… or empty for SQLite in DataDir
	SQLiteSync    db.Sync
	SecureCookies bool
	TrustProxy    bool
	// Workers runs River's job workers (off for one-shot commands).
	Workers bool
	// SMSProvider delivers text messages; nil writes them to stderr.
	SMSProvider sms.Provider
	// PIIKeys is the key ring that encrypts personal data ("id:base64key,
	// id2:…", the first seals). Empty: a key file in the data folder is used
	// (created on first start), or a throwaway key when there is no data
	// folder (tests). Several instances must share one configured ring.
	PIIKeys string
	// Portal sets the residents' sign-in rules; zero: portal.DefaultConfig.
	Portal portal.Config
	Auth   auth.Config
}

// App is a wired application.
type App struct {
	Cfg   Config
	Log   *slog.Logger
	DB    *db.DB
	Jobs  *jobs.Queue
	Audit *audit.Log
	Auth  *auth.Service
	Org   *org.Service
	Ann   *admin.Announcements
	// Calendars stores business calendars and resolves a site's calendar.
	Calendars *calendars.Service
	// SLA runs service-level clocks, warnings and escalations.
	SLA    *sla.Service
	Server *web.Server
	Cat    *i18n.Catalogs
	// Timers fires every durable deadline (process timers, SLA clocks).
	Timers *timers.Service
	// Flow is the process engine.
	Flow *flow.Engine
	// Live pushes committed changes to open pages (SSE).
	Live *live.Hub
	// HK is housekeeping: the room board, assignment, DND, ledgers.
	HK *housekeeping.Service
	// Notify writes notifications (the bell, live pushes, text messages).
	Notify *notify.Service
	// Cases is the service desk.
	Cases *cases.Service
	// Households holds units, households, people, care and personal-data rules.
	Households *households.Service
	// Portal serves residents and utility customers.
	Portal *portal.Service
	// Vault encrypts personal data and computes its blind indexes.
	Vault *pii.Vault
	// SMS queues and delivers text messages through the configured provider.
	SMS *sms.Service
	// Blobs stores uploaded files.
	Blobs blob.Store
}

// New opens the database, applies migrations and builds every service and
// route. It fails when the database cannot be opened or migrated.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	d, err := db.Open(ctx, db.Config{URL: cfg.DBURL, Path: filepath.Join(cfg.DataDir, "guanjia.db"), Sync: cfg.SQLiteSync})
	if err != nil {
		return nil, err
	}
	a, err := NewWithDB(ctx, cfg, log, d)
	if err != nil {
		d.Close()
		return nil, err
	}
	return a, nil
}

// NewWithDB builds the application on an open database (tests use it).
func NewWithDB(ctx context.Context, cfg Config, log *slog.Logger, d *db.DB) (*App, error) {
	if cfg.Auth.SessionIdle == 0 {
		cfg.Auth = auth.DefaultConfig()
	}
	if err := d.Migrate(ctx); err != nil {
		return nil, err
	}
	if err := jobs.Migrate(ctx, d); err != nil {
		return nil, err
	}
	cat, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	if cfg.Portal.CodeTTL == 0 {
		cfg.Portal = portal.DefaultConfig()
	}
	a := &App{Cfg: cfg, Log: log, DB: d, Cat: cat}
	a.Audit = audit.New(d)
	a.Auth = auth.NewService(d, a.Audit, cfg.Auth)
	a.Org = org.NewService(d, a.Audit, cfg.Auth.Argon2)
	a.Ann = admin.NewAnnouncements(d, a.Audit)
	if err := a.Org.EnsureBuiltinRoles(ctx); err != nil {
		return nil, err
	}
	a.Calendars = calendars.NewService(d, a.Audit, log)
	a.Jobs = jobs.New(d, log)
	a.Timers = timers.New(d, a.Jobs, log, timers.DefaultConfig())
	a.Flow = flow.New(d, a.Jobs, a.Timers, a.Audit, log)
	a.SLA = sla.New(d, a.Jobs, a.Timers, a.Calendars, a.Audit, log)
	a.Live = live.New(d, log)
	if a.Vault, err = openVault(cfg); err != nil {
		return nil, err
	}
	provider := cfg.SMSProvider
	if provider == nil {
		provider = &sms.Console{W: os.Stderr}
	}
	a.SMS = sms.New(d, a.Jobs, provider, log)
	blobDir := filepath.Join(cfg.DataDir, "blobs")
	if cfg.DataDir == "" {
		blobDir = filepath.Join(os.TempDir(), "guanjia-blobs")
	}
	if a.Blobs, err = blob.NewFS(blobDir); err != nil {
		return nil, err
	}
	a.Notify = notify.New(d, a.SMS, a.Live, a.Cat)
	a.Cases = cases.New(cases.Deps{DB: d, Flow: a.Flow, SLA: a.SLA, Audit: a.Audit, Live: a.Live, Notify: a.Notify, Blobs: a.Blobs, Vault: a.Vault, Log: log})
	a.Households = households.NewService(d, a.Audit, a.Vault, a.Auth, households.DefaultConfig(), a.holidaysFor, log)
	if err := a.Households.CheckKey(ctx); err != nil {
		return nil, err
	}
	a.Households.SetCaseLister(a.householdCases)
	a.Households.SetCaseCounter(a.openCasesByButler)
	a.Households.OnErase(a.forgetElsewhere)
	a.Portal = portal.New(portal.Deps{DB: d, Vault: a.Vault, SMS: a.SMS, Cases: a.Cases, Flow: a.Flow, Notify: a.Notify, Audit: a.Audit, Log: log}, cfg.Portal)
	a.Flow.Listen(a.publishFlow)
	a.HK = housekeeping.New(housekeeping.Deps{DB: d, Audit: a.Audit, Live: a.Live, Timers: a.Timers, Flow: a.Flow, Jobs: a.Jobs, Log: log, Desk: hkDesk{cases: a.Cases}})
	a.Cases.OnCompleted(func(ctx context.Context, c *cases.Case, note string) error {
		return a.HK.CaseCompleted(ctx, c.ID, note)
	})
	a.registerJobs()
	if err := a.Jobs.Build(cfg.Workers); err != nil {
		return nil, err
	}
	// After Build: a shipped holiday year added to a stored calendar
	// recomputes open SLA cycles through a job.
	if err := a.Calendars.EnsureBuiltins(ctx); err != nil {
		return nil, err
	}
	if err := a.SLA.EnsureDefaults(ctx); err != nil {
		return nil, err
	}
	if err := a.EnsureTemplates(ctx); err != nil {
		return nil, err
	}
	if err := a.Cases.EnsureProcesses(ctx); err != nil {
		return nil, err
	}
	if err := a.HK.Setup(ctx); err != nil {
		return nil, err
	}
	if err := a.buildServer(); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *App) buildServer() error {
	s, err := web.New(web.Config{SecureCookies: a.Cfg.SecureCookies, TrustProxy: a.Cfg.TrustProxy}, a.Log, a.Auth, a.Cat, a.ready)
	if err != nil {
		return err
	}
	for _, add := range []func(*web.Renderer) error{org.AddPages, admin.AddPages, calendars.AddPages, sla.AddPages, sms.AddPages, flow.AddPages, households.AddPages, cases.AddPages, notify.AddPages, housekeeping.AddPages, portal.AddPages} {
		if err := add(s.Renderer()); err != nil {
			return err
		}
	}
	s.AddNav(web.NavItem{Key: "nav.home", Href: "/"})
	s.AddNav(cases.Nav()...)
	s.AddNav(flow.Nav()...)
	s.AddNav(housekeeping.Nav()...)
	s.AddNav(households.Nav()...)
	s.AddNav(org.Nav()...)
	s.AddNav(admin.Nav()...)
	s.AddNav(sms.Nav()...)
	s.AddNav(calendars.Nav()...)
	s.AddNav(sla.Nav()...)
	s.AddNav(portal.Nav()...)
	account := &web.Account{S: s, Home: a.homeData}
	s.SetPortalAuth(a.Portal.Authenticate)
	s.Mount(account,
		&org.HTTP{Svc: a.Org},
		&admin.HTTP{DB: a.DB, Log: a.Audit, Auth: a.Auth, Ann: a.Ann},
		&calendars.HTTP{Svc: a.Calendars},
		&sla.HTTP{Svc: a.SLA},
		&cases.HTTP{S: a.Cases},
		&households.HTTP{Svc: a.Households},
		&notify.HTTP{S: a.Notify},
		&notify.Pages{S: a.Notify},
		&cases.Pages{S: a.Cases, Residences: caseResidences{hh: a.Households, cases: a.Cases, units: cases.UnitNumbers{DB: a.DB}}, Care: butlerCare{hh: a.Households}},
		&portal.HTTP{S: a.Portal, Srv: s, Blobs: a.Blobs},
		&portal.Pages{S: a.Portal, Srv: s, Blobs: a.Blobs},
		&flow.HTTP{E: a.Flow},
		&housekeeping.HTTP{S: a.HK},
		&flow.Pages{E: a.Flow, Dir: flowDirectory{org: a.Org}},
		&live.HTTP{Hub: a.Live, Rules: map[string]live.TopicRule{"case": a.Cases.MayFollow}},
		&sms.HTTP{S: a.SMS},
	)
	a.Server = s
	return nil
}

func (a *App) homeData(c *web.Ctx) (any, error) {
	anns, err := a.Ann.Current(c.R.Context(), c.P.NodePath, time.Now().UTC(), 10)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Announcements": anns}, nil
}

// ready reports whether the database answers and is fully migrated.
func (a *App) ready(ctx context.Context) (map[string]any, error) {
	details := map[string]any{"database": string(a.DB.Dialect)}
	if err := a.DB.Ping(ctx); err != nil {
		return details, fmt.Errorf("database: %w", err)
	}
	pending, err := a.DB.Pending(ctx)
	if err != nil {
		return details, err
	}
	if len(pending) > 0 {
		details["pending_migrations"] = pending
		return details, errors.New("migrations pending")
	}
	// A calendar without holiday data for a year that has begun still
	// computes (weekly hours only), so it is flagged, not made unready.
	if missing, err := a.Calendars.MissingYears(ctx); err != nil {
		return details, err
	} else if len(missing) > 0 {
		details["calendar_missing_years"] = missing
	}
	return details, nil
}

// CleanupArgs is the periodic job that removes expired sessions and codes.
type CleanupArgs struct{}

// Kind names the job.
func (CleanupArgs) Kind() string { return "platform.cleanup" }

type cleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	auth   *auth.Service
	portal *portal.Service
	log    *slog.Logger
}

func (w *cleanupWorker) Work(ctx context.Context, j *river.Job[CleanupArgs]) error {
	n, err := w.auth.CleanupExpired(ctx)
	if err == nil && n > 0 {
		w.log.Info("removed expired sessions and codes", "rows", n)
	}
	if err != nil {
		return err
	}
	return w.portal.Cleanup(ctx)
}

func (a *App) registerJobs() {
	jobs.Register(a.Jobs, &cleanupWorker{auth: a.Auth, portal: a.Portal, log: a.Log})
	a.Jobs.Every(10*time.Minute, func() river.JobArgs { return CleanupArgs{} })
	jobs.Register(a.Jobs, &households.CareWorker{Svc: a.Households})
	a.Jobs.Every(time.Hour, func() river.JobArgs { return households.CareArgs{} })
}

// Serve runs the HTTP server and the job workers until ctx ends, then shuts
// down gracefully. ready, when not nil, receives the bound address.
func (a *App) Serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", a.Cfg.Addr)
	if err != nil {
		return fmt.Errorf("app: listen %s: %w", a.Cfg.Addr, err)
	}
	if a.Cfg.Workers {
		if err := a.Jobs.Start(ctx); err != nil {
			ln.Close()
			return err
		}
		go a.Timers.Run(ctx)
		go a.Live.Run(ctx)
	}
	srv := &http.Server{Handler: a.Server.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	srv.RegisterOnShutdown(a.Live.Shutdown) // open event streams end so Shutdown need not wait for them
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if jerr := a.Jobs.Stop(sctx); jerr != nil && err == nil {
		err = jerr
	}
	return err
}

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }

// publishFlow turns the engine's committed changes into live events: the
// assignee's inbox and the site's boards update without a reload.
func (a *App) publishFlow(ev flow.ChangeEvent) {
	data, _ := json.Marshal(ev)
	if ev.AssigneeID != 0 {
		a.Live.Publish(live.Event{Topic: live.UserTopic(ev.AssigneeID), Type: ev.Kind, Data: data})
	}
	// Every enclosing subtree's board hears about it: /1/, /1/4/, …
	for i := 1; i < len(ev.NodePath); i++ {
		if ev.NodePath[i] == '/' {
			a.Live.Publish(live.Event{Topic: live.NodeTopic(ev.NodePath[:i+1]), Type: ev.Kind, Data: data})
		}
	}
}

// openVault opens the personal-data key ring the configuration names.
func openVault(cfg Config) (*pii.Vault, error) {
	switch {
	case cfg.PIIKeys != "":
		return pii.ParseKeys(cfg.PIIKeys)
	case cfg.DataDir != "":
		return pii.LoadOrCreateKeyFile(filepath.Join(cfg.DataDir, "pii.key"))
	}
	return pii.ParseKeys(pii.NewKeySpec("test"))
}
