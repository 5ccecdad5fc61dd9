package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/canceldesk/canceldesk/shopifycsv"
)

// importFiles imports Shopify order exports and ends with one summary line:
// imported N orders (M line items, C cancelled), U already present, S rows skipped
func importFiles(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: canceldesk import [flags] FILE...")
		return errUsage
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	var total shopifycsv.Summary
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		sum, err := shopifycsv.Import(ctx, db, f, shopifycsv.Options{DefaultCurrency: cfg.Currency}, "import")
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for _, e := range sum.Errors {
			fmt.Fprintf(stderr, "%s: %s\n", name, e.Error())
		}
		total.Add(sum)
	}
	fmt.Fprintln(stdout, total.String())
	return nil
}
