package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/shopify"
)

// ShopifyConn is the live Shopify connection (*shopify.Worker).
type ShopifyConn interface {
	Shop() string                           // "name.myshopify.com"
	AdminOrderURL(externalID string) string // the order in the Shopify admin
	WebhookSecret() string
	// Send sends the call now and waits (at most ctx) for Shopify's first
	// answer: accepted (running, or done when the job finished at once),
	// refused (failed) or busy (queued). The caller reads the call back
	// from the store for its state.
	Send(ctx context.Context, callID int64) error
	// SyncNow starts a reconciliation pass in the background.
	SyncNow()
}

// webhookPath is where Shopify delivers webhooks; it is signed, not
// signed in: no session, no CSRF token.
const webhookPath = "/webhooks/shopify"

// maxWebhookBody bounds a webhook's body: an order's payload with its
// lines, addresses and refunds is tens of KB, a big one a few hundred.
const maxWebhookBody = 1 << 20

// isWebhookPath reports whether path is the webhook route (routing ignores
// case and a trailing slash).
func isWebhookPath(path string) bool {
	return strings.TrimSuffix(strings.ToLower(path), "/") == webhookPath
}

// webhookTopics are the topics queued; any other is answered 200 and
// dropped, so Shopify does not retry it.
var webhookTopics = []string{canceldesk.TopicOrdersCreate, canceldesk.TopicOrdersUpdated,
	canceldesk.TopicOrdersCancelled, canceldesk.TopicRefundsCreate}

// webhookPayload is the part of a delivery the queue keeps. Shopify's ids
// pass 2^53: they are read as json.Number, never through a float64.
type webhookPayload struct {
	ID        json.Number `json:"id"`
	OrderID   json.Number `json:"order_id"`
	UpdatedAt string      `json:"updated_at"`
	CreatedAt string      `json:"created_at"`
}

// errWebhookPayload is a signed body the queue cannot use.
var errWebhookPayload = errors.New("the payload is not an order or refund with a numeric id")

// parseWebhook reads the order id and the time of the state a delivery
// carries: "id" and "updated_at" for orders/*, "order_id" and
// "created_at" for refunds/create.
func parseWebhook(topic string, body []byte) (canceldesk.ShopifyWebhook, error) {
	var p webhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return canceldesk.ShopifyWebhook{}, errWebhookPayload
	}
	id, at := p.ID, p.UpdatedAt
	if topic == canceldesk.TopicRefundsCreate {
		id, at = p.OrderID, p.CreatedAt
	}
	if n, err := strconv.ParseUint(id.String(), 10, 64); err != nil || n == 0 {
		return canceldesk.ShopifyWebhook{}, errWebhookPayload
	}
	w := canceldesk.ShopifyWebhook{Topic: topic, OrderID: id.String()}
	if at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return canceldesk.ShopifyWebhook{}, errors.New("the payload's time is not RFC 3339")
		}
		t = t.UTC()
		w.UpdatedAt = &t
	}
	return w, nil
}

// shopifyWebhook queues a delivery and answers 200 at once; the worker
// processes it. The body is Shopify's only if it carries the signature of
// the app's secret (401 otherwise); a delivery seen before (its webhook id)
// is answered 200 and not queued again. Answers are short plain text: no
// page is meant for Shopify.
func (s *Server) shopifyWebhook(c *fiber.Ctx) error {
	if s.Shopify == nil || s.ShopifyStore == nil {
		return c.Status(fiber.StatusNotFound).SendString("Shopify is not connected.")
	}
	body := c.Request().Body() // the raw bytes Shopify signed
	if !shopify.Verify(s.Shopify.WebhookSecret(), body, c.Get("X-Shopify-Hmac-Sha256")) {
		return c.Status(fiber.StatusUnauthorized).SendString("The webhook signature does not match.")
	}
	topic := utils.CopyString(c.Get("X-Shopify-Topic"))
	if !slices.Contains(webhookTopics, topic) {
		return c.SendString("Topic ignored.")
	}
	webhookID := utils.CopyString(c.Get("X-Shopify-Webhook-Id"))
	if webhookID == "" {
		return c.Status(fiber.StatusBadRequest).SendString("X-Shopify-Webhook-Id is missing.")
	}
	w, err := parseWebhook(topic, body)
	if err != nil {
		return c.Status(fiber.StatusBadRequest).SendString(err.Error())
	}
	w.WebhookID, w.ReceivedAt = webhookID, s.Now().UTC()
	dup, err := s.ShopifyStore.EnqueueWebhook(c.UserContext(), w)
	if err != nil {
		// Not queued: a 5xx makes Shopify deliver it again.
		s.Logger.Error("queueing a Shopify webhook", "topic", topic, "err", err)
		return c.Status(fiber.StatusServiceUnavailable).SendString("Try again later.")
	}
	if dup {
		return c.SendString("Already received.")
	}
	return c.SendString("Queued.")
}
