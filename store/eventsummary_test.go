package store

import (
	"fmt"
	"strings"

	"github.com/canceldesk/canceldesk"
)

// EventSummary is a plain, language-free summary of a timeline entry's
// data for the store's tests ("USD 11.00 · manual · succeeded",
// "1 × MUG → Main"); the page renders the data in the reader's language.
var EventSummary = eventSummary

func eventSummary(e canceldesk.Event) string {
	d := e.Data
	if d.IsZero() {
		return e.Message
	}
	items := func() string {
		var out []string
		for _, it := range d.Items {
			out = append(out, fmt.Sprintf("%d × %s", it.Quantity, it.Label))
		}
		return strings.Join(out, ", ")
	}
	money := func(a int64) string {
		return d.Currency + " " + canceldesk.Money{Amount: a, Currency: d.Currency}.Decimal()
	}
	var parts []string
	switch e.Kind {
	case canceldesk.EventRefund, canceldesk.EventVoid, canceldesk.EventRefundFailed, canceldesk.EventStoreCredit:
		parts = []string{money(d.Amount), d.Gateway, d.Status}
		if d.CreditCode != "" {
			parts = append(parts, "store credit "+d.CreditCode)
		}
		s := strings.Join(parts, " · ")
		if d.Error != "" {
			s += ": " + d.Error
		}
		return s
	case canceldesk.EventRefundRetry:
		return money(d.Amount) + " · " + d.Gateway
	case canceldesk.EventReturned:
		return items()
	case canceldesk.EventRestocked:
		return items() + " → " + d.Location
	case canceldesk.EventNotificationOwed, canceldesk.EventMessageResent:
		s := d.Recipient
		if d.WaitsForRefund {
			s += fmt.Sprintf(" · waits for refund %d", d.RefundID)
		}
		return s
	case canceldesk.EventRecreated, canceldesk.EventRecreatedFrom:
		return d.Order
	case canceldesk.EventCancelled, canceldesk.EventRequestReceived:
		return strings.Join(nonEmpty(d.ReasonOption, d.Reason, d.Note), " — ")
	case canceldesk.EventRequestApproved:
		if d.RuleMinutes == 0 && d.RuleTotal == 0 {
			return ""
		}
		s := fmt.Sprintf("within %d min, total ≤ %s", d.RuleMinutes, money(d.RuleTotal))
		if len(d.RuleTags) > 0 {
			s += ", no tag of " + strings.Join(d.RuleTags, ", ")
		}
		if d.Limit != 0 {
			s += " · refund without the staff refund limit (" + money(d.Limit) + ")"
		}
		return s
	}
	return d.Note
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
