package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/canceldesk/canceldesk"
)

var _ canceldesk.MessageStore = (*DB)(nil)

// eventMessageResent is the timeline's kind for a failed message a manager
// sent again.
const eventMessageResent = canceldesk.EventMessageResent

// Bounds of the Messages page and of one claim.
const (
	defaultMessagesLimit = 200
	maxMessagesLimit     = 500
	maxClaim             = 500
	maxLastErrorLen      = 1000 // characters of an error kept
)

// messageColumns are what scanMessage reads, from outbox m joined with its
// order o. listColumns leave out the two bodies, which a list never shows.
const (
	messageColumns = `m.id, m.order_id, coalesce(o.name, ''), m.kind, m.recipient, m.subject, m.text_body, m.html_body,
	m.message_id, m.status, m.lang, m.attempts, m.last_error, m.next_attempt_at, m.created_at, m.sent_at,
	coalesce(m.waits_for_refund, 0), m.template`
	listColumns = `m.id, m.order_id, coalesce(o.name, ''), m.kind, m.recipient, m.subject, '', '',
	m.message_id, m.status, m.lang, m.attempts, m.last_error, m.next_attempt_at, m.created_at, m.sent_at,
	coalesce(m.waits_for_refund, 0), m.template`
	messageFrom = ` FROM outbox m LEFT JOIN orders o ON o.id = m.order_id `
)

func scanMessage(sc scanner, m *canceldesk.OutboxMessage) error {
	var (
		order         sql.NullInt64
		next, created int64
		sent          sql.NullInt64
	)
	if err := sc.Scan(&m.ID, &order, &m.OrderName, &m.Kind, &m.Recipient, &m.Subject, &m.Text, &m.HTML, &m.MessageID,
		&m.Status, &m.Lang, &m.Attempts, &m.LastError, &next, &created, &sent, &m.WaitsForRefund, &m.Template); err != nil {
		return err
	}
	m.OrderID, m.NextAttemptAt, m.CreatedAt, m.SentAt = order.Int64, fromMicros(next), fromMicros(created), fromNullMicros(sent)
	return nil
}

func (db *DB) queryMessages(ctx context.Context, q querier, query string, args ...any) ([]canceldesk.OutboxMessage, error) {
	rows, err := q.QueryContext(ctx, db.bind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []canceldesk.OutboxMessage{}
	for rows.Next() {
		var m canceldesk.OutboxMessage
		if err := scanMessage(rows, &m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// newMessageID returns a unique RFC 5322 Message-ID,
// "<outbox.<32 hex digits>@canceldesk.local>", from crypto/rand.
func newMessageID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "<outbox." + hex.EncodeToString(b[:]) + "@canceldesk.local>", nil
}

// enqueueMessage writes the customer message of kind owed by the action of
// tx, rendered now in data.Lang (the store's default language when empty):
// the templates in use (read in tx) pick the variant's own in that
// language, else the kind's; data fills it (its StoreName from the settings when
// empty); payload is kept as JSON beside it. The message is pending and due
// at, with a Message-ID of its own. orderID 0 is a message of no order.
//
// A message about a refund still pending at its gateway (waitsFor) waits
// for it: it is not due until SettleRefund records the refund succeeded
// (releaseMessages), so a customer is never told of money that did not
// move; a failed refund's message waits for a retry that succeeds.
func (db *DB) enqueueMessage(ctx context.Context, tx *sql.Tx, orderID int64, kind, variant, recipient string,
	data canceldesk.MessageData, payload any, at time.Time, waitsFor *canceldesk.Refund) error {
	ts, err := db.templates(ctx, tx)
	if err != nil {
		return err
	}
	if data.StoreName == "" || data.Lang == "" {
		s, err := db.settings(ctx, tx)
		if err != nil {
			return err
		}
		data.StoreName = cmp.Or(data.StoreName, s.StoreName)
		data.Lang = cmp.Or(data.Lang, canceldesk.StoreLanguage(s))
	}
	t := canceldesk.PickTemplate(ts, data.Lang, kind, variant)
	msg := t.Render(data)
	payloadJSON, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	mid, err := newMessageID()
	if err != nil {
		return err
	}
	var order any
	if orderID != 0 {
		order = orderID
	}
	us := at.UnixMicro()
	due, waits := us, any(nil)
	if waitsFor != nil && waitsFor.Status == canceldesk.RefundPending {
		due, waits = heldMessageDue, waitsFor.ID
	}
	_, err = tx.ExecContext(ctx, db.bind(`INSERT INTO outbox (order_id, kind, recipient, payload, status, attempts,
		subject, text_body, html_body, message_id, next_attempt_at, claimed_until, created_at, updated_at, waits_for_refund, template, lang)
		VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)`),
		order, kind, recipient, string(payloadJSON), msg.Subject, msg.Text, msg.HTML, mid, due, us, us, waits, t.Key(), data.Lang)
	return err
}

// heldMessageDue is the next attempt of a message that waits for a refund:
// never, until releaseMessages makes it due.
const heldMessageDue = math.MaxInt64

// releaseMessages makes the messages that wait for a refund due now; the
// refund succeeded in tx.
func (db *DB) releaseMessages(ctx context.Context, tx *sql.Tx, refundID, at int64) error {
	_, err := tx.ExecContext(ctx, db.bind(`UPDATE outbox SET waits_for_refund = NULL, next_attempt_at = ?, updated_at = ?
		WHERE waits_for_refund = ? AND status = 'pending'`), at, at, refundID)
	return err
}

// Templates implements canceldesk.MessageStore: every built-in default
// with the saved templates in place of theirs, plus saved variants without
// a default, in canceldesk.MessageKinds order, each kind's default first
// and its variants in canceldesk.CancelReasons order, language by language
// (canceldesk.MessageLanguages order).
func (db *DB) Templates(ctx context.Context) ([]canceldesk.Template, error) {
	return db.templates(ctx, db.read)
}

func (db *DB) templates(ctx context.Context, q querier) ([]canceldesk.Template, error) {
	rows, err := q.QueryContext(ctx, `SELECT lang, kind, variant, subject, body, updated_by, updated_at FROM message_templates`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ts := canceldesk.DefaultTemplates()
	for rows.Next() {
		var (
			t  canceldesk.Template
			at int64
		)
		if err := rows.Scan(&t.Lang, &t.Kind, &t.Variant, &t.Subject, &t.Body, &t.UpdatedBy, &at); err != nil {
			return nil, err
		}
		t.UpdatedAt = fromMicros(at)
		if i := slices.IndexFunc(ts, func(d canceldesk.Template) bool {
			return d.Lang == t.Lang && d.Kind == t.Kind && d.Variant == t.Variant
		}); i >= 0 {
			ts[i] = t
		} else {
			ts = append(ts, t)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rank := func(list []string, s string) int {
		if i := slices.Index(list, s); i >= 0 {
			return i
		}
		return len(list)
	}
	reasons := []string{""}
	for _, r := range canceldesk.CancelReasons {
		reasons = append(reasons, string(r))
	}
	slices.SortStableFunc(ts, func(a, b canceldesk.Template) int {
		if d := rank(canceldesk.MessageLanguages, a.Lang) - rank(canceldesk.MessageLanguages, b.Lang); d != 0 {
			return d
		}
		if d := rank(canceldesk.MessageKinds, a.Kind) - rank(canceldesk.MessageKinds, b.Kind); d != 0 {
			return d
		}
		if a.Kind != b.Kind {
			return strings.Compare(a.Kind, b.Kind)
		}
		if d := rank(reasons, a.Variant) - rank(reasons, b.Variant); d != 0 {
			return d
		}
		return strings.Compare(a.Variant, b.Variant)
	})
	return ts, nil
}

// SaveTemplate implements canceldesk.MessageStore: t.Validate's error comes
// back as it is (a *canceldesk.PlaceholderError or a *canceldesk.Error) and
// nothing is saved; else the template replaces the one in use for its
// (lang, kind, variant), by t.UpdatedBy now.
func (db *DB) SaveTemplate(ctx context.Context, t canceldesk.Template) error {
	if err := t.Validate(); err != nil {
		return err
	}
	t.Lang = cmp.Or(t.Lang, canceldesk.DefaultLanguage)
	return db.tx(ctx, func(tx *Tx) error {
		tx.changed(canceldesk.ChangedSettings)
		_, err := tx.ExecContext(ctx, db.bind(`INSERT INTO message_templates (lang, kind, variant, subject, body, updated_by, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (lang, kind, variant) DO UPDATE SET subject = excluded.subject,
			body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at`),
			t.Lang, t.Kind, t.Variant, t.Subject, t.Body, t.UpdatedBy, db.Now().UnixMicro())
		return err
	})
}

// Messages implements canceldesk.MessageStore: the newest messages first
// (by id), of status ("" for all; else pending, sent or failed, or
// EINVALID), at most limit (≤ 0 or over 500: 200). A list leaves Text and
// HTML empty; Message has them.
func (db *DB) Messages(ctx context.Context, status string, limit int) ([]canceldesk.OutboxMessage, error) {
	if limit <= 0 || limit > maxMessagesLimit {
		limit = defaultMessagesLimit
	}
	switch status {
	case "":
		return db.queryMessages(ctx, db.read, `SELECT `+listColumns+messageFrom+`ORDER BY m.id DESC LIMIT ?`, limit)
	case canceldesk.MessagePending, canceldesk.MessageSent, canceldesk.MessageFailed:
		return db.queryMessages(ctx, db.read, `SELECT `+listColumns+messageFrom+`WHERE m.status = ? ORDER BY m.id DESC LIMIT ?`,
			status, limit)
	}
	return nil, &canceldesk.Error{Code: canceldesk.EINVALID, Field: "status", Key: "validation.status",
		Message: "Choose a status from the list."}
}

// Message implements canceldesk.MessageStore.
func (db *DB) Message(ctx context.Context, id int64) (*canceldesk.OutboxMessage, error) {
	var m canceldesk.OutboxMessage
	err := scanMessage(db.read.QueryRowContext(ctx, db.bind(`SELECT `+messageColumns+messageFrom+`WHERE m.id = ?`), id), &m)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, canceldesk.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return &m, nil
}

// ResendMessage implements canceldesk.MessageStore: a failed message is
// pending again, due now, with no attempts, no error and no claim, and the
// order's timeline says who sent it again (kind "message_resent", the
// recipient). A message written before messages were rendered (migration
// 0005) is rendered now, from the order as it is and today's templates.
// A message that is not failed is ECONFLICT message.not_failed; an
// unknown one ErrNotFound.
func (db *DB) ResendMessage(ctx context.Context, id int64, actor string) error {
	return db.tx(ctx, func(w *Tx) error {
		tx := w.Tx
		q := `SELECT order_id, kind, recipient, status, subject, payload FROM outbox WHERE id = ?`
		if db.dialect == postgres {
			q += ` FOR UPDATE`
		}
		var (
			order                                     sql.NullInt64
			kind, recipient, status, subject, payload string
		)
		err := tx.QueryRowContext(ctx, db.bind(q), id).Scan(&order, &kind, &recipient, &status, &subject, &payload)
		if errors.Is(err, sql.ErrNoRows) {
			return canceldesk.ErrNotFound
		} else if err != nil {
			return err
		}
		if status != canceldesk.MessageFailed {
			return &canceldesk.Error{Code: canceldesk.ECONFLICT, Key: "message.not_failed",
				Message: "Only a failed message can be sent again."}
		}
		now := db.Now()
		at := now.UnixMicro()
		if subject == "" {
			msg, err := db.renderLegacy(ctx, tx, order.Int64, kind, payload)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, db.bind(`UPDATE outbox SET subject = ?, text_body = ?, html_body = ? WHERE id = ?`),
				msg.Subject, msg.Text, msg.HTML, id); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, db.bind(`UPDATE outbox SET status = 'pending', attempts = 0, last_error = '',
			next_attempt_at = ?, claimed_until = 0, updated_at = ? WHERE id = ? AND status = 'failed'`), at, at, id)
		if err != nil {
			return err
		}
		if !order.Valid {
			return nil
		}
		return db.insertEvent(ctx, tx, &canceldesk.Event{OrderID: order.Int64, Kind: eventMessageResent, Data: canceldesk.EventData{Recipient: recipient},
			Actor: actor, CreatedAt: now})
	})
}

// renderLegacy renders a message written before migration 0005 (which
// kept only its payload) from its order, its cancellation or refund as
// recorded, the settings and the templates in use.
func (db *DB) renderLegacy(ctx context.Context, tx *sql.Tx, orderID int64, kind, payload string) (canceldesk.RenderedMessage, error) {
	var p struct {
		CancellationID int64  `json:"cancellation_id"`
		RefundID       int64  `json:"refund_id"`
		Reason         string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(payload), &p); err != nil {
		return canceldesk.RenderedMessage{}, fmt.Errorf("store: outbox payload: %w", err)
	}
	o, err := db.order(ctx, tx, orderID)
	if err != nil {
		return canceldesk.RenderedMessage{}, err
	}
	s, err := db.settings(ctx, tx)
	if err != nil {
		return canceldesk.RenderedMessage{}, err
	}
	ts, err := db.templates(ctx, tx)
	if err != nil {
		return canceldesk.RenderedMessage{}, err
	}
	var (
		data     canceldesk.MessageData
		variant  string
		planJSON string
	)
	switch kind {
	case canceldesk.MessageOrderCancelled:
		if err := tx.QueryRowContext(ctx, db.bind(`SELECT plan FROM cancellations WHERE id = ?`), p.CancellationID).Scan(&planJSON); err != nil {
			return canceldesk.RenderedMessage{}, fmt.Errorf("store: cancellation %d of an outbox message: %w", p.CancellationID, err)
		}
		var plan canceldesk.CancelPlan
		if err := json.Unmarshal([]byte(planJSON), &plan); err != nil {
			return canceldesk.RenderedMessage{}, err
		}
		variant = p.Reason
		// Messages written before 0005 were English, as their rows say.
		data = canceldesk.CancelMessageData("en", o, plan, canceldesk.CancelReason(p.Reason), canceldesk.Offer{}, s)
	case canceldesk.MessageRefundIssued:
		if err := tx.QueryRowContext(ctx, db.bind(`SELECT plan FROM refunds WHERE id = ?`), p.RefundID).Scan(&planJSON); err != nil {
			return canceldesk.RenderedMessage{}, fmt.Errorf("store: refund %d of an outbox message: %w", p.RefundID, err)
		}
		var plan canceldesk.RefundPlan
		if err := json.Unmarshal([]byte(planJSON), &plan); err != nil {
			return canceldesk.RenderedMessage{}, err
		}
		credits, err := db.storeCredits(ctx, tx, `WHERE refund_id = ?`, p.RefundID)
		if err != nil {
			return canceldesk.RenderedMessage{}, err
		}
		var credit *canceldesk.StoreCredit
		if len(credits) > 0 {
			credit = &credits[0]
		}
		data = canceldesk.RefundMessageData("en", o, plan, credit, s, db.zone.Load())
	default:
		return canceldesk.RenderedMessage{}, fmt.Errorf("store: cannot render an outbox message of kind %q", kind)
	}
	return canceldesk.PickTemplate(ts, data.Lang, kind, variant).Render(data), nil
}

// ClaimMessages implements canceldesk.Outbox: in one transaction, up to n
// pending messages due now and not claimed (or whose claim has ended),
// oldest first, are claimed until now+lease, each counting an attempt. On
// PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, and a row another
// instance claimed meanwhile is re-checked under its lock, so two instances
// never claim one message; on SQLite the write lock taken at BEGIN
// serializes claims.
func (db *DB) ClaimMessages(ctx context.Context, n int, lease time.Duration) ([]canceldesk.OutboxMessage, error) {
	if n <= 0 {
		return []canceldesk.OutboxMessage{}, nil
	}
	if lease <= 0 {
		return nil, errors.New("store: a claim's lease must be positive")
	}
	n = min(n, maxClaim)
	var out []canceldesk.OutboxMessage
	err := db.tx(ctx, func(tx *Tx) error {
		now := db.Now()
		at, until := now.UnixMicro(), now.Add(lease).UnixMicro()
		lock := ""
		if db.dialect == postgres {
			lock = ` FOR UPDATE SKIP LOCKED`
		}
		rows, err := tx.QueryContext(ctx, db.bind(`UPDATE outbox SET claimed_until = ?, attempts = attempts + 1, updated_at = ?
			WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? AND claimed_until <= ?
				ORDER BY id LIMIT ?`+lock+`)
			RETURNING id`), until, at, at, at, n)
		if err != nil {
			return err
		}
		var ids []any
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		if len(ids) == 0 {
			out = []canceldesk.OutboxMessage{}
			return nil
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
		out, err = db.queryMessages(ctx, tx, `SELECT `+messageColumns+messageFrom+`WHERE m.id IN (`+marks+`) ORDER BY m.id`, ids...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MarkSent implements canceldesk.Outbox: a pending message is sent now,
// its claim and error cleared. A message no longer pending stays as it is
// (no error); an unknown one is ErrNotFound.
func (db *DB) MarkSent(ctx context.Context, id int64) error {
	return db.tx(ctx, func(w *Tx) error {
		tx := w.Tx
		at := db.Now().UnixMicro()
		r, err := tx.ExecContext(ctx, db.bind(`UPDATE outbox SET status = 'sent', sent_at = ?, claimed_until = 0,
			last_error = '', updated_at = ? WHERE id = ? AND status = 'pending'`), at, at, id)
		return db.markedOrExists(ctx, tx, r, err, id)
	})
}

// MarkFailed implements canceldesk.Outbox: a pending message keeps errMsg
// (at most 1000 characters) as its last error and loses its claim; with
// retryAt it stays pending and is due then, without it has failed for good.
// A message no longer pending stays as it is (no error); an unknown one is
// ErrNotFound.
func (db *DB) MarkFailed(ctx context.Context, id int64, errMsg string, retryAt *time.Time) error {
	if utf8.RuneCountInString(errMsg) > maxLastErrorLen {
		errMsg = string([]rune(errMsg)[:maxLastErrorLen])
	}
	return db.tx(ctx, func(w *Tx) error {
		tx := w.Tx
		at := db.Now().UnixMicro()
		var (
			r   sql.Result
			err error
		)
		if retryAt != nil {
			r, err = tx.ExecContext(ctx, db.bind(`UPDATE outbox SET last_error = ?, next_attempt_at = ?, claimed_until = 0,
				updated_at = ? WHERE id = ? AND status = 'pending'`), errMsg, retryAt.UnixMicro(), at, id)
		} else {
			r, err = tx.ExecContext(ctx, db.bind(`UPDATE outbox SET status = 'failed', last_error = ?, claimed_until = 0,
				updated_at = ? WHERE id = ? AND status = 'pending'`), errMsg, at, id)
		}
		return db.markedOrExists(ctx, tx, r, err, id)
	})
}

// markedOrExists finishes MarkSent and MarkFailed: nothing updated is fine
// for a message that exists (it was no longer pending), ErrNotFound else.
func (db *DB) markedOrExists(ctx context.Context, tx *sql.Tx, r sql.Result, err error, id int64) error {
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, db.bind(`SELECT count(*) FROM outbox WHERE id = ?`), id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return canceldesk.ErrNotFound
	}
	return nil
}
