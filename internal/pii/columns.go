package pii

import (
	"context"
	"fmt"
	"strings"

	"github.com/guanjia/guanjia/internal/db"
)

// Column is a database column of values sealed under one field name, and
// the column of their blind indexes when there is one. Modules list theirs
// so that a key rotation (RekeyColumn) reaches every sealed value. The
// names are written into SQL: they come from code, never from input.
type Column struct {
	Table  string // the table
	Key    string // its primary key column
	Sealed string // the sealed values ("" in a row means none)
	Field  string // the field name they are sealed with
	// Index is the column of the blind index of the clear value ("" for
	// none), made under IndexField from IndexOf(clear) (the clear value
	// itself when IndexOf is nil).
	Index      string
	IndexField string
	IndexOf    func(clear string) string
}

// RekeyColumn re-seals the values of c that are under another key than
// the ring's current one, and recomputes their indexes, batch rows per
// transaction, until none is left; it returns how many rows it changed. A
// row changed meanwhile by its module is left alone and picked up by the
// next round. Safe while the system serves, and to run again.
func (v *Vault) RekeyColumn(ctx context.Context, d *db.DB, c Column, batch int) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	cur := v.CurrentKeyID() + "."
	changed := 0
	for {
		rows, err := d.Q(ctx).QueryContext(ctx, `SELECT `+c.Key+`, `+c.Sealed+` FROM `+c.Table+` WHERE `+c.Sealed+` <> '' AND substr(`+c.Sealed+`, 1, ?) <> ? ORDER BY `+c.Key+` LIMIT ?`,
			len(cur), cur, batch)
		if err != nil {
			return changed, fmt.Errorf("pii: rekey %s.%s: %w", c.Table, c.Sealed, err)
		}
		type row struct {
			key    any
			sealed string
		}
		var todo []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.key, &r.sealed); err != nil {
				rows.Close()
				return changed, err
			}
			todo = append(todo, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return changed, err
		}
		if len(todo) == 0 {
			return changed, nil
		}
		n := 0
		err = d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			for _, r := range todo {
				clear, err := v.Open(c.Field, r.sealed)
				if err != nil {
					return fmt.Errorf("pii: rekey %s %v: %w", c.Table, r.key, err)
				}
				sealed, err := v.Seal(c.Field, clear)
				if err != nil {
					return err
				}
				set, args := c.Sealed+` = ?`, []any{sealed}
				if c.Index != "" {
					value := clear
					if c.IndexOf != nil {
						value = c.IndexOf(clear)
					}
					set += `, ` + c.Index + ` = ?`
					args = append(args, v.Index(c.IndexField, value))
				}
				res, err := tx.ExecContext(ctx, `UPDATE `+c.Table+` SET `+set+` WHERE `+c.Key+` = ? AND `+c.Sealed+` = ?`, append(args, r.key, r.sealed)...)
				if err != nil {
					return err
				}
				if k, _ := res.RowsAffected(); k == 1 {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return changed, err
		}
		changed += n
	}
}

// KeyIDsIn lists the key ids that seal values of the columns.
func KeyIDsIn(ctx context.Context, d *db.DB, cols ...Column) ([]string, error) {
	pos := d.StrPos()
	var parts []string
	for _, c := range cols {
		parts = append(parts, `SELECT substr(`+c.Sealed+`, 1, `+pos+`(`+c.Sealed+`, '.') - 1) AS k FROM `+c.Table+` WHERE `+c.Sealed+` <> ''`)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	return db.Column[string](ctx, d.Q(ctx), `SELECT DISTINCT k FROM (`+strings.Join(parts, ` UNION `)+`) x ORDER BY k`)
}
