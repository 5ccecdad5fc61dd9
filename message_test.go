package canceldesk

import (
	"errors"
	"strings"
	"testing"
)

func TestTemplateValidate(t *testing.T) {
	ok := Template{Kind: MessageOrderCancelled, Variant: "fraud", Subject: "Order {order_number}", Body: "Hi {customer_name}"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid template refused: %v", err)
	}
	bad := ok
	bad.Body = "Hi {customer_name}, use {discount_code}"
	var pe *PlaceholderError
	if err := bad.Validate(); !errors.As(err, &pe) || pe.Name != "discount_code" || pe.Field != "body" {
		t.Fatalf("unknown placeholder: %v", err)
	}
	empty := ok
	empty.Subject = "  "
	if err := empty.Validate(); ErrorCode(err) != EINVALID {
		t.Fatalf("empty subject: %v", err)
	}
	if _, _, ok := ParseTemplateKey("order_cancelled.bogus"); ok {
		t.Fatal("an unknown variant parsed")
	}
	if k, v, ok := ParseTemplateKey("order_cancelled.inventory"); !ok || k != MessageOrderCancelled || v != "inventory" {
		t.Fatal("a known variant did not parse")
	}
}

func TestTemplateRenderEscapes(t *testing.T) {
	tpl := Template{Kind: MessageOrderCancelled, Subject: "Order {order_number}\r\nBcc: evil@example.com",
		Body: "Hi {customer_name} <3\n\n{items}\n\n{offer}\n\nBye"}
	m := tpl.Render(MessageData{StoreName: "Tea & Co", CustomerName: "<script>alert(1)</script>", OrderNumber: "#1001",
		Items: "2 × Mug\n1 × Pot"})
	if strings.ContainsAny(m.Subject, "\r\n") || m.Subject != "Order #1001 Bcc: evil@example.com" {
		t.Errorf("subject = %q: a placeholder or the template must never add a header line", m.Subject)
	}
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") ||
		!strings.Contains(m.HTML, "Hi &lt;script&gt;alert(1)&lt;/script&gt; &lt;3") || !strings.Contains(m.HTML, "Tea &amp; Co") {
		t.Errorf("HTML not escaped: %s", m.HTML)
	}
	if !strings.Contains(m.HTML, "2 × Mug<br>\n1 × Pot") {
		t.Errorf("line breaks lost: %s", m.HTML)
	}
	if strings.Contains(m.HTML, "<p></p>") || strings.Contains(m.Text, "\n\n\n") {
		t.Errorf("an empty offer left an empty paragraph:\n%s\n%s", m.HTML, m.Text)
	}
	if !strings.Contains(m.Text, "Hi <script>alert(1)</script> <3") {
		t.Errorf("the text part is plain text: %q", m.Text)
	}
}

func TestMessageDataSaysWhatHappened(t *testing.T) {
	o := &Order{Name: "#1001", Currency: "USD", Total: 2500, FinancialStatus: FinancialPaid,
		BillingAddress: Address{Name: "Ada"}, LineItems: []LineItem{{ID: 1, Name: "Mug", Quantity: 2, Price: 1250}}}
	now := PlanCancel(o, CancelRequest{Refund: RefundNow})
	d := CancelMessageData("en", o, now, ReasonInventory, Offer{Kind: OfferDiscount, Text: "SORRY10"}, Settings{StoreName: "Tea"})
	if d.Items != "2 × Mug" || d.Refund != "We are refunding 25.00 USD to your original payment method; it can take a few days to show." ||
		!strings.HasSuffix(d.Offer, "SORRY10") || d.CustomerName != "Ada" || d.Reason != "an item is out of stock" {
		t.Errorf("data = %+v", d)
	}
	later := CancelMessageData("en", o, PlanCancel(o, CancelRequest{Refund: RefundLater}), ReasonCustomer, Offer{}, Settings{})
	if later.Refund != "Your refund will follow in a separate email." || later.Offer != "" {
		t.Errorf("refund later = %+v", later)
	}
	for _, tpl := range DefaultTemplates() {
		if err := tpl.Validate(); err != nil {
			t.Errorf("default %s: %v", tpl.Key(), err)
		}
	}
}
