package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/app"
	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/calendars"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/i18n"
)

const calendarUsage = `usage:
  guanjia calendar add --calendar KEY --from TIME --duration DURATION
  guanjia calendar between --calendar KEY --from TIME --to TIME
  guanjia calendar import --calendar KEY FILE

TIME is RFC 3339 (2025-09-30T16:00:00+08:00) or a local date-time in the
calendar's zone (2025-09-30T16:00). DURATION is working time: 8h, 90m, PT8H,
or business days P3D. add and between read the calendars stored in the
database at --data/--db, or the built-in ones when there is none yet.
import reads holiday-cn JSON, an iCalendar (.ics) file or holiday list text.`

func cmdCalendar(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{calendarUsage}
	}
	switch args[0] {
	case "add":
		return cmdCalendarAdd(ctx, args[1:], stdout, stderr)
	case "between":
		return cmdCalendarBetween(ctx, args[1:], stdout, stderr)
	case "import":
		return cmdCalendarImport(ctx, args[1:], stdout, stderr)
	}
	return usageError{calendarUsage}
}

func cmdCalendarAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("calendar add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	key := fs.String("calendar", calendar.KeyCNWorkday, "calendar key")
	from := fs.String("from", "", "start instant")
	duration := fs.String("duration", "", "working time to add")
	if err := parse(fs, args); err != nil {
		return err
	}
	cal, err := cliCalendar(ctx, c, *key, stderr)
	if err != nil {
		return err
	}
	res, err := calendars.AddDuration(cal, *from, *duration)
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintln(stdout, res.Format(time.RFC3339Nano))
	return nil
}

func cmdCalendarBetween(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("calendar between", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	key := fs.String("calendar", calendar.KeyCNWorkday, "calendar key")
	from := fs.String("from", "", "start instant")
	to := fs.String("to", "", "end instant")
	if err := parse(fs, args); err != nil {
		return err
	}
	cal, err := cliCalendar(ctx, c, *key, stderr)
	if err != nil {
		return err
	}
	d, err := calendars.Between(cal, *from, *to)
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintln(stdout, d)
	return nil
}

func cmdCalendarImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("calendar import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	key := fs.String("calendar", calendar.KeyCNWorkday, "calendar key")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"usage: guanjia calendar import --calendar KEY FILE"}
	}
	body, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	a, err := app.New(ctx, c.config(), c.logger(stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = audit.WithActor(ctx, audit.Actor{Name: "cli"})
	res, err := a.Calendars.SystemImport(ctx, *key, body)
	if err != nil {
		return cliError(err)
	}
	for _, r := range res {
		verb := "added"
		if r.Replaced {
			verb = "replaced"
		}
		fmt.Fprintf(stdout, "%s: %s %d (%s): %d days off, %d make-up working days\n", r.Calendar, verb, r.Year, r.Format, r.Holidays, r.Workdays)
	}
	return nil
}

// cliCalendar returns the calendar named key: the stored one when the
// database at --data/--db exists and is migrated, else the built-in one.
// It does not create or migrate a database: looking a deadline up must not
// leave a data folder behind.
func cliCalendar(ctx context.Context, c common, key string, stderr io.Writer) (*calendar.Calendar, error) {
	cfg := c.config()
	path := filepath.Join(cfg.DataDir, "guanjia.db")
	if cfg.DBURL == "" {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return builtinCalendar(key)
		}
	}
	d, err := db.Open(ctx, db.Config{URL: cfg.DBURL, Path: path, Sync: cfg.SQLiteSync, MaxConns: 2})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	pending, err := d.Pending(ctx)
	if err != nil || slices.ContainsFunc(pending, func(n string) bool { return strings.HasPrefix(n, "00200_") }) {
		fmt.Fprintln(stderr, "guanjia: the database holds no calendars yet; using the built-in ones")
		return builtinCalendar(key)
	}
	svc := calendars.NewService(d, audit.New(d), c.logger(stderr))
	cal, err := svc.Get(ctx, key)
	if err != nil {
		return nil, cliError(err)
	}
	return cal, nil
}

func builtinCalendar(key string) (*calendar.Calendar, error) {
	cal, err := calendar.Builtin(key)
	if err != nil {
		return nil, cliError(err)
	}
	return cal, nil
}

// cliError turns a domain error into a line for the terminal: the English
// message and, for bad input, the flags at fault.
func cliError(err error) error {
	var e *errs.Error
	if !errors.As(err, &e) || e.Code == errs.EInternal {
		return err
	}
	cat, cerr := i18n.Load()
	if cerr != nil {
		return err
	}
	msg := cat.TMap("en", e.Key, e.Args)
	if e.Code != errs.EInvalid {
		return errors.New(msg)
	}
	fields := make([]string, 0, len(e.Fields))
	for f := range e.Fields {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	var parts []string
	for _, f := range fields {
		parts = append(parts, "--"+f+": "+cat.T("en", e.Fields[f]))
	}
	if len(parts) == 0 {
		return usageError{msg}
	}
	return usageError{strings.Join(parts, "; ")}
}
