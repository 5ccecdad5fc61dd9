package shopify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/canceldesk/canceldesk"
)

var _ API = (*Client)(nil)

// Query cost. Shopify prices a query before running it: an object costs 1,
// a connection 2 plus first × the cost of one node, and a query may not
// ask for more than 1,000 points at once (MAX_COST_EXCEEDED). One order as
// orderFields selects it costs about 28 points, its lineItems connection 2
// plus 3 a line item; with ten line items a page of 16 orders asks for
// about 960. An order with
// more lines is read again on its own (Order pages through its lines).
const (
	maxQueryCost       = 1000
	listLineItems      = 10
	orderCostEstimate  = 28 + 2 + 3*listLineItems
	maxOrdersPerPage   = (maxQueryCost - 2) / orderCostEstimate
	orderLineItemsPage = 100
)

var ordersQuery = `query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes { ...OrderFields lineItems(first: ` + strconv.Itoa(listLineItems) + `) { nodes { ...LineItemFields } pageInfo { hasNextPage endCursor } } }
    pageInfo { hasNextPage endCursor }
  }
}
` + orderFields

var orderQuery = `query Order($id: ID!, $lineItemsAfter: String) {
  order(id: $id) {
    ...OrderFields
    lineItems(first: ` + strconv.Itoa(orderLineItemsPage) + `, after: $lineItemsAfter) { nodes { ...LineItemFields } pageInfo { hasNextPage endCursor } }
  }
}
` + orderFields

// Orders implements API. first is an upper bound: a page holds at most as
// many orders as fit in one query's cost (maxOrdersPerPage), fewer when
// Shopify prices the query higher than estimated.
func (c *Client) Orders(ctx context.Context, query, after string, first int) (OrdersPage, error) {
	first = min(max(first, 1), 250, maxOrdersPerPage)
	vars := map[string]any{"first": first, "after": nil, "query": nil}
	if after != "" {
		vars["after"] = after
	}
	if query != "" {
		vars["query"] = query
	}
	var out struct {
		Orders struct {
			Nodes    []OrderNode `json:"nodes"`
			PageInfo PageInfo    `json:"pageInfo"`
		} `json:"orders"`
	}
	for {
		err := c.do(ctx, ordersQuery, vars, &out)
		if errors.Is(err, errMaxCost) && first > 1 {
			first /= 2
			vars["first"] = first
			continue
		}
		if err != nil {
			return OrdersPage{}, err
		}
		break
	}
	page := OrdersPage{EndCursor: out.Orders.PageInfo.EndCursor, HasNext: out.Orders.PageInfo.HasNextPage}
	for i := range out.Orders.Nodes {
		n := &out.Orders.Nodes[i]
		if n.LineItems.PageInfo.HasNextPage {
			// More lines than the list carries: read the whole order.
			full, err := c.orderNode(ctx, n.ID)
			if err != nil {
				return OrdersPage{}, err
			}
			if full == nil { // deleted in between
				continue
			}
			n = full
		}
		o, err := MapOrder(n)
		if err != nil {
			return OrdersPage{}, err
		}
		page.Orders = append(page.Orders, o)
	}
	return page, nil
}

// Order implements API.
func (c *Client) Order(ctx context.Context, id string) (*canceldesk.Order, error) {
	n, err := c.orderNode(ctx, OrderGID(id))
	if err != nil || n == nil {
		return nil, err
	}
	return MapOrder(n)
}

// orderNode reads one order with every line item, nil when Shopify has no
// such order.
func (c *Client) orderNode(ctx context.Context, gid string) (*OrderNode, error) {
	var node *OrderNode
	vars := map[string]any{"id": gid, "lineItemsAfter": nil}
	for {
		var out struct {
			Order *OrderNode `json:"order"`
		}
		if err := c.do(ctx, orderQuery, vars, &out); err != nil {
			return nil, err
		}
		if out.Order == nil {
			return nil, nil
		}
		if node == nil {
			node = out.Order
		} else {
			node.LineItems.Nodes = append(node.LineItems.Nodes, out.Order.LineItems.Nodes...)
		}
		pi := out.Order.LineItems.PageInfo
		if !pi.HasNextPage || pi.EndCursor == "" {
			node.LineItems.PageInfo = PageInfo{}
			return node, nil
		}
		vars["lineItemsAfter"] = pi.EndCursor
	}
}

const orderCancelMutation = `mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $refundMethod: OrderCancelRefundMethodInput!, $restock: Boolean!, $staffNote: String, $notifyCustomer: Boolean) {
  orderCancel(orderId: $orderId, reason: $reason, refundMethod: $refundMethod, restock: $restock, staffNote: $staffNote, notifyCustomer: $notifyCustomer) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}`

// userErrorNode is OrderCancelUserError and UserError.
type userErrorNode struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
	Code    string   `json:"code"`
}

func userErrors(ns []userErrorNode) []UserError {
	var out []UserError
	for _, n := range ns {
		out = append(out, UserError{Field: n.Field, Code: n.Code, Message: n.Message})
	}
	return out
}

// refundMethod is OrderCancelRefundMethodInput for one of our methods.
func refundMethod(m string) (map[string]any, error) {
	switch m {
	case RefundOriginal:
		return map[string]any{"originalPaymentMethodsRefund": true}, nil
	case RefundStoreCredit:
		return map[string]any{"storeCreditRefund": map[string]any{}}, nil
	case RefundNone, "":
		return map[string]any{"originalPaymentMethodsRefund": false}, nil
	}
	return nil, fmt.Errorf("shopify: unknown refund method %q", m)
}

// OrderCancel implements API.
func (c *Client) OrderCancel(ctx context.Context, in CancelInput) (CancelPayload, error) {
	if in.OrderID == "" {
		return CancelPayload{}, errors.New("shopify: orderCancel needs an order id")
	}
	reason := in.Reason
	if reason == "" {
		reason = canceldesk.ReasonOther
	}
	rm, err := refundMethod(in.RefundMethod)
	if err != nil {
		return CancelPayload{}, err
	}
	vars := map[string]any{
		"orderId":        OrderGID(in.OrderID),
		"reason":         strings.ToUpper(string(reason)),
		"refundMethod":   rm,
		"restock":        in.Restock,
		"staffNote":      nil,
		"notifyCustomer": in.NotifyCustomer,
	}
	if in.StaffNote != "" {
		vars["staffNote"] = in.StaffNote
	}
	var out struct {
		OrderCancel struct {
			Job *struct {
				ID   string `json:"id"`
				Done bool   `json:"done"`
			} `json:"job"`
			OrderCancelUserErrors []userErrorNode `json:"orderCancelUserErrors"`
		} `json:"orderCancel"`
	}
	if err := c.do(ctx, orderCancelMutation, vars, &out); err != nil {
		return CancelPayload{}, err
	}
	p := CancelPayload{UserErrors: userErrors(out.OrderCancel.OrderCancelUserErrors)}
	if j := out.OrderCancel.Job; j != nil {
		p.JobID, p.JobDone = j.ID, j.Done
	}
	if p.JobID == "" && len(p.UserErrors) == 0 {
		return CancelPayload{}, errors.New("shopify: orderCancel returned neither a job nor errors")
	}
	return p, nil
}

const jobQuery = `query Job($id: ID!) {
  job(id: $id) { id done }
}`

// Job implements API. A job Shopify no longer knows is an error.
func (c *Client) Job(ctx context.Context, id string) (bool, error) {
	var out struct {
		Job *struct {
			ID   string `json:"id"`
			Done bool   `json:"done"`
		} `json:"job"`
	}
	if err := c.do(ctx, jobQuery, map[string]any{"id": id}, &out); err != nil {
		return false, err
	}
	if out.Job == nil {
		return false, fmt.Errorf("shopify: no job %s", id)
	}
	return out.Job.Done, nil
}

// refundCreateMutation carries the @idempotent directive on the mutation's
// field, as Shopify requires of refundCreate since 2026-04: a request
// repeated with the same key returns the first refund.
const refundCreateMutation = `mutation RefundCreate($input: RefundInput!, $idempotencyKey: String!) {
  refundCreate(input: $input) @idempotent(key: $idempotencyKey) {
    refund { id }
    userErrors { field message }
  }
}`

// RefundCreate implements API.
func (c *Client) RefundCreate(ctx context.Context, in RefundInput, key string) (RefundPayload, error) {
	if strings.TrimSpace(key) == "" {
		return RefundPayload{}, errors.New("shopify: refundCreate needs an idempotency key")
	}
	if in.OrderID == "" {
		return RefundPayload{}, errors.New("shopify: refundCreate needs an order id")
	}
	orderGID := OrderGID(in.OrderID)
	lines := []map[string]any{}
	for _, l := range in.Lines {
		line := map[string]any{"lineItemId": l.LineItemID, "quantity": l.Quantity}
		if l.RestockType != "" {
			line["restockType"] = l.RestockType
		}
		if l.LocationID != "" && l.RestockType != "NO_RESTOCK" {
			line["locationId"] = LocationGID(l.LocationID)
		}
		lines = append(lines, line)
	}
	input := map[string]any{"orderId": orderGID, "notify": in.Notify, "refundLineItems": lines}
	if in.Note != "" {
		input["note"] = in.Note
	}
	if in.Amount < 0 {
		return RefundPayload{}, fmt.Errorf("shopify: a refund of %d is negative", in.Amount)
	}
	if in.Amount > 0 {
		if in.Currency == "" || in.ParentTransaction == "" {
			return RefundPayload{}, errors.New("shopify: a refund of money needs its currency and the transaction it refunds")
		}
		input["transactions"] = []map[string]any{{
			"orderId":  orderGID,
			"parentId": in.ParentTransaction,
			"amount":   canceldesk.Money{Amount: in.Amount, Currency: in.Currency}.Decimal(),
			"gateway":  in.Gateway,
			"kind":     "REFUND",
		}}
	}
	var out struct {
		RefundCreate struct {
			Refund *struct {
				ID string `json:"id"`
			} `json:"refund"`
			UserErrors []userErrorNode `json:"userErrors"`
		} `json:"refundCreate"`
	}
	if err := c.do(ctx, refundCreateMutation, map[string]any{"input": input, "idempotencyKey": key}, &out); err != nil {
		return RefundPayload{}, err
	}
	p := RefundPayload{UserErrors: userErrors(out.RefundCreate.UserErrors)}
	if r := out.RefundCreate.Refund; r != nil {
		p.RefundID = r.ID
	}
	if p.RefundID == "" && len(p.UserErrors) == 0 {
		return RefundPayload{}, errors.New("shopify: refundCreate returned neither a refund nor errors")
	}
	return p, nil
}
