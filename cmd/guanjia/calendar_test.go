package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/db/dbtest"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return strings.TrimSpace(out.String()), err
}

func TestCalendarAddOnEmptyDataFolder(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	out, err := runCLI(t, "calendar", "add", "--data", data, "--calendar", "cn-workday", "--from", "2025-09-30T16:00:00+08:00", "--duration", "8h")
	if err != nil || out != "2025-10-09T16:30:00+08:00" {
		t.Fatalf("add: %q %v", out, err)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("looking a deadline up created the data folder")
	}
	// UTC in, the calendar's zone out; business days too.
	if out, err := runCLI(t, "calendar", "add", "--data", data, "--from", "2025-09-30T02:00:00Z", "--duration", "P1D"); err != nil || out != "2025-10-09T10:00:00+08:00" {
		t.Fatalf("P1D: %q %v", out, err)
	}
	if out, err := runCLI(t, "calendar", "between", "--data", data, "--from", "2025-09-30T16:00", "--to", "2025-10-09T16:30"); err != nil || out != "8h0m0s" {
		t.Fatalf("between: %q %v", out, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", "2025-09-30T16:00", "--duration", "eight"}, "--duration"},
		{[]string{"--from", "tomorrow", "--duration", "8h"}, "--from"},
		{[]string{"--duration", "8h"}, "--from"},
		{[]string{"--calendar", "nope", "--from", "2025-09-30T16:00", "--duration", "8h"}, "No such calendar"},
	} {
		_, err := runCLI(t, append([]string{"calendar", "add", "--data", data}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
	var ue usageError
	if _, err := runCLI(t, "calendar", "add", "--data", data, "--duration", "x"); !errors.As(err, &ue) {
		t.Errorf("bad input is not a usage error (exit 2): %v", err)
	}
}

const cli2027 = `{"year":2027,"papers":["https://example.invalid/2027"],"days":[
 {"name":"元旦","date":"2027-01-01","isOffDay":true},
 {"name":"春节","date":"2027-02-06","isOffDay":true},
 {"name":"春节","date":"2027-02-13","isOffDay":false}]}`

// TestCalendarImportThenAdd imports a year into the database and checks that
// add then reads the stored calendar, on SQLite and on PostgreSQL.
func TestCalendarImportThenAdd(t *testing.T) {
	for _, dialect := range dbtest.Dialects() {
		t.Run(string(dialect), func(t *testing.T) {
			dir := t.TempDir()
			where := []string{"--data", filepath.Join(dir, "data")}
			if dialect == "postgres" {
				// The data folder still holds the key file and uploads.
				where = append(where, "--db", scratchPostgres(t))
			}
			file := filepath.Join(dir, "2027.json")
			if err := os.WriteFile(file, []byte(cli2027), 0o600); err != nil {
				t.Fatal(err)
			}
			addArgs := append([]string{"calendar", "add"}, where...)
			addArgs = append(addArgs, "--from", "2027-01-01T10:00", "--duration", "1h")
			// Before: 2027 has no holidays, 1 January is an ordinary Friday.
			if out, err := runCLI(t, addArgs...); err != nil || out != "2027-01-01T11:00:00+08:00" {
				t.Fatalf("before import: %q %v", out, err)
			}
			imp := append(append([]string{"calendar", "import"}, where...), "--calendar", "cn-workday", file)
			out, err := runCLI(t, imp...)
			if err != nil || out != "cn-workday: added 2027 (holiday-cn json): 2 days off, 1 make-up working days" {
				t.Fatalf("import: %q %v", out, err)
			}
			if out, err := runCLI(t, addArgs...); err != nil || out != "2027-01-04T10:00:00+08:00" {
				t.Fatalf("after import: %q %v", out, err)
			}
			if out, err := runCLI(t, imp...); err != nil || !strings.Contains(out, "replaced 2027") {
				t.Fatalf("second import: %q %v", out, err)
			}
			bad := filepath.Join(dir, "bad.ics")
			os.WriteFile(bad, []byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20270101T090000\nEND:VEVENT\nEND:VCALENDAR\n"), 0o600)
			if _, err := runCLI(t, append(append([]string{"calendar", "import"}, where...), "--calendar", "cn-workday", bad)...); err == nil || !strings.Contains(err.Error(), "ics") {
				t.Fatalf("bad ics: %v", err)
			}
		})
	}
}

// scratchPostgres makes an empty database for one test, named the way dbtest
// names its own so that an interrupted run's leftovers are cleaned up.
func scratchPostgres(t *testing.T) string {
	t.Helper()
	server := os.Getenv(dbtest.EnvPostgres)
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("gj_t_%d_%d", os.Getpid(), rand.Uint32())
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", server)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
