package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/guanjia/guanjia/internal/app"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/households"
	"github.com/guanjia/guanjia/internal/pii"
	"github.com/guanjia/guanjia/internal/portal"
)

// cmdPII runs the personal-data commands. "rekey" is step two of a key
// rotation: with the new key first in GUANJIA_PII_KEY and the old one
// after it, it re-seals everything under the new key; then the old key can
// be removed from the ring.
func cmdPII(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rekey" {
		return usageError{"usage: guanjia pii rekey [--batch 500] (with the new key first in --pii-key / GUANJIA_PII_KEY)"}
	}
	fs := flag.NewFlagSet("pii rekey", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	batch := fs.Int("batch", 500, "people per transaction")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	a, err := app.New(ctx, c.config(), c.logger(stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	cols := append(append(append([]pii.Column{}, households.SealedColumns...), cases.SealedColumns...), portal.SealedColumns...)
	before, err := pii.KeyIDsIn(ctx, a.DB, cols...)
	if err != nil {
		return err
	}
	rep, err := a.Households.Rekey(ctx, *batch)
	if err != nil {
		return err
	}
	others := 0
	for _, c := range append(append([]pii.Column{}, cases.SealedColumns...), portal.SealedColumns...) {
		n, err := a.Vault.RekeyColumn(ctx, a.DB, c, *batch)
		if err != nil {
			return err
		}
		others += n
	}
	after, err := pii.KeyIDsIn(ctx, a.DB, cols...)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rekeyed %d people, %d phones, %d case and portal values to key %q\nkeys in use before: %s; after: %s\n", rep.People, rep.Phones, others,
		a.Vault.CurrentKeyID(), strings.Join(before, ", "), strings.Join(after, ", "))
	return nil
}
