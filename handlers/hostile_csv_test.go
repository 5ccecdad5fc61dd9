package handlers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
)

// hostileExport is a Shopify-style export written to hurt: markup and
// script in names, notes and addresses; spreadsheet formulas as order
// names, products and SKUs; invalid UTF-8 and NUL bytes; quotes and CRLF
// inside quoted cells; 3,000 columns nobody reads; and one order whose
// second row carries a 1 MB cell. It returns the file and the row number
// of that cell.
func hostileExport() (string, int) {
	header := []string{"Name", "Email", "Financial Status", "Currency", "Subtotal", "Total", "Created at", "Lineitem quantity",
		"Lineitem name", "Lineitem price", "Lineitem sku", "Cancelled at", "Cancel Reason", "Billing Name", "Billing Address1",
		"Shipping Name", "Shipping City", "Notes", "Tags"}
	for i := range 3000 {
		header = append(header, fmt.Sprintf("Extra %d", i))
	}
	row := func(name, created, qty, product, sku, cancelled, billing, address, notes string) []string {
		r := []string{name, "buyer@example.com", "paid", "USD", "10.00", "10.00", created, qty, product, "10.00", sku,
			cancelled, "", billing, address, billing, address, notes, "<b>vip</b>, =cmd"}
		if cancelled != "" {
			r[12] = "customer"
		}
		return r
	}
	rows := [][]string{header,
		// Markup everywhere a person's text goes, and a note with quotes
		// and a line break inside its quoted cell.
		row("#<script>alert(1)</script>", "2026-03-01 09:00:00 -0500", "1", "<script>alert('product')</script>", "<b>SKU</b>", "",
			"<script>alert('billing')</script>", `"><img src=x onerror=alert(1)>`, "Leave at the door.\r\nSay \"hi\" <script>alert('note')</script>"),
		// Formulas as order names (cancelled, so they are exported),
		// products and SKUs.
		row(`=HYPERLINK("http://evil.example","click")`, "2026-03-02 09:00:00 -0500", "1", "+cmd|' /C calc'!A0", "@SUM(A1:A2)",
			"2026-03-02 10:00:00 -0500", "=1+1", "-2+3", "=HYPERLINK(\"http://evil.example\")"),
		row("+cmd|' /C calc'!A0", "2026-03-03 09:00:00 -0500", "1", "-2+3", "=SKU", "2026-03-03 10:00:00 -0500", "Ann", "1 Road", ""),
		row("-2+3", "2026-03-04 09:00:00 -0500", "1", "Cup", "CUP-1", "2026-03-04 10:00:00 -0500", "Bo", "2 Road", ""),
		row("@SUM(A1:A2)", "2026-03-05 09:00:00 -0500", "1", "Cup", "CUP-1", "2026-03-05 10:00:00 -0500", "Cy", "3 Road", ""),
		// Invalid UTF-8 and NUL bytes.
		row("#Caf\xe9", "2026-03-06 09:00:00 -0500", "1", "Th\x00\xffe", "NUL\x00SKU", "", "Caf\xe9\x00 Noir", "\xff\xfe", "bad \xc3\x28 bytes"),
		// One order of two rows, the second with a 1 MB cell: refused whole.
		row("#HUGE", "2026-03-07 09:00:00 -0500", "1", "Cup", "CUP-1", "", "Di", "4 Road", ""),
		row("#HUGE", "", "1", strings.Repeat("x", 1<<20), "CUP-2", "", "", "", ""),
		// An order of two rows, the second with a bad quantity: refused whole.
		row("#HALF", "2026-03-08 09:00:00 -0500", "1", "Cup", "CUP-1", "", "Ed", "5 Road", ""),
		row("#HALF", "", "=1+1", "Saucer", "SAU-1", "", "", "", ""),
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	w.WriteAll(rows)
	return b.String(), 9 // the header is row 1
}

// TestHostileImport uploads the hostile export through the import page and
// follows its values to the orders list, the order page and the
// cancellations export.
func TestHostileImport(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	file, hugeRow := hostileExport()
	if len(file) < 1<<20 || len(file) > handlers.MaxUploadBytes {
		t.Fatalf("the export is %d bytes", len(file))
	}

	res, doc := a.upload(t, file, true)
	if res.StatusCode != 200 {
		t.Fatalf("import: status %d, %q", res.StatusCode, doc.Find("#file-error, .error-page").Text())
	}
	errs := doc.Find(".row-errors li").Text()
	if !strings.Contains(errs, fmt.Sprintf("Row %d", hugeRow)) || !strings.Contains(errs, "longer than 64 KiB") {
		t.Errorf("the 1 MB cell is not reported by its row: %q", errs)
	}
	if !strings.Contains(errs, fmt.Sprintf("Row %d", hugeRow+2)) || !strings.Contains(errs, "#HALF") {
		t.Errorf("the bad quantity is not reported by its row: %q", errs)
	}

	// The refused orders are not there at all; the rest are.
	byName := map[string]*canceldesk.Order{}
	page, err := a.db.ListOrders(ctx, canceldesk.OrderFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range page.Orders {
		o, err := a.db.Order(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		byName[o.Name] = o
	}
	for _, name := range []string{"#HUGE", "#HALF"} {
		if byName[name] != nil {
			t.Errorf("%s was imported (%d lines) although a row of it was refused", name, len(byName[name].LineItems))
		}
	}
	if len(byName) != 6 {
		t.Errorf("imported %d orders, want 6: %v", len(byName), keys(byName))
	}
	script := byName["#<script>alert(1)</script>"]
	if script == nil || !strings.Contains(script.Notes, "Say \"hi\"") || !strings.Contains(script.Notes, "door.\nSay") {
		t.Fatalf("the order with markup or its note (quotes, line break) was not kept: %+v", script)
	}
	var cafe *canceldesk.Order
	for name, o := range byName {
		if strings.HasPrefix(name, "#Caf") {
			cafe = o
		}
	}
	if cafe == nil {
		t.Fatal("the order with invalid UTF-8 was not imported")
	}
	for _, s := range append([]string{cafe.Name, cafe.LineItems[0].Name, cafe.LineItems[0].SKU, cafe.Notes}, cafe.BillingAddress.Lines()...) {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Errorf("kept %q: invalid UTF-8 or NUL", s)
		}
	}

	// Every page shows the values as text, never as markup.
	for _, target := range []string{"/orders", "/orders?q=" + url.QueryEscape("<script>"), fmt.Sprintf("/orders/%d", script.ID),
		fmt.Sprintf("/orders/%d", cafe.ID), fmt.Sprintf("/orders/%d", byName[`=HYPERLINK("http://evil.example","click")`].ID)} {
		body := rawGet(t, a.client, target)
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s: a value is rendered as markup", target)
		}
		if strings.Contains(target, fmt.Sprint(script.ID)) || target == "/orders" {
			if !strings.Contains(body, "&lt;script&gt;alert(") {
				t.Errorf("%s: the escaped value is missing", target)
			}
		}
		res, doc := a.get(t, target)
		if res.StatusCode != 200 {
			t.Errorf("%s: status %d", target, res.StatusCode)
		}
		checkNoInjectedMarkup(t, target, doc)
	}
	_, doc = a.get(t, fmt.Sprintf("/orders/%d", script.ID))
	if got := doc.Find("h1").First().Text(); got != "#<script>alert(1)</script>" {
		t.Errorf("heading %q, want the name as text", got)
	}

	// A staff note that is a formula, through the cancel dialog.
	plain := byName["#<script>alert(1)</script>"]
	_, dialog := a.get(t, fmt.Sprintf("/orders/%d/cancel", plain.ID))
	key, _ := dialog.Find(`input[name="key"]`).Attr("value")
	res, _ = a.post(t, fmt.Sprintf("/orders/%d/cancel", plain.ID), url.Values{"reason": {"other"}, "refund": {"later"},
		"note": {"=HYPERLINK(\"http://evil.example\",\"note\")"}, "key": {key}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: status %d", res.StatusCode)
	}

	// The export writes every formula as text.
	today := a.clock.Now().UTC().Format("2006-01-02")
	body := rawGet(t, a.client, "/analytics/export?range=custom&from=2026-03-01&to="+today)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("export: %v\n%s", err, body)
	}
	if len(rows) != 1+5 {
		t.Fatalf("export has %d rows, want the header and 5 cancellations:\n%s", len(rows), body)
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		for i, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("export column %s holds %q, which a spreadsheet runs", rows[0][i], cell)
			}
		}
		seen[r[0]], seen[r[5]] = true, true
	}
	for _, want := range []string{`'=HYPERLINK("http://evil.example","click")`, "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1:A2)",
		`'=HYPERLINK("http://evil.example","note")`, "#<script>alert(1)</script>"} {
		if !seen[want] {
			t.Errorf("export lacks %q: %v", want, rows)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// rawGet returns the body of a GET as c, as sent, wanting 200.
func rawGet(t *testing.T, c *client, target string) string {
	t.Helper()
	res, body := c.getRaw(t, target)
	if res.StatusCode != 200 {
		t.Fatalf("%s: status %d", target, res.StatusCode)
	}
	return string(body)
}
