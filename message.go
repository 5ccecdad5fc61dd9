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
	// Lang is the language the message is written in (one of
	// MessageLanguages): it picks the template, and the sentences below
	// are in it.
	Lang          string
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

// Template is the subject and body of one kind of message in one language.
// Variant narrows an order_cancelled message to a reason code ("" serves
// every reason without its own).
type Template struct {
	Lang          string // one of MessageLanguages; "" saves as DefaultLanguage
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
	if t.Lang != "" && !slices.Contains(MessageLanguages, t.Lang) { // "" is the default language
		return Errorf(EINVALID, "Unknown message language %q.", t.Lang)
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

// PickTemplate returns the template of kind for variant in lang from ts:
// the variant's own, else the kind's default, else the built-in default
// (in lang, else in English).
func PickTemplate(ts []Template, lang, kind, variant string) Template {
	var fallback *Template
	for i := range ts {
		if ts[i].Kind != kind || ts[i].Lang != lang {
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
	for _, l := range []string{lang, DefaultLanguage} {
		for _, t := range DefaultTemplates() {
			if t.Lang == l && t.Kind == kind && t.Variant == "" {
				return t
			}
		}
	}
	return Template{Lang: lang, Kind: kind}
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
	lang := ""
	if d.Lang != "" { // mail readers and screen readers pick the voice and fonts by it
		lang = ` lang="` + html.EscapeString(d.Lang) + `"`
	}
	page := `<!DOCTYPE html>
<html` + lang + `><head><meta charset="utf-8"><title>` + html.EscapeString(subject) + `</title></head>
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

// Sentence is the offer as the customer reads it, in lang.
func (o Offer) Sentence(lang string) string {
	text := strings.Join(strings.Fields(o.Text), " ")
	switch o.Kind {
	case OfferDiscount:
		return words(lang, "offer.discount", text)
	case OfferProduct:
		return words(lang, "offer.product", text)
	}
	return ""
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

func customerName(lang string, o *Order) string {
	if n := strings.TrimSpace(o.BillingAddress.Name); n != "" {
		return n
	}
	if n := strings.TrimSpace(o.ShippingAddress.Name); n != "" {
		return n
	}
	return words(lang, "there")
}

// CancelMessageData is what an order_cancelled message says, in lang (see
// OrderLanguage).
func CancelMessageData(lang string, o *Order, p CancelPlan, reason CancelReason, offer Offer, s Settings) MessageData {
	lang = messageLanguage(lang)
	d := MessageData{Lang: lang, StoreName: s.StoreName, CustomerName: customerName(lang, o), OrderNumber: o.Name,
		Items: itemLines(p.Lines), Reason: words(lang, "reason."+string(reason)), Offer: offer.Sentence(lang)}
	switch p.RefundKind {
	case RefundKindRefund:
		d.RefundAmount, d.RefundMethod = moneyText(Money{p.RefundTotal, o.Currency}), words(lang, "method.original")
		d.Refund = words(lang, "refund.now", d.RefundAmount, d.RefundMethod)
	case RefundKindVoid:
		d.RefundAmount, d.RefundMethod = moneyText(Money{p.RefundTotal, o.Currency}), words(lang, "method.hold")
		d.Refund = words(lang, "refund.void", d.RefundAmount)
	default:
		if paidAmount(o) > o.RefundedAmount {
			d.Refund = words(lang, "refund.later")
		}
	}
	return d
}

// RefundMessageData is what a refund_issued message says, in lang; a store
// credit's last day is its date in loc, the store's time zone.
func RefundMessageData(lang string, o *Order, p RefundPlan, credit *StoreCredit, s Settings, loc *time.Location) MessageData {
	lang = messageLanguage(lang)
	var lines []string
	for _, l := range p.Lines {
		lines = append(lines, fmt.Sprintf("%d × %s", l.Quantity, l.Name))
	}
	d := MessageData{Lang: lang, StoreName: s.StoreName, CustomerName: customerName(lang, o), OrderNumber: o.Name,
		Items: strings.Join(lines, "\n"), RefundAmount: moneyText(Money{p.Total, o.Currency}),
		RefundMethod: words(lang, "method.original")}
	d.Refund = words(lang, "refunded", d.RefundAmount, d.RefundMethod)
	if credit != nil {
		d.RefundMethod, d.CreditCode = words(lang, "method.credit"), credit.Code
		d.Refund = words(lang, "refunded.credit", d.RefundAmount)
		d.Credit = words(lang, "credit", credit.Code, d.RefundAmount)
		if credit.ExpiresAt != nil {
			d.CreditExpires = StoreCreditValidThrough(*credit.ExpiresAt, loc)
			d.Credit = words(lang, "credit.expires", credit.Code, d.RefundAmount, d.CreditExpires)
		}
	}
	return d
}

// RequestMessageData is what every message about a customer's request
// says, in lang: the store, the customer, the order and the status link.
func RequestMessageData(lang string, o *Order, s Settings, link string) MessageData {
	lang = messageLanguage(lang)
	return MessageData{Lang: lang, StoreName: s.StoreName, CustomerName: customerName(lang, o), OrderNumber: o.Name, StatusLink: link}
}

// RefusedMessage is what the customer reads, in lang, when their request
// cannot be granted: the order is cancelled already, or has shipped.
func RefusedMessage(lang string, cancelled bool) string {
	if cancelled {
		return words(lang, "refused.cancelled")
	}
	return words(lang, "refused.shipped")
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
	Lang          string // the language it was written in
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

// DefaultTemplates are the built-in messages: every kind (and the
// order_cancelled variants) in every one of MessageLanguages.
func DefaultTemplates() []Template {
	byLang := map[string][]Template{"en": englishTemplates(), "zh-TW": chineseTemplates()}
	var ts []Template
	for _, lang := range MessageLanguages {
		for _, t := range byLang[lang] {
			t.Lang = lang
			ts = append(ts, t)
		}
	}
	return ts
}

// englishTemplates are the built-in messages in English.
func englishTemplates() []Template {
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
