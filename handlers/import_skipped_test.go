package handlers_test

import (
	"strings"
	"testing"
)

// The import result lists every row it skipped: an order with a bad line
// is skipped whole, and its good rows are named beside the bad one, so the
// rows listed add up to "Rows skipped".
func TestImportListsEverySkippedRow(t *testing.T) {
	a := newTestApp(t)
	csv := "Name,Email,Currency,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price\n" +
		"#7001,x@example.com,USD,3.00,2026-03-01 09:00:00,1,Cup,1.00\n" + // row 2: good, but its order is skipped
		"#7001,,,,,two,Saucer,2.00\n" + // row 3: bad quantity
		"#7002,y@example.com,USD,1.00,2026-03-01 10:00:00,1,Cup,1.00\n" // row 4: imported
	res, doc := a.upload(t, csv, true)
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if summary := doc.Find(".import-summary").Text(); !strings.Contains(summary, "Rows skipped: 2") {
		t.Fatalf("summary = %q", summary)
	}
	item := doc.Find(".row-errors li")
	if item.Length() != 1 || !strings.Contains(item.Text(), "Row 3") {
		t.Fatalf("listed = %q", item.Text())
	}
	if got := item.Find(".skipped-rows").Text(); got != "rows skipped with it: 2, 3" {
		t.Errorf("skipped rows = %q, want rows 2 and 3", got)
	}
}
