package canceldesk_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/canceldesk/canceldesk"
)

func TestParseOrderFilter(t *testing.T) {
	taipei, _ := time.LoadLocation("Asia/Taipei")

	t.Run("DatesAreStoreDaysToExclusive", func(t *testing.T) {
		v, _ := url.ParseQuery("q=+mug+&status=cancelled&financial=paid&fulfillment=partial&from=2026-11-01&to=2026-11-02")
		f, err := canceldesk.ParseOrderFilter(v, taipei)
		if err != nil {
			t.Fatal(err)
		}
		if f.Query != "mug" || f.Status != canceldesk.StatusCancelled || f.Financial != canceldesk.FinancialPaid || f.Fulfillment != canceldesk.FulfillmentPartial {
			t.Errorf("filter = %+v", f)
		}
		// Midnight in Taipei is 16:00 UTC the day before.
		if want := time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC); !f.From.Equal(want) {
			t.Errorf("From = %v, want %v", f.From, want)
		}
		if want := time.Date(2026, 11, 2, 16, 0, 0, 0, time.UTC); !f.To.Equal(want) {
			t.Errorf("To = %v, want %v", f.To, want)
		}
		if got := f.Values(taipei).Encode(); got != "financial=paid&from=2026-11-01&fulfillment=partial&q=mug&status=cancelled&to=2026-11-02" {
			t.Errorf("Values = %s", got)
		}
	})

	t.Run("EmptyMeansAllNewestFirst", func(t *testing.T) {
		f, err := canceldesk.ParseOrderFilter(url.Values{}, time.UTC)
		if err != nil || f.Status != canceldesk.StatusAll || f.Limit != canceldesk.PageSize || f.After != nil {
			t.Fatalf("%+v, %v", f, err)
		}
	})

	t.Run("CursorRoundTrips", func(t *testing.T) {
		c := canceldesk.Cursor{CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), ID: 987}
		v := url.Values{"after": {c.String()}}
		f, err := canceldesk.ParseOrderFilter(v, time.UTC)
		if err != nil || f.After == nil || !f.After.CreatedAt.Equal(c.CreatedAt) || f.After.ID != 987 {
			t.Fatalf("%+v, %v", f.After, err)
		}
	})

	for _, tc := range []struct{ name, query, field string }{
		{"ErrQueryTooLong", "q=" + strings.Repeat("é", 101), "q"},
		{"ErrQueryNotText", "q=%ff", "q"},
		{"ErrQueryNUL", "q=a%00b", "q"},
		{"ErrUnknownStatus", "status=archived", "status"},
		{"ErrUnknownFinancial", "financial=free", "financial"},
		{"ErrUnknownFulfillment", "fulfillment=lost", "fulfillment"},
		{"ErrBadDate", "from=01/02/2026", "from"},
		{"ErrImpossibleDate", "to=2026-02-30", "to"},
		{"ErrEndBeforeStart", "from=2026-02-03&to=2026-02-01", "to"},
		{"ErrBadCursor", "after=123", "after"},
		{"ErrNegativeCursorID", "after=abc.-5", "after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := url.ParseQuery(tc.query)
			_, err := canceldesk.ParseOrderFilter(v, time.UTC)
			var de *canceldesk.Error
			if !errors.As(err, &de) || de.Code != canceldesk.EINVALID || de.Field != tc.field || de.Key == "" {
				t.Fatalf("err = %#v, want EINVALID on %s with a key", err, tc.field)
			}
		})
	}
	t.Run("HundredCharactersIsFine", func(t *testing.T) {
		v := url.Values{"q": {strings.Repeat("字", 100)}}
		if _, err := canceldesk.ParseOrderFilter(v, time.UTC); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzParseOrderFilter: any query string either parses into a filter that
// encodes back to an equivalent one, or fails with a field error. Never a
// panic, never an unkeyed error, never a search text the database cannot
// take (invalid UTF-8, NUL).
func FuzzParseOrderFilter(f *testing.F) {
	for _, s := range []string{"", "q=mug", "status=open&from=2026-01-01&to=2026-01-31", "after=abc.1", "q=%ff", "from=2026-13-01", "financial=paid&fulfillment=partial", "q=a%00b", "q=%3Cscript%3E&after=zz.-1&to=0001-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		got, err := canceldesk.ParseOrderFilter(v, time.UTC)
		if err != nil {
			var de *canceldesk.Error
			if !errors.As(err, &de) || de.Field == "" || de.Key == "" {
				t.Fatalf("unkeyed error %v", err)
			}
			return
		}
		if !utf8.ValidString(got.Query) || strings.ContainsRune(got.Query, 0) || utf8.RuneCountInString(got.Query) > canceldesk.MaxQueryLen {
			t.Fatalf("query %q passed", got.Query)
		}
		again, err := canceldesk.ParseOrderFilter(got.Values(time.UTC), time.UTC)
		if err != nil {
			t.Fatalf("re-parse of %v: %v", got.Values(time.UTC), err)
		}
		if again.Query != got.Query || again.Status != got.Status || !again.From.Equal(got.From) || !again.To.Equal(got.To) {
			t.Fatalf("round trip changed %+v into %+v", got, again)
		}
	})
}
