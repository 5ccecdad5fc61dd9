package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
)

// propertySeedEnv replays a failing run of TestRefundProperties: set it to
// the seed the test logged.
const propertySeedEnv = "CANCELDESK_REFUND_SEED"

const propertySteps = 200

// TestRefundProperties applies random sequences of refunds, restocks,
// cancels and gateway answers to a few random orders and checks, after
// every step and straight from the database, that money, line counters and
// stock stay consistent. A step refused with a domain error (EINVALID,
// ECONFLICT, EFORBIDDEN) must leave the database exactly as it was; any
// other error fails the test.
func TestRefundProperties(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(propertySeedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", propertySeedEnv, s, err)
		}
		seed = v
	}
	t.Logf("seed %d (reproduce with %s=%d)", seed, propertySeedEnv, seed)
	rtEach(t, func(t *testing.T, db *DB) {
		p := &propRun{t: t, db: db, r: rand.New(rand.NewPCG(seed, 0x5eed)), base: map[int64]int64{}}
		p.setup()
		p.check("setup")
		counts := map[string]int{}
		for step := range propertySteps {
			op, err := p.step()
			what := fmt.Sprintf("step %d (%s)", step, op)
			counts[op]++
			switch code := canceldesk.ErrorCode(err); {
			case err == nil:
				counts[op+" ok"]++
			case code == canceldesk.EINVALID || code == canceldesk.ECONFLICT || code == canceldesk.EFORBIDDEN:
				counts[op+" "+code]++
				var de *canceldesk.Error
				if errors.As(err, &de) {
					counts[op+" "+de.Key]++
				}
				p.same(p.last, what+" refused with "+err.Error())
			default:
				t.Fatalf("%s: unexpected error %v (seed %d)", what, err, seed)
			}
			p.check(what)
			if t.Failed() {
				t.Fatalf("%s broke an invariant (seed %d)", what, seed)
			}
		}
		t.Logf("%s: %v", db.dialect, counts)
		for _, op := range []string{"refund", "restock", "cancel"} {
			if counts[op+" ok"] == 0 {
				t.Errorf("no %s ever succeeded: the run tested little (%v)", op, counts)
			}
		}
	})
}

type propRun struct {
	t      *testing.T
	db     *DB
	r      *rand.Rand
	orders []*canceldesk.Order
	locs   []int64
	keys   []string         // refund keys used, for replays
	rkeys  []string         // restock keys used
	base   map[int64]int64  // refunded amount each order was imported with
	next   int              // key counter
	last   map[string]int64 // digest before the step
}

func (p *propRun) key() string {
	p.next++
	return fmt.Sprintf("property-key-%08d", p.next)
}

var propSKUs = []string{"SKU-A", "SKU-B", "SKU-C", ""}

func (p *propRun) setup() {
	t, db, r := p.t, p.db, p.r
	for _, name := range []string{"Main", "Annex"} {
		loc, err := db.EnsureLocation(rtCtx(t), name)
		if err != nil {
			t.Fatal(err)
		}
		p.locs = append(p.locs, loc.ID)
		for _, sku := range propSKUs[:3] {
			if err := db.AddMovements(rtCtx(t), []canceldesk.InventoryMovement{{SKU: sku, LocationID: loc.ID,
				Delta: 20, Kind: canceldesk.MovementInitialReceipt, Actor: "test"}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A staff limit some refunds go over.
	if err := db.SaveSettings(rtCtx(t), canceldesk.Settings{StaffRefundLimit: map[string]int64{"USD": 10000}, StoreName: "Prop store"}, "owner"); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		o := &canceldesk.Order{Name: fmt.Sprintf("#prop-%d", i), Currency: "USD", PaymentMethod: "stripe",
			PaymentReference: fmt.Sprintf("ch_%d", i), FinancialStatus: canceldesk.FinancialPaid,
			CreatedAt: time.Date(2025, 1, 1+i, 0, 0, 0, 0, time.UTC)}
		if r.IntN(4) > 0 {
			o.Email = fmt.Sprintf("c%d@example.com", i)
		}
		mode := i % 3 // unfulfilled, partial, fulfilled
		for j := range 1 + r.IntN(3) {
			li := canceldesk.LineItem{Name: fmt.Sprintf("Item %d", j), SKU: propSKUs[r.IntN(len(propSKUs))],
				Quantity: 1 + r.IntN(4), Price: int64(100 + r.IntN(4900))}
			if i == 0 && j == 0 {
				li.SKU = propSKUs[0] // see below
			}
			switch mode {
			case 1:
				li.FulfilledQuantity = r.IntN(li.Quantity + 1)
			case 2:
				li.FulfilledQuantity = li.Quantity
			}
			o.Subtotal += li.Total()
			o.LineItems = append(o.LineItems, li)
		}
		if r.IntN(3) > 0 {
			o.Taxes = o.Subtotal * int64(5+r.IntN(16)) / 100
		}
		if r.IntN(3) > 0 {
			o.Shipping = int64(r.IntN(1500))
		}
		if r.IntN(5) == 0 {
			o.Discounts = o.Subtotal / 10
		}
		o.Total = o.Subtotal + o.Taxes + o.Shipping - o.Discounts
		switch i {
		case 4, 7, 10: // imported with a refund made in the shop
			o.FinancialStatus, o.RefundedAmount = canceldesk.FinancialPartiallyRefunded, o.Total/5
		case 5:
			if r.IntN(2) == 0 {
				o.FinancialStatus = canceldesk.FinancialAuthorized
			}
		}
		o.FulfillmentStatus = canceldesk.DeriveFulfillment(o.LineItems)
		rtImport(t, db, o)
		p.base[o.ID] = o.RefundedAmount
		p.orders = append(p.orders, o)
	}
	// Something to restock by hand from the start: the first order (unshipped,
	// with a SKU) cancelled without restocking.
	_, err := db.CancelOrder(rtCtx(t), canceldesk.CancelRequest{OrderID: p.orders[0].ID, Reason: canceldesk.ReasonOther,
		Refund: canceldesk.RefundLater, IdempotencyKey: p.key(), Actor: "staff"})
	if err != nil {
		t.Fatal(err)
	}
}

// restockable picks an order with units to restock by hand, mostly; else
// any.
func (p *propRun) restockable() *canceldesk.Order {
	var with []*canceldesk.Order
	for _, o := range p.orders {
		for _, li := range rtGet(p.t, p.db, o.ID).LineItems {
			if canceldesk.ManualRestockable(li) > 0 {
				with = append(with, o)
				break
			}
		}
	}
	if len(with) == 0 || p.r.IntN(5) == 0 {
		return p.orders[p.r.IntN(len(p.orders))]
	}
	return with[p.r.IntN(len(with))]
}

// location is mostly a real location, sometimes none or one that does not
// exist.
func (p *propRun) location() int64 {
	switch p.r.IntN(10) {
	case 0:
		return 0
	case 1:
		return 987654
	}
	return p.locs[p.r.IntN(len(p.locs))]
}

func (p *propRun) gateway() string {
	if p.r.IntN(5) < 2 {
		return "stripe"
	}
	return "manual"
}

// step applies one random operation and returns its name and error.
func (p *propRun) step() (string, error) {
	t, db, r := p.t, p.db, p.r
	p.last = p.digest()
	o := p.orders[r.IntN(len(p.orders))]
	switch x := r.IntN(100); {
	case x < 50:
		return "refund", p.refund(o)
	case x < 62:
		o := p.restockable()
		req := canceldesk.RestockRequest{OrderID: o.ID, LocationID: p.location(), IdempotencyKey: p.key(), Actor: "staff"}
		if len(p.rkeys) > 0 && r.IntN(8) == 0 {
			req.IdempotencyKey = p.rkeys[r.IntN(len(p.rkeys))]
		} else {
			p.rkeys = append(p.rkeys, req.IdempotencyKey)
		}
		for _, li := range rtGet(t, db, o.ID).LineItems {
			if r.IntN(3) == 0 {
				continue
			}
			q := r.IntN(4) // sometimes more than may be restocked
			switch n := canceldesk.ManualRestockable(li); {
			case n > 0 && r.IntN(4) > 0:
				q = 1 + r.IntN(n)
			case n == 0 && r.IntN(5) > 0:
				continue // the dialog offers nothing for this line
			}
			req.Lines = append(req.Lines, canceldesk.RestockLineRequest{LineItemID: li.ID, Quantity: q})
		}
		before := p.last
		err := db.RestockOrder(rtCtx(t), req)
		if err == nil && p.replayedRestock(req.IdempotencyKey) {
			p.same(before, "a replayed restock")
		}
		return "restock", err
	case x < 72:
		refund := canceldesk.RefundNow
		if r.IntN(2) == 0 {
			refund = canceldesk.RefundLater
		}
		req := canceldesk.CancelRequest{OrderID: o.ID, Reason: canceldesk.ReasonCustomer, Refund: refund,
			Restock: r.IntN(2) == 0, NotifyCustomer: r.IntN(2) == 0, Gateway: p.gateway(), IdempotencyKey: p.key(), Actor: "staff"}
		if req.Restock {
			req.LocationID = p.locs[r.IntN(len(p.locs))]
		}
		_, err := db.CancelOrder(rtCtx(t), req)
		return "cancel", err
	case x < 88:
		id, ok := p.someRefund()
		if !ok {
			return "settle", nil
		}
		status := []string{canceldesk.RefundSucceeded, canceldesk.RefundFailed, canceldesk.RefundPending}[r.IntN(3)]
		return "settle", db.SettleRefund(rtCtx(t), id, status, fmt.Sprintf("re_%d", r.IntN(1000)), "declined")
	default:
		id, ok := p.someRefund()
		if !ok {
			return "retry", nil
		}
		_, err := db.RetryRefund(rtCtx(t), id, "staff", canceldesk.RoleStaff)
		return "retry", err
	}
}

func (p *propRun) refund(o *canceldesk.Order) error {
	t, db, r := p.t, p.db, p.r
	req := canceldesk.RefundRequest{OrderID: o.ID, Method: canceldesk.MethodOriginal, Gateway: p.gateway(),
		NotifyCustomer: r.IntN(2) == 0, IdempotencyKey: p.key(), Actor: "staff", ActorRole: canceldesk.RoleStaff,
		Note: "staff only"}
	if r.IntN(5) == 0 {
		req.Method = canceldesk.MethodStoreCredit
		if r.IntN(2) == 0 {
			exp := rtNow.Add(365 * 24 * time.Hour)
			req.CreditExpiresAt = &exp
		}
	}
	if r.IntN(3) == 0 {
		req.ActorRole = canceldesk.RoleManager
	}
	cur := rtGet(t, db, o.ID)
	types := canceldesk.RestockTypes
	for _, rl := range canceldesk.Refundable(cur) {
		if r.IntN(3) == 0 {
			continue
		}
		// Mostly what the dialog would offer; sometimes anything at all.
		lr := canceldesk.RefundLineRequest{LineItemID: rl.ID, Quantity: r.IntN(rl.Quantity + 2),
			Restock: types[r.IntN(len(types))], LocationID: p.location()}
		var offered []canceldesk.RefundLineRequest
		loc := p.locs[r.IntN(len(p.locs))]
		if rl.CancelRestockable > 0 {
			offered = append(offered, canceldesk.RefundLineRequest{Quantity: 1 + r.IntN(rl.CancelRestockable), Restock: canceldesk.RestockCancel, LocationID: loc})
		}
		if rl.Returnable > 0 {
			t := canceldesk.RestockReturnNoRestock
			if rl.SKU != "" && r.IntN(2) == 0 {
				t = canceldesk.RestockReturn
			}
			offered = append(offered, canceldesk.RefundLineRequest{Quantity: 1 + r.IntN(rl.Returnable), Restock: t, LocationID: loc})
		}
		if rl.Refundable > 0 {
			offered = append(offered, canceldesk.RefundLineRequest{Quantity: 1 + r.IntN(rl.Refundable), Restock: canceldesk.RestockNone})
		}
		switch {
		case len(offered) > 0 && r.IntN(10) > 0:
			lr = offered[r.IntN(len(offered))]
			lr.LineItemID = rl.ID
		case len(offered) == 0 && r.IntN(5) > 0:
			continue // the dialog shows nothing to refund
		}
		req.Lines = append(req.Lines, lr)
	}
	switch r.IntN(4) {
	case 0:
		req.FullShipping = true
	case 1:
		req.Shipping = int64(r.IntN(int(cur.Shipping-cur.ShippingRefunded) + 100))
	}
	switch r.IntN(6) {
	case 0:
		req.Adjustment = int64(r.IntN(800))
	case 1:
		req.Adjustment = -int64(r.IntN(800))
	}
	replay := false
	if len(p.keys) > 0 && r.IntN(10) == 0 {
		req.IdempotencyKey = p.keys[r.IntN(len(p.keys))][len(refundKeyPrefix):]
		replay = true
	}
	before := p.last
	res, err := db.RefundOrder(rtCtx(t), req)
	if err != nil {
		return err
	}
	if res.Replayed {
		p.same(before, "a replayed refund")
		return nil
	}
	if replay {
		t.Errorf("key %s refunded twice", req.IdempotencyKey)
	}
	p.keys = append(p.keys, res.Refund.IdempotencyKey)
	if res.Refund.Amount != res.Plan.Total || res.Refund.Shipping != res.Plan.Shipping || res.Plan.NeedsManager {
		t.Errorf("refund %+v does not carry out its plan %+v", res.Refund, res.Plan)
	}
	if (res.Credit != nil) != (req.Method == canceldesk.MethodStoreCredit) {
		t.Errorf("credit %+v for method %s", res.Credit, req.Method)
	}
	return nil
}

func (p *propRun) replayedRestock(key string) bool {
	n := rtInt(p.t, p.db, `SELECT count(*) FROM restocks WHERE idempotency_key = ?`, key)
	return n == 1 && p.last["restocks"] == rtInt(p.t, p.db, `SELECT count(*) FROM restocks`)
}

func (p *propRun) someRefund() (int64, bool) {
	n := rtInt(p.t, p.db, `SELECT count(*) FROM refunds`)
	if n == 0 {
		return 0, false
	}
	return rtInt(p.t, p.db, `SELECT id FROM refunds ORDER BY id LIMIT 1 OFFSET ?`, p.r.Int64N(n)), true
}

// digest sums up every table a step may write.
func (p *propRun) digest() map[string]int64 {
	q := map[string]string{
		"refunds":       `SELECT count(*) + coalesce(sum(amount), 0) FROM refunds`,
		"refund status": `SELECT coalesce(sum(CASE status WHEN 'pending' THEN 1 WHEN 'failed' THEN 1000 ELSE 1000000 END), 0) FROM refunds`,
		"orders":        `SELECT coalesce(sum(refunded_amount + shipping_refunded), 0) FROM orders`,
		"cancelled":     `SELECT count(*) FROM orders WHERE cancelled_at IS NOT NULL`,
		"statuses":      `SELECT coalesce(sum(length(financial_status) * id), 0) FROM orders`,
		"lines": `SELECT coalesce(sum(refunded_quantity + 10 * cancelled_quantity + 100 * restocked_quantity + 1000 * returned_quantity
			+ 10000 * return_restocked_quantity + 100000 * refunded_shipped_quantity), 0) FROM line_items`,
		"ledger":        `SELECT count(*) * 1000000 + coalesce(sum(delta), 0) FROM inventory_movements`,
		"levels":        `SELECT coalesce(sum(on_hand), 0) FROM inventory_levels`,
		"events":        `SELECT count(*) FROM events`,
		"outbox":        `SELECT count(*) FROM outbox`,
		"credits":       `SELECT count(*) FROM store_credits`,
		"restocks":      `SELECT count(*) FROM restocks`,
		"cancellations": `SELECT count(*) FROM cancellations`,
	}
	out := map[string]int64{}
	for k, s := range q {
		out[k] = rtInt(p.t, p.db, s)
	}
	return out
}

func (p *propRun) same(before map[string]int64, what string) {
	p.t.Helper()
	after := p.digest()
	for k, v := range before {
		if after[k] != v {
			p.t.Errorf("%s changed %s: %d → %d", what, k, v, after[k])
		}
	}
}

// check verifies every invariant from the database. A step that failed
// with an error must not have written anything.
func (p *propRun) check(what string) {
	t, db := p.t, p.db
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: %s", what, fmt.Sprintf(format, args...))
	}

	// Money, per order.
	type money struct{ refunded, shipRefunded, shipping, total, sum, shipSum, unsettled int64 }
	rows, err := db.read.QueryContext(rtCtx(t), `SELECT o.id, o.total, o.shipping, o.refunded_amount, o.shipping_refunded,
		o.financial_status,
		(SELECT coalesce(sum(r.amount), 0) FROM refunds r WHERE r.order_id = o.id AND r.kind = 'refund'),
		(SELECT coalesce(sum(r.shipping), 0) FROM refunds r WHERE r.order_id = o.id AND r.kind = 'refund'),
		(SELECT coalesce(sum(r.amount), 0) FROM refunds r WHERE r.order_id = o.id AND r.kind = 'refund' AND r.status <> 'succeeded')
		FROM orders o ORDER BY o.id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var (
			id  int64
			m   money
			fin string
		)
		if err := rows.Scan(&id, &m.total, &m.shipping, &m.refunded, &m.shipRefunded, &fin, &m.sum, &m.shipSum, &m.unsettled); err != nil {
			t.Fatal(err)
		}
		paid := int64(0)
		switch canceldesk.FinancialStatus(fin) {
		case canceldesk.FinancialPaid, canceldesk.FinancialPartiallyRefunded, canceldesk.FinancialRefunded, canceldesk.FinancialAuthorized:
			paid = m.total
		}
		// An import's refund is a refund row of its own (migration 0014).
		if m.sum != m.refunded {
			fail("order %d: refunds sum to %d, refunded_amount %d (imported %d)", id, m.sum, m.refunded, p.base[id])
		}
		if m.refunded > paid {
			fail("order %d: refunded %d of %d paid (%s)", id, m.refunded, paid, fin)
		}
		if m.shipSum != m.shipRefunded || m.shipRefunded > m.shipping {
			fail("order %d: shipping refunded %d, refunds' shipping %d, charged %d", id, m.shipRefunded, m.shipSum, m.shipping)
		}
		// The status follows what the gateways confirmed.
		switch confirmed := m.refunded - m.unsettled; canceldesk.FinancialStatus(fin) {
		case canceldesk.FinancialPaid, canceldesk.FinancialPartiallyRefunded, canceldesk.FinancialRefunded:
			want := canceldesk.FinancialPaid
			switch {
			case confirmed >= m.total && confirmed > 0:
				want = canceldesk.FinancialRefunded
			case confirmed > 0:
				want = canceldesk.FinancialPartiallyRefunded
			}
			if fin != string(want) {
				fail("order %d: financial status %s, confirmed %d of %d (want %s)", id, fin, confirmed, m.total, want)
			}
		}
	}
	rows.Close()
	if n := rtInt(t, db, `SELECT count(*) FROM refunds WHERE status = 'pending' AND gateway IN ('manual', 'store_credit')`); n != 0 {
		fail("%d manual or store-credit refunds pending", n)
	}
	if n := rtInt(t, db, `SELECT count(*) FROM refunds r WHERE r.method = 'store_credit'
		AND NOT EXISTS (SELECT 1 FROM store_credits c WHERE c.refund_id = r.id AND c.amount = r.amount)`); n != 0 {
		fail("%d store-credit refunds without their credit", n)
	}

	// Line counters, and each line's money from the plans carried out.
	lineMoney := map[int64]*struct{ amount, tax, refunds int64 }{}
	add := func(id, amount, tax int64) {
		m := lineMoney[id]
		if m == nil {
			m = &struct{ amount, tax, refunds int64 }{}
			lineMoney[id] = m
		}
		m.amount, m.tax, m.refunds = m.amount+amount, m.tax+tax, m.refunds+1
	}
	rows, err = db.read.QueryContext(rtCtx(t), `SELECT plan FROM refunds WHERE cancellation_id IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		var plan canceldesk.RefundPlan
		if err := rows.Scan(&s); err != nil || json.Unmarshal([]byte(s), &plan) != nil {
			t.Fatalf("refund plan %q: %v", s, err)
		}
		for _, l := range plan.Lines {
			add(l.LineItemID, l.Amount, l.Tax)
		}
	}
	rows.Close()
	rows, err = db.read.QueryContext(rtCtx(t), `SELECT plan FROM cancellations`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		var plan canceldesk.CancelPlan
		if err := rows.Scan(&s); err != nil || json.Unmarshal([]byte(s), &plan) != nil {
			t.Fatalf("cancel plan %q: %v", s, err)
		}
		if plan.RefundKind != canceldesk.RefundKindRefund {
			continue
		}
		for _, l := range plan.Lines {
			if l.RefundQty > 0 {
				add(l.LineItemID, l.Amount, l.Tax)
			}
		}
	}
	rows.Close()

	for _, o := range p.orders {
		got, err := db.Order(rtCtx(t), o.ID)
		if err != nil {
			t.Fatal(err)
		}
		var orderTax int64
		nets := canceldesk.LineNets(got)
		for _, li := range got.LineItems {
			c := rtCounts(li)
			if c.Refunded > li.Quantity || c.Refunded-c.RefundedShipped > li.Quantity-li.FulfilledQuantity {
				fail("%s %s: refunded %d (%d shipped) of %d, %d shipped", o.Name, li.Name, c.Refunded, c.RefundedShipped, li.Quantity, li.FulfilledQuantity)
			}
			if c.Restocked > c.Cancelled || c.Cancelled > li.Quantity-li.FulfilledQuantity {
				fail("%s %s: restocked %d, cancelled %d, unshipped %d", o.Name, li.Name, c.Restocked, c.Cancelled, li.Quantity-li.FulfilledQuantity)
			}
			if c.ReturnRestocked > c.Returned || c.Returned > li.FulfilledQuantity || c.RefundedShipped > li.FulfilledQuantity {
				fail("%s %s: return restocked %d, returned %d, refunded shipped %d, shipped %d", o.Name, li.Name,
					c.ReturnRestocked, c.Returned, c.RefundedShipped, li.FulfilledQuantity)
			}
			if li.SKU == "" && c.Restocked+c.ReturnRestocked > 0 {
				fail("%s %s: restocked without a SKU", o.Name, li.Name)
			}
			// Money: exactly the refunded units' price; tax at most the
			// line's share, plus the rounding of each refund (half a
			// cent up, one more cent to the largest remainder).
			m := lineMoney[li.ID]
			if m == nil {
				m = &struct{ amount, tax, refunds int64 }{}
			}
			// The line paid its total less its part of the discounts; its
			// first R units paid that × R / Quantity (rounded down), and
			// the refunds of a line add up to exactly that.
			if want := nets[li.ID] * int64(c.Refunded) / int64(li.Quantity); m.amount != want {
				fail("%s %s: %d refunded units of %d paid %d in all, but %d refunded for items", o.Name, li.Name,
					c.Refunded, li.Quantity, nets[li.ID], m.amount)
			}
			if got.Subtotal > 0 && 2*m.tax*got.Subtotal > 2*got.Taxes*li.Total()+3*m.refunds*got.Subtotal {
				fail("%s %s: %d tax refunded in %d refunds, the line's share is %d × %d / %d", o.Name, li.Name, m.tax,
					m.refunds, got.Taxes, li.Total(), got.Subtotal)
			}
			orderTax += m.tax
		}
		// The order's tax: what its refunds gave back is what it records,
		// and never more than it charged, however the refunds were cut.
		if orderTax != got.TaxRefunded || got.TaxRefunded > max(got.Taxes, 0) {
			fail("%s: %d tax in its refunds, %d recorded, %d charged", o.Name, orderTax, got.TaxRefunded, got.Taxes)
		}
	}

	// Stock: on hand is the ledger's sum, everywhere.
	if n := rtInt(t, db, `SELECT count(*) FROM inventory_levels l WHERE l.on_hand <>
		(SELECT coalesce(sum(m.delta), 0) FROM inventory_movements m WHERE m.sku = l.sku AND m.location_id = l.location_id)`); n != 0 {
		fail("%d stock levels differ from their ledger", n)
	}
	if n := rtInt(t, db, `SELECT count(*) FROM (SELECT DISTINCT sku, location_id FROM inventory_movements) m
		WHERE NOT EXISTS (SELECT 1 FROM inventory_levels l WHERE l.sku = m.sku AND l.location_id = m.location_id)`); n != 0 {
		fail("%d ledger entries without a stock level", n)
	}
	// No unit restocked twice: per order and SKU, the restock movements
	// are the lines' restocked units.
	moved := p.sums(`SELECT order_id, sku, sum(delta) FROM inventory_movements
		WHERE kind IN ('cancel_restock', 'return_restock', 'manual') GROUP BY order_id, sku`)
	counted := p.sums(`SELECT order_id, sku, sum(restocked_quantity + return_restocked_quantity) FROM line_items
		GROUP BY order_id, sku`)
	for k, v := range moved {
		if counted[k] != v {
			fail("order and SKU %s: %d restocked in the ledger, %d on the lines", k, v, counted[k])
		}
	}
	for k, v := range counted {
		if moved[k] != v {
			fail("order and SKU %s: %d restocked on the lines, %d in the ledger", k, v, moved[k])
		}
	}
}

// sums reads (order id, sku, sum) rows into a map keyed "id/sku"; orders
// outside this run (NULL order ids) and zero sums are left out.
func (p *propRun) sums(q string) map[string]int64 {
	p.t.Helper()
	rows, err := p.db.read.QueryContext(rtCtx(p.t), q)
	if err != nil {
		p.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			id  *int64
			sku string
			n   int64
		)
		if err := rows.Scan(&id, &sku, &n); err != nil {
			p.t.Fatal(err)
		}
		if id != nil && n != 0 {
			out[fmt.Sprintf("%d/%s", *id, sku)] = n
		}
	}
	if err := rows.Err(); err != nil {
		p.t.Fatal(err)
	}
	return out
}
