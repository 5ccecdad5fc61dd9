// Package demo generates a believable order history for a small store
// selling ceramics and home goods, for `serve --demo`, for screenshots and
// for the benchmark. Generation is deterministic: the same n, now and seed
// always give the same orders.
package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/canceldesk/canceldesk"
)

// Window is how far back the generated orders go.
const Window = 120 * 24 * time.Hour

// DefaultSeed is the seed Seed uses, so every demo store looks the same.
const DefaultSeed int64 = 20240417

// BatchSize is how many orders Seed imports per transaction.
const BatchSize = 500

// Actor is who the demo data's events and stock movements are attributed to.
const Actor = "demo"

// Currency is the demo store's currency.
const Currency = "USD"

// TaxRate is the sales tax in percent, charged on goods after discounts.
const TaxRate = 5

// CancelShare is the share of generated orders that end cancelled.
const CancelShare = 0.06

// Products returns the catalogue of the demo store.
func Products() []Product { return slices.Clone(products) }

// SKUs returns the SKUs of the catalogue, in catalogue order.
func SKUs() []string {
	out := make([]string, len(products))
	for i, p := range products {
		out[i] = p.SKU
	}
	return out
}

// Locations returns the names of the demo store's stock locations.
func Locations() []string { return []string{"Taipei Warehouse", "Brooklyn Studio"} }

// StockMovements returns the initial receipt of every product at every
// location, dated at. The Taipei warehouse holds the bulk of the stock.
func StockMovements(locs []canceldesk.Location, at time.Time) []canceldesk.InventoryMovement {
	var out []canceldesk.InventoryMovement
	for li, loc := range locs {
		for _, p := range products {
			qty := p.weight * 30
			if li > 0 {
				qty = p.weight * 8
			}
			out = append(out, canceldesk.InventoryMovement{
				SKU: p.SKU, LocationID: loc.ID, Delta: qty, Kind: canceldesk.MovementInitialReceipt,
				Actor: Actor, CreatedAt: at.UTC(),
			})
		}
	}
	return out
}

// Seed fills an empty store: the locations, their initial stock and n
// orders placed over the Window before now, imported BatchSize at a time.
// A store that already has orders is left untouched, so Seed is safe to call
// on every start. Stock is received only when none of the demo SKUs has any.
func Seed(ctx context.Context, st canceldesk.OrderStore, n int, now time.Time) error {
	count, err := st.CountOrders(ctx)
	if err != nil {
		return fmt.Errorf("demo: counting orders: %w", err)
	}
	if count > 0 {
		return nil
	}
	if err := SeedStock(ctx, st, now); err != nil {
		return err
	}
	orders := Orders(n, now, DefaultSeed)
	for i := 0; i < len(orders); i += BatchSize {
		batch := orders[i:min(i+BatchSize, len(orders))]
		if _, err := st.ImportOrders(ctx, batch, Actor); err != nil {
			return fmt.Errorf("demo: importing orders %s to %s: %w", batch[0].Name, batch[len(batch)-1].Name, err)
		}
	}
	return nil
}

// SeedStock ensures the demo locations exist and, when no demo SKU has stock
// anywhere yet, records their initial receipts a day before the Window.
func SeedStock(ctx context.Context, st canceldesk.OrderStore, now time.Time) error {
	var locs []canceldesk.Location
	for _, name := range Locations() {
		l, err := st.EnsureLocation(ctx, name)
		if err != nil {
			return fmt.Errorf("demo: location %q: %w", name, err)
		}
		locs = append(locs, l)
	}
	levels, err := st.Stock(ctx, SKUs())
	if err != nil {
		return fmt.Errorf("demo: reading stock: %w", err)
	}
	if len(levels) > 0 {
		return nil
	}
	if err := st.AddMovements(ctx, StockMovements(locs, now.Add(-Window-24*time.Hour))); err != nil {
		return fmt.Errorf("demo: receiving stock: %w", err)
	}
	return nil
}

// Orders generates n orders placed during the Window before now, named
// "#1001" upward in the order they were placed. The result depends only on
// its arguments.
func Orders(n int, now time.Time, seed int64) []*canceldesk.Order {
	if n <= 0 {
		return nil
	}
	g := &gen{
		r:      rand.New(rand.NewPCG(uint64(seed), 0x5eed_cafe_f00d_d00d)),
		now:    now.UTC(),
		emails: make(map[string]bool),
	}
	times := make([]time.Time, n)
	for i := range times {
		times[i] = g.createdAt()
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	out := make([]*canceldesk.Order, n)
	for i, t := range times {
		out[i] = g.order(i, t)
	}
	return out
}

type gen struct {
	r         *rand.Rand
	now       time.Time
	customers []*customer
	emails    map[string]bool
	buyers    map[int]canceldesk.Address // wholesale buyer index -> address
}

type customer struct {
	name    string
	email   string
	address canceldesk.Address // Name is the customer's
	taiwan  bool
	vip     bool
	orders  int
}

// createdAt draws a time in the Window with a density rising linearly from
// 0.75 (oldest) to 1.25 (now) of the average, so recent days are busier, and
// at least a minute before now.
func (g *gen) createdAt() time.Time {
	u := g.r.Float64()
	// Inverse of F(a) = 1.25a - 0.25a² for the age fraction a in [0, 1].
	a := (1.25 - math.Sqrt(1.5625-u)) / 0.5
	age := time.Minute + time.Duration(a*float64(Window-time.Minute))
	return g.now.Add(-age).Truncate(time.Second)
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) pick(items []string) string { return items[g.r.IntN(len(items))] }

// between returns a duration uniformly in [lo, hi).
func (g *gen) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(g.r.Int64N(int64(hi-lo)))
}

func weighted[T any](r *rand.Rand, items []T, weight func(T) int) T {
	total := 0
	for _, it := range items {
		total += weight(it)
	}
	n := r.IntN(total)
	for _, it := range items {
		if n -= weight(it); n < 0 {
			return it
		}
	}
	return items[len(items)-1]
}

// at clamps created+d to (created, now] and drops sub-second noise.
func (g *gen) at(created time.Time, d time.Duration) time.Time {
	t := created.Add(d).Truncate(time.Second)
	if !t.After(created) {
		t = created.Add(time.Second)
	}
	if t.After(g.now) {
		t = g.now
	}
	return t
}

// posShare is the share of orders rung up at the studio's counter.
const posShare = 0.09

type orderKind int

const (
	kindWeb orderKind = iota
	kindPOS
	kindDraft
	kindWholesale
)

func (g *gen) order(i int, created time.Time) *canceldesk.Order {
	age := g.now.Sub(created)
	o := &canceldesk.Order{
		ExternalID: strconv.FormatInt(5_480_112_000_000+int64(i)*1013+g.r.Int64N(1000), 10),
		Name:       "#" + strconv.Itoa(1001+i),
		Currency:   Currency,
		CreatedAt:  created,
		UpdatedAt:  created,
		Risk:       canceldesk.RiskLow,
	}

	kind := kindWeb
	switch x := g.r.Float64(); {
	case x < 0.02:
		kind = kindWholesale
	case x < 0.02+posShare:
		kind = kindPOS
	case x < 0.05+posShare:
		kind = kindDraft
	}

	// Customer, addresses, source and payment method.
	var taiwan, international bool
	switch kind {
	case kindWholesale:
		bi := g.r.IntN(len(wholesaleBuyers))
		b := wholesaleBuyers[bi]
		taiwan = b.taiwan
		if g.buyers == nil {
			g.buyers = make(map[int]canceldesk.Address)
		}
		addr, ok := g.buyers[bi]
		if !ok { // a buyer keeps the address of its first order
			addr = g.address(b.contact, taiwan, false)
			addr.Company, addr.Address2 = b.company, ""
			g.buyers[bi] = addr
		}
		o.Email, o.BillingAddress, o.ShippingAddress = b.email, addr, addr
		o.Source, o.PaymentMethod = "shopify_draft_order", "manual"
		o.Tags = append(o.Tags, "wholesale")
	case kindPOS:
		o.Source = "pos"
		o.PaymentMethod = "Shopify Payments"
		if g.chance(0.25) {
			o.PaymentMethod = "manual" // cash at the counter
		}
		if !g.chance(0.3) { // 30% are walk-ins with no customer attached
			c := g.customer()
			o.Email, o.BillingAddress, taiwan = c.email, c.address, c.taiwan
			if c.vip || c.orders >= 3 {
				o.Tags = append(o.Tags, "VIP")
			}
		}
	default:
		c := g.customer()
		o.Email, o.BillingAddress, o.ShippingAddress, taiwan = c.email, c.address, c.address, c.taiwan
		international = !taiwan && c.address.Country != "United States"
		if c.vip || c.orders >= 3 {
			o.Tags = append(o.Tags, "VIP")
		}
		if kind == kindDraft {
			o.Source, o.PaymentMethod = "shopify_draft_order", "manual"
			if g.chance(0.4) {
				o.PaymentMethod = "Shopify Payments" // invoice paid by card
			}
		} else {
			o.Source = "web"
			switch x := g.r.Float64(); {
			case x < 0.04:
				o.PaymentMethod = "manual" // bank transfer
			case x < 0.27:
				o.PaymentMethod = "PayPal"
			default:
				o.PaymentMethod = "Shopify Payments"
			}
		}
		switch {
		case g.chance(0.06):
			o.Tags = append(o.Tags, "gift")
			o.ShippingAddress = g.address(g.personName(taiwan), taiwan, international)
			o.Notes = g.pick(giftMessages)
		case g.chance(0.02):
			o.Tags = append(o.Tags, "rush")
			o.Notes = g.pick(rushNotes)
		case g.chance(0.04):
			o.Notes = g.pick(plainNotes)
		}
	}

	// Lines and money.
	o.LineItems = g.lines(kind)
	for _, li := range o.LineItems {
		o.Subtotal += li.Total()
	}
	switch {
	case kind == kindWholesale:
		o.Discounts = o.Subtotal * 40 / 100 // wholesale pricing
	case kind == kindWeb && g.chance(0.12):
		switch x := g.r.IntN(3); x {
		case 0:
			o.Discounts = o.Subtotal * 10 / 100 // WELCOME10
		case 1:
			o.Discounts = o.Subtotal * 15 / 100 // SPRING15
		default:
			o.Discounts = min(500, o.Subtotal) // THANKYOU5
		}
	}
	if taiwan && o.Email != "" {
		o.Locale = "zh-TW" // Taiwanese customers read their emails in Chinese
	}
	goods := o.Subtotal - o.Discounts
	switch {
	case kind == kindPOS:
		o.Shipping = 0
	case kind == kindWholesale:
		o.Shipping = 2500
	case taiwan:
		if goods < 8000 {
			o.Shipping = 600
		}
	case international:
		o.Shipping = 2400
	default:
		if goods < 10000 {
			o.Shipping = 800
		}
	}
	o.Taxes = (goods*TaxRate + 50) / 100
	o.Total = o.Subtotal + o.Shipping + o.Taxes - o.Discounts

	// Risk.
	switch x := g.r.Float64(); {
	case x < 0.013:
		o.Risk = canceldesk.RiskHigh
	case x < 0.08:
		o.Risk = canceldesk.RiskMedium
	}

	// Counter sales are not cancelled; the other orders make up for them.
	if kind != kindPOS && g.chance(CancelShare/(1-posShare)) {
		g.cancel(o, kind)
	} else {
		g.progress(o, kind, age)
	}
	o.FulfillmentStatus = canceldesk.DeriveFulfillment(o.LineItems)
	for _, t := range []*time.Time{o.PaidAt, o.FulfilledAt, o.CancelledAt} {
		if t != nil && t.After(o.UpdatedAt) {
			o.UpdatedAt = *t
		}
	}
	if o.PaymentMethod == "Shopify Payments" {
		// The card payment's id at the provider, so refunds can go back
		// through Stripe when it is configured.
		o.PaymentReference = fmt.Sprintf("pi_demo%07d", i)
	}
	return o
}

// lines draws 1-4 distinct products with believable quantities.
func (g *gen) lines(kind orderKind) []canceldesk.LineItem {
	n := 1
	switch x := g.r.Float64(); {
	case x < 0.52:
	case x < 0.79:
		n = 2
	case x < 0.93:
		n = 3
	default:
		n = 4
	}
	if kind == kindWholesale {
		n = 2 + g.r.IntN(3)
	}
	lines := make([]canceldesk.LineItem, 0, n)
	used := make(map[string]bool, n)
	for len(lines) < n {
		p := weighted(g.r, products, func(p Product) int { return p.weight })
		if used[p.SKU] {
			continue
		}
		used[p.SKU] = true
		q := 1
		switch {
		case kind == kindWholesale:
			q = 6 * (1 + g.r.IntN(4))
		case p.set:
			switch x := g.r.Float64(); {
			case x < 0.55:
			case x < 0.80:
				q = 2
			case x < 0.95:
				q = 4
			default:
				q = 6
			}
		default:
			if g.chance(0.15) {
				q = 2
			}
		}
		lines = append(lines, canceldesk.LineItem{Position: len(lines) + 1, Name: p.Name, SKU: p.SKU, Quantity: q, Price: p.Price})
	}
	return lines
}

type reasonWeight struct {
	reason canceldesk.CancelReason
	weight int
}

// reasonWeights is how often each reason closes a cancellation, in percent.
var reasonWeights = []reasonWeight{
	{canceldesk.ReasonCustomer, 45}, {canceldesk.ReasonInventory, 20}, {canceldesk.ReasonFraud, 12},
	{canceldesk.ReasonDeclined, 10}, {canceldesk.ReasonOther, 8}, {canceldesk.ReasonStaff, 5},
}

// cancel makes o a cancelled order: nothing shipped, every line cancelled,
// the payment refunded in full or the authorisation voided.
func (g *gen) cancel(o *canceldesk.Order, kind orderKind) {
	reason := weighted(g.r, reasonWeights, func(x reasonWeight) int { return x.weight }).reason
	o.CancelReason = reason
	var lo, hi time.Duration
	switch reason {
	case canceldesk.ReasonCustomer:
		lo, hi = 10*time.Minute, 36*time.Hour
	case canceldesk.ReasonInventory:
		lo, hi = 2*time.Hour, 72*time.Hour
	case canceldesk.ReasonFraud:
		lo, hi = 5*time.Minute, 12*time.Hour
	case canceldesk.ReasonDeclined:
		lo, hi = time.Minute, 2*time.Hour
	case canceldesk.ReasonStaff:
		lo, hi = 10*time.Minute, 48*time.Hour
	default:
		lo, hi = time.Hour, 96*time.Hour
	}
	cancelled := g.at(o.CreatedAt, g.between(lo, hi))
	o.CancelledAt = &cancelled

	voided := false
	switch reason {
	case canceldesk.ReasonDeclined:
		voided = true
		if o.Risk == canceldesk.RiskLow && g.chance(0.5) {
			o.Risk = canceldesk.RiskMedium
		}
	case canceldesk.ReasonFraud:
		voided = g.chance(0.6)
		o.Risk = canceldesk.RiskHigh
		if g.chance(0.3) {
			o.Risk = canceldesk.RiskMedium
		}
	default:
		voided = g.chance(0.15)
	}
	if o.PaymentMethod == "manual" && kind != kindPOS {
		voided = true // never paid: the pending invoice is voided
	}
	restock := !g.chance(0.1)
	if reason == canceldesk.ReasonInventory {
		restock = false // nothing on the shelf to put back
	}
	for i := range o.LineItems {
		li := &o.LineItems[i]
		li.CancelledQuantity = li.Quantity
		if restock {
			li.RestockedQuantity = li.Quantity
		}
		if !voided {
			li.RefundedQuantity = li.Quantity
		}
	}
	if voided {
		o.FinancialStatus = canceldesk.FinancialVoided
		return
	}
	o.FinancialStatus = canceldesk.FinancialRefunded
	o.RefundedAmount = o.Total
	paid := g.at(o.CreatedAt, g.between(time.Second, 20*time.Second))
	if !paid.Before(cancelled) {
		paid = o.CreatedAt
	}
	o.PaidAt = &paid
}

// progress moves a live order along: payment, fulfilment and the odd
// refund, consistent with how long ago it was placed.
func (g *gen) progress(o *canceldesk.Order, kind orderKind, age time.Duration) {
	const day = 24 * time.Hour
	paidSoon := func() {
		t := g.at(o.CreatedAt, g.between(time.Second, 30*time.Second))
		o.PaidAt = &t
		o.FinancialStatus = canceldesk.FinancialPaid
	}
	switch {
	case kind == kindPOS:
		paid, shipped := o.CreatedAt, o.CreatedAt
		o.PaidAt, o.FulfilledAt = &paid, &shipped
		o.FinancialStatus = canceldesk.FinancialPaid
		for i := range o.LineItems {
			o.LineItems[i].FulfilledQuantity = o.LineItems[i].Quantity
		}
		return
	case o.PaymentMethod == "manual":
		// Invoices and bank transfers: paid within days, or still pending.
		wait := g.between(2*time.Hour, 20*day)
		if kind == kindWholesale {
			wait = g.between(3*day, 30*day)
		}
		if wait < age {
			t := g.at(o.CreatedAt, wait)
			o.PaidAt = &t
			o.FinancialStatus = canceldesk.FinancialPaid
		} else {
			o.FinancialStatus = canceldesk.FinancialPending
		}
	case o.PaymentMethod == "Shopify Payments" && age < 7*day && g.chance(0.35):
		// Manual capture: authorised until the order ships (7-day expiry).
		o.FinancialStatus = canceldesk.FinancialAuthorized
	case o.PaymentMethod == "Shopify Payments" && g.chance(0.005):
		o.FinancialStatus = canceldesk.FinancialVoided // authorisation expired
	default:
		paidSoon()
	}

	// Fulfilment: older orders have mostly shipped, recent ones mostly not.
	var pFull, pPartial float64
	switch {
	case age < 2*day:
		pFull, pPartial = 0.10, 0.05
	case age < 7*day:
		pFull, pPartial = 0.50, 0.15
	default:
		pFull, pPartial = 0.93, 0.03
	}
	switch o.FinancialStatus {
	case canceldesk.FinancialVoided:
		pFull, pPartial = 0, 0
	case canceldesk.FinancialPending:
		if kind != kindWholesale {
			pFull, pPartial = 0, 0 // ship once paid
		}
	case canceldesk.FinancialAuthorized:
		pFull, pPartial = pFull*0.3, pPartial*0.5
	}
	shipBy := min(age, 5*day)
	if shipBy < 2*time.Hour {
		pFull, pPartial = 0, 0
	}
	switch x := g.r.Float64(); {
	case x < pFull:
		for i := range o.LineItems {
			o.LineItems[i].FulfilledQuantity = o.LineItems[i].Quantity
		}
		t := g.at(o.CreatedAt, g.between(2*time.Hour, shipBy))
		o.FulfilledAt = &t
	case x < pFull+pPartial:
		g.partial(o.LineItems)
	}
	if o.FinancialStatus == canceldesk.FinancialAuthorized && o.FulfilledAt != nil {
		o.FinancialStatus = canceldesk.FinancialPaid // captured on shipment
		o.PaidAt = o.FulfilledAt
	}

	// Returns and goodwill refunds on some paid, shipped orders.
	if o.FinancialStatus != canceldesk.FinancialPaid || o.FulfilledAt == nil {
		return
	}
	refundAt := g.at(*o.FulfilledAt, g.between(3*day, 20*day))
	if !refundAt.Before(g.now) {
		return
	}
	switch x := g.r.Float64(); {
	case x < 0.016: // the whole order comes back
		o.FinancialStatus = canceldesk.FinancialRefunded
		o.RefundedAmount = o.Total
		restock := g.chance(0.7)
		for i := range o.LineItems {
			li := &o.LineItems[i]
			li.RefundedQuantity = li.Quantity
			if restock {
				li.RestockedQuantity = li.Quantity
			}
		}
		o.UpdatedAt = refundAt
	case x < 0.054:
		o.FinancialStatus = canceldesk.FinancialPartiallyRefunded
		o.UpdatedAt = refundAt
		switch {
		case g.chance(0.7): // one unit returned
			li := &o.LineItems[g.r.IntN(len(o.LineItems))]
			li.RefundedQuantity = 1
			if g.chance(0.5) {
				li.RestockedQuantity = 1
			}
			o.RefundedAmount = li.Price + (li.Price*TaxRate+50)/100
		case o.Shipping > 0: // late delivery: shipping refunded
			o.RefundedAmount = o.Shipping
		default: // goodwill credit
			o.RefundedAmount = 500
		}
		if o.RefundedAmount >= o.Total {
			o.RefundedAmount = o.Total / 2
		}
	}
}

// partial ships part of an order: some lines whole, or part of a single
// line. An order of one unit cannot be partly shipped and stays unshipped.
func (g *gen) partial(lines []canceldesk.LineItem) {
	if len(lines) >= 2 {
		k := 1 + g.r.IntN(len(lines)-1)
		for _, i := range g.r.Perm(len(lines))[:k] {
			lines[i].FulfilledQuantity = lines[i].Quantity
		}
		return
	}
	if q := lines[0].Quantity; q >= 2 {
		lines[0].FulfilledQuantity = 1 + g.r.IntN(q-1)
	}
}

// customer returns a returning customer (about a quarter of the time, when
// any exist) or a new one.
func (g *gen) customer() *customer {
	var c *customer
	if len(g.customers) > 0 && g.chance(0.28) {
		c = g.customers[g.r.IntN(len(g.customers))]
	} else {
		c = g.newCustomer()
		g.customers = append(g.customers, c)
	}
	c.orders++
	return c
}

func (g *gen) newCustomer() *customer {
	c := &customer{taiwan: g.chance(0.35), vip: g.chance(0.03)}
	var local []string // candidate local parts of the email, ASCII
	if c.taiwan {
		s := twSurnames[g.r.IntN(len(twSurnames))]
		gv := twGiven[g.r.IntN(len(twGiven))]
		sl := strings.ToLower(s.en)
		gl := strings.ToLower(strings.ReplaceAll(gv.en, "-", ""))
		initials := strings.ToLower(string(gv.en[0]) + string(gv.en[strings.Index(gv.en, "-")+1]))
		switch x := g.r.Float64(); {
		case x < 0.5:
			c.name = s.zh + gv.zh
		case x < 0.85:
			c.name = gv.en + " " + s.en
		default:
			en := g.pick(twEnglishGiven)
			c.name = en + " " + s.en
			gl = strings.ToLower(en)
			initials = strings.ToLower(en[:1])
		}
		local = []string{gl + "." + sl, sl + "." + gl, gl + sl, initials + sl, sl + gl}
	} else {
		first, last := g.pick(westernFirst), g.pick(westernLast)
		c.name = first + " " + last
		f, l := asciiLower(first), asciiLower(last)
		local = []string{f + "." + l, f + l, f[:1] + l, f + "_" + l, l + "." + f, f + "." + l[:1]}
	}
	doms := westernDomains
	if c.taiwan {
		doms = twDomains
	}
	dom := weighted(g.r, doms, func(d domain) int { return d.weight }).name
	base := local[g.r.IntN(len(local))]
	email := base + "@" + dom
	for try := 0; g.emails[email]; try++ {
		n := 10 + g.r.IntN(90)
		if try > 3 {
			n = 100 + g.r.IntN(9900)
		}
		email = base + strconv.Itoa(n) + "@" + dom
	}
	g.emails[email] = true
	c.email = email
	international := !c.taiwan && g.chance(0.1)
	c.address = g.address(c.name, c.taiwan, international)
	return c
}

// personName draws a name for a gift recipient.
func (g *gen) personName(taiwan bool) string {
	if taiwan {
		return twSurnames[g.r.IntN(len(twSurnames))].zh + twGiven[g.r.IntN(len(twGiven))].zh
	}
	return g.pick(westernFirst) + " " + g.pick(westernLast)
}

// address draws an address for name: Taiwanese in characters when the
// name is, romanised otherwise; American, or elsewhere when international.
func (g *gen) address(name string, taiwan, international bool) canceldesk.Address {
	a := canceldesk.Address{Name: name}
	if taiwan {
		p := twPlaces[g.r.IntN(len(twPlaces))]
		road := twRoads[g.r.IntN(len(twRoads))]
		num, floor := 1+g.r.IntN(320), 2+g.r.IntN(14)
		a.Zip, a.Country = p.zip, "Taiwan"
		if isHan(name) {
			a.Address1 = fmt.Sprintf("%s%d號%d樓", road.zh, num, floor)
			a.City, a.Province = p.distZH, p.cityZH
		} else {
			a.Address1 = fmt.Sprintf("%dF., No. %d, %s", floor, num, road.en)
			a.City, a.Province = p.distEN, p.cityEN
		}
		if g.chance(0.8) {
			a.Phone = fmt.Sprintf("+886 9%02d %03d %03d", g.r.IntN(100), g.r.IntN(1000), g.r.IntN(1000))
		}
		return a
	}
	places := places
	if international {
		places = intlPlaces
	}
	p := places[g.r.IntN(len(places))]
	a.Address1 = fmt.Sprintf("%d %s", 1+g.r.IntN(4999), g.pick(usStreets))
	if g.chance(0.3) {
		a.Address2 = fmt.Sprintf("Apt %d%c", 1+g.r.IntN(12), 'A'+rune(g.r.IntN(6)))
	}
	a.City, a.Province, a.Zip, a.Country = p.city, p.state, p.zip, p.country
	if g.chance(0.7) {
		a.Phone = fmt.Sprintf(p.phone, g.r.IntN(100))
	}
	return a
}

func isHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

// asciiLower folds a Latin name to the lower-case ASCII an email uses.
func asciiLower(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case strings.ContainsRune("áàâä", r):
			b.WriteByte('a')
		case strings.ContainsRune("éèêë", r):
			b.WriteByte('e')
		case strings.ContainsRune("íìîï", r):
			b.WriteByte('i')
		case strings.ContainsRune("óòôöø", r):
			b.WriteByte('o')
		case strings.ContainsRune("úùûü", r):
			b.WriteByte('u')
		case r == 'ñ':
			b.WriteByte('n')
		case r == 'ç':
			b.WriteByte('c')
		}
	}
	return b.String()
}
