package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/canceldesk/canceldesk"
)

// TestForbiddenPage: a page the reader's role can't open answers 403 with a
// page that names the role, keeps the navigation and links back.
func TestForbiddenPage(t *testing.T) {
	a := newTestApp(t)
	staff := a.signedIn(t, canceldesk.RoleStaff)

	for _, tc := range []struct {
		lang, heading, message, back, home string
	}{
		{"en", "You don't have access to this page", "Your role (Staff) can't open this page. Ask a manager or the owner.", "Go back", "Back to orders"},
		{"zh-TW", "你沒有這個頁面的存取權限", "你的角色（員工）無法開啟這個頁面。請洽詢管理員或擁有者。", "返回上一頁", "返回訂單"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			res, doc := staff.get(t, "/settings?lang="+tc.lang, "Referer", "http://example.com/orders?status=open")
			if res.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403", res.StatusCode)
			}
			if h := strings.TrimSpace(doc.Find(".error-page h1").Text()); h != tc.heading {
				t.Errorf("heading %q, want %q", h, tc.heading)
			}
			if msg := doc.Find(".error-page p").Eq(1).Text(); msg != tc.message {
				t.Errorf("message %q, want %q", msg, tc.message)
			}
			// The navigation is the signed-in one: the staff member's pages
			// and account, not the manager's.
			nav := doc.Find("nav.sidebar .nav-list").Text()
			if doc.Find(`nav.sidebar .nav-list a[href="/orders"]`).Length() != 1 || doc.Find(`nav.sidebar a[href="/settings"]`).Length() != 0 {
				t.Errorf("navigation %q: want the staff member's pages", strings.Join(strings.Fields(nav), " "))
			}
			if doc.Find(`nav.sidebar form[action="/logout"]`).Length() != 1 {
				t.Error("navigation lacks the sign-out button")
			}
			back := doc.Find(`.error-page a[href="/orders?status=open"]`)
			if strings.TrimSpace(back.Text()) != tc.back {
				t.Errorf("link back to the referring page = %q, want %q", back.Text(), tc.back)
			}
			if home := doc.Find(`.error-page a[href="/orders"]`); strings.TrimSpace(home.Text()) != tc.home {
				t.Errorf("link home = %q, want %q", home.Text(), tc.home)
			}
		})
	}

	// A Referer from another site is not offered as the way back.
	_, doc := staff.get(t, "/staff?lang=en", "Referer", "http://evil.example/orders")
	if n := doc.Find(`.error-page a`).Length(); n != 1 {
		t.Errorf("links on the page from another site's referer: %d, want only the one home", n)
	}
	if msg := doc.Find(".error-page p").Eq(1).Text(); !strings.Contains(msg, "(Staff)") {
		t.Errorf("message %q", msg)
	}

	// A manager on an owner's page is told their own role.
	manager := a.signedIn(t, canceldesk.RoleManager)
	res, doc := manager.get(t, "/staff?lang=en")
	if res.StatusCode != http.StatusForbidden || !strings.Contains(doc.Find(".error-page").Text(), "Your role (Manager) can't open this page.") {
		t.Errorf("manager on /staff: %d %q", res.StatusCode, strings.Join(strings.Fields(doc.Find(".error-page").Text()), " "))
	}
}
