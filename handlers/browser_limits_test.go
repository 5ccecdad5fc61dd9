package handlers_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/internal/browsertest"
)

// TestJourneyUploadTooLarge: a manager picks an export larger than the
// import takes; the import page says so beside the file field (413), and
// nothing is imported.
func TestJourneyUploadTooLarge(t *testing.T) {
	url, db := liveServer(t)
	before, err := db.CountOrders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(t.TempDir(), "orders_export.csv")
	row := "#9001,ann@example.com,paid,fulfilled,2026-01-01 10:00:00 +0800,USD,10.00\n"
	body := "Name,Email,Financial Status,Fulfillment Status,Created at,Currency,Total\n" +
		strings.Repeat(row, handlers.MaxUploadBytes/len(row)+1000)
	if err := os.WriteFile(big, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/import?lang=en")); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, canceldesk.RoleManager)
	waitFor(t, ctx, `document.readyState === 'complete' && document.querySelector('#file') !== null`)
	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{big}),
		chromedp.Click(chromedp.CSS(`form[action="/import"] button[type=submit]`)),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.readyState === 'complete' && document.querySelector('#file-error') !== null &&
		document.querySelector('#file-error').textContent.trim() !== ''`)
	msg := text(t, ctx, "#file-error")
	if !strings.Contains(msg, "larger than 32 MB") {
		t.Errorf("the error beside the file says %q; want the limit named", msg)
	}
	browsertest.Screenshot(t, ctx, "import-too-large")
	if after, err := db.CountOrders(context.Background()); err != nil || after != before {
		t.Errorf("orders went from %d to %d: a refused upload imported something", before, after)
	}
}
