package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/canceldesk/canceldesk"
)

var _ canceldesk.AccountStore = (*DB)(nil)

const accountColumns = `id, name, email, role, language, password_hash, disabled_at, created_at, updated_at`

var (
	errEmailTaken = &canceldesk.Error{Code: canceldesk.ECONFLICT, Field: "email", Key: "validation.email_taken",
		Message: "An account with this email exists already."}
	errLastOwner = &canceldesk.Error{Code: canceldesk.ECONFLICT, Key: "accounts.last_owner",
		Message: "The store needs at least one active owner: make someone else owner first."}
	errInviteInvalid = &canceldesk.Error{Code: canceldesk.ENOTFOUND, Key: "invite.invalid",
		Message: "This invitation link is not valid: it was used already or it expired."}
	errBadRole = &canceldesk.Error{Code: canceldesk.EINVALID, Field: "role", Key: "validation.role",
		Message: "Choose a role."}
	errBadLanguage = &canceldesk.Error{Code: canceldesk.EINVALID, Field: "language", Key: "validation.language",
		Message: "Choose a language from the list."}
)

// CreateAccount implements canceldesk.AccountStore.
func (db *DB) CreateAccount(ctx context.Context, a *canceldesk.Account) error {
	if err := canceldesk.ValidateAccount(a); err != nil {
		return err
	}
	if !validLanguage(a.Language) {
		return errBadLanguage
	}
	now := fromMicros(db.Now().UnixMicro())
	var disabled *time.Time
	if a.DisabledAt != nil {
		t := fromMicros(a.DisabledAt.UnixMicro())
		disabled = &t
	}
	var id int64
	err := db.tx(ctx, func(tx *Tx) error {
		return tx.QueryRowContext(ctx, db.bind(`INSERT INTO accounts (name, email, role, language, password_hash,
			disabled_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			a.Name, a.Email, string(a.Role), a.Language, a.PasswordHash, micros(disabled),
			now.UnixMicro(), now.UnixMicro()).Scan(&id)
	})
	if isUniqueViolation(err) {
		return errEmailTaken
	} else if err != nil {
		return err
	}
	a.ID, a.DisabledAt, a.CreatedAt, a.UpdatedAt = id, disabled, now, now
	return nil
}

// isUniqueViolation reports whether err is a unique-constraint violation
// of either database.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// Account implements canceldesk.AccountStore.
func (db *DB) Account(ctx context.Context, id int64) (*canceldesk.Account, error) {
	var a *canceldesk.Account
	err := db.accountRead(ctx, func(tx *sql.Tx) (err error) {
		a, err = db.accountWhere(ctx, tx, false, "id = ?", id)
		return err
	})
	return a, err
}

// AccountByEmail implements canceldesk.AccountStore.
func (db *DB) AccountByEmail(ctx context.Context, email string) (*canceldesk.Account, error) {
	var a *canceldesk.Account
	err := db.accountRead(ctx, func(tx *sql.Tx) (err error) {
		a, err = db.accountWhere(ctx, tx, false, "email = ?", canceldesk.NormalizeEmail(email))
		return err
	})
	return a, err
}

// Accounts implements canceldesk.AccountStore. The sort is done here, not
// in SQL, so both databases agree whatever their collation.
func (db *DB) Accounts(ctx context.Context) ([]canceldesk.Account, error) {
	var out []canceldesk.Account
	err := db.accountRead(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAccount(rows)
			if err != nil {
				return err
			}
			out = append(out, *a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b canceldesk.Account) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// CountAccounts implements canceldesk.AccountStore.
func (db *DB) CountAccounts(ctx context.Context) (int, error) {
	var n int
	err := db.accountRead(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n)
	})
	return n, err
}

// UpdateAccount implements canceldesk.AccountStore. The active owners are
// counted inside the write transaction: on SQLite that transaction holds
// the database's write lock from BEGIN; on PostgreSQL the active owners'
// rows are locked first, in id order, so two demotions of the last two
// owners queue and the second sees the first's result.
func (db *DB) UpdateAccount(ctx context.Context, id int64, role canceldesk.Role, disabled bool) (*canceldesk.Account, error) {
	if !role.Valid() {
		return nil, errBadRole
	}
	var a *canceldesk.Account
	err := db.tx(ctx, func(w *Tx) error {
		tx := w.Tx
		owners, err := db.activeOwners(ctx, tx)
		if err != nil {
			return err
		}
		cur, err := db.accountWhere(ctx, tx, true, "id = ?", id)
		if err != nil {
			return err
		}
		wasOwner := cur.Role == canceldesk.RoleOwner && cur.Active()
		staysOwner := role == canceldesk.RoleOwner && !disabled && cur.PasswordHash != ""
		if wasOwner && !staysOwner && len(owners) <= 1 {
			return errLastOwner
		}
		now := db.Now().UnixMicro()
		disabledAt := micros(cur.DisabledAt)
		if !disabled {
			disabledAt = nil
		} else if cur.DisabledAt == nil {
			disabledAt = now
		}
		if _, err := tx.ExecContext(ctx, db.bind(`UPDATE accounts SET role = ?, disabled_at = ?, updated_at = ? WHERE id = ?`),
			string(role), disabledAt, now, id); err != nil {
			return err
		}
		a, err = db.accountWhere(ctx, tx, true, "id = ?", id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// activeOwners returns the ids of the active owners; on PostgreSQL it locks
// their rows until the transaction ends.
func (db *DB) activeOwners(ctx context.Context, tx *sql.Tx) ([]int64, error) {
	q := `SELECT id FROM accounts WHERE role = 'owner' AND disabled_at IS NULL AND password_hash <> '' ORDER BY id`
	if db.dialect == postgres {
		q += ` FOR UPDATE`
	}
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// SetPassword implements canceldesk.AccountStore.
func (db *DB) SetPassword(ctx context.Context, id int64, hash string) error {
	if hash == "" {
		return canceldesk.Errorf(canceldesk.EINVALID, "empty password hash")
	}
	return db.tx(ctx, func(w *Tx) error {
		tx := w.Tx
		if err := db.updateAccountRow(ctx, tx, id, "password_hash", hash); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, db.bind(`DELETE FROM account_invites WHERE account_id = ? AND used_at IS NULL`), id)
		return err
	})
}

// SetLanguage implements canceldesk.AccountStore.
func (db *DB) SetLanguage(ctx context.Context, id int64, lang string) error {
	if !validLanguage(lang) {
		return errBadLanguage
	}
	return db.tx(ctx, func(w *Tx) error {
		tx := w.Tx
		return db.updateAccountRow(ctx, tx, id, "language", lang)
	})
}

// validLanguage accepts "" or something shaped like a language tag
// ("en", "zh-TW"); which languages exist is the catalogues' business.
func validLanguage(s string) bool {
	if s == "" {
		return true
	}
	if len(s) > 35 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// updateAccountRow sets one column (a constant of this file) and
// updated_at; an unknown id is ErrNotFound.
func (db *DB) updateAccountRow(ctx context.Context, tx *sql.Tx, id int64, column string, value any) error {
	return oneRow(tx.ExecContext(ctx, db.bind(`UPDATE accounts SET `+column+` = ?, updated_at = ? WHERE id = ?`),
		value, db.Now().UnixMicro(), id))
}

// CreateInvite implements canceldesk.AccountStore.
func (db *DB) CreateInvite(ctx context.Context, accountID int64, tokenHash []byte, expires time.Time) error {
	if len(tokenHash) != sha256.Size {
		return canceldesk.Errorf(canceldesk.EINVALID, "an invitation token hash is %d bytes, not %d", sha256.Size, len(tokenHash))
	}
	return db.tx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, db.bind(`SELECT count(*) FROM accounts WHERE id = ?`), accountID).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			return canceldesk.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, db.bind(`DELETE FROM account_invites WHERE account_id = ? AND used_at IS NULL`), accountID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, db.bind(`INSERT INTO account_invites (token_hash, account_id, expires_at, created_at)
			VALUES (?, ?, ?, ?)`), tokenHash, accountID, expires.UnixMicro(), db.Now().UnixMicro())
		return err
	})
}

// AcceptInvite implements canceldesk.AccountStore. Using the token up is
// one guarded UPDATE, so of two concurrent acceptances exactly one wins.
func (db *DB) AcceptInvite(ctx context.Context, tokenHash []byte, passwordHash string, now time.Time) (*canceldesk.Account, error) {
	if passwordHash == "" {
		return nil, canceldesk.Errorf(canceldesk.EINVALID, "empty password hash")
	}
	var a *canceldesk.Account
	err := db.tx(ctx, func(w *Tx) error {
		tx := w.Tx
		var id int64
		err := tx.QueryRowContext(ctx, db.bind(`UPDATE account_invites SET used_at = ?
			WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING account_id`),
			now.UnixMicro(), tokenHash, now.UnixMicro()).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return errInviteInvalid
		} else if err != nil {
			return err
		}
		if a, err = db.accountWhere(ctx, tx, true, "id = ?", id); err != nil {
			return err
		}
		if a.DisabledAt != nil {
			return errInviteInvalid
		}
		if err := db.updateAccountRow(ctx, tx, id, "password_hash", passwordHash); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.bind(`DELETE FROM account_invites WHERE account_id = ? AND used_at IS NULL`), id); err != nil {
			return err
		}
		a, err = db.accountWhere(ctx, tx, true, "id = ?", id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// accountRead runs fn in a read-only transaction.
func (db *DB) accountRead(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// accountWhere reads the one account matching cond (a constant condition of
// this file with one placeholder), or ErrNotFound. With lock, on PostgreSQL,
// the row stays locked until the write transaction ends.
func (db *DB) accountWhere(ctx context.Context, tx *sql.Tx, lock bool, cond string, arg any) (*canceldesk.Account, error) {
	q := `SELECT ` + accountColumns + ` FROM accounts WHERE ` + cond
	if lock && db.dialect == postgres {
		q += ` FOR UPDATE`
	}
	a, err := scanAccount(tx.QueryRowContext(ctx, db.bind(q), arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, canceldesk.ErrNotFound
	}
	return a, err
}

func scanAccount(row interface{ Scan(...any) error }) (*canceldesk.Account, error) {
	var (
		a                canceldesk.Account
		role             string
		disabled         sql.NullInt64
		created, updated int64
	)
	if err := row.Scan(&a.ID, &a.Name, &a.Email, &role, &a.Language, &a.PasswordHash, &disabled, &created, &updated); err != nil {
		return nil, err
	}
	a.Role, a.DisabledAt = canceldesk.Role(role), fromNullMicros(disabled)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &a, nil
}
