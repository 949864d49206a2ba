package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/app"
	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
)

// seedStaff adds n staff members under the demo garden in a few large
// transactions (benchmark setup, not the product's path).
func seedStaff(b *testing.B, e *apptest.Env, n int) {
	b.Helper()
	ctx := context.Background()
	site := e.SiteID("示例花园")
	var path string
	if err := e.DB.Q(ctx).QueryRowContext(ctx, `SELECT path FROM org_nodes WHERE id = ?`, site).Scan(&path); err != nil {
		b.Fatal(err)
	}
	const batch = 500
	for done := 0; done < n; done += batch {
		err := e.DB.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			var args []any
			rows := 0
			for i := done; i < done+batch && i < n; i++ {
				args = append(args, site, path, fmt.Sprintf("bench%06d", i), fmt.Sprintf("员工%06d", i), fmt.Sprintf("139%08d", i), 0, 0)
				rows++
			}
			q := `INSERT INTO staff (node_id, node_path, username, name, phone, created_at, updated_at) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", rows), ", ")
			_, err := tx.ExecContext(ctx, q, args...)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStaffListHTTP: GET /api/v1/staff?page=1 with 10,000 staff, 50
// concurrent clients, through the real HTTP stack (session lookup,
// permission scope, count and page query, JSON).
func BenchmarkStaffListHTTP(b *testing.B) {
	for _, dialect := range dbtest.Dialects() {
		b.Run(string(dialect), func(b *testing.B) {
			e := apptest.Start(b, dbtest.Open(b, dialect))
			seedStaff(b, e, 10000)
			tok := e.Login("admin")
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			get := func(int) error {
				req, _ := http.NewRequest("GET", e.URL+"/api/v1/staff?page=1", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := client.Do(req)
				if err != nil {
					return err
				}
				var buf [4096]byte
				for {
					if _, err := res.Body.Read(buf[:]); err != nil {
						break
					}
				}
				res.Body.Close()
				if res.StatusCode != 200 {
					return fmt.Errorf("status %d", res.StatusCode)
				}
				return nil
			}
			for i := 0; i < 20; i++ { // warm the caches
				if err := get(i); err != nil {
					b.Fatal(err)
				}
			}
			var lat apptest.Latencies
			b.ResetTimer()
			elapsed, err := apptest.Busy(b.N, 50, get, &lat)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
			lat.Report(b, "")
		})
	}
}

// BenchmarkLoginHash is the cost of one argon2id check at the production
// parameters (19 MiB, 2 passes, 1 lane): the price of a login.
func BenchmarkLoginHash(b *testing.B) {
	hash, err := auth.HashPassword("demo-password-123", auth.DefaultArgon2)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ok, _ := auth.CheckPassword(hash, "demo-password-123"); !ok {
			b.Fatal("mismatch")
		}
	}
}

// BenchmarkLoginHTTP: POST /api/v1/auth/login at the production argon2id
// cost, two concurrent clients (one per core): logins per second.
func BenchmarkLoginHTTP(b *testing.B) {
	e := apptest.StartWith(b, dbtest.Open(b, db.SQLite), func(c *app.Config) {
		c.Auth.Argon2 = auth.DefaultArgon2
	})
	// Give the demo butler a production-cost hash.
	hash, _ := auth.HashPassword("benchmark-pw-1", auth.DefaultArgon2)
	if _, err := e.DB.W.Exec(`UPDATE staff SET password_hash = ? WHERE username = 'butler'`, hash); err != nil {
		b.Fatal(err)
	}
	var lat apptest.Latencies
	b.ResetTimer()
	elapsed, err := apptest.Busy(b.N, 2, func(int) error {
		res := e.Do("POST", "/api/v1/auth/login", "", map[string]string{"username": "butler", "password": "benchmark-pw-1"}, nil)
		if res.StatusCode != 200 {
			return fmt.Errorf("login: %d", res.StatusCode)
		}
		return nil
	}, &lat)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "logins/s")
	lat.Report(b, "")
}

// BenchmarkStart is the in-process cost of starting the application on an
// existing, migrated database with data (migration check, built-in roles,
// calendars, policies, templates, routes).
func BenchmarkStart(b *testing.B) {
	d := dbtest.Open(b, db.SQLite)
	e := apptest.Start(b, d) // migrate and load the demo once
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := app.NewWithDB(context.Background(), e.App.Cfg, discardLog(), d); err != nil {
			b.Fatal(err)
		}
	}
}
