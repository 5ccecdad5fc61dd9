package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// inventoryPage is stock on hand per SKU and location.
type inventoryPage struct {
	Page
	Locations []canceldesk.Location
	Rows      []stockRow
}

// stockRow is one SKU with its stock at every location (in Locations'
// order) and the sum.
type stockRow struct {
	SKU   string
	At    []int
	Total int
}

// inventory shows stock on hand, one row per SKU, one column per location.
func (s *Server) inventory(c *fiber.Ctx) error {
	ctx := c.UserContext()
	locs, err := s.Store.Locations(ctx)
	if err != nil {
		return err
	}
	levels, err := s.Refunds.StockLevels(ctx)
	if err != nil {
		return err
	}
	col := map[int64]int{}
	for i, l := range locs {
		col[l.ID] = i
	}
	l := localizer(c)
	p := inventoryPage{Page: s.page(c, l.T("inventory.title"), "inventory"), Locations: locs}
	for _, lv := range levels {
		if n := len(p.Rows); n == 0 || p.Rows[n-1].SKU != lv.SKU {
			p.Rows = append(p.Rows, stockRow{SKU: lv.SKU, At: make([]int, len(locs))})
		}
		r := &p.Rows[len(p.Rows)-1]
		if i, ok := col[lv.LocationID]; ok {
			r.At[i] = lv.OnHand
		}
		r.Total += lv.OnHand
	}
	return s.render(c, fiber.StatusOK, "inventory/index", "", p)
}

// movementsPage is one SKU's stock ledger, newest first.
type movementsPage struct {
	Page
	SKU       string
	Movements []canceldesk.InventoryMovement
	Locations map[int64]string
	Stock     []canceldesk.StockLevel
}

// movementsLimit bounds the ledger rows shown for one SKU.
const movementsLimit = 500

// skuMovements shows every stock change of one SKU with links to orders.
func (s *Server) skuMovements(c *fiber.Ctx) error {
	sku := strings.TrimSpace(c.Query("sku"))
	if sku == "" {
		return fiber.ErrNotFound
	}
	ctx := c.UserContext()
	ms, err := s.Refunds.Movements(ctx, sku, movementsLimit)
	if err != nil {
		return err
	}
	locs, err := s.Store.Locations(ctx)
	if err != nil {
		return err
	}
	stock, err := s.Store.Stock(ctx, []string{sku})
	if err != nil {
		return err
	}
	if len(ms) == 0 && len(stock) == 0 {
		return fiber.ErrNotFound
	}
	l := localizer(c)
	p := movementsPage{Page: s.page(c, l.T("inventory.movements_title", "SKU", sku), "inventory"), SKU: sku,
		Movements: ms, Locations: map[int64]string{}, Stock: stock}
	for _, loc := range locs {
		p.Locations[loc.ID] = loc.Name
	}
	return s.render(c, fiber.StatusOK, "inventory/movements", "", p)
}
