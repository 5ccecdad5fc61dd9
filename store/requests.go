package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/canceldesk/canceldesk"
)

var _ canceldesk.RequestStore = (*DB)(nil)

// Timeline kinds written by customer requests.
const (
	eventRequestReceived = canceldesk.EventRequestReceived
	eventRequestApproved = canceldesk.EventRequestApproved
	eventRequestDeclined = canceldesk.EventRequestDeclined
)

// approvalKeyPrefix starts the idempotency key of a cancel that approves
// a customer's request (ApproveRequest adds it).
const approvalKeyPrefix = "approval:"

// ruleActor is who decides a request the auto-approval rule approves.
const ruleActor = "rule"

// autoApprovalKey is the settings row holding the auto-approval rule.
const autoApprovalKey = "auto_approval"

// Bounds of the rule and of the queue.
const (
	maxRuleAgeMinutes = 7 * 24 * 60
	maxRuleTags       = 20
	defaultRuleAge    = 60
	maxRequestsLimit  = 500
	maxEventTextLen   = 200 // characters of a comment or message in the timeline
)

// storedAutoApproval is how canceldesk.AutoApproval is kept as JSON.
type storedAutoApproval struct {
	Enabled       bool             `json:"enabled"`
	MaxAgeMinutes int              `json:"max_age_minutes"`
	MaxTotal      map[string]int64 `json:"max_total"`
	ExcludeTags   []string         `json:"exclude_tags"`
}

// outboxRequest is the payload of a request's message. It never holds the
// status link's token.
type outboxRequest struct {
	RequestID      int64  `json:"request_id"`
	OrderID        int64  `json:"order_id"`
	OrderName      string `json:"order_name"`
	Status         string `json:"status"`
	CancellationID int64  `json:"cancellation_id,omitempty"`
}

const requestColumns = `id, order_id, order_name, email, reason, comment, status, decision, decided_by, rule,
	cancellation_id, created_at, decided_at, locale`

func scanRequest(sc scanner, r *canceldesk.CancellationRequest) error {
	var (
		order, cancellation sql.NullInt64
		created             int64
		decided             sql.NullInt64
	)
	if err := sc.Scan(&r.ID, &order, &r.OrderName, &r.Email, &r.Reason, &r.Comment, &r.Status, &r.Decision,
		&r.DecidedBy, &r.Rule, &cancellation, &created, &decided, &r.Locale); err != nil {
		return err
	}
	r.OrderID, r.CancellationID = order.Int64, cancellation.Int64
	r.CreatedAt, r.DecidedAt = fromMicros(created), fromNullMicros(decided)
	return nil
}

// request reads one request in q, locking its row on PostgreSQL when lock.
func (db *DB) request(ctx context.Context, q querier, where string, lock bool, arg any) (*canceldesk.CancellationRequest, error) {
	query := `SELECT ` + requestColumns + ` FROM cancellation_requests WHERE ` + where
	if lock && db.dialect == postgres {
		query += ` FOR UPDATE`
	}
	var r canceldesk.CancellationRequest
	err := scanRequest(q.QueryRowContext(ctx, db.bind(query), arg), &r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, canceldesk.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return &r, nil
}

// tokenHash is how a status link's token is kept: the hex of its SHA-256.
func tokenHash(token string) string { return hex.EncodeToString(canceldesk.HashToken(token)) }

// FileRequest implements canceldesk.RequestStore. One transaction: the
// order is looked up by number and email (case-insensitive); without one
// nothing is written and (nil, nil) comes back. Otherwise the order is
// read under its lock (PostgreSQL) and the request is
//
//   - refused, when the order is cancelled already or anything of it has
//     shipped: the customer gets a "declined" message saying why;
//   - approved, when the auto-approval rule approves it: the order is
//     cancelled at once (full refund through gatewayFor(order), manual when nil; restock
//     as the settings say; not held to the staff refund limit, which the
//     timeline notes beside the rule's name), and the customer
//     gets "approved". A cancel the plan blocks (e.g. every unit cancelled
//     before) is rolled back to a savepoint and the request waits instead.
//     A Shopify order (gatewayFor says GatewayShopify) is not cancelled
//     here: its cancel call is queued for the request, which stays pending
//     (the customer gets "received") until Shopify has done it and
//     CompleteShopifyCall approves it;
//   - pending otherwise: the timeline notes it and the customer gets
//     "received".
//
// Every message carries the status link, statusBase + token. Only the
// token's hash is stored; the returned request carries the token.
func (db *DB) FileRequest(ctx context.Context, f canceldesk.RequestForm, statusBase string, gatewayFor func(*canceldesk.Order) string) (*canceldesk.CancellationRequest, error) {
	f = f.Normalize()
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var out *canceldesk.CancellationRequest
	err := db.tx(ctx, func(w *Tx) error {
		tx := w.Tx
		var orderID int64
		err := tx.QueryRowContext(ctx, db.bind(`SELECT id FROM orders WHERE name = ? AND lower(email) = lower(?)`),
			f.OrderNumber, f.Email).Scan(&orderID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // nothing written: the caller answers the same
		} else if err != nil {
			return err
		}
		if err := db.lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		o, err := db.order(ctx, tx, orderID)
		if err != nil {
			return err
		}
		settings, err := db.settings(ctx, tx)
		if err != nil {
			return err
		}
		rule, err := db.autoApproval(ctx, tx)
		if err != nil {
			return err
		}
		token, hash, err := canceldesk.NewToken()
		if err != nil {
			return err
		}
		now := db.Now()
		// The request's messages speak the language the form was filed
		// in; without one, the order's.
		lang := canceldesk.CustomerLanguage(f.Locale)
		if lang == "" {
			lang = canceldesk.OrderLanguage(o, settings)
		}
		r := &canceldesk.CancellationRequest{OrderID: o.ID, OrderName: o.Name, Email: f.Email, Reason: f.Reason,
			Comment: f.Comment, Status: canceldesk.RequestPending, Token: token, CreatedAt: now.Truncate(time.Microsecond),
			Locale: lang}
		hashHex := hex.EncodeToString(hash)
		data := canceldesk.RequestMessageData(lang, o, settings, statusBase+token)
		kind := canceldesk.MessageRequestReceived

		var res *canceldesk.CancelResult
		viaShopify := false
		switch ok, _ := rule.Approves(o, now); {
		case o.Cancelled() || o.FulfillmentStatus != canceldesk.FulfillmentUnfulfilled || anyShipped(o):
			r.Status, r.Decision = canceldesk.RequestRefused, canceldesk.RefusedMessage(lang, o.Cancelled())
			r.DecidedAt = &r.CreatedAt
			kind, data.StoreMessage = canceldesk.MessageRequestDeclined, r.Decision
		case ok:
			gateway := canceldesk.GatewayManual
			if gatewayFor != nil {
				gateway = gatewayFor(o)
			}
			// Shopify cancels a Shopify order: the request waits, pending,
			// for the call queued below to be done.
			if viaShopify = gateway == canceldesk.GatewayShopify; viaShopify {
				break
			}
			if res, err = db.autoCancel(ctx, tx, o, r, settings, hashHex, gateway); err != nil {
				return err
			}
			if res != nil {
				r.Status, r.DecidedBy, r.Rule, r.CancellationID = canceldesk.RequestApproved, ruleActor, rule.Describe(o.Currency), res.CancellationID
				r.DecidedAt = &r.CreatedAt
				kind = canceldesk.MessageRequestApproved
				data = canceldesk.CancelMessageData(lang, o, res.Plan, canceldesk.ReasonCustomer, canceldesk.Offer{}, settings)
				data.StatusLink = statusBase + token
			}
		}

		var cancellation any
		if r.CancellationID != 0 {
			cancellation = r.CancellationID
		}
		err = tx.QueryRowContext(ctx, db.bind(`INSERT INTO cancellation_requests (order_id, order_name, email, reason,
			comment, status, token_hash, decision, decided_by, rule, cancellation_id, created_at, decided_at, locale)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			o.ID, r.OrderName, r.Email, r.Reason, r.Comment, r.Status, hashHex, r.Decision, r.DecidedBy, r.Rule,
			cancellation, r.CreatedAt.UnixMicro(), micros(r.DecidedAt), r.Locale).Scan(&r.ID)
		if err != nil {
			return err
		}

		switch r.Status {
		case canceldesk.RequestPending:
			err = db.insertEvent(ctx, tx, &canceldesk.Event{OrderID: o.ID, Kind: eventRequestReceived, Actor: r.Email,
				Data: canceldesk.EventData{Reason: r.Reason, Note: truncateRunes(r.Comment, maxEventTextLen)}, CreatedAt: now})
		case canceldesk.RequestApproved:
			err = db.insertEvent(ctx, tx, &canceldesk.Event{OrderID: o.ID, Kind: eventRequestApproved, Actor: ruleActor,
				Data: ruleEventData(rule, o.Currency, res.Refund, settings), CreatedAt: now})
		}
		if err != nil {
			return err
		}
		if err := db.enqueueRequestMessage(ctx, tx, o, r, kind, data, now); err != nil {
			return err
		}
		if viaShopify {
			if err := db.autoShopifyCancel(ctx, w, o, r, settings, hashHex); err != nil {
				return err
			}
		}
		w.changedOrder(o.ID)
		w.changed(canceldesk.ChangedRequests)
		w.cancelled(res)
		out = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// autoCancel cancels o for the request r the rule approved, inside tx,
// under a savepoint: a cancel the plan blocks (a conflict) is undone and
// (nil, nil) comes back, so the request waits for staff instead.
func (db *DB) autoCancel(ctx context.Context, tx *sql.Tx, o *canceldesk.Order, r *canceldesk.CancellationRequest,
	settings canceldesk.Settings, hashHex, gateway string) (*canceldesk.CancelResult, error) {
	req, err := db.autoCancelRequest(ctx, tx, o, r, settings, hashHex, gateway)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT auto_approval`); err != nil {
		return nil, err
	}
	res, err := db.cancel(ctx, tx, req, ruleApproved)
	if err == nil {
		_, err = tx.ExecContext(ctx, `RELEASE SAVEPOINT auto_approval`)
		return res, err
	}
	if !isConflict(err) {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT auto_approval`); err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, `RELEASE SAVEPOINT auto_approval`)
	return nil, err
}

// isConflict reports whether err is an ECONFLICT *canceldesk.Error.
func isConflict(err error) bool {
	var de *canceldesk.Error
	return errors.As(err, &de) && de.Code == canceldesk.ECONFLICT
}

// autoShopifyCancel queues, for the request r the rule approved of the
// Shopify order o, the cancel call that approves r once Shopify has done
// it (CompleteShopifyCall). A cancel the plan blocks, or an order with a
// call open already, queues nothing: the request waits for staff.
func (db *DB) autoShopifyCancel(ctx context.Context, w *Tx, o *canceldesk.Order, r *canceldesk.CancellationRequest,
	settings canceldesk.Settings, hashHex string) error {
	req, err := db.autoCancelRequest(ctx, w.Tx, o, r, settings, hashHex, canceldesk.GatewayShopify)
	if err != nil {
		return err
	}
	req.RequestID = r.ID
	if _, err := db.openCall(ctx, w.Tx, o.ID); err == nil {
		return nil
	} else if !errors.Is(err, canceldesk.ErrNotFound) {
		return err
	}
	if _, _, err := db.planCancel(ctx, w.Tx, req, ruleApproved); isConflict(err) {
		return nil
	} else if err != nil {
		return err
	}
	call := canceldesk.ShopifyCall{OrderID: o.ID, Kind: canceldesk.ShopifyCallCancel, IdempotencyKey: req.IdempotencyKey,
		Cancel: &req, ShopifyNotifies: settings.ShopifyNotifies}
	_, err = db.insertCall(ctx, w, call, ruleActor, canceldesk.EventShopifyCancelSent)
	return err
}

// autoCancelRequest is the cancel of o that the rule's approval of r
// makes: a full refund through gateway, restocked as the settings say.
func (db *DB) autoCancelRequest(ctx context.Context, tx *sql.Tx, o *canceldesk.Order, r *canceldesk.CancellationRequest,
	settings canceldesk.Settings, hashHex, gateway string) (canceldesk.CancelRequest, error) {
	req := canceldesk.CancelRequest{OrderID: o.ID, Reason: canceldesk.ReasonCustomer,
		ReasonLabel: "Customer request: " + reasonWords(r.Reason), Refund: canceldesk.RefundNow,
		// The approved message tells the customer, not order_cancelled.
		NotifyCustomer: false,
		// The caller knows the payment gateways and asks them after commit.
		Gateway:        gateway,
		IdempotencyKey: "request:" + hashHex[:32], Actor: ruleActor, Source: canceldesk.SourceAutoApproved}
	if settings.RestockOnCancel {
		loc, err := db.cancelLocation(ctx, tx, settings.DefaultLocationID)
		if err != nil {
			return req, err
		}
		req.Restock, req.LocationID = loc != 0, loc
	}
	return req, req.Validate()
}

// cancelLocation is where an automatic cancel restocks: the settings'
// default location, else the first by name, else 0 (no restock).
func (db *DB) cancelLocation(ctx context.Context, tx *sql.Tx, defaultID int64) (int64, error) {
	var id int64
	if defaultID > 0 {
		err := tx.QueryRowContext(ctx, db.bind(`SELECT id FROM locations WHERE id = ?`), defaultID).Scan(&id)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return id, err
		}
	}
	err := tx.QueryRowContext(ctx, `SELECT id FROM locations ORDER BY name, id LIMIT 1`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// anyShipped reports whether any unit of o has shipped.
func anyShipped(o *canceldesk.Order) bool {
	for _, li := range o.LineItems {
		if li.FulfilledQuantity > 0 {
			return true
		}
	}
	return false
}

// reasonWords is a customer reason in words ("changed_mind" → "changed
// mind"), for the timeline and the cancel's reason label.
func reasonWords(reason string) string { return strings.ReplaceAll(reason, "_", " ") }

// truncateRunes cuts s to at most n characters, marking a cut with "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// customerLanguage is the language o's customer is written to in: the
// order's own (its import's), else the one of the customer's latest
// request about it, else the store's default.
func (db *DB) customerLanguage(ctx context.Context, tx *sql.Tx, o *canceldesk.Order, s canceldesk.Settings) (string, error) {
	if l := canceldesk.CustomerLanguage(o.Locale); l != "" {
		return l, nil
	}
	var locale string
	err := tx.QueryRowContext(ctx, db.bind(`SELECT locale FROM cancellation_requests WHERE order_id = ? AND locale <> ''
		ORDER BY created_at DESC, id DESC LIMIT 1`), o.ID).Scan(&locale)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	if l := canceldesk.CustomerLanguage(locale); l != "" {
		return l, nil
	}
	return canceldesk.StoreLanguage(s), nil
}

// requestLanguage is the store's settings and the language of r's
// messages: the one it was filed in, else its order's customer's.
func (db *DB) requestLanguage(ctx context.Context, tx *sql.Tx, r *canceldesk.CancellationRequest,
	o *canceldesk.Order) (canceldesk.Settings, string, error) {
	s, err := db.settings(ctx, tx)
	if err != nil {
		return s, "", err
	}
	if l := canceldesk.CustomerLanguage(r.Locale); l != "" {
		return s, l, nil
	}
	l, err := db.customerLanguage(ctx, tx, o, s)
	return s, l, err
}

// enqueueRequestMessage writes the request's message of kind to the
// order's email (the request's when the order has none).
func (db *DB) enqueueRequestMessage(ctx context.Context, tx *sql.Tx, o *canceldesk.Order, r *canceldesk.CancellationRequest,
	kind string, data canceldesk.MessageData, at time.Time) error {
	recipient := strings.TrimSpace(o.Email)
	if recipient == "" {
		recipient = r.Email
	}
	return db.enqueueMessage(ctx, tx, o.ID, kind, "", recipient, data,
		outboxRequest{RequestID: r.ID, OrderID: o.ID, OrderName: o.Name, Status: r.Status, CancellationID: r.CancellationID}, at, nil)
}

// RequestByToken implements canceldesk.RequestStore: ErrNotFound for a
// token no request has.
func (db *DB) RequestByToken(ctx context.Context, token string) (*canceldesk.CancellationRequest, error) {
	if token == "" {
		return nil, canceldesk.ErrNotFound
	}
	return db.request(ctx, db.read, `token_hash = ?`, false, tokenHash(token))
}

// Request implements canceldesk.RequestStore.
func (db *DB) Request(ctx context.Context, id int64) (*canceldesk.CancellationRequest, error) {
	return db.request(ctx, db.read, `id = ?`, false, id)
}

// PendingRequests implements canceldesk.RequestStore: the pending requests,
// oldest first, at most limit of them (at most 500), and how many are
// pending. A limit ≤ 0 lists none and only counts.
func (db *DB) PendingRequests(ctx context.Context, limit int) ([]canceldesk.CancellationRequest, int, error) {
	limit = min(limit, maxRequestsLimit)
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM cancellation_requests WHERE status = 'pending'`).Scan(&total); err != nil {
		return nil, 0, err
	}
	out := []canceldesk.CancellationRequest{}
	if limit > 0 && total > 0 {
		rows, err := tx.QueryContext(ctx, db.bind(`SELECT `+requestColumns+` FROM cancellation_requests
			WHERE status = 'pending' ORDER BY created_at, id LIMIT ?`), limit)
		if err != nil {
			return nil, 0, err
		}
		defer rows.Close()
		for rows.Next() {
			var r canceldesk.CancellationRequest
			if err := scanRequest(rows, &r); err != nil {
				return nil, 0, err
			}
			out = append(out, r)
		}
		if err := rows.Err(); err != nil {
			return nil, 0, err
		}
	}
	return out, total, tx.Commit()
}

func requestDecided() error {
	return &canceldesk.Error{Code: canceldesk.ECONFLICT, Key: "request.decided", Message: "This request has been decided already."}
}

// ApproveRequest implements canceldesk.RequestStore. One transaction: the
// request's row is locked (PostgreSQL); a request not pending is
// ECONFLICT request.decided, except that the very cancel that approved it
// (the same idempotency key) replays. The order is cancelled as req says
// (req.OrderID must be the request's order; NotifyCustomer is forced off,
// as the approved message tells the customer), the request is marked
// approved, the timeline notes it and the customer gets "approved"
// (without the status link: only its hash is stored). A cancel that fails
// returns its error and nothing is written: a refund now over the staff
// limit of req.ActorRole is EFORBIDDEN and the request stays pending.
func (db *DB) ApproveRequest(ctx context.Context, id int64, req canceldesk.CancelRequest) (*canceldesk.CancelResult, error) {
	req.NotifyCustomer = false
	if err := req.Validate(); err != nil {
		return nil, err
	}
	// An approval's key never collides with a dialog's.
	req.IdempotencyKey = approvalKeyPrefix + req.IdempotencyKey
	req.Source = canceldesk.SourceCustomerRequest
	return keyedTx(ctx, db, func(w *Tx) (*canceldesk.CancelResult, error) {
		tx := w.Tx
		r, err := db.request(ctx, tx, `id = ?`, true, id)
		if err != nil {
			return nil, err
		}
		if r.Status != canceldesk.RequestPending {
			if r.Status == canceldesk.RequestApproved && r.CancellationID != 0 && r.OrderID == req.OrderID {
				var key string
				err := tx.QueryRowContext(ctx, db.bind(`SELECT idempotency_key FROM cancellations WHERE id = ?`),
					r.CancellationID).Scan(&key)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return nil, err
				}
				if key == req.IdempotencyKey {
					return db.replay(ctx, tx, req)
				}
			}
			return nil, requestDecided()
		}
		if r.OrderID == 0 || r.OrderID != req.OrderID {
			return nil, staleKeyError() // a dialog of another order
		}
		if err := db.lockOrder(ctx, tx, r.OrderID); err != nil {
			return nil, err
		}
		o, err := db.order(ctx, tx, r.OrderID)
		if err != nil {
			return nil, err
		}
		res, err := db.cancel(ctx, tx, req, staffLimited)
		if err != nil {
			return nil, err
		}
		if err := db.approved(ctx, w, r, o, req, res); err != nil {
			return nil, err
		}
		return res, nil
	})
}

// approved records in w that req, a cancel of o done as res, approved the
// pending request r: the request is marked approved by req.Actor, the
// timeline notes it and the customer gets "approved". ApproveRequest and
// a completed Shopify cancel call write it alike.
func (db *DB) approved(ctx context.Context, w *Tx, r *canceldesk.CancellationRequest, o *canceldesk.Order,
	req canceldesk.CancelRequest, res *canceldesk.CancelResult) error {
	tx := w.Tx
	now := db.Now()
	at := now.UnixMicro()
	u, err := tx.ExecContext(ctx, db.bind(`UPDATE cancellation_requests SET status = 'approved', decided_by = ?,
		decided_at = ?, cancellation_id = ? WHERE id = ? AND status = 'pending'`), req.Actor, at, res.CancellationID, r.ID)
	if err != nil {
		return err
	}
	if n, err := u.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return requestDecided()
	}
	r.Status, r.CancellationID = canceldesk.RequestApproved, res.CancellationID
	if err := db.insertEvent(ctx, tx, &canceldesk.Event{OrderID: o.ID, Kind: eventRequestApproved, Actor: req.Actor,
		CreatedAt: now}); err != nil {
		return err
	}
	settings, lang, err := db.requestLanguage(ctx, tx, r, o)
	if err != nil {
		return err
	}
	data := canceldesk.CancelMessageData(lang, o, res.Plan, canceldesk.ReasonCustomer, req.Offer, settings)
	if err := db.enqueueRequestMessage(ctx, tx, o, r, canceldesk.MessageRequestApproved, data, now); err != nil {
		return err
	}
	w.cancelled(res)
	w.changed(canceldesk.ChangedRequests)
	return nil
}

// DeclineRequest implements canceldesk.RequestStore: the message, trimmed,
// is 1 to canceldesk.MaxDeclineMessageLen characters (else EINVALID field
// "message"); a request not pending is ECONFLICT request.decided. The
// request is declined with the message, the timeline notes it and the
// customer gets "declined" with the store's words.
func (db *DB) DeclineRequest(ctx context.Context, id int64, message, actor string) error {
	message = strings.TrimSpace(message)
	if n := utf8.RuneCountInString(message); n == 0 || n > canceldesk.MaxDeclineMessageLen {
		return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "message", Key: "validation.decline_message",
			Message: "Write a message to the customer (at most 1,000 characters)."}
	}
	return db.tx(ctx, func(w *Tx) error {
		tx := w.Tx
		r, err := db.request(ctx, tx, `id = ?`, true, id)
		if err != nil {
			return err
		}
		if r.Status != canceldesk.RequestPending {
			return requestDecided()
		}
		now := db.Now()
		u, err := tx.ExecContext(ctx, db.bind(`UPDATE cancellation_requests SET status = 'declined', decision = ?,
			decided_by = ?, decided_at = ? WHERE id = ? AND status = 'pending'`), message, actor, now.UnixMicro(), r.ID)
		if err != nil {
			return err
		}
		if n, err := u.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return requestDecided()
		}
		r.Status, r.Decision = canceldesk.RequestDeclined, message
		w.changed(canceldesk.ChangedRequests)
		w.changedOrder(r.OrderID)
		if r.OrderID == 0 {
			return nil // the order is gone: no timeline, no one to write to
		}
		o, err := db.order(ctx, tx, r.OrderID)
		if err != nil {
			return err
		}
		if err := db.insertEvent(ctx, tx, &canceldesk.Event{OrderID: o.ID, Kind: eventRequestDeclined, Actor: actor,
			Data: canceldesk.EventData{Note: truncateRunes(message, maxEventTextLen)}, CreatedAt: now}); err != nil {
			return err
		}
		settings, lang, err := db.requestLanguage(ctx, tx, r, o)
		if err != nil {
			return err
		}
		data := canceldesk.RequestMessageData(lang, o, settings, "")
		data.StoreMessage = message
		return db.enqueueRequestMessage(ctx, tx, o, r, canceldesk.MessageRequestDeclined, data, now)
	})
}

// AutoApproval implements canceldesk.RequestStore: the saved rule, or the
// default (disabled, 60 minutes, no total in any currency).
func (db *DB) AutoApproval(ctx context.Context) (canceldesk.AutoApproval, error) {
	return db.autoApproval(ctx, db.read)
}

func (db *DB) autoApproval(ctx context.Context, q querier) (canceldesk.AutoApproval, error) {
	r := canceldesk.AutoApproval{MaxAgeMinutes: defaultRuleAge, MaxTotal: map[string]int64{}}
	var value string
	err := q.QueryRowContext(ctx, db.bind(`SELECT value FROM settings WHERE key = ?`), autoApprovalKey).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	} else if err != nil {
		return r, err
	}
	var st storedAutoApproval
	if err := json.Unmarshal([]byte(value), &st); err != nil {
		return r, fmt.Errorf("store: auto-approval rule: %w", err)
	}
	r.Enabled, r.MaxAgeMinutes, r.ExcludeTags = st.Enabled, st.MaxAgeMinutes, st.ExcludeTags
	for cur, v := range st.MaxTotal {
		r.MaxTotal[cur] = v
	}
	return r, nil
}

// SaveAutoApproval implements canceldesk.RequestStore. MaxAgeMinutes is 1
// to 10080 (EINVALID field "max_age"); every MaxTotal is a currency code
// with a value above zero (field "max_total_<CUR>"); tags are trimmed,
// empty and repeated ones (ignoring case) dropped, at most 20 (field
// "exclude_tags"). Nothing is saved unless everything is valid.
func (db *DB) SaveAutoApproval(ctx context.Context, r canceldesk.AutoApproval, actor string) error {
	if r.MaxAgeMinutes < 1 || r.MaxAgeMinutes > maxRuleAgeMinutes {
		return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "max_age", Key: "validation.minutes",
			Message: "Enter a number of minutes between 1 and 10080."}
	}
	curs := make([]string, 0, len(r.MaxTotal))
	for cur := range r.MaxTotal {
		curs = append(curs, cur)
	}
	sort.Strings(curs)
	totals := make(map[string]int64, len(curs))
	for _, cur := range curs {
		if !isCurrencyCode(cur) {
			return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "max_total_" + cur, Key: "validation.currency",
				Message: "A currency is three capital letters, such as USD."}
		}
		if r.MaxTotal[cur] <= 0 {
			return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "max_total_" + cur, Key: "validation.amount",
				Message: "Enter an amount above zero."}
		}
		totals[cur] = r.MaxTotal[cur]
	}
	tags := []string{}
	for _, tag := range r.ExcludeTags {
		tag = strings.TrimSpace(tag)
		dup := false
		for _, t := range tags {
			dup = dup || strings.EqualFold(t, tag)
		}
		if tag != "" && !dup {
			tags = append(tags, tag)
		}
	}
	if len(tags) > maxRuleTags {
		return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "exclude_tags", Key: "validation.exclude_tags",
			Message: "List at most 20 tags."}
	}
	value, err := json.Marshal(storedAutoApproval{Enabled: r.Enabled, MaxAgeMinutes: r.MaxAgeMinutes,
		MaxTotal: totals, ExcludeTags: tags})
	if err != nil {
		return err
	}
	return db.tx(ctx, func(tx *Tx) error {
		tx.changed(canceldesk.ChangedSettings)
		_, err := tx.ExecContext(ctx, db.bind(`INSERT INTO settings (key, value, actor, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, actor = excluded.actor, updated_at = excluded.updated_at`),
			autoApprovalKey, string(value), actor, db.Now().UnixMicro())
		return err
	})
}
