package canceldesk

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Kinds of customer message (the outbox's kinds).
const (
	MessageOrderCancelled  = OutboxOrderCancelled
	MessageRefundIssued    = OutboxRefundIssued
	MessageRequestReceived = "request_received"
	MessageRequestApproved = "request_approved"
	MessageRequestDeclined = "request_declined"
)

// MessageKinds lists the kinds in the order managers see them.
var MessageKinds = []string{MessageOrderCancelled, MessageRefundIssued, MessageRequestReceived,
	MessageRequestApproved, MessageRequestDeclined}

// Delivery states of an outbox message.
const (
	MessagePending = "pending" // waiting for the worker, or for its next try
	MessageSent    = "sent"    // the SMTP server accepted it
	MessageFailed  = "failed"  // every try failed; a manager may resend it
)

// Limits of a template.
const (
	MaxSubjectLen = 200
	MaxBodyLen    = 10000
)

// Placeholders are the names a template may use, written {name}, with
// what each becomes.
var Placeholders = []string{
	"store_name", "customer_name", "order_number", "items", "reason", "refund", "refund_amount", "refund_method",
	"credit", "credit_code", "credit_expires", "offer", "status_link", "store_message",
}

// MessageData is what the placeholders of one message become; a value
// that does not apply is empty.
type MessageData struct {
	StoreName     string
	CustomerName  string
	OrderNumber   string
	Items         string // one "2 × Mug" per line
	Reason        string // the reason as the customer reads it
	Refund        string // the refund in a sentence, or that it follows separately
	RefundAmount  string // e.g. "12.50 USD"; empty when nothing is refunded now
	RefundMethod  string // e.g. "your original payment method"
	Credit        string // the store credit in a sentence; empty without one
	CreditCode    string
	CreditExpires string
	Offer         string // a discount code or a product suggestion, in a sentence
	StatusLink    string // the customer's request status page
	StoreMessage  string // the store's words to the customer (a declined request)
}

func (d MessageData) value(name string) string {
	switch name {
	case "store_name":
		return d.StoreName
	case "customer_name":
		return d.CustomerName
	case "order_number":
		return d.OrderNumber
	case "items":
		return d.Items
	case "reason":
		return d.Reason
	case "refund":
		return d.Refund
	case "credit":
		return d.Credit
	case "refund_amount":
		return d.RefundAmount
	case "refund_method":
		return d.RefundMethod
	case "credit_code":
		return d.CreditCode
	case "credit_expires":
		return d.CreditExpires
	case "offer":
		return d.Offer
	case "status_link":
		return d.StatusLink
	case "store_message":
		return d.StoreMessage
	}
	return ""
}

// Template is the subject and body of one kind of message. Variant narrows
// an order_cancelled message to a reason code ("" serves every reason
// without its own).
type Template struct {
	Kind, Variant string
	Subject, Body string
	UpdatedBy     string // "" for a built-in default
	UpdatedAt     time.Time
}

// Key names the template in URLs and forms: "order_cancelled" or
// "order_cancelled.fraud".
func (t Template) Key() string {
	if t.Variant == "" {
		return t.Kind
	}
	return t.Kind + "." + t.Variant
}

// ParseTemplateKey splits a Key; ok is false for an unknown kind or variant.
func ParseTemplateKey(key string) (kind, variant string, ok bool) {
	kind, variant, dot := strings.Cut(key, ".")
	// "order_cancelled." is no key: a dot must be followed by a variant.
	if !slices.Contains(MessageKinds, kind) || (dot && variant == "") {
		return "", "", false
	}
	if variant != "" && (kind != MessageOrderCancelled || !slices.Contains(CancelReasons, CancelReason(variant))) {
		return "", "", false
	}
	return kind, variant, true
}

var placeholder = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// PlaceholderError is a template that uses a name not in Placeholders.
type PlaceholderError struct {
	Field string // "subject" or "body"
	Name  string
}

func (e *PlaceholderError) Error() string {
	return fmt.Sprintf("invalid: the %s uses {%s}, which is not a placeholder", e.Field, e.Name)
}

// Validate checks the subject and body: present, not too long, and only
// known placeholders (a *PlaceholderError names the first unknown one).
// Other problems are EINVALID *Error with the field.
func (t Template) Validate() error {
	if _, _, ok := ParseTemplateKey(t.Key()); !ok {
		return Errorf(EINVALID, "Unknown message kind %q.", t.Key())
	}
	for _, f := range []struct {
		field, text string
		max         int
	}{{"subject", t.Subject, MaxSubjectLen}, {"body", t.Body, MaxBodyLen}} {
		switch n := utf8.RuneCountInString(strings.TrimSpace(f.text)); {
		case n == 0:
			return fieldError(EINVALID, f.field, "validation.template_empty", "This cannot be empty.")
		case n > f.max:
			return fieldError(EINVALID, f.field, "validation.template_long", "This is too long.")
		}
		for _, m := range placeholder.FindAllStringSubmatch(f.text, -1) {
			if !slices.Contains(Placeholders, m[1]) {
				return &PlaceholderError{Field: f.field, Name: m[1]}
			}
		}
	}
	return nil
}

// PickTemplate returns the template of kind for variant from ts: the
// variant's own, else the kind's default, else the built-in default.
func PickTemplate(ts []Template, kind, variant string) Template {
	var fallback *Template
	for i := range ts {
		if ts[i].Kind != kind {
			continue
		}
		if ts[i].Variant == variant {
			return ts[i]
		}
		if ts[i].Variant == "" {
			fallback = &ts[i]
		}
	}
	if fallback != nil {
		return *fallback
	}
	for _, t := range DefaultTemplates() {
		if t.Kind == kind && t.Variant == "" {
			return t
		}
	}
	return Template{Kind: kind}
}

// RenderedMessage is a message ready to send: one subject, a plain-text
// part and an HTML part.
type RenderedMessage struct {
	Subject, Text, HTML string
}

// Render fills the template's placeholders with d. The subject is one
// line (line breaks become spaces, so nothing can add a header). In the
// HTML part every character of the template and of every value is
// escaped; blank lines make paragraphs and line breaks stay.
func (t Template) Render(d MessageData) RenderedMessage {
	fill := func(s string, esc func(string) string) string {
		var b strings.Builder
		last := 0
		for _, m := range placeholder.FindAllStringSubmatchIndex(s, -1) {
			b.WriteString(esc(s[last:m[0]]))
			b.WriteString(esc(d.value(s[m[2]:m[3]])))
			last = m[1]
		}
		b.WriteString(esc(s[last:]))
		return b.String()
	}
	same := func(s string) string { return s }
	subject := strings.Join(strings.Fields(fill(t.Subject, same)), " ")
	text := strings.TrimSpace(strings.ReplaceAll(fill(t.Body, same), "\r\n", "\n"))

	var body strings.Builder
	for _, para := range strings.Split(strings.ReplaceAll(t.Body, "\r\n", "\n"), "\n\n") {
		if para = strings.TrimSpace(para); para == "" {
			continue
		}
		filled := fill(para, html.EscapeString)
		if strings.TrimSpace(filled) == "" {
			continue // a paragraph of an empty placeholder (no offer)
		}
		body.WriteString("<p>" + strings.ReplaceAll(filled, "\n", "<br>\n") + "</p>\n")
	}
	page := `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>` + html.EscapeString(subject) + `</title></head>
<body style="margin:0;padding:24px;background:#f1f2f4;font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans TC',sans-serif;color:#1a1c1e;line-height:1.5">
<div style="max-width:560px;margin:0 auto;background:#fff;border-radius:12px;padding:24px">
<p style="margin:0 0 16px;font-weight:700;font-size:18px">` + html.EscapeString(d.StoreName) + `</p>
` + body.String() + `</div>
</body></html>
`
	return RenderedMessage{Subject: subject, Text: collapseBlankLines(text) + "\n", HTML: page}
}

// collapseBlankLines drops the extra blank lines an empty placeholder
// leaves behind.
func collapseBlankLines(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := false
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, strings.TrimRight(l, " \t"))
	}
	return strings.Join(out, "\n")
}

// Offer is what a cancel may attach to keep the customer: a discount code
// for a future order, or another product to try.
type Offer struct {
	Kind string // "", "discount" or "product"
	Text string // the code, or the product
}

// Offer kinds.
const (
	OfferNone     = ""
	OfferDiscount = "discount"
	OfferProduct  = "product"
)

// MaxOfferLen bounds an offer's text.
const MaxOfferLen = 100

// Validate checks the offer: a known kind and, with one, a short text.
func (o Offer) Validate() error {
	switch o.Kind {
	case OfferNone:
		return nil
	case OfferDiscount, OfferProduct:
	default:
		return fieldError(EINVALID, "offer", "validation.offer_kind", "Choose an offer from the list.")
	}
	switch n := utf8.RuneCountInString(strings.TrimSpace(o.Text)); {
	case n == 0:
		return fieldError(EINVALID, "offer_text", "validation.offer_text", "Write the code or the product to offer.")
	case n > MaxOfferLen:
		return fieldError(EINVALID, "offer_text", "validation.offer_long", "The offer is too long (at most 100 characters).")
	}
	return nil
}

// Sentence is the offer as the customer reads it.
func (o Offer) Sentence() string {
	text := strings.Join(strings.Fields(o.Text), " ")
	switch o.Kind {
	case OfferDiscount:
		return "As a thank-you, here is a code for your next order: " + text
	case OfferProduct:
		return "You might also like: " + text
	}
	return ""
}

// customerReasons is how each reason reads to the customer.
var customerReasons = map[CancelReason]string{
	ReasonCustomer:  "you asked us to cancel it",
	ReasonDeclined:  "the payment was declined",
	ReasonFraud:     "we could not verify the payment",
	ReasonInventory: "an item is out of stock",
	ReasonStaff:     "of an error on our side",
	ReasonOther:     "of a problem with the order",
}

// itemLines writes "2 × Mug" lines.
func itemLines(items []PlanLine) string {
	var lines []string
	for _, l := range items {
		if l.CancelQty > 0 {
			lines = append(lines, fmt.Sprintf("%d × %s", l.CancelQty, l.Name))
		}
	}
	return strings.Join(lines, "\n")
}

func moneyText(m Money) string { return m.Decimal() + " " + m.Currency }

func customerName(o *Order) string {
	if n := strings.TrimSpace(o.BillingAddress.Name); n != "" {
		return n
	}
	if n := strings.TrimSpace(o.ShippingAddress.Name); n != "" {
		return n
	}
	return "there"
}

// CancelMessageData is what an order_cancelled message says.
func CancelMessageData(o *Order, p CancelPlan, reason CancelReason, offer Offer, s Settings) MessageData {
	d := MessageData{StoreName: s.StoreName, CustomerName: customerName(o), OrderNumber: o.Name,
		Items: itemLines(p.Lines), Reason: customerReasons[reason], Offer: offer.Sentence()}
	switch p.RefundKind {
	case RefundKindRefund:
		d.RefundAmount, d.RefundMethod = moneyText(Money{p.RefundTotal, o.Currency}), "your original payment method"
		d.Refund = "We are refunding " + d.RefundAmount + " to " + d.RefundMethod + "; it can take a few days to show."
	case RefundKindVoid:
		d.RefundAmount, d.RefundMethod = moneyText(Money{p.RefundTotal, o.Currency}), "a release of the payment hold"
		d.Refund = "Your payment of " + d.RefundAmount + " was never taken: the hold on it is released."
	default:
		if paidAmount(o) > o.RefundedAmount {
			d.Refund = "Your refund will follow in a separate email."
		}
	}
	return d
}

// RefundMessageData is what a refund_issued message says; a store credit's
// last day is its date in loc, the store's time zone.
func RefundMessageData(o *Order, p RefundPlan, credit *StoreCredit, s Settings, loc *time.Location) MessageData {
	var lines []string
	for _, l := range p.Lines {
		lines = append(lines, fmt.Sprintf("%d × %s", l.Quantity, l.Name))
	}
	d := MessageData{StoreName: s.StoreName, CustomerName: customerName(o), OrderNumber: o.Name,
		Items: strings.Join(lines, "\n"), RefundAmount: moneyText(Money{p.Total, o.Currency}),
		RefundMethod: "your original payment method"}
	d.Refund = "We have refunded " + d.RefundAmount + " to " + d.RefundMethod + "."
	if credit != nil {
		d.RefundMethod, d.CreditCode = "store credit", credit.Code
		d.Refund = "We have refunded " + d.RefundAmount + " as store credit."
		d.Credit = "Your store credit code: " + credit.Code + " (" + d.RefundAmount
		if credit.ExpiresAt != nil {
			d.CreditExpires = StoreCreditValidThrough(*credit.ExpiresAt, loc)
			d.Credit += ", valid through " + d.CreditExpires
		}
		d.Credit += "). Enter it at checkout."
	}
	return d
}

// OutboxMessage is a customer message owed by a committed action, rendered
// when it was owed, with its delivery state.
type OutboxMessage struct {
	ID        int64
	OrderID   int64
	OrderName string
	Kind      string
	Recipient string
	Subject   string
	Text      string
	HTML      string
	// MessageID is the RFC 5322 Message-ID, fixed when the row is written
	// so every try of one message carries the same one.
	MessageID     string
	Status        string
	Attempts      int
	LastError     string
	NextAttemptAt time.Time
	CreatedAt     time.Time
	SentAt        *time.Time
	// WaitsForRefund is the refund a pending message about it waits for:
	// it goes out once the refund succeeded, never while the refund is
	// pending or failed. 0 when it waits for nothing.
	WaitsForRefund int64
	// Template is the key of the template it was written from
	// (Template.Key: "order_cancelled.inventory"); "" for a message
	// written before that was kept.
	Template string
}

// Outbox is what the mail worker needs of the store.
type Outbox interface {
	// ClaimMessages leases up to n pending messages due now to this
	// worker for lease: no other worker (on any instance) gets them until
	// the lease ends. Each claim counts as an attempt.
	ClaimMessages(ctx context.Context, n int, lease time.Duration) ([]OutboxMessage, error)
	// MarkSent records that the SMTP server accepted the message.
	MarkSent(ctx context.Context, id int64) error
	// MarkFailed records a failed try: with retryAt the message waits
	// until then; without, it has failed for good.
	MarkFailed(ctx context.Context, id int64, errMsg string, retryAt *time.Time) error
}

// MessageStore keeps templates and the customer messages. Every method is
// one transaction.
type MessageStore interface {
	Outbox
	// Templates returns every template in use: the saved ones, and the
	// built-in defaults of those never saved.
	Templates(ctx context.Context) ([]Template, error)
	// SaveTemplate validates and stores a template (see Template.Validate).
	SaveTemplate(ctx context.Context, t Template) error
	// Messages lists messages newest first; status "" lists all.
	Messages(ctx context.Context, status string, limit int) ([]OutboxMessage, error)
	// Message returns one message, or ErrNotFound.
	Message(ctx context.Context, id int64) (*OutboxMessage, error)
	// ResendMessage puts a failed message back to pending, due now, with
	// its attempts reset; a message not failed is ECONFLICT.
	ResendMessage(ctx context.Context, id int64, actor string) error
}

// DefaultTemplates are the built-in messages, in English.
func DefaultTemplates() []Template {
	return []Template{
		{Kind: MessageOrderCancelled, Subject: "Your order {order_number} has been cancelled",
			Body: "Hello {customer_name},\n\nYour order {order_number} has been cancelled because {reason}.\n\n{items}\n\n" +
				"{refund}\n\n{offer}\n\nIf you have any questions, just reply to this email.\n\n{store_name}"},
		{Kind: MessageOrderCancelled, Variant: string(ReasonCustomer), Subject: "We have cancelled your order {order_number}",
			Body: "Hello {customer_name},\n\nAs you asked, we have cancelled your order {order_number}:\n\n{items}\n\n" +
				"{refund}\n\n{offer}\n\n" +
				"We hope to see you again soon.\n\n{store_name}"},
		{Kind: MessageOrderCancelled, Variant: string(ReasonInventory), Subject: "Sorry: your order {order_number} is out of stock",
			Body: "Hello {customer_name},\n\nWe are sorry: an item of your order {order_number} sold out before we could ship it, " +
				"so we have cancelled the order:\n\n{items}\n\n{refund}\n\n{offer}\n\n" +
				"We apologise for the trouble.\n\n{store_name}"},
		{Kind: MessageOrderCancelled, Variant: string(ReasonFraud), Subject: "Your order {order_number} has been cancelled",
			Body: "Hello,\n\nWe could not verify the payment for order {order_number}, so it has been cancelled. " +
				"{refund}\n\nIf you believe this is a mistake, reply to this email.\n\n{store_name}"},
		{Kind: MessageOrderCancelled, Variant: string(ReasonDeclined), Subject: "Your payment for order {order_number} was declined",
			Body: "Hello {customer_name},\n\nYour payment for order {order_number} was declined, so the order has been cancelled:\n\n" +
				"{items}\n\nYou are welcome to order again with another payment method.\n\n{store_name}"},
		{Kind: MessageRefundIssued, Subject: "Your refund for order {order_number}",
			Body: "Hello {customer_name},\n\n{refund} This is for order {order_number}:\n\n{items}\n\n" +
				"{credit}\n\n{store_name}"},
		{Kind: MessageRequestReceived, Subject: "We received your cancellation request for {order_number}",
			Body: "Hello {customer_name},\n\nWe received your request to cancel order {order_number} and will answer soon. " +
				"You can follow it here:\n{status_link}\n\n{store_name}"},
		{Kind: MessageRequestApproved, Subject: "Your order {order_number} is cancelled",
			Body: "Hello {customer_name},\n\nWe approved your request: order {order_number} is cancelled.\n\n" +
				"{refund}\n\n{status_link}\n\n{store_name}"},
		{Kind: MessageRequestDeclined, Subject: "About your cancellation request for {order_number}",
			Body: "Hello {customer_name},\n\nWe could not cancel order {order_number}.\n\n{store_message}\n\n{status_link}\n\n{store_name}"},
	}
}
