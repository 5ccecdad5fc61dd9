package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An export as Excel saves it: BOM, CRLF, a multi-line order, a quoted
// note with a comma and a newline, a cancelled order and one bad row.
const export = "\ufeffName,Email,Financial Status,Currency,Subtotal,Shipping,Taxes,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Cancelled at,Notes\r\n" +
	"#3001,ann@example.com,paid,USD,30.00,5.00,0,35.00,2026-03-01 09:00:00 -0500,2,Teapot,10.00,TEA-1,,\"Leave at door, please\nthanks\"\r\n" +
	"#3001,,,,,,,,,1,Cup,10.00,CUP-1,,\r\n" +
	"#3002,bob@example.com,refunded,USD,10.00,0,0,10.00,2026-03-02 09:00:00 -0500,1,Cup,10.00,CUP-1,2026-03-02 10:00:00 -0500,\r\n" +
	"#3003,cy@example.com,paid,USD,10.00,0,0,10.00,2026-03-03 09:00:00 -0500,-1,Cup,10.00,CUP-1,,\r\n"

func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "orders_export.csv")
	if err := os.WriteFile(file, []byte(export), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "cd.db")
	importOnce := func() (string, string) {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{"import", "-db", db, file}, &out, &errOut); err != nil {
			t.Fatalf("import: %v (%s)", err, errOut.String())
		}
		return strings.TrimSpace(out.String()), errOut.String()
	}

	t.Run("FirstImportSummarises", func(t *testing.T) {
		out, errOut := importOnce()
		if want := "imported 2 orders (3 line items, 1 cancelled), 0 already present, 1 rows skipped"; out != want {
			t.Errorf("summary = %q, want %q", out, want)
		}
		if !strings.Contains(errOut, "row 5") {
			t.Errorf("the bad row is not reported with its number: %q", errOut)
		}
	})

	t.Run("SecondImportAddsNothing", func(t *testing.T) {
		out, _ := importOnce()
		if want := "imported 0 orders (0 line items, 0 cancelled), 2 already present, 1 rows skipped"; out != want {
			t.Errorf("summary = %q, want %q", out, want)
		}
	})

	t.Run("NotAnExportFails", func(t *testing.T) {
		bad := filepath.Join(dir, "other.csv")
		os.WriteFile(bad, []byte("a,b\n1,2\n"), 0o600)
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"import", "-db", db, bad}, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "Lineitem name") {
			t.Errorf("err = %v", err)
		}
	})
}
