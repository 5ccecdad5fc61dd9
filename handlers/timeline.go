package handlers

import (
	"html/template"
	"strconv"
	"strings"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/i18n"
	"github.com/canceldesk/canceldesk/store"
)

// EventText is a timeline entry in l's language, as plain text: its title
// (event.<kind>) and, when it has any, its details from its data. A row
// written before the data was kept shows its stored message as is.
func EventText(l *i18n.Localizer, e canceldesk.Event) string {
	title, detail := eventTitle(l, e), eventDetail(l, e, nil)
	if detail == "" {
		return title
	}
	return title + " · " + detail
}

// eventTitle is the entry's heading: event.<kind>, or for a customer
// message held until a refund succeeds, event.notification_held.
func eventTitle(l *i18n.Localizer, e canceldesk.Event) string {
	if e.Kind == canceldesk.EventNotificationOwed && e.Data.WaitsForRefund {
		return l.T("event.notification_held")
	}
	if e.Kind == canceldesk.EventImported && e.Actor == store.ShopifyActor {
		return l.T("event.synced")
	}
	return l.T("event." + e.Kind)
}

// eventLinks turns names into pages: href of a related order's name ("" for
// none) and of a refund.
type eventLinks struct {
	order  func(name string) string
	refund func(id int64) string
}

// eventDetail is the entry's details in l's language; with links, the
// related order and the refund are links (HTML), else plain text.
func eventDetail(l *i18n.Localizer, e canceldesk.Event, links *eventLinks) string {
	d := e.Data
	if d.IsZero() {
		return e.Message // a row from before timeline data: shown as written
	}
	esc := func(s string) string {
		if links != nil {
			return template.HTMLEscapeString(s)
		}
		return s
	}
	link := func(href, text string) string {
		if links == nil || href == "" {
			return text
		}
		return `<a href="` + template.HTMLEscapeString(href) + `">` + text + `</a>`
	}
	var parts []string
	add := func(s string) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	switch e.Kind {
	case canceldesk.EventCancelled:
		add(esc(reasonText(l, d)))
		add(esc(d.Note))
	case canceldesk.EventRefund, canceldesk.EventVoid, canceldesk.EventRefundFailed, canceldesk.EventRefundRetry,
		canceldesk.EventStoreCredit:
		amount := esc(l.Money(d.Amount, d.Currency))
		if links != nil && links.refund != nil && d.RefundID != 0 {
			amount = link(links.refund(d.RefundID), amount)
		}
		add(amount)
		if d.Gateway != "" {
			add(esc(l.T("refund.via."+gatewayKey(d.Gateway), "Gateway", l.PaymentMethod(d.Gateway))))
		}
		if d.Status != "" && e.Kind != canceldesk.EventRefundRetry {
			add(esc(l.T("refund.status." + d.Status)))
		}
		if d.CreditCode != "" {
			add(esc(l.T("event.detail.credit", "Code", d.CreditCode)))
		}
		if d.Error != "" {
			add(esc(l.T("event.detail.error", "Error", d.Error)))
		}
	case canceldesk.EventReturned:
		add(esc(itemsText(l, d.Items)))
	case canceldesk.EventRestocked:
		add(esc(l.T("event.detail.restocked", "Items", itemsText(l, d.Items), "Location", d.Location)))
	case canceldesk.EventNotificationOwed, canceldesk.EventMessageResent:
		if d.Recipient != "" {
			add(esc(l.T("event.detail.recipient", "Recipient", d.Recipient)))
		}
	case canceldesk.EventRecreated, canceldesk.EventRecreatedFrom:
		var href string
		if links != nil && links.order != nil {
			href = links.order(d.Order)
		}
		add(esc(l.T("event.detail."+e.Kind, "Name", "\x01")))
		parts[len(parts)-1] = strings.Replace(parts[len(parts)-1], "\x01", link(href, esc(d.Order)), 1)
	case canceldesk.EventRequestReceived:
		if d.Reason != "" {
			add(esc(l.T("customer_reason." + d.Reason)))
		}
		add(esc(d.Note))
	case canceldesk.EventRequestApproved:
		if d.RuleMinutes != 0 || d.RuleTotal != 0 {
			add(esc(l.T("event.detail.rule", "Minutes", d.RuleMinutes, "Total", l.Money(d.RuleTotal, d.Currency))))
			if len(d.RuleTags) > 0 {
				add(esc(l.T("event.detail.rule_tags", "Tags", strings.Join(d.RuleTags, ", "))))
			}
		}
		if d.Limit != 0 {
			add(esc(l.T("event.detail.rule_limit", "Limit", l.Money(d.Limit, d.Currency))))
		}
	case canceldesk.EventRequestDeclined:
		add(esc(d.Note))
	case canceldesk.EventShopifyCancelSent, canceldesk.EventShopifyCancelled:
		if d.Reason != "" || d.ReasonOption != "" {
			add(esc(reasonText(l, d)))
		}
		add(esc(d.Note))
	case canceldesk.EventShopifyRestockSent:
		add(esc(itemsText(l, d.Items)))
	case canceldesk.EventShopifyRefused:
		if d.Note != "" {
			add(esc(l.T("event.detail.shopify_said", "Message", d.Note)))
		}
	}
	if d.WaitsForRefund && d.RefundID != 0 && links != nil && links.refund != nil {
		add(link(links.refund(d.RefundID), esc(l.T("event.detail.see_refund"))))
	}
	return strings.Join(parts, " · ")
}

// reasonText is a cancel's reason: the option the staff picked, else the
// code's label.
func reasonText(l *i18n.Localizer, d canceldesk.EventData) string {
	if d.ReasonOption != "" {
		return l.T("cancel.reason_option." + d.ReasonOption)
	}
	return l.T("reason." + d.Reason)
}

// itemsText lists quantities: "2 × MUG, 1 × BOWL".
func itemsText(l *i18n.Localizer, items []canceldesk.EventItem) string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = l.T("event.detail.item", "Quantity", it.Quantity, "Label", it.Label)
	}
	return strings.Join(out, l.T("event.detail.list_sep"))
}

// timelineEntry is the template function that renders one entry of the
// order page's timeline as HTML: its title, then its details with links
// to the related order (by name, through orders) and to the refund.
func timelineEntry(l *i18n.Localizer, e canceldesk.Event, orders map[string]int64) template.HTML {
	links := &eventLinks{
		order: func(name string) string {
			if id, ok := orders[name]; ok {
				return "/orders/" + strconv.FormatInt(id, 10)
			}
			return ""
		},
		refund: func(id int64) string { return "#refund-" + strconv.FormatInt(id, 10) },
	}
	var b strings.Builder
	b.WriteString(`<span class="tl-what">` + template.HTMLEscapeString(eventTitle(l, e)) + `</span>`)
	if detail := eventDetail(l, e, links); detail != "" {
		if e.Data.IsZero() {
			detail = template.HTMLEscapeString(detail) // a legacy message is text
		}
		b.WriteString(` <span class="tl-msg">` + detail + `</span>`)
	}
	return template.HTML(b.String())
}
