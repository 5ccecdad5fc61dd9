package canceldesk

import (
	"testing"
	"time"
)

// TestStoreCreditExpiry: a credit valid through a day ends at that day's
// last microsecond in the store's zone and reads back as that day there,
// east and west of UTC.
func TestStoreCreditExpiry(t *testing.T) {
	for _, zone := range []string{"UTC", "Asia/Taipei", "Pacific/Kiritimati", "America/Los_Angeles", "Pacific/Pago_Pago"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		exp := StoreCreditExpiry(time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC), loc)
		if got := StoreCreditValidThrough(exp, loc); got != "2027-06-30" {
			t.Errorf("%s: valid through %s, want 2027-06-30", zone, got)
		}
		if next := time.Date(2027, 7, 1, 0, 0, 0, 0, loc); !exp.Before(next) || next.Sub(exp) != time.Microsecond {
			t.Errorf("%s: expires %v, want the microsecond before %v", zone, exp, next)
		}
	}
}
