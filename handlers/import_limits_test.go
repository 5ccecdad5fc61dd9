package handlers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/canceldesk/canceldesk"
)

// TestImportLimits uploads files whose header or rows break the reader's
// limits: a refused header is named beside the file field, in the
// user's language; a row is listed with the other row errors.
func TestImportLimits(t *testing.T) {
	a := newTestApp(t)
	head := "Name,Created at,Lineitem quantity,Lineitem name,Lineitem price"
	good := "#7001,2026-03-01 09:00,1,Cup,10.00\n"
	wideHeader := head + strings.Repeat(",Extra", 16<<20/6) + "\n" + good
	longCell := head + ",Notes\n" + good + "#7002,2026-03-01 09:00,1,Cup,10.00," + strings.Repeat("x", 16<<20) + "\n" +
		"#7003,2026-03-01 09:00,1,Cup,10.00,\n"

	for _, tc := range []struct{ lang, want string }{
		{"en", "This file is not a Shopify order export: row 1 has more than 4,096 columns, the most Cancel Desk reads."},
		{"zh-TW", "此檔案不是 Shopify 訂單匯出檔：第 1 列超過 4,096 欄，這是 Cancel Desk 可讀取的上限。"},
	} {
		t.Run("HeaderOf16MBIsRefusedBesideTheField/"+tc.lang, func(t *testing.T) {
			c := a.signedIn(t, canceldesk.RoleOwner)
			c.get(t, "/import?lang="+tc.lang)
			res, doc := c.upload(t, wideHeader, true)
			if res.StatusCode != 400 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if msg := strings.TrimSpace(doc.Find("#file-error").Text()); msg != tc.want {
				t.Errorf("beside the file:\n got %q\nwant %q", msg, tc.want)
			}
			if doc.Find("#file[aria-invalid=true]").Length() != 1 {
				t.Error("the file field is not marked invalid")
			}
			if n, _ := a.db.CountOrders(context.Background()); n != 0 {
				t.Errorf("a refused file imported %d orders", n)
			}
		})
	}

	t.Run("CellOf16MBIsARowError", func(t *testing.T) {
		res, doc := a.upload(t, longCell, true)
		if res.StatusCode != 200 {
			t.Fatalf("status %d: %q", res.StatusCode, doc.Find("#file-error").Text())
		}
		if got := doc.Find(".row-errors li").Text(); got != "Row 3: Notes is longer than 64 KiB (#7002)" {
			t.Errorf("row errors = %q", got)
		}
		page, err := a.db.ListOrders(context.Background(), canceldesk.OrderFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if got := orderNamesOf(page); got != "#7001 #7003" && got != "#7003 #7001" {
			t.Errorf("imported %q, want #7001 and #7003", got)
		}
	})
}

// orderNamesOf lists the names of a page of orders.
func orderNamesOf(page canceldesk.OrderPage) string {
	var names []string
	for _, o := range page.Orders {
		names = append(names, o.Name)
	}
	return strings.Join(names, " ")
}
