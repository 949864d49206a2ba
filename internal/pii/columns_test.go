package pii_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/pii"
	"github.com/guanjia/guanjia/internal/portal"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// A rotation reaches a module's sealed column and its blind index: after
// RekeyColumn every value is under the new key, opens with it alone, and
// its index is the new key's index of the same digits.
func TestRekeyColumn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		oldSpec, newSpec := pii.NewKeySpec("k1"), pii.NewKeySpec("k2")
		old, _ := pii.ParseKeys(oldSpec)
		accounts := portal.SealedColumns[0]
		phones := []string{"13800000001", "13800000002", "13800000003"}
		err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			for i, ph := range phones {
				enc, err := old.Seal(accounts.Field, ph)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO portal_accounts (number, phone_enc, phone_idx, created_at) VALUES (?, ?, ?, 0)`,
					fmt.Sprint("acct", i), enc, old.Index(accounts.IndexField, ph)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ring, _ := pii.ParseKeys(newSpec + "," + oldSpec)
		if ids, _ := pii.KeyIDsIn(ctx, d, portal.SealedColumns...); fmt.Sprint(ids) != "[k1]" {
			t.Fatalf("keys before: %v", ids)
		}
		n, err := ring.RekeyColumn(ctx, d, accounts, 2) // two batches
		if err != nil || n != len(phones) {
			t.Fatalf("rekey: %d %v", n, err)
		}
		if n, _ := ring.RekeyColumn(ctx, d, accounts, 2); n != 0 {
			t.Errorf("a second rekey changed %d rows", n)
		}
		if ids, _ := pii.KeyIDsIn(ctx, d, portal.SealedColumns...); fmt.Sprint(ids) != "[k2]" {
			t.Errorf("keys after: %v", ids)
		}
		alone, _ := pii.ParseKeys(newSpec)
		rows, err := d.Q(ctx).QueryContext(ctx, `SELECT phone_enc, phone_idx FROM portal_accounts ORDER BY number`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		i := 0
		for rows.Next() {
			var enc, idx string
			if err := rows.Scan(&enc, &idx); err != nil {
				t.Fatal(err)
			}
			clear, err := alone.Open(accounts.Field, enc)
			if err != nil || clear != phones[i] || !strings.HasPrefix(enc, "k2.") {
				t.Errorf("row %d: %q %v", i, clear, err)
			}
			if idx != alone.Index(accounts.IndexField, phones[i]) {
				t.Errorf("row %d: index not recomputed under the new key", i)
			}
			i++
		}
		if i != len(phones) {
			t.Fatalf("%d rows", i)
		}
	})
}
