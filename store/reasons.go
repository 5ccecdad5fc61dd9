package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/canceldesk/canceldesk"
)

const reasonColumns = `key, code, retired, label_en, label_zh_tw`

// Reasons implements canceldesk.ReasonStore.
func (db *DB) Reasons(ctx context.Context, all bool) ([]canceldesk.ReasonOption, error) {
	q := `SELECT ` + reasonColumns + ` FROM cancel_reasons`
	if !all {
		q += ` WHERE NOT retired`
	}
	return db.reasons(ctx, db.read, q+` ORDER BY position, key`)
}

func (db *DB) reasons(ctx context.Context, q querier, query string, args ...any) ([]canceldesk.ReasonOption, error) {
	rows, err := q.QueryContext(ctx, db.bind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []canceldesk.ReasonOption
	for rows.Next() {
		var r canceldesk.ReasonOption
		var en, zh string
		if err := rows.Scan(&r.Key, &r.Code, &r.Retired, &en, &zh); err != nil {
			return nil, err
		}
		r.Labels = map[string]string{"en": en}
		if zh != "" {
			r.Labels["zh-TW"] = zh
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AddReason implements canceldesk.ReasonStore.
func (db *DB) AddReason(ctx context.Context, r canceldesk.ReasonOption) (canceldesk.ReasonOption, error) {
	r, err := canceldesk.CheckReason(r)
	if err != nil {
		return r, err
	}
	r.Retired = false
	err = db.tx(ctx, func(tx *Tx) error {
		all, err := db.reasons(ctx, tx, `SELECT `+reasonColumns+` FROM cancel_reasons`)
		if err != nil {
			return err
		}
		r.Key = canceldesk.ReasonKey(r.Labels["en"], func(k string) bool { _, ok := canceldesk.FindReason(all, k); return ok })
		now := db.Now().UnixMicro()
		_, err = tx.ExecContext(ctx, db.bind(`INSERT INTO cancel_reasons (key, code, position, retired, label_en, label_zh_tw, created_at, updated_at)
VALUES (?, ?, (SELECT coalesce(max(position), 0) + 1 FROM cancel_reasons), ?, ?, ?, ?, ?)`),
			r.Key, string(r.Code), false, r.Labels["en"], r.Labels["zh-TW"], now, now)
		return err
	})
	return r, err
}

// UpdateReason implements canceldesk.ReasonStore; an unknown key is
// canceldesk.ErrNotFound.
func (db *DB) UpdateReason(ctx context.Context, r canceldesk.ReasonOption) (canceldesk.ReasonOption, error) {
	r, err := canceldesk.CheckReason(r)
	if err != nil {
		return r, err
	}
	err = db.tx(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, db.bind(`UPDATE cancel_reasons SET code = ?, label_en = ?, label_zh_tw = ?, updated_at = ?
WHERE key = ? RETURNING retired`), string(r.Code), r.Labels["en"], r.Labels["zh-TW"], db.Now().UnixMicro(), r.Key).Scan(&r.Retired)
		if errors.Is(err, sql.ErrNoRows) {
			return canceldesk.ErrNotFound
		}
		return err
	})
	return r, err
}

// MoveReason implements canceldesk.ReasonStore: the reason swaps places
// with its neighbour in the full list (retired ones included); at either
// end it stays. An unknown key is canceldesk.ErrNotFound.
func (db *DB) MoveReason(ctx context.Context, key string, delta int) error {
	return db.tx(ctx, func(tx *Tx) error {
		all, err := db.reasons(ctx, tx, `SELECT `+reasonColumns+` FROM cancel_reasons ORDER BY position, key`)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(all, func(r canceldesk.ReasonOption) bool { return r.Key == key })
		if i < 0 {
			return canceldesk.ErrNotFound
		}
		j := i + delta
		if delta == 0 || j < 0 || j >= len(all) {
			return nil
		}
		all[i], all[j] = all[j], all[i]
		// Renumber the whole list: positions stay dense whatever they were.
		now := db.Now().UnixMicro()
		for n, r := range all {
			if _, err := tx.ExecContext(ctx, db.bind(`UPDATE cancel_reasons SET position = ?, updated_at = CASE WHEN key IN (?, ?) THEN ? ELSE updated_at END WHERE key = ?`),
				n+1, key, all[i].Key, now, r.Key); err != nil {
				return err
			}
		}
		return nil
	})
}

// RetireReason implements canceldesk.ReasonStore; an unknown key is
// canceldesk.ErrNotFound.
func (db *DB) RetireReason(ctx context.Context, key string, retired bool) error {
	return db.tx(ctx, func(tx *Tx) error {
		return oneRow(tx.ExecContext(ctx, db.bind(`UPDATE cancel_reasons SET retired = ?, updated_at = ? WHERE key = ?`), retired, db.Now().UnixMicro(), key))
	})
}
