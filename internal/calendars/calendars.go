// Package calendars keeps the business calendars of an installation: their
// stored definitions (an editable copy of each shipped calendar plus the ones
// admins create), a cache of compiled calendars shared by every caller, the
// choice of calendar per site, holiday imports, and the API and admin pages.
//
// The arithmetic itself lives in the pure package calendar; this package
// only stores, resolves and serves.
package calendars

import (
	"time"

	"github.com/guanjia/guanjia/internal/calendar"
)

// Record is a stored calendar.
type Record struct {
	ID      int64  `json:"id"`
	Key     string `json:"key"`
	Name    string `json:"name"`
	Builtin bool   `json:"builtin"`
	// Version grows with every change; caches compare it.
	Version int64         `json:"version"`
	Spec    calendar.Spec `json:"spec"`
	// MissingYears lists the years that have begun without holiday data.
	MissingYears []int     `json:"missing_years"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Summary is a calendar as a list shows it.
type Summary struct {
	ID           int64     `json:"id"`
	Key          string    `json:"key"`
	Name         string    `json:"name"`
	TimeZone     string    `json:"time_zone"`
	AlwaysOpen   bool      `json:"always_open"`
	Builtin      bool      `json:"builtin"`
	Version      int64     `json:"version"`
	Years        []int     `json:"years"`
	MissingYears []int     `json:"missing_years"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ImportResult says what an import changed.
type ImportResult struct {
	Calendar string `json:"calendar"`
	Format   string `json:"format"` // "holiday-cn json", "ics" or "holiday list"
	Year     int    `json:"year"`
	Holidays int    `json:"holidays"`
	Workdays int    `json:"workdays"`
	// Replaced is true when the year had data before.
	Replaced bool `json:"replaced"`
}

// Default calendars by kind of site, used when neither the site nor any
// node above it names one: a utility office keeps office hours, everything
// else (residences, hotels, shops) is served round the clock.
func defaultKeyFor(siteKind string) string {
	switch siteKind {
	case "utility":
		return calendar.KeyCNWorkday
	case "residential", "commercial", "hotel", "showflat":
		return calendar.Key24x7
	}
	return calendar.KeyCNWorkday
}
