package handlers_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/i18n"
	"github.com/canceldesk/canceldesk/views"
)

// TestTemplatesUseKnownKeys fails when a template names a message that a
// catalogue lacks, or when a status, reason or event the domain can produce
// has no label.
func TestTemplatesUseKnownKeys(t *testing.T) {
	bundle, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	used, err := i18n.TemplateKeys(views.FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys in the templates: is the scanner reading them?", len(used))
	}
	for key, files := range used {
		if !bundle.HasKey(key) {
			t.Errorf("%v use %q, which is missing from a catalogue", files, key)
		}
	}
	var computed []string
	for _, s := range canceldesk.FinancialStatuses {
		computed = append(computed, "status.financial."+string(s))
	}
	for _, s := range canceldesk.FulfillmentStatuses {
		computed = append(computed, "status.fulfillment."+string(s))
	}
	for _, r := range []canceldesk.RiskLevel{canceldesk.RiskLow, canceldesk.RiskMedium, canceldesk.RiskHigh} {
		computed = append(computed, "status.risk."+string(r))
	}
	for _, r := range canceldesk.CancelReasons {
		computed = append(computed, "reason."+string(r))
	}
	for _, e := range []string{canceldesk.EventImported, canceldesk.EventCreated, canceldesk.EventCancelled,
		canceldesk.EventRefund, canceldesk.EventVoid, canceldesk.EventRestocked, canceldesk.EventNotificationOwed,
		canceldesk.EventRecreated, canceldesk.EventRecreatedFrom} {
		computed = append(computed, "event."+e)
	}
	for _, q := range []string{"q=\xff", "q=" + strings.Repeat("x", 101), "status=x", "financial=x",
		"fulfillment=x", "from=x", "from=2026-02-02&to=2026-01-01", "after=x"} {
		v, _ := url.ParseQuery(q)
		_, err := canceldesk.ParseOrderFilter(v, time.UTC)
		var de *canceldesk.Error
		if !errors.As(err, &de) || de.Key == "" {
			t.Errorf("%s: no keyed error: %v", q, err)
			continue
		}
		computed = append(computed, de.Key)
	}
	for _, r := range canceldesk.DefaultReasons {
		computed = append(computed, "cancel.reason_option."+r.Key)
	}
	for _, k := range []string{canceldesk.BlockedAlreadyCancelled, canceldesk.BlockedFulfilled, canceldesk.BlockedNothingToCancel, canceldesk.RecreateNotCancelled} {
		computed = append(computed, k)
	}
	for _, key := range computed {
		if !bundle.HasKey(key) {
			t.Errorf("no label for %q", key)
		}
	}
}
