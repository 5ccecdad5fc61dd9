package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
)

const (
	testPublicURL = "https://desk.example.com"
	evilHost      = "evil.example"
)

// postFromEvilHost submits a form as c, naming another site in Host and
// X-Forwarded-Host, as anyone can.
func postFromEvilHost(t *testing.T, c *client, target string, form url.Values) (*http.Response, *goquery.Document) {
	t.Helper()
	form.Set("_csrf", c.csrf)
	req := httptest.NewRequest(http.MethodPost, "http://"+evilHost+target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Host", evilHost)
	req.Header.Set("X-Forwarded-Proto", "http")
	return c.do(t, req)
}

// TestLinksUseThePublicURL: the links Cancel Desk hands out (a customer's
// status link in the email, a staff invitation, the template preview) are
// built on the configured public URL whatever Host the request names.
func TestLinksUseThePublicURL(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t, func(c *handlers.Config) { c.PublicURL = testPublicURL + "/" })
	a.requestOrder(t, "#P1")

	t.Run("CustomerStatusLink", func(t *testing.T) {
		visitor := a.anonymous()
		visitor.get(t, "/cancel")
		res, _ := postFromEvilHost(t, visitor, "/cancel", requestForm("#P1", "buyer@example.com"))
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("filing the request: %d", res.StatusCode)
		}
		ms, err := a.db.Messages(ctx, "", 10)
		if err != nil || len(ms) != 1 || ms[0].Kind != canceldesk.MessageRequestReceived {
			t.Fatalf("messages = %+v (%v)", ms, err)
		}
		m, err := a.db.Message(ctx, ms[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Text, testPublicURL+"/r/") || strings.Contains(m.Text+m.HTML, evilHost) {
			t.Errorf("the email links elsewhere:\n%s", m.Text)
		}
	})

	t.Run("StaffInvitation", func(t *testing.T) {
		a.get(t, "/staff")
		res, doc := postFromEvilHost(t, a.client, "/staff",
			url.Values{"name": {"New Member"}, "email": {"new@example.com"}, "role": {string(canceldesk.RoleStaff)}})
		link := doc.Find(".invite-link input").AttrOr("value", "")
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(link, testPublicURL+"/invite/") {
			t.Errorf("invite: %d, link %q", res.StatusCode, link)
		}
	})

	t.Run("TemplatePreview", func(t *testing.T) {
		a.get(t, "/settings/messages/"+canceldesk.MessageRequestReceived)
		_, doc := postFromEvilHost(t, a.client, "/settings/messages/"+canceldesk.MessageRequestReceived+"/preview",
			url.Values{"subject": {"Your request"}, "body": {"Follow it: {status_link}"}, "order": {"#P1"}})
		preview := doc.Find(".mail-text").Text()
		if !strings.Contains(preview, testPublicURL+"/r/") || strings.Contains(preview, evilHost) {
			t.Errorf("preview = %q", preview)
		}
	})
}
