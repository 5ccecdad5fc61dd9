package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/i18n"
)

// requestOrder imports an open, paid, unshipped order #R<n> for
// buyer@example.com.
func (a *testApp) requestOrder(t *testing.T, name string) *canceldesk.Order {
	t.Helper()
	o := &canceldesk.Order{Name: name, Email: "Buyer@Example.com", Currency: "USD", Subtotal: 2000, Total: 2000,
		FinancialStatus: canceldesk.FinancialPaid, PaymentMethod: "manual", FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
		Risk: canceldesk.RiskLow, CreatedAt: a.clock.Now().Add(-10 * 60e9), BillingAddress: canceldesk.Address{Name: "Kai"},
		LineItems: []canceldesk.LineItem{{Name: "Lamp", SKU: "LAMP", Quantity: 1, Price: 2000}}}
	if _, err := a.db.ImportOrders(context.Background(), []*canceldesk.Order{o}, "test"); err != nil {
		t.Fatal(err)
	}
	return o
}

// fileRequest submits the public form from a fresh visitor at addr and
// returns the raw answer.
func fileRequest(t *testing.T, a *testApp, addr string, form url.Values) (*http.Response, string) {
	t.Helper()
	visitor := a.anonymous()
	visitor.get(t, "/cancel")
	form.Set("_csrf", visitor.csrf)
	req := httptest.NewRequest(http.MethodPost, "/cancel", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", addr)
	req.RemoteAddr = addr + ":5555"
	for _, ck := range visitor.jar {
		req.AddCookie(ck)
	}
	res, err := a.app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(body)
}

func requestForm(order, email string) url.Values {
	return url.Values{"order": {order}, "email": {email}, "reason": {"changed_mind"}, "comment": {"Found it <cheaper>"}}
}

// TestRequestsDoNotRevealOrders: an existing order with its email, with a
// wrong email, and no such order all get the same status, the same
// redirect and the same body; only the first files a request.
func TestRequestsDoNotRevealOrders(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	a.requestOrder(t, "#R1")
	type answer struct {
		status   int
		location string
		body     string
	}
	var answers []answer
	for i, f := range []url.Values{
		requestForm("R1", "buyer@example.com"),
		requestForm("#R1", "someone@example.com"),
		requestForm("#R404", "buyer@example.com"),
	} {
		res, body := fileRequest(t, a, fmt.Sprintf("10.0.0.%d", i+1), f)
		answers = append(answers, answer{res.StatusCode, res.Header.Get("Location"), body})
	}
	for i, ans := range answers[1:] {
		if ans != answers[0] {
			t.Errorf("answer %d = %+v, differs from the answer for an existing order %+v", i+2, ans, answers[0])
		}
	}
	if answers[0].status != http.StatusSeeOther || answers[0].location != "/cancel/sent" {
		t.Fatalf("answer = %+v", answers[0])
	}
	rs, n, err := a.db.PendingRequests(ctx, 10)
	if err != nil || n != 1 || len(rs) != 1 || rs[0].OrderName != "#R1" || rs[0].Comment != "Found it <cheaper>" {
		t.Fatalf("queue = %+v (%d, %v): only the matching request is filed", rs, n, err)
	}
	ms, _ := a.db.Messages(ctx, "", 10)
	if len(ms) != 1 || ms[0].Recipient != "Buyer@Example.com" {
		t.Fatalf("messages = %+v", ms)
	}
	received, _ := a.db.Message(ctx, ms[0].ID)
	link := regexp.MustCompile(`http://[^/\s]+/r/[A-Za-z0-9_-]+`).FindString(received.Text)
	if link == "" {
		t.Fatalf("no status link in %q", received.Text)
	}
	_, status := a.anonymous().get(t, strings.TrimPrefix(link, "http://example.com"))
	if !strings.Contains(status.Text(), "looking at it") {
		t.Errorf("status page = %s", status.Find("main").Text())
	}
	if res, _ := a.anonymous().get(t, "/r/not-a-real-token"); res.StatusCode != http.StatusNotFound {
		t.Errorf("a made-up link: %d", res.StatusCode)
	}
}

func TestRequestFormProblems(t *testing.T) {
	a := newTestApp(t)
	a.requestOrder(t, "#R2")

	t.Run("BadFieldsBesideTheField", func(t *testing.T) {
		f := requestForm("", "not an email")
		res, body := fileRequest(t, a, "10.1.0.1", f)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Enter your order number") {
			t.Fatalf("status %d", res.StatusCode)
		}
		f = requestForm("#R2", "buyer@example.com")
		f.Set("comment", strings.Repeat("x", 1001))
		if res, body := fileRequest(t, a, "10.1.0.1", f); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "too long") {
			t.Fatalf("long comment: %d", res.StatusCode)
		}
	})

	t.Run("RateLimitedPerOrderNumber", func(t *testing.T) {
		var last *http.Response
		var body string
		for i := 0; i < 4; i++ {
			last, body = fileRequest(t, a, fmt.Sprintf("10.2.0.%d", i+1), requestForm("#R404", "x@example.com"))
		}
		if last.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many requests") {
			t.Fatalf("4th try on one order number: %d", last.StatusCode)
		}
	})

	t.Run("HoneypotFilesNothing", func(t *testing.T) {
		f := requestForm("#R2", "buyer@example.com")
		f.Set("website", "http://spam.example")
		res, _ := fileRequest(t, a, "10.3.0.1", f)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d: a bot gets the same answer", res.StatusCode)
		}
		if _, n, _ := a.db.PendingRequests(context.Background(), 10); n != 0 {
			t.Fatalf("%d requests filed by a bot", n)
		}
	})
}

// TestRequestQueue: a request waits in the queue (with a count in the
// navigation); approving it cancels the order through the prefilled
// dialog, the customer is emailed, the status page says cancelled.
// Declining another emails the store's message.
func TestRequestQueue(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	a.location(t, "Main Warehouse")
	o := a.requestOrder(t, "#R3")
	a.requestOrder(t, "#R4")
	fileRequest(t, a, "10.4.0.1", requestForm("#R3", "buyer@example.com"))
	fileRequest(t, a, "10.4.0.2", requestForm("#R4", "buyer@example.com"))
	staff := a.signedIn(t, canceldesk.RoleStaff)

	_, queue := staff.get(t, "/requests")
	rows := queue.Find(".queue-row")
	if rows.Length() != 2 || !strings.Contains(rows.First().Text(), "#R3") || !strings.Contains(rows.First().Text(), "Found it <cheaper>") {
		t.Fatalf("queue = %q", rows.Text())
	}
	if n := strings.TrimSpace(queue.Find(`a[href="/requests"] .nav-count`).Text()); n != "2" {
		t.Errorf("navigation count = %q", n)
	}
	approve, _ := rows.First().Find("a.btn-primary").Attr("href")
	_, dialog := staff.get(t, approve)
	if action, _ := dialog.Find("form.cancel-form").Attr("action"); !strings.HasSuffix(action, "/approve") {
		t.Fatalf("the dialog posts to %q", action)
	}
	form := formOf(dialog, "form.cancel-form")
	res, _ := staff.post(t, dialog.Find("form.cancel-form").AttrOr("action", ""), form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", res.StatusCode)
	}
	got, _ := a.db.Order(ctx, o.ID)
	if !got.Cancelled() || got.FinancialStatus != canceldesk.FinancialRefunded {
		t.Fatalf("order after approval: cancelled %v, %s", got.Cancelled(), got.FinancialStatus)
	}
	// The analytics count it as a customer request, not a staff cancel.
	stats, err := a.db.StatsRows(ctx, base.AddDate(-1, 0, 0), a.clock.Now().AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	bySource := map[string]int64{}
	for _, r := range stats {
		bySource[r.Source] += r.Cancelled
	}
	if bySource[canceldesk.SourceCustomerRequest] != 1 || bySource[canceldesk.SourceStaff] != 0 {
		t.Errorf("cancels by source = %v, want one customer_request", bySource)
	}
	// The same dialog again (a second staff member, or a double click): one decision.
	res, page := staff.post(t, dialog.Find("form.cancel-form").AttrOr("action", ""), form)
	if res.StatusCode != http.StatusSeeOther && !strings.Contains(page.Text(), "decided already") && !strings.Contains(page.Text(), "already cancelled") {
		t.Fatalf("second approval: %d", res.StatusCode)
	}
	// A double click replays the first approval; either way the order was
	// cancelled once and the customer told once.
	events, _ := a.db.Events(ctx, o.ID)
	cancels, approvals := 0, 0
	for _, e := range events {
		switch e.Kind {
		case canceldesk.EventCancelled:
			cancels++
		case "request_approved":
			approvals++
		}
	}
	if cancels != 1 || approvals != 1 {
		t.Fatalf("after two approvals: %d cancels, %d approvals in the timeline", cancels, approvals)
	}

	_, queue = staff.get(t, "/requests")
	decline, _ := queue.Find(".queue-row a.btn:not(.btn-primary)").Attr("href")
	res, page = staff.post(t, decline, url.Values{"message": {""}})
	if res.StatusCode != http.StatusBadRequest || strings.TrimSpace(page.Find("#message-error").Text()) == "" {
		t.Fatalf("empty decline: %d", res.StatusCode)
	}
	if res, _ = staff.post(t, decline, url.Values{"message": {"It has already left our warehouse."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("decline: %d", res.StatusCode)
	}
	ms, _ := a.db.Messages(ctx, "", 10)
	var kinds []string
	for _, m := range ms {
		kinds = append(kinds, m.Kind)
		full, _ := a.db.Message(ctx, m.ID)
		if m.Kind == canceldesk.MessageRequestDeclined && !strings.Contains(full.Text, "It has already left our warehouse.") {
			t.Errorf("declined message = %q", full.Text)
		}
	}
	want := []string{canceldesk.MessageRequestDeclined, canceldesk.MessageRequestApproved, canceldesk.MessageRequestReceived, canceldesk.MessageRequestReceived}
	if strings.Join(kinds, ",") != strings.Join(want, ",") {
		t.Errorf("messages (newest first) = %v, want %v", kinds, want)
	}
	_, queue = staff.get(t, "/requests")
	if queue.Find(".queue-row").Length() != 0 || queue.Find(".empty-state").Length() != 1 {
		t.Error("decided requests stay in the queue")
	}
}

// TestAutoApproval: with the rule on, a young small order is cancelled at
// once; with it off the request waits.
func TestAutoApproval(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	manager, form := a.autoApprove(t)
	small := a.requestOrder(t, "#A1")
	fileRequest(t, a, "10.5.0.1", requestForm("#A1", "buyer@example.com"))
	got, _ := a.db.Order(ctx, small.ID)
	if !got.Cancelled() {
		t.Fatal("the rule did not approve a young small unshipped order")
	}
	events, _ := a.db.Events(ctx, small.ID)
	bundle, _ := i18n.New()
	en := bundle.Localizer("en", time.UTC)
	named := false
	for _, e := range events {
		named = named || (e.Kind == "request_approved" && e.Actor == "rule" && strings.Contains(handlers.EventText(en, e), "30 min"))
	}
	if !named {
		t.Errorf("the timeline does not name the rule: %+v", events)
	}

	form.Del("rule_enabled")
	if res, _ := manager.post(t, "/settings/auto-approval", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("turning the rule off: %d", res.StatusCode)
	}
	waits := a.requestOrder(t, "#A2")
	fileRequest(t, a, "10.5.0.2", requestForm("#A2", "buyer@example.com"))
	if got, _ := a.db.Order(ctx, waits.ID); got.Cancelled() {
		t.Fatal("with the rule off, a request must wait")
	}
	form.Set("max_age", "ten")
	if res, page := manager.post(t, "/settings/auto-approval", form); res.StatusCode != http.StatusBadRequest ||
		strings.TrimSpace(page.Find("#max_age-error").Text()) == "" {
		t.Fatalf("a bad age: %d", res.StatusCode)
	}
}

// autoApprove turns the auto-approval rule on through Settings, as a
// manager: requests for orders under 30 minutes old and US$50.00 are
// approved at once. It returns the manager's client and the form it sent.
func (a *testApp) autoApprove(t *testing.T) (*client, url.Values) {
	t.Helper()
	manager := a.signedIn(t, canceldesk.RoleManager)
	_, doc := manager.get(t, "/settings")
	form := formOf(doc, "form.rule-form")
	form.Set("rule_enabled", "1")
	form.Set("max_age", "30")
	form.Set("max_total_USD", "50.00")
	if res, _ := manager.post(t, "/settings/auto-approval", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving the rule: %d", res.StatusCode)
	}
	return manager, form
}
