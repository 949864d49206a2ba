package calendars

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// DefaultRevalidate is how long a compiled calendar is trusted before its
// version is compared with the database again. Edits made on this instance
// are seen at once; edits made on another instance within this time.
const DefaultRevalidate = 5 * time.Second

// ChangeHook runs inside the transaction that changed the calendar key, so
// that work it causes (recomputing deadlines) commits with the change.
type ChangeHook func(ctx context.Context, key string) error

// Service stores calendars and hands out compiled ones. Compiling costs
// about half a millisecond, so compiled calendars are cached by key and
// dropped when their stored version changes. It is safe for concurrent use.
type Service struct {
	db         *db.DB
	audit      *audit.Log
	log        *slog.Logger
	revalidate time.Duration
	// Now is the clock; tests replace it.
	Now func() time.Time

	mu        sync.Mutex
	cache     map[string]cached
	checkedAt time.Time
	hooks     []ChangeHook
}

type cached struct {
	cal     *calendar.Calendar
	version int64 // 0: the shipped definition, no stored row
}

// NewService returns the calendar service on d.
func NewService(d *db.DB, log *audit.Log, logger *slog.Logger) *Service {
	return &Service{db: d, audit: log, log: logger, revalidate: DefaultRevalidate, Now: time.Now, cache: map[string]cached{}}
}

// OnChange adds a hook run in the transaction of every change of a calendar.
// Call it while wiring, before serving.
func (s *Service) OnChange(h ChangeHook) { s.hooks = append(s.hooks, h) }

// Get returns the compiled calendar with key: the stored definition, or the
// shipped one when nothing is stored under key. It returns ENotFound
// ("error.calendar.not_found") for a key that is neither.
func (s *Service) Get(ctx context.Context, key string) (*calendar.Calendar, error) {
	if err := s.maybeRevalidate(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	c, ok := s.cache[key]
	s.mu.Unlock()
	if ok {
		return c.cal, nil
	}
	return s.compile(ctx, key)
}

// Fresh is Get that first compares the cached version of key with the
// database, for work that must not run on a definition changed a moment ago
// on another instance (recomputing deadlines after that change).
func (s *Service) Fresh(ctx context.Context, key string) (*calendar.Calendar, error) {
	var v int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT version FROM calendars WHERE key = ?`, key).Scan(&v)
	if err != nil && !db.IsNoRows(err) {
		return nil, fmt.Errorf("calendars: version of %s: %w", key, err)
	}
	s.mu.Lock()
	c, ok := s.cache[key]
	if ok && c.version != v {
		delete(s.cache, key)
		ok = false
	}
	s.mu.Unlock()
	if ok {
		return c.cal, nil
	}
	return s.compile(ctx, key)
}

func (s *Service) compile(ctx context.Context, key string) (*calendar.Calendar, error) {
	var c cached
	rec, err := s.loadByKey(ctx, key)
	switch {
	case err == nil:
		if c.cal, err = calendar.New(rec.Spec); err != nil {
			return nil, fmt.Errorf("calendars: stored %s: %w", key, err)
		}
		c.version = rec.Version
	case errs.CodeOf(err) == errs.ENotFound:
		if c.cal, err = calendar.Builtin(key); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	s.mu.Lock()
	s.cache[key] = c
	s.mu.Unlock()
	return c.cal, nil
}

// maybeRevalidate drops cached calendars whose stored version moved, at most
// once per revalidation period: one small query for all of them.
func (s *Service) maybeRevalidate(ctx context.Context) error {
	now := time.Now()
	s.mu.Lock()
	due := now.Sub(s.checkedAt) >= s.revalidate
	if due {
		s.checkedAt = now
	}
	s.mu.Unlock()
	if !due {
		return nil
	}
	vs, err := s.versions(ctx)
	if err != nil {
		s.mu.Lock()
		s.checkedAt = time.Time{}
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	for k, c := range s.cache {
		if vs[k] != c.version {
			delete(s.cache, k)
		}
	}
	s.mu.Unlock()
	return nil
}

func (s *Service) forget(key string) {
	s.mu.Lock()
	delete(s.cache, key)
	s.mu.Unlock()
}

// List returns every stored calendar, built-ins first.
func (s *Service) List(ctx context.Context) ([]Summary, error) {
	recs, err := s.listRecords(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(recs))
	for _, r := range recs {
		years := make([]int, 0, len(r.Spec.Years))
		for _, y := range r.Spec.Years {
			years = append(years, y.Year)
		}
		out = append(out, Summary{ID: r.ID, Key: r.Key, Name: r.Name, TimeZone: r.Spec.TimeZone, AlwaysOpen: r.Spec.AlwaysOpen,
			Builtin: r.Builtin, Version: r.Version, Years: years, MissingYears: s.missing(ctx, r.Key), UpdatedAt: r.UpdatedAt})
	}
	return out, nil
}

// missing lists the begun years without data; a calendar that fails to
// compile lacks nothing worth flagging here (it cannot be stored that way).
func (s *Service) missing(ctx context.Context, key string) []int {
	cal, err := s.Get(ctx, key)
	if err != nil {
		return []int{}
	}
	m := cal.MissingYears(s.Now())
	if m == nil {
		return []int{}
	}
	return m
}

// Record returns one stored calendar by id or key. It returns ENotFound
// when there is none.
func (s *Service) Record(ctx context.Context, ref string) (*Record, error) {
	r, err := s.loadRecord(ctx, ref)
	if err != nil {
		return nil, err
	}
	r.MissingYears = s.missing(ctx, r.Key)
	return r, nil
}

// Compiled returns the compiled calendar of a stored calendar named by id or
// key (the API's {id}); ENotFound when there is none.
func (s *Service) Compiled(ctx context.Context, ref string) (*calendar.Calendar, error) {
	r, err := s.loadRecord(ctx, ref)
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, r.Key)
}

// MissingYears maps each stored calendar that lacks holiday data for a year
// that has begun to those years; /readyz shows it.
func (s *Service) MissingYears(ctx context.Context) (map[string][]int, error) {
	recs, err := s.listRecords(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]int{}
	for _, r := range recs {
		if m := s.missing(ctx, r.Key); len(m) > 0 {
			out[r.Key] = m
		}
	}
	return out, nil
}

func canManage(ctx context.Context) error {
	if !auth.FromContext(ctx).CanAnywhere(auth.PermCalendarManage) {
		return errs.Forbidden()
	}
	return nil
}

// Create stores a new calendar. It needs calendar.manage. It returns New's
// EInvalid error for a bad definition and EInvalid on "key" for a key in use.
func (s *Service) Create(ctx context.Context, spec calendar.Spec) (*Record, error) {
	if err := canManage(ctx); err != nil {
		return nil, err
	}
	cal, err := calendar.New(spec)
	if err != nil {
		return nil, err
	}
	spec = cal.Spec()
	var id int64
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if id, err = s.insertRecord(ctx, tx, spec, false); err != nil {
			return err
		}
		return s.changed(ctx, tx, "create", spec.Key, nil, &spec)
	})
	if err != nil {
		return nil, err
	}
	return s.Record(ctx, fmt.Sprint(id))
}

// Update replaces the definition of the calendar named by ref. The key
// cannot change: a body naming another key is EInvalid on "key". It needs
// calendar.manage; ENotFound when there is no such calendar.
func (s *Service) Update(ctx context.Context, ref string, spec calendar.Spec) (*Record, error) {
	if err := canManage(ctx); err != nil {
		return nil, err
	}
	return s.modify(ctx, ref, func(cur *calendar.Spec) error {
		if spec.Key != "" && spec.Key != cur.Key {
			return errs.Invalid("key", "error.calendar.key_immutable")
		}
		spec.Key = cur.Key
		*cur = spec
		return nil
	})
}

// UpdateSettings changes the name, zone, weekly hours and make-up weekday
// of a calendar and keeps its holiday data. It needs calendar.manage.
func (s *Service) UpdateSettings(ctx context.Context, ref string, in calendar.Spec) (*Record, error) {
	if err := canManage(ctx); err != nil {
		return nil, err
	}
	return s.modify(ctx, ref, func(cur *calendar.Spec) error {
		cur.Name, cur.TimeZone, cur.AlwaysOpen, cur.Week, cur.MakeUpWeekday = in.Name, in.TimeZone, in.AlwaysOpen, in.Week, in.MakeUpWeekday
		return nil
	})
}

// SetYear replaces (or adds) the holiday data of one year. It needs
// calendar.manage.
func (s *Service) SetYear(ctx context.Context, ref string, y calendar.YearData) (*Record, error) {
	if err := canManage(ctx); err != nil {
		return nil, err
	}
	return s.modify(ctx, ref, func(cur *calendar.Spec) error {
		cur.ReplaceYear(y)
		return nil
	})
}

// DeleteYear removes the holiday data of one year. It needs calendar.manage;
// ENotFound when the year has no data.
func (s *Service) DeleteYear(ctx context.Context, ref string, year int) (*Record, error) {
	if err := canManage(ctx); err != nil {
		return nil, err
	}
	return s.modify(ctx, ref, func(cur *calendar.Spec) error {
		i := slices.IndexFunc(cur.Years, func(y calendar.YearData) bool { return y.Year == year })
		if i < 0 {
			return errs.NotFound("error.calendar.year_not_found")
		}
		cur.Years = slices.Delete(cur.Years, i, i+1)
		return nil
	})
}

// Import reads holiday data (holiday-cn JSON, an iCalendar file, or our
// holiday list text, told apart by content) into the calendar named by ref,
// replacing the years it contains. It needs calendar.manage. Malformed input
// is the importer's EInvalid error ("error.calendar.import_malformed" with
// the line and field); nothing changes then.
func (s *Service) Import(ctx context.Context, ref string, body []byte) ([]ImportResult, error) {
	if err := canManage(ctx); err != nil {
		return nil, err
	}
	return s.SystemImport(ctx, ref, body)
}

// SystemImport is Import without the permission check, for the command
// line, which acts as the system.
func (s *Service) SystemImport(ctx context.Context, ref string, body []byte) ([]ImportResult, error) {
	format, years, err := parseImport(body)
	if err != nil {
		return nil, err
	}
	var out []ImportResult
	_, err = s.modify(ctx, ref, func(cur *calendar.Spec) error {
		out = out[:0]
		for _, y := range years {
			had := slices.ContainsFunc(cur.Years, func(x calendar.YearData) bool { return x.Year == y.Year })
			cur.ReplaceYear(y)
			out = append(out, ImportResult{Calendar: cur.Key, Format: format, Year: y.Year, Holidays: len(y.Holidays), Workdays: len(y.Workdays), Replaced: had})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func parseImport(body []byte) (string, []calendar.YearData, error) {
	text := bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	switch {
	case len(text) == 0:
		return "", nil, errs.Invalid("body", "error.calendar.import_empty")
	case text[0] == '{':
		y, err := calendar.ParseHolidayCNJSON(bytes.NewReader(text))
		return "holiday-cn json", []calendar.YearData{y}, err
	case bytes.HasPrefix(bytes.ToUpper(text), []byte("BEGIN:VCALENDAR")):
		y, err := calendar.ParseICS(bytes.NewReader(text))
		return "ics", []calendar.YearData{y}, err
	}
	ys, err := calendar.ParseHolidayList(bytes.NewReader(text))
	return "holiday list", ys, err
}

// modify loads the calendar named by ref, lets edit change its definition,
// validates the result and stores it with an audit row, all in one
// transaction. It returns New's EInvalid error for an invalid result.
func (s *Service) modify(ctx context.Context, ref string, edit func(*calendar.Spec) error) (*Record, error) {
	var key string
	err := s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		rec, err := s.loadRecord(ctx, ref)
		if err != nil {
			return err
		}
		before := rec.Spec
		next := rec.Spec
		next.Years = slices.Clone(rec.Spec.Years)
		if err := edit(&next); err != nil {
			return err
		}
		cal, err := calendar.New(next)
		if err != nil {
			return err
		}
		next = cal.Spec()
		if err := s.updateSpec(ctx, tx, rec.ID, rec.Version, next); err != nil {
			return err
		}
		key = rec.Key
		return s.changed(ctx, tx, "update", rec.Key, &before, &next)
	})
	if err != nil {
		return nil, err
	}
	return s.Record(ctx, key)
}

// changed records a change and runs the hooks in its transaction; the cached
// calendar goes once the transaction commits.
func (s *Service) changed(ctx context.Context, tx *db.Tx, action, key string, before, after *calendar.Spec) error {
	e := audit.Entry{Action: action, Entity: "calendar", EntityID: key, Summary: key}
	if before != nil {
		e.Before = before
	}
	if after != nil {
		e.After = after
		e.Summary = after.Name
	}
	if err := s.audit.Record(ctx, e); err != nil {
		return err
	}
	for _, h := range s.hooks {
		if err := h(ctx, key); err != nil {
			return err
		}
	}
	tx.AfterCommit(func() { s.forget(key) })
	return nil
}

// EnsureBuiltins stores a copy of each shipped calendar that is not stored
// yet, and adds to a stored copy the years of holiday data that a newer
// release ships and the copy lacks. It never overwrites a year an admin has.
func (s *Service) EnsureBuiltins(ctx context.Context) error {
	ctx = audit.WithActor(ctx, audit.Actor{Name: "system"})
	for _, key := range calendar.BuiltinKeys() {
		shipped, err := calendar.BuiltinSpec(key)
		if err != nil {
			return err
		}
		err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			rec, err := s.loadByKey(ctx, key)
			if errs.CodeOf(err) == errs.ENotFound {
				if _, err := s.insertRecord(ctx, tx, shipped, true); err != nil {
					return err
				}
				return s.changed(ctx, tx, "create", key, nil, &shipped)
			}
			if err != nil || !rec.Builtin {
				return err
			}
			return s.addShippedYears(ctx, tx, rec, shipped)
		})
		if err != nil {
			return fmt.Errorf("calendars: seed %s: %w", key, err)
		}
	}
	return nil
}

func (s *Service) addShippedYears(ctx context.Context, tx *db.Tx, rec *Record, shipped calendar.Spec) error {
	next := rec.Spec
	next.Years = slices.Clone(rec.Spec.Years)
	var added []string
	for _, y := range shipped.Years {
		if !slices.ContainsFunc(next.Years, func(x calendar.YearData) bool { return x.Year == y.Year }) {
			next.ReplaceYear(y)
			added = append(added, fmt.Sprint(y.Year))
		}
	}
	if len(added) == 0 {
		return nil
	}
	if _, err := calendar.New(next); err != nil {
		s.log.Warn("shipped holiday years do not fit the stored calendar; left as is", "calendar", rec.Key, "years", strings.Join(added, ","), "err", err)
		return nil
	}
	if err := s.updateSpec(ctx, tx, rec.ID, rec.Version, next); err != nil {
		return err
	}
	before := rec.Spec
	return s.changed(ctx, tx, "update", rec.Key, &before, &next)
}

// CalendarKeyFor resolves the calendar of the org node at path ("/1/4/9/"):
// the nearest node on the path, itself first, that names a calendar known
// here; otherwise the default for the kind of the nearest site (24x7 for
// residences, hotels and shops, cn-workday for utility offices and for nodes
// outside any site). A node naming an unknown calendar is skipped with a
// warning in the log. It returns ENotFound for a path with no known node.
func (s *Service) CalendarKeyFor(ctx context.Context, path string) (string, error) {
	chain, err := s.nodeChain(ctx, path)
	if err != nil {
		return "", err
	}
	siteKind := ""
	for i := len(chain) - 1; i >= 0; i-- {
		n := chain[i]
		if siteKind == "" && n.kind == "site" {
			siteKind = n.siteKind
		}
		if n.calendar == "" {
			continue
		}
		if _, err := s.Get(ctx, n.calendar); err == nil {
			return n.calendar, nil
		} else if errs.CodeOf(err) != errs.ENotFound {
			return "", err
		}
		s.log.Warn("org node names an unknown calendar; using the one above it", "node", n.id, "calendar", n.calendar)
	}
	return defaultKeyFor(siteKind), nil
}

// CalendarFor returns the compiled calendar of the org node at path; see
// CalendarKeyFor for how it is chosen and for the errors.
func (s *Service) CalendarFor(ctx context.Context, path string) (*calendar.Calendar, error) {
	key, err := s.CalendarKeyFor(ctx, path)
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, key)
}

// CalendarForNode is CalendarFor for a node (a site or any node) by id.
func (s *Service) CalendarForNode(ctx context.Context, nodeID int64) (*calendar.Calendar, error) {
	path, err := s.nodePath(ctx, nodeID)
	if err != nil {
		return nil, err
	}
	return s.CalendarFor(ctx, path)
}
