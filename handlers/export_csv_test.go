package handlers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
)

// getRaw GETs target as c and returns the response with its body as is
// (c.get parses it as HTML).
func (c *client) getRaw(t *testing.T, target string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for _, ck := range c.jar {
		req.AddCookie(ck)
	}
	res, err := c.app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func TestExportCancellations(t *testing.T) {
	zone := time.FixedZone("UTC-5", -5*3600)
	a := newTestApp(t, func(c *handlers.Config) { c.Location = zone })
	ctx := context.Background()
	now := a.clock.Now()
	a.db.Now = func() time.Time { return now.Add(-time.Hour).UTC() }
	placed := now.Add(-72 * time.Hour).UTC().Truncate(time.Second)
	importedAt := now.Add(-48 * time.Hour).UTC().Truncate(time.Second)
	longAgo := now.AddDate(0, 0, -40).UTC()
	order := func(name string, cancelled *time.Time) *canceldesk.Order {
		o := &canceldesk.Order{Name: name, Email: "eve@example.com", Currency: "USD", Subtotal: 1250, Total: 1250,
			FinancialStatus: canceldesk.FinancialPaid, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
			Risk: canceldesk.RiskLow, BillingAddress: canceldesk.Address{Name: `=cmd|' /C calc'!A0`}, CreatedAt: placed,
			LineItems: []canceldesk.LineItem{{Name: "Blue Mug", SKU: "MUG", Quantity: 1, Price: 1250}}}
		if cancelled != nil {
			o.CancelledAt, o.CancelReason = cancelled, canceldesk.ReasonFraud
		}
		return o
	}
	imported, staffCancel, old, open := order("=1+2", &importedAt), order("#5002", nil), order("#5003", &longAgo), order("#5004", nil)
	if _, err := a.db.ImportOrders(ctx, []*canceldesk.Order{imported, staffCancel, old, open}, "test"); err != nil {
		t.Fatal(err)
	}
	manager := testEmails[canceldesk.RoleManager]
	_, err := a.db.CancelOrder(ctx, canceldesk.CancelRequest{OrderID: staffCancel.ID, Reason: canceldesk.ReasonCustomer,
		ReasonLabel: "Customer changed their mind", Refund: canceldesk.RefundNow, StaffNote: `=HYPERLINK("http://x")`,
		IdempotencyKey: "export-test-key-0001", Actor: manager})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("ManagerGetsCSV", func(t *testing.T) {
		res, body := a.signedIn(t, canceldesk.RoleManager).getRaw(t, "/analytics/export?range=30")
		if res.StatusCode != 200 {
			t.Fatalf("status %d: %s", res.StatusCode, body)
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		today := now.In(zone).Format("2006-01-02")
		first := now.In(zone).AddDate(0, 0, -29).Format("2006-01-02")
		if cd, want := res.Header.Get("Content-Disposition"), fmt.Sprintf(`attachment; filename="cancellations-%s-%s.csv"`, first, today); cd != want {
			t.Errorf("Content-Disposition %q, want %q", cd, want)
		}
		records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("CSV: %v\n%s", err, body)
		}
		stamp := func(t time.Time) string { return t.In(zone).Format(time.RFC3339) }
		want := [][]string{
			{"order", "placed_at", "cancelled_at", "reason_code", "reason", "staff_note", "source", "refund_status",
				"refunded", "currency", "restocked_units", "actor"},
			{"'=1+2", stamp(placed), stamp(importedAt), "FRAUD", "", "", "import", "none", "0.00", "USD", "0", ""},
			{"#5002", stamp(placed), stamp(a.db.Now()), "CUSTOMER", "Customer changed their mind", `'=HYPERLINK("http://x")`,
				"staff", "succeeded", "12.50", "USD", "0", manager},
		}
		if len(records) != len(want) {
			t.Fatalf("%d records, want %d:\n%s", len(records), len(want), body)
		}
		for i := range want {
			if !slices.Equal(records[i], want[i]) {
				t.Errorf("record %d:\n got %q\nwant %q", i, records[i], want[i])
			}
		}
		if bytes.Contains(body, []byte("calc")) {
			t.Error("the export holds the customer's name")
		}
	})

	t.Run("CustomRangeNamesItsDays", func(t *testing.T) {
		day := importedAt.In(zone).Format("2006-01-02")
		res, body := a.signedIn(t, canceldesk.RoleManager).getRaw(t, "/analytics/export?range=custom&from="+day+"&to="+day)
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		if cd, want := res.Header.Get("Content-Disposition"), `attachment; filename="cancellations-`+day+"-"+day+`.csv"`; cd != want {
			t.Errorf("Content-Disposition %q, want %q", cd, want)
		}
		records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil || len(records) != 2 || records[1][0] != "'=1+2" {
			t.Errorf("records %q, %v", records, err)
		}
	})

	t.Run("BadRangeIs400", func(t *testing.T) {
		m := a.signedIn(t, canceldesk.RoleManager)
		for _, q := range []string{"range=12", "range=custom&from=2026-13-01&to=2026-01-01", "range=custom&from=2026-02-01&to=2026-01-01"} {
			res, doc := m.get(t, "/analytics/export?"+q)
			if res.StatusCode != 400 {
				t.Errorf("%s: status %d", q, res.StatusCode)
			}
			if doc.Find(".error-page").Length() != 1 {
				t.Errorf("%s: no error page", q)
			}
		}
	})

	t.Run("StaffIsForbidden", func(t *testing.T) {
		res, _ := a.signedIn(t, canceldesk.RoleStaff).getRaw(t, "/analytics/export?range=30")
		if res.StatusCode != 403 {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
}
