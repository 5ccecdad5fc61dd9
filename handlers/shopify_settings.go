package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// shopifyCard is the Settings card of the Shopify connection.
type shopifyCard struct {
	Shop  string // "" when not connected
	State canceldesk.ShopifyState
}

// shopifySettings loads the Shopify card: the connection's state, or that
// there is none.
func (s *Server) shopifySettings(c *fiber.Ctx, p *settingsPage) error {
	if s.Shopify == nil || s.ShopifyStore == nil {
		p.Shopify = &shopifyCard{}
		return nil
	}
	st, err := s.ShopifyStore.ShopifyState(c.UserContext())
	if err != nil {
		return err
	}
	p.Shopify = &shopifyCard{Shop: s.Shopify.Shop(), State: st}
	return nil
}

// shopifyNotifies reads Settings' choice of who emails the customer about
// a cancel; without a connection the choice is not offered and stays.
func (s *Server) shopifyNotifies(c *fiber.Ctx, was bool) bool {
	if s.Shopify == nil {
		return was
	}
	return c.FormValue("cancel_emails") == "shopify"
}

// shopifySyncNow starts a reconciliation pass with Shopify in the
// background; Settings shows when it has ended.
func (s *Server) shopifySyncNow(c *fiber.Ctx) error {
	if s.Shopify == nil {
		return fiber.ErrNotFound
	}
	s.Shopify.SyncNow()
	return redirect(c, "/settings?saved=shopify#shopify")
}
