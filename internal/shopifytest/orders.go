package shopifytest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/shopify"
)

// state is the shop: orders as the Admin API returns them, jobs, refunds.
type state struct {
	orders        map[string]*shopify.OrderNode // by numeric id
	nextOrder     int64
	nextGID       int64 // line items, transactions, refunds, jobs
	nextUpdated   time.Time
	jobs          map[string]*job
	cancellations map[string]*Cancellation // by numeric order id
	refunds       []Refund
	byKey         map[string]any // refundCreate answers by idempotency key
	refunded      map[string]int // units refunded, by line item gid
	webhooks      int
}

func (st *state) init() {
	st.orders = map[string]*shopify.OrderNode{}
	st.nextOrder = 5_100_000_000
	st.nextGID = 9_000_000_000
	st.nextUpdated = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	st.jobs = map[string]*job{}
	st.cancellations = map[string]*Cancellation{}
	st.byKey = map[string]any{}
	st.refunded = map[string]int{}
}

func (st *state) gid(kind string) string {
	st.nextGID++
	return fmt.Sprintf("gid://shopify/%s/%d", kind, st.nextGID)
}

// Cancellation is what orderCancel was asked, and what its job did.
type Cancellation struct {
	JobID          string
	Reason         string         // OrderCancelReason, as sent
	RefundMethod   map[string]any // OrderCancelRefundMethodInput, as sent
	Restock        bool
	StaffNote      string
	NotifyCustomer bool
	Done           bool // the job has run: the order reads cancelled
}

// Refund is one refund refundCreate made.
type Refund struct {
	ID             string
	OrderID        string // numeric
	IdempotencyKey string
	Input          map[string]any // RefundInput, as sent
	Amount         int64          // minor units refunded
}

type job struct {
	id      string
	orderID string
	polls   int
	done    bool
}

// LineSpec is one line of an AddOrder order.
type LineSpec struct {
	Name      string
	SKU       string
	Quantity  int
	Price     string // unit price, a decimal string
	Fulfilled int    // units shipped
}

// OrderSpec describes an order for AddOrder; zero fields get realistic
// defaults.
type OrderSpec struct {
	Currency  string // default USD
	Lines     []LineSpec
	Shipping  string // default "5.00" (500 in a zero-decimal currency)
	TaxRate   int    // percent of the subtotal after discounts, default 0
	Discount  string // default "0"
	Financial string // OrderDisplayFinancialStatus, default PAID
	Gateway   string // default "shopify_payments"
	// PendingAuthorization adds a pending AUTHORIZATION transaction, which
	// orderCancel refuses.
	PendingAuthorization bool
	Location             string // the fulfilment location, default "Main warehouse"
	Email                string
	Risk                 string // RiskAssessmentResult, default LOW
	Tags                 []string
	Note                 string
	SourceName           string // default "web"
	CustomerLocale       string // Order.customerLocale, e.g. "zh-TW"; default "" (none)
}

// AddOrder adds an order and returns its numeric id. Its updatedAt is
// later than every order added before.
func (s *Server) AddOrder(spec OrderSpec) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.buildOrder(spec)
	if err != nil {
		s.t.Fatalf("shopifytest: AddOrder: %v", err)
	}
	s.orders[n.LegacyResourceID] = n
	return n.LegacyResourceID
}

// AddOrders adds n varied orders (currencies with and without decimals,
// paid, authorized and pending, partly shipped, some cancelled, one in 25
// with more line items than a list page carries) and returns their ids in
// the order added.
func (s *Server) AddOrders(n int) []string {
	ids := make([]string, 0, n)
	for i := range n {
		spec := OrderSpec{Currency: "USD", TaxRate: 8}
		switch {
		case i%7 == 3:
			spec.Currency, spec.TaxRate = "JPY", 10
		case i%5 == 2:
			spec.Currency, spec.TaxRate = "EUR", 20
		}
		lines := 1 + i%4
		if i%25 == 24 {
			lines = 14
		}
		for l := range lines {
			price := fmt.Sprintf("%d.%02d", 5+(i*7+l*13)%90, (i*31+l)%100)
			if canceldesk.MinorDigits(spec.Currency) == 0 {
				price = strconv.Itoa(500 + (i*70+l*130)%9000)
			}
			li := LineSpec{Name: fmt.Sprintf("Product %d", l+1), SKU: fmt.Sprintf("SKU-%03d", (i+l)%120),
				Quantity: 1 + (i+l)%3, Price: price}
			switch i % 4 {
			case 1:
				li.Fulfilled = li.Quantity / 2
			case 2:
				li.Fulfilled = li.Quantity
			}
			spec.Lines = append(spec.Lines, li)
		}
		switch i % 10 {
		case 3:
			spec.Financial = "AUTHORIZED"
		case 7:
			spec.Financial, spec.Gateway = "PENDING", "manual"
		}
		if i%6 == 5 {
			spec.Risk = "MEDIUM"
		}
		id := s.AddOrder(spec)
		if i%20 == 9 {
			s.SetOrder(id, func(o *shopify.OrderNode) {
				at := o.CreatedAt.Add(time.Hour)
				o.CancelledAt, o.CancelReason = &at, "CUSTOMER"
			})
		}
		ids = append(ids, id)
	}
	return ids
}

// Order returns a copy of an order's current state, nil when there is none.
func (s *Server) Order(id string) *shopify.OrderNode {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	if o == nil {
		return nil
	}
	return clone(o)
}

// SetOrder changes an order in place (updatedAt is the caller's to move).
func (s *Server) SetOrder(id string, change func(*shopify.OrderNode)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	if o == nil {
		s.t.Fatalf("shopifytest: SetOrder: no order %s", id)
	}
	change(o)
}

// Touch records a change made in Shopify's admin: the order's updatedAt
// moves to the stand-in's clock, which it returns.
func (s *Server) Touch(id string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	if o == nil {
		s.t.Fatalf("shopifytest: Touch: no order %s", id)
	}
	now := s.now()
	if !now.After(o.UpdatedAt) {
		now = o.UpdatedAt.Add(time.Second)
	}
	o.UpdatedAt = now
	return now
}

// Cancellation returns what orderCancel was asked for the order, nil when
// it was not asked.
func (s *Server) Cancellation(orderID string) *Cancellation {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cancellations[orderID]
	if c == nil {
		return nil
	}
	cp := *c
	return &cp
}

// Refunds lists the refunds made for the order ("" for every order).
func (s *Server) Refunds(orderID string) []Refund {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(s.refunds), func(r Refund) bool { return orderID != "" && r.OrderID != orderID })
}

func clone(o *shopify.OrderNode) *shopify.OrderNode {
	b, _ := json.Marshal(o)
	var c shopify.OrderNode
	_ = json.Unmarshal(b, &c)
	return &c
}

// bag writes minor units as Shopify writes money: a decimal string, with
// ".0" for a currency without decimals ("1500.0").
func bag(minor int64, cur string) shopify.MoneyBag {
	s := canceldesk.Money{Amount: minor, Currency: cur}.Decimal()
	if canceldesk.MinorDigits(cur) == 0 {
		s += ".0"
	}
	return shopify.MoneyBag{ShopMoney: shopify.MoneyV2{Amount: s, CurrencyCode: cur}}
}

func mustMinor(s *Server, b shopify.MoneyBag) int64 {
	v, err := canceldesk.ParseAmount(b.ShopMoney.Amount, b.ShopMoney.CurrencyCode)
	if err != nil {
		s.t.Fatalf("shopifytest: amount %q: %v", b.ShopMoney.Amount, err)
	}
	return v
}

// buildOrder makes the order node of spec; s.mu held.
func (s *Server) buildOrder(spec OrderSpec) (*shopify.OrderNode, error) {
	cur := strings.ToUpper(spec.Currency)
	if cur == "" {
		cur = "USD"
	}
	if len(spec.Lines) == 0 {
		spec.Lines = []LineSpec{
			{Name: "Linen shirt", SKU: "SHIRT-M", Quantity: 2, Price: "45.00"},
			{Name: "Canvas tote", SKU: "TOTE", Quantity: 1, Price: "20.00"},
		}
		if canceldesk.MinorDigits(cur) == 0 {
			spec.Lines[0].Price, spec.Lines[1].Price = "4500", "2000"
		}
	}
	parse := func(v, def string) (int64, error) {
		if v == "" {
			v = def
		}
		return canceldesk.ParseAmount(v, cur)
	}
	defShipping := "5.00"
	if canceldesk.MinorDigits(cur) == 0 {
		defShipping = "500"
	}
	shipping, err := parse(spec.Shipping, defShipping)
	if err != nil {
		return nil, err
	}
	discount, err := parse(spec.Discount, "0")
	if err != nil {
		return nil, err
	}
	s.nextOrder++
	id := strconv.FormatInt(s.nextOrder, 10)
	s.nextUpdated = s.nextUpdated.Add(time.Minute)
	created := s.nextUpdated
	n := &shopify.OrderNode{
		ID:               "gid://shopify/Order/" + id,
		LegacyResourceID: id,
		Name:             fmt.Sprintf("#%d", 1000+s.nextOrder-5_100_000_000),
		Email:            spec.Email,
		CurrencyCode:     cur,
		Note:             spec.Note,
		Tags:             spec.Tags,
		SourceName:       spec.SourceName,
		CustomerLocale:   spec.CustomerLocale,
		ProcessedAt:      created,
		CreatedAt:        created,
		UpdatedAt:        created,
	}
	if n.Email == "" {
		n.Email = fmt.Sprintf("customer%d@example.com", s.nextOrder%100000)
	}
	if n.Tags == nil {
		n.Tags = []string{}
	}
	if n.SourceName == "" {
		n.SourceName = "web"
	}
	var subtotal int64
	shipped, units := 0, 0
	for _, l := range spec.Lines {
		price, err := canceldesk.ParseAmount(l.Price, cur)
		if err != nil {
			return nil, err
		}
		subtotal += price * int64(l.Quantity)
		units += l.Quantity
		shipped += l.Fulfilled
		n.LineItems.Nodes = append(n.LineItems.Nodes, shopify.LineItemNode{
			ID: s.gid("LineItem"), Name: l.Name, SKU: l.SKU, Quantity: l.Quantity,
			UnfulfilledQuantity: l.Quantity - l.Fulfilled, OriginalUnitPriceSet: bag(price, cur),
		})
	}
	tax := (subtotal - discount) * int64(spec.TaxRate) / 100
	total := subtotal - discount + shipping + tax
	n.SubtotalPriceSet = bag(subtotal-discount, cur)
	n.TotalShippingPriceSet = bag(shipping, cur)
	n.TotalTaxSet = bag(tax, cur)
	n.TotalDiscountsSet = bag(discount, cur)
	n.TotalPriceSet = bag(total, cur)
	n.TotalRefundedSet = bag(0, cur)
	switch {
	case shipped == 0:
		n.DisplayFulfillmentStatus = "UNFULFILLED"
	case shipped < units:
		n.DisplayFulfillmentStatus = "PARTIALLY_FULFILLED"
	default:
		n.DisplayFulfillmentStatus = "FULFILLED"
	}
	n.DisplayFinancialStatus = spec.Financial
	if n.DisplayFinancialStatus == "" {
		n.DisplayFinancialStatus = "PAID"
	}
	gateway := spec.Gateway
	if gateway == "" {
		gateway = "shopify_payments"
	}
	n.PaymentGatewayNames = []string{gateway}
	at := created
	switch n.DisplayFinancialStatus {
	case "PAID":
		n.Transactions = append(n.Transactions, shopify.TransactionNode{
			ID: s.gid("OrderTransaction"), Kind: "SALE", Status: "SUCCESS", Gateway: gateway, ProcessedAt: &at})
	case "AUTHORIZED":
		n.Transactions = append(n.Transactions, shopify.TransactionNode{
			ID: s.gid("OrderTransaction"), Kind: "AUTHORIZATION", Status: "SUCCESS", Gateway: gateway, ProcessedAt: &at})
	}
	if spec.PendingAuthorization {
		n.Transactions = append(n.Transactions, shopify.TransactionNode{
			ID: s.gid("OrderTransaction"), Kind: "AUTHORIZATION", Status: "PENDING", Gateway: gateway, ProcessedAt: &at})
	}
	if n.Transactions == nil {
		n.Transactions = []shopify.TransactionNode{}
	}
	addr := &shopify.MailingAddress{Name: "Ada Lovelace", Address1: "12 Market Street", City: "Springfield",
		Zip: "12345", Province: "IL", Country: "United States", Phone: "+1 555 0100"}
	n.BillingAddress, n.ShippingAddress = addr, addr
	risk := spec.Risk
	if risk == "" {
		risk = "LOW"
	}
	n.Risk = &shopify.RiskSummary{Recommendation: "ACCEPT"}
	n.Risk.Assessments = append(n.Risk.Assessments, struct {
		RiskLevel string `json:"riskLevel"`
	}{risk})
	loc := spec.Location
	if loc == "" {
		loc = "Main warehouse"
	}
	var fo shopify.FulfillmentOrderNode
	fo.AssignedLocation.Name = loc
	fo.AssignedLocation.Location = &struct {
		ID string `json:"id"`
	}{"gid://shopify/Location/" + strconv.Itoa(70000+len(loc))}
	n.FulfillmentOrders.Nodes = []shopify.FulfillmentOrderNode{fo}
	return n, nil
}

// view is an order as a query returns it: its line items from after, at
// most first of them (all when first is 0), and five transactions.
func view(o *shopify.OrderNode, first, after int) *shopify.OrderNode {
	c := clone(o)
	lines := c.LineItems.Nodes
	after = min(max(after, 0), len(lines))
	lines = lines[after:]
	c.LineItems.PageInfo = shopify.PageInfo{}
	if first > 0 && len(lines) > first {
		lines = lines[:first]
		c.LineItems.PageInfo = shopify.PageInfo{HasNextPage: true, EndCursor: strconv.Itoa(after + first)}
	}
	c.LineItems.Nodes = lines
	if len(c.Transactions) > 5 {
		c.Transactions = c.Transactions[:5]
	}
	return c
}

// opOrders answers the orders query: sortKey UPDATED_AT, the search query's
// updated_at:>= term, and opaque cursors; first is at most 250.
func (s *Server) opOrders(query string, vars map[string]any) (any, int, []gqlError) {
	first := intVar(vars, "first")
	if first < 1 || first > 250 {
		return nil, 0, []gqlError{{Message: "The first argument must be between 1 and 250.",
			Extensions: map[string]any{"code": "BAD_REQUEST"}}}
	}
	since, err := updatedSince(stringVar(vars, "query"))
	if err != nil {
		return nil, 0, []gqlError{{Message: err.Error(), Extensions: map[string]any{"code": "BAD_REQUEST"}}}
	}
	type keyed struct {
		key string
		o   *shopify.OrderNode
	}
	all := make([]keyed, 0, len(s.orders))
	for _, o := range s.orders {
		if !o.UpdatedAt.Before(since) {
			all = append(all, keyed{sortKey(o), o})
		}
	}
	slices.SortFunc(all, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	start := 0
	if after := stringVar(vars, "after"); after != "" {
		key, err := base64.StdEncoding.DecodeString(after)
		if err != nil {
			return nil, 0, []gqlError{{Message: "Invalid cursor for current pagination sort.",
				Extensions: map[string]any{"code": "BAD_REQUEST"}}}
		}
		start, _ = slices.BinarySearchFunc(all, string(key), func(k keyed, after string) int {
			if k.key <= after {
				return -1
			}
			return 1
		})
	}
	page := all[start:min(start+first, len(all))]
	lines := lineItemsAsked(query)
	nodes := []*shopify.OrderNode{}
	actual := 2
	for _, k := range page {
		v := view(k.o, lines, 0)
		nodes = append(nodes, v)
		actual += actualOrderCost(len(v.LineItems.Nodes))
	}
	pi := shopify.PageInfo{HasNextPage: start+len(page) < len(all)}
	if len(page) > 0 {
		pi.EndCursor = base64.StdEncoding.EncodeToString([]byte(page[len(page)-1].key))
	}
	return map[string]any{"orders": map[string]any{"nodes": nodes, "pageInfo": pi}}, actual, nil
}

// sortKey orders by updatedAt, then id (fixed width, so strings compare).
func sortKey(o *shopify.OrderNode) string {
	return o.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000000000Z") + "|" + fmt.Sprintf("%020s", o.LegacyResourceID)
}

var updatedTerm = regexp.MustCompile(`updated_at:>=\s*'?"?([^'"\s]+)'?"?`)

// updatedSince reads the search query's updated_at:>= term (zero time when
// it has none).
func updatedSince(q string) (time.Time, error) {
	m := updatedTerm.FindStringSubmatch(q)
	if m == nil {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, m[1])
	if err != nil {
		return time.Time{}, fmt.Errorf("updated_at %q is not a date", m[1])
	}
	return t, nil
}

// opOrder answers order(id:): null for an order the shop does not have.
func (s *Server) opOrder(query string, vars map[string]any) (any, int, []gqlError) {
	o := s.orders[shopify.LegacyID(stringVar(vars, "id"))]
	if o == nil {
		return map[string]any{"order": nil}, 1, nil
	}
	after, _ := strconv.Atoi(stringVar(vars, "lineItemsAfter"))
	v := view(o, lineItemsAsked(query), after)
	return map[string]any{"order": v}, actualOrderCost(len(v.LineItems.Nodes)), nil
}

var cancelReasons = []string{"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "STAFF", "OTHER"}

func cancelError(code, msg string) map[string]any {
	return map[string]any{"orderCancel": map[string]any{"job": nil, "orderCancelUserErrors": []map[string]any{
		{"field": []string{"orderId"}, "message": msg, "code": code}}, "userErrors": []any{}}}
}

// opOrderCancel answers the mutation: refusals as orderCancelUserErrors (the
// order hasn't already been cancelled, has no pending payment
// authorization), else a Job that cancels the order asynchronously.
func (s *Server) opOrderCancel(vars map[string]any) (any, []gqlError) {
	reason := stringVar(vars, "reason")
	if !slices.Contains(cancelReasons, reason) {
		return nil, []gqlError{{Message: fmt.Sprintf("Variable $reason of type OrderCancelReason! was provided invalid value %q", reason),
			Extensions: map[string]any{"code": "INVALID_VARIABLE"}}}
	}
	rm, _ := vars["refundMethod"].(map[string]any)
	if len(rm) != 1 {
		return nil, []gqlError{{Message: "Variable $refundMethod of type OrderCancelRefundMethodInput! must set one refund method",
			Extensions: map[string]any{"code": "INVALID_VARIABLE"}}}
	}
	if _, ok := vars["restock"].(bool); !ok {
		return nil, []gqlError{{Message: "Variable $restock of type Boolean! was provided invalid value",
			Extensions: map[string]any{"code": "INVALID_VARIABLE"}}}
	}
	id := shopify.LegacyID(stringVar(vars, "orderId"))
	o := s.orders[id]
	switch {
	case o == nil:
		return cancelError("NOT_FOUND", "Order does not exist"), nil
	case o.CancelledAt != nil:
		return cancelError("INVALID", "Cannot cancel an order that has already been cancelled"), nil
	case s.cancellations[id] != nil && !s.cancellations[id].Done:
		return cancelError("INVALID", "Order is already being cancelled"), nil
	}
	for _, t := range o.Transactions {
		if t.Kind == "AUTHORIZATION" && t.Status == "PENDING" {
			return cancelError("INVALID", "Cannot cancel an order with a pending payment authorization"), nil
		}
	}
	notify, _ := vars["notifyCustomer"].(bool)
	restock, _ := vars["restock"].(bool)
	j := &job{id: s.gid("Job"), orderID: id}
	s.jobs[j.id] = j
	s.cancellations[id] = &Cancellation{JobID: j.id, Reason: reason, RefundMethod: rm, Restock: restock,
		StaffNote: stringVar(vars, "staffNote"), NotifyCustomer: notify}
	return map[string]any{"orderCancel": map[string]any{
		"job": map[string]any{"id": j.id, "done": false}, "orderCancelUserErrors": []any{}, "userErrors": []any{}}}, nil
}

// opJob answers job(id:): done after jobPolls polls, when the cancel it
// runs takes effect.
func (s *Server) opJob(vars map[string]any) any {
	j := s.jobs[stringVar(vars, "id")]
	if j == nil {
		return map[string]any{"job": nil}
	}
	j.polls++
	if !j.done && j.polls >= s.jobPolls {
		j.done = true
		s.applyCancel(j.orderID)
	}
	return map[string]any{"job": map[string]any{"id": j.id, "done": j.done}}
}

// applyCancel is what a finished cancel job did to the order.
func (s *Server) applyCancel(id string) {
	o, c := s.orders[id], s.cancellations[id]
	now := s.now()
	o.CancelledAt, o.CancelReason, o.UpdatedAt = &now, c.Reason, now
	c.Done = true
	refund := c.RefundMethod["originalPaymentMethodsRefund"] == true || c.RefundMethod["storeCreditRefund"] != nil
	cur := o.CurrencyCode
	if p := paidTransaction(o); p != nil && refund {
		o.TotalRefundedSet = bag(mustMinor(s, o.TotalPriceSet), cur)
		o.DisplayFinancialStatus = "REFUNDED"
		o.Transactions = append(o.Transactions, shopify.TransactionNode{ID: s.gid("OrderTransaction"),
			Kind: "REFUND", Status: "SUCCESS", Gateway: p.Gateway, ProcessedAt: &now})
	}
	if o.DisplayFinancialStatus == "AUTHORIZED" {
		// An authorization is released on cancel, refund or not.
		o.DisplayFinancialStatus = "VOIDED"
	}
}

func paidTransaction(o *shopify.OrderNode) *shopify.TransactionNode {
	for i, t := range o.Transactions {
		if (t.Kind == "SALE" || t.Kind == "CAPTURE") && t.Status == "SUCCESS" {
			return &o.Transactions[i]
		}
	}
	return nil
}

var idempotentKey = regexp.MustCompile(`@idempotent\s*\(\s*key:\s*(\$[A-Za-z_][A-Za-z0-9_]*|"[^"]*")\s*\)`)

func refundErrors(errs ...map[string]any) map[string]any {
	return map[string]any{"refundCreate": map[string]any{"refund": nil, "order": nil, "userErrors": errs}}
}

// opRefundCreate answers the mutation. Since 2026-04 it requires the
// @idempotent(key:) directive; a key seen before returns the first answer
// and refunds nothing again.
func (s *Server) opRefundCreate(query string, vars map[string]any) (any, []gqlError) {
	m := idempotentKey.FindStringSubmatch(query)
	if m == nil {
		return nil, []gqlError{{Message: "The @idempotent directive is required for this mutation.",
			Extensions: map[string]any{"code": "BAD_REQUEST"}}}
	}
	key := strings.Trim(m[1], `"`)
	if strings.HasPrefix(m[1], "$") {
		key = stringVar(vars, m[1][1:])
	}
	if key == "" {
		return nil, []gqlError{{Message: "The idempotency key must not be empty.", Extensions: map[string]any{"code": "BAD_REQUEST"}}}
	}
	if prev, ok := s.byKey[key]; ok {
		return prev, nil
	}
	in, _ := vars["input"].(map[string]any)
	id := shopify.LegacyID(stringVar(in, "orderId"))
	o := s.orders[id]
	if o == nil {
		return refundErrors(map[string]any{"field": []string{"orderId"}, "message": "Order does not exist"}), nil
	}
	cur := o.CurrencyCode
	lines, _ := in["refundLineItems"].([]any)
	want := map[string]int{}
	for i, l := range lines {
		lm, _ := l.(map[string]any)
		lid, q := stringVar(lm, "lineItemId"), intVar(lm, "quantity")
		idx := slices.IndexFunc(o.LineItems.Nodes, func(n shopify.LineItemNode) bool { return n.ID == lid })
		field := []string{"refundLineItems", strconv.Itoa(i)}
		switch {
		case idx < 0:
			return refundErrors(map[string]any{"field": append(field, "lineItemId"), "message": "Line item does not exist"}), nil
		case q < 1 || s.refunded[lid]+want[lid]+q > o.LineItems.Nodes[idx].Quantity:
			return refundErrors(map[string]any{"field": append(field, "quantity"),
				"message": "Quantity cannot refund more items than were purchased"}), nil
		}
		if rt := stringVar(lm, "restockType"); rt != "" && rt != "NO_RESTOCK" && stringVar(lm, "locationId") == "" {
			return refundErrors(map[string]any{"field": append(field, "locationId"), "message": "Location is required to restock"}), nil
		}
		want[lid] += q
	}
	var amount int64
	txs, _ := in["transactions"].([]any)
	for i, t := range txs {
		tm, _ := t.(map[string]any)
		field := []string{"transactions", strconv.Itoa(i)}
		p := paidTransaction(o)
		if p == nil || stringVar(tm, "parentId") != p.ID || stringVar(tm, "kind") != "REFUND" {
			return refundErrors(map[string]any{"field": append(field, "parentId"), "message": "Parent transaction is not a sale or capture of this order"}), nil
		}
		v, err := canceldesk.ParseAmount(stringVar(tm, "amount"), cur)
		if err != nil || v <= 0 {
			return refundErrors(map[string]any{"field": append(field, "amount"), "message": "Amount is invalid"}), nil
		}
		amount += v
	}
	refunded, total := mustMinor(s, o.TotalRefundedSet), mustMinor(s, o.TotalPriceSet)
	if refunded+amount > total {
		return refundErrors(map[string]any{"field": []string{"transactions", "0", "amount"},
			"message": "Amount cannot be greater than the refundable amount"}), nil
	}
	now := s.now()
	for lid, q := range want {
		s.refunded[lid] += q
	}
	if amount > 0 {
		o.TotalRefundedSet = bag(refunded+amount, cur)
		o.DisplayFinancialStatus = "PARTIALLY_REFUNDED"
		if refunded+amount == total {
			o.DisplayFinancialStatus = "REFUNDED"
		}
		o.Transactions = append(o.Transactions, shopify.TransactionNode{ID: s.gid("OrderTransaction"),
			Kind: "REFUND", Status: "SUCCESS", Gateway: paidTransaction(o).Gateway, ProcessedAt: &now})
	}
	o.UpdatedAt = now
	r := Refund{ID: s.gid("Refund"), OrderID: id, IdempotencyKey: key, Input: in, Amount: amount}
	s.refunds = append(s.refunds, r)
	answer := map[string]any{"refundCreate": map[string]any{
		"refund": map[string]any{"id": r.ID}, "order": map[string]any{"id": o.ID}, "userErrors": []any{}}}
	s.byKey[key] = answer
	return answer, nil
}

// shopZone is the shop's time zone: webhook payloads write local times,
// as Shopify's REST-style payloads do.
var shopZone = time.FixedZone("EST", -5*3600)

// Webhook builds a signed delivery of topic for the order, as Shopify
// posts it: a REST-style JSON payload and the X-Shopify-* headers, the
// HMAC over the raw body with the app's secret.
func (s *Server) Webhook(topic, orderID string) (body []byte, headers http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[orderID]
	if o == nil {
		s.t.Fatalf("shopifytest: Webhook: no order %s", orderID)
	}
	num, _ := strconv.ParseInt(orderID, 10, 64)
	var payload map[string]any
	switch topic {
	case canceldesk.TopicRefundsCreate:
		refundID := s.gid("Refund")
		created := s.now()
		for _, r := range s.refunds {
			if r.OrderID == orderID {
				refundID = r.ID
			}
		}
		rid, _ := strconv.ParseInt(shopify.LegacyID(refundID), 10, 64)
		payload = map[string]any{"id": rid, "admin_graphql_api_id": refundID, "order_id": num,
			"created_at": created.In(shopZone).Format(time.RFC3339), "note": nil, "refund_line_items": []any{}, "transactions": []any{}}
	default:
		var cancelled any
		if o.CancelledAt != nil {
			cancelled = o.CancelledAt.In(shopZone).Format(time.RFC3339)
		}
		payload = map[string]any{
			"id": num, "admin_graphql_api_id": o.ID, "name": o.Name, "email": o.Email, "customer_locale": o.CustomerLocale,
			"created_at":   o.CreatedAt.In(shopZone).Format(time.RFC3339),
			"updated_at":   o.UpdatedAt.In(shopZone).Format(time.RFC3339),
			"cancelled_at": cancelled, "cancel_reason": strings.ToLower(o.CancelReason),
			"currency": o.CurrencyCode, "total_price": o.TotalPriceSet.ShopMoney.Amount,
			"financial_status": strings.ToLower(o.DisplayFinancialStatus),
		}
	}
	body, _ = json.Marshal(payload)
	s.webhooks++
	headers = http.Header{}
	headers.Set("Content-Type", "application/json")
	headers.Set("X-Shopify-Topic", topic)
	headers.Set("X-Shopify-Hmac-Sha256", shopify.Sign(s.secret, body))
	headers.Set("X-Shopify-Shop-Domain", s.Shop())
	headers.Set("X-Shopify-API-Version", s.version)
	headers.Set("X-Shopify-Webhook-Id", fmt.Sprintf("b54557e4-bdd9-4b37-8a5f-%012d", s.webhooks))
	headers.Set("X-Shopify-Event-Id", fmt.Sprintf("98880550-7158-44d4-b7cd-%012d", s.webhooks))
	headers.Set("X-Shopify-Triggered-At", s.now().Format(time.RFC3339Nano))
	return body, headers
}
