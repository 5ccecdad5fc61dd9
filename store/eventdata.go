package store

import (
	"encoding/json"

	"github.com/canceldesk/canceldesk"
)

// eventDataJSON is the events.data column of d: "" when d holds nothing.
func eventDataJSON(d canceldesk.EventData) (string, error) {
	if d.IsZero() {
		return "", nil
	}
	b, err := json.Marshal(d)
	return string(b), err
}

// refundEventData is the timeline data of a refund: amount, gateway,
// status and the refund's id (for the link).
func refundEventData(rf canceldesk.Refund) canceldesk.EventData {
	return canceldesk.EventData{Amount: rf.Amount, Currency: rf.Currency, RefundID: rf.ID, RefundKind: rf.Kind,
		Status: rf.Status, Gateway: rf.Gateway}
}

// withCredit adds the store credit code issued with a refund.
func withCredit(d canceldesk.EventData, c *canceldesk.StoreCredit) canceldesk.EventData {
	if c != nil {
		d.CreditCode = c.Code
	}
	return d
}

// withError adds the gateway's error of a failed refund.
func withError(d canceldesk.EventData, msg string) canceldesk.EventData {
	d.Error = msg
	return d
}

// notificationEventData is the data of the notification_owed entry: the
// recipient, and whether the message waits for a pending refund among
// events (it is sent once that refund succeeds).
func notificationEventData(email string, events []canceldesk.Event) canceldesk.EventData {
	d := canceldesk.EventData{Recipient: email}
	for _, e := range events {
		if (e.Kind == canceldesk.EventRefund || e.Kind == canceldesk.EventVoid) &&
			e.Data.Status == canceldesk.RefundPending {
			d.WaitsForRefund, d.RefundID = true, e.Data.RefundID
		}
	}
	return d
}

// ruleEventData is the data of a request approved by the store's rule: the
// rule's terms in currency, and the staff refund limit it passed when it refunded above one.
func ruleEventData(rule canceldesk.AutoApproval, currency string, rf *canceldesk.Refund, settings canceldesk.Settings) canceldesk.EventData {
	d := canceldesk.EventData{RuleMinutes: rule.MaxAgeMinutes, RuleTotal: rule.MaxTotal[currency], Currency: currency,
		RuleTags: rule.ExcludeTags}
	if rf != nil && rf.Kind == canceldesk.RefundKindRefund && settings.StaffRefundLimit[rf.Currency] > 0 {
		d.Limit = settings.StaffRefundLimit[rf.Currency]
	}
	return d
}
