package store_test

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/store"
)

// The store keeps hashes as given; these stand in for argon2id strings so
// the tests do not spend time hashing.
const (
	hashA = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaC1h"
	hashB = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaC1i"
)

// addAccount creates an account; mods adjust it before it is stored.
func addAccount(t *testing.T, db *store.DB, name, email string, role canceldesk.Role, mods ...func(*canceldesk.Account)) *canceldesk.Account {
	t.Helper()
	a := &canceldesk.Account{Name: name, Email: email, Role: role, PasswordHash: hashA}
	for _, m := range mods {
		m(a)
	}
	if err := db.CreateAccount(ctx(t), a); err != nil {
		t.Fatalf("CreateAccount(%s): %v", email, err)
	}
	return a
}

func pending(a *canceldesk.Account) { a.PasswordHash = "" }

func getAccount(t *testing.T, db *store.DB, id int64) *canceldesk.Account {
	t.Helper()
	a, err := db.Account(ctx(t), id)
	if err != nil {
		t.Fatalf("Account(%d): %v", id, err)
	}
	return a
}

// checkError fails unless err is a domain error with that code and key.
func checkError(t *testing.T, what string, err error, code, key string) {
	t.Helper()
	var de *canceldesk.Error
	if !errors.As(err, &de) || de.Code != code || de.Key != key {
		t.Errorf("%s: err = %#v, want code %q key %q", what, err, code, key)
	}
}

// activeOwners counts the accounts that keep the store administrable.
func activeOwners(t *testing.T, db *store.DB) int {
	t.Helper()
	accts, err := db.Accounts(ctx(t))
	if err != nil {
		t.Fatalf("Accounts: %v", err)
	}
	n := 0
	for _, a := range accts {
		if a.Role == canceldesk.RoleOwner && a.Active() {
			n++
		}
	}
	return n
}

func newInvite(t *testing.T, db *store.DB, accountID int64, expires time.Time) string {
	t.Helper()
	token, hash, err := canceldesk.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateInvite(ctx(t), accountID, hash, expires); err != nil {
		t.Fatalf("CreateInvite(%d): %v", accountID, err)
	}
	return token
}

func TestAccounts(t *testing.T) {
	t.Run("created account reads back by id and by any-case email", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			a := addAccount(t, db, "  Ann Lee ", " Ann@Example.COM ", canceldesk.RoleOwner,
				func(a *canceldesk.Account) { a.Language = "zh-TW" })
			if a.ID <= 0 || a.Email != "ann@example.com" || a.Name != "Ann Lee" {
				t.Errorf("after CreateAccount: ID %d, Email %q, Name %q; want an id, normalized email, trimmed name", a.ID, a.Email, a.Name)
			}
			checkTime(t, "CreatedAt", a.CreatedAt, fixedNow)
			checkTime(t, "UpdatedAt", a.UpdatedAt, fixedNow)
			want := &canceldesk.Account{ID: a.ID, Name: "Ann Lee", Email: "ann@example.com", Role: canceldesk.RoleOwner,
				Language: "zh-TW", PasswordHash: hashA, CreatedAt: fixedNow, UpdatedAt: fixedNow}
			got := getAccount(t, db, a.ID)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Account(%d) =\n %+v\nwant\n %+v", a.ID, got, want)
			}
			if !reflect.DeepEqual(got, a) {
				t.Errorf("stored %+v differs from the created %+v", got, a)
			}
			byEmail, err := db.AccountByEmail(ctx(t), " ANN@example.com")
			if err != nil || !reflect.DeepEqual(byEmail, want) {
				t.Errorf("AccountByEmail = %+v, %v; want %+v", byEmail, err, want)
			}
			if n, err := db.CountAccounts(ctx(t)); err != nil || n != 1 {
				t.Errorf("CountAccounts = %d, %v; want 1", n, err)
			}
		})
	})

	t.Run("disabled and pending accounts keep their state", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			at := time.Date(2025, 1, 2, 3, 4, 5, 6789, time.FixedZone("x", 3600))
			a := addAccount(t, db, "Dee", "dee@example.com", canceldesk.RoleStaff, pending,
				func(a *canceldesk.Account) { a.DisabledAt = &at })
			got := getAccount(t, db, a.ID)
			if got.PasswordHash != "" || got.Active() || !got.Invited() {
				t.Errorf("pending account: hash %q, Active %v, Invited %v", got.PasswordHash, got.Active(), got.Invited())
			}
			checkTimePtr(t, "DisabledAt", got.DisabledAt, &at)
		})
	})

	t.Run("duplicate email in any case is a conflict", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			addAccount(t, db, "Ann", "ann@example.com", canceldesk.RoleOwner)
			for _, email := range []string{"ann@example.com", "ANN@Example.com", " ann@EXAMPLE.com "} {
				err := db.CreateAccount(ctx(t), &canceldesk.Account{Name: "Other", Email: email, Role: canceldesk.RoleStaff})
				checkError(t, "CreateAccount("+email+")", err, canceldesk.ECONFLICT, "validation.email_taken")
				var de *canceldesk.Error
				if errors.As(err, &de) && de.Field != "email" {
					t.Errorf("duplicate email: Field = %q, want email", de.Field)
				}
			}
			if n, _ := db.CountAccounts(ctx(t)); n != 1 {
				t.Errorf("CountAccounts = %d after refused duplicates, want 1", n)
			}
		})
	})

	t.Run("invalid account is refused", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			for _, a := range []canceldesk.Account{
				{Name: "X", Email: "x@example.com", Role: "admin"},
				{Name: "", Email: "x@example.com", Role: canceldesk.RoleStaff},
				{Name: "X", Email: "not-an-email", Role: canceldesk.RoleStaff},
				{Name: "X", Email: "x@example.com", Role: canceldesk.RoleStaff, Language: "en'; --"},
			} {
				if err := db.CreateAccount(ctx(t), &a); canceldesk.ErrorCode(err) != canceldesk.EINVALID {
					t.Errorf("CreateAccount(%+v) = %v, want %s", a, err, canceldesk.EINVALID)
				}
			}
			if n, _ := db.CountAccounts(ctx(t)); n != 0 {
				t.Errorf("CountAccounts = %d, want 0", n)
			}
		})
	})

	t.Run("unknown account is not found", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			a := addAccount(t, db, "Ann", "ann@example.com", canceldesk.RoleOwner)
			id := a.ID + 1000
			_, hash, _ := canceldesk.NewToken()
			errs := map[string]error{}
			_, errs["Account"] = db.Account(ctx(t), id)
			_, errs["AccountByEmail"] = db.AccountByEmail(ctx(t), "nobody@example.com")
			_, errs["UpdateAccount"] = db.UpdateAccount(ctx(t), id, canceldesk.RoleStaff, false)
			errs["SetPassword"] = db.SetPassword(ctx(t), id, hashB)
			errs["SetLanguage"] = db.SetLanguage(ctx(t), id, "en")
			errs["CreateInvite"] = db.CreateInvite(ctx(t), id, hash, fixedNow.Add(time.Hour))
			for name, err := range errs {
				if code := canceldesk.ErrorCode(err); code != canceldesk.ENOTFOUND {
					t.Errorf("%s(unknown) = %v (code %q), want %s", name, err, code, canceldesk.ENOTFOUND)
				}
			}
		})
	})

	t.Run("accounts are listed by name ignoring case", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			for i, n := range []string{"carol", "Bob", "ann lee", "Anna", "Ann Lee"} {
				addAccount(t, db, n, fmt.Sprintf("user%d@example.com", i), canceldesk.RoleStaff)
			}
			accts, err := db.Accounts(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range accts {
				got = append(got, a.Name)
			}
			want := []string{"Ann Lee", "ann lee", "Anna", "Bob", "carol"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Accounts names = %q, want %q", got, want)
			}
			if n, _ := db.CountAccounts(ctx(t)); n != len(want) {
				t.Errorf("CountAccounts = %d, want %d", n, len(want))
			}
		})
	})

	t.Run("update changes role and disables and enables", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			addAccount(t, db, "Owner", "owner@example.com", canceldesk.RoleOwner)
			s := addAccount(t, db, "Sam", "sam@example.com", canceldesk.RoleStaff)

			later := fixedNow.Add(time.Hour)
			db.Now = func() time.Time { return later }
			a, err := db.UpdateAccount(ctx(t), s.ID, canceldesk.RoleManager, false)
			if err != nil {
				t.Fatalf("promote: %v", err)
			}
			if a.Role != canceldesk.RoleManager || a.DisabledAt != nil || !a.Active() {
				t.Errorf("after promotion: %+v", a)
			}
			checkTime(t, "UpdatedAt after promotion", a.UpdatedAt, later)
			checkTime(t, "CreatedAt after promotion", a.CreatedAt, fixedNow)

			if a, err = db.UpdateAccount(ctx(t), s.ID, canceldesk.RoleManager, true); err != nil {
				t.Fatalf("disable: %v", err)
			}
			if a.Active() || a.Role != canceldesk.RoleManager {
				t.Errorf("after disabling: %+v, want inactive manager", a)
			}
			checkTimePtr(t, "DisabledAt", a.DisabledAt, &later)

			// Disabling again keeps the first time.
			db.Now = func() time.Time { return later.Add(time.Hour) }
			if a, err = db.UpdateAccount(ctx(t), s.ID, canceldesk.RoleStaff, true); err != nil {
				t.Fatalf("disable again: %v", err)
			}
			checkTimePtr(t, "DisabledAt after disabling twice", a.DisabledAt, &later)
			if a.Role != canceldesk.RoleStaff {
				t.Errorf("role of a disabled account did not change: %s", a.Role)
			}

			if a, err = db.UpdateAccount(ctx(t), s.ID, canceldesk.RoleStaff, false); err != nil {
				t.Fatalf("enable: %v", err)
			}
			if a.DisabledAt != nil || !a.Active() {
				t.Errorf("after enabling: %+v, want active", a)
			}
			if got := getAccount(t, db, s.ID); !reflect.DeepEqual(got, a) {
				t.Errorf("stored %+v differs from returned %+v", got, a)
			}

			_, err = db.UpdateAccount(ctx(t), s.ID, "admin", false)
			checkError(t, "UpdateAccount(role admin)", err, canceldesk.EINVALID, "validation.role")
		})
	})

	t.Run("last active owner cannot be demoted or disabled until another exists", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			ann := addAccount(t, db, "Ann", "ann@example.com", canceldesk.RoleOwner)
			// Neither a pending nor a disabled owner counts as active.
			addAccount(t, db, "Pat", "pat@example.com", canceldesk.RoleOwner, pending)
			off := fixedNow
			addAccount(t, db, "Dan", "dan@example.com", canceldesk.RoleOwner, func(a *canceldesk.Account) { a.DisabledAt = &off })

			for _, c := range []struct {
				role     canceldesk.Role
				disabled bool
			}{{canceldesk.RoleManager, false}, {canceldesk.RoleStaff, false}, {canceldesk.RoleOwner, true}, {canceldesk.RoleStaff, true}} {
				_, err := db.UpdateAccount(ctx(t), ann.ID, c.role, c.disabled)
				checkError(t, fmt.Sprintf("last owner to %s disabled=%v", c.role, c.disabled), err, canceldesk.ECONFLICT, "accounts.last_owner")
			}
			if got := getAccount(t, db, ann.ID); got.Role != canceldesk.RoleOwner || !got.Active() {
				t.Fatalf("refused changes changed the owner: %+v", got)
			}
			// Keeping the last owner an active owner is fine.
			if _, err := db.UpdateAccount(ctx(t), ann.ID, canceldesk.RoleOwner, false); err != nil {
				t.Errorf("no-op update of the last owner: %v", err)
			}

			bo := addAccount(t, db, "Bo", "bo@example.com", canceldesk.RoleManager)
			if _, err := db.UpdateAccount(ctx(t), bo.ID, canceldesk.RoleOwner, false); err != nil {
				t.Fatalf("promote a second owner: %v", err)
			}
			if _, err := db.UpdateAccount(ctx(t), ann.ID, canceldesk.RoleManager, false); err != nil {
				t.Fatalf("demote an owner while another exists: %v", err)
			}
			_, err := db.UpdateAccount(ctx(t), bo.ID, canceldesk.RoleOwner, true)
			checkError(t, "disable the new last owner", err, canceldesk.ECONFLICT, "accounts.last_owner")
			if n := activeOwners(t, db); n != 1 {
				t.Errorf("active owners = %d, want 1", n)
			}
		})
	})

	t.Run("of two concurrent demotions of the last two owners exactly one succeeds", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			a := addAccount(t, db, "Ann", "ann@example.com", canceldesk.RoleOwner)
			b := addAccount(t, db, "Bo", "bo@example.com", canceldesk.RoleOwner)
			for round := range 20 {
				// Alternate demoting and disabling, so both paths race.
				disable := round%2 == 1
				role := canceldesk.RoleManager
				if disable {
					role = canceldesk.RoleOwner
				}
				var (
					wg    sync.WaitGroup
					start = make(chan struct{})
					errs  = make([]error, 2)
				)
				for i, id := range []int64{a.ID, b.ID} {
					wg.Go(func() {
						<-start
						_, errs[i] = db.UpdateAccount(ctx(t), id, role, disable)
					})
				}
				close(start)
				wg.Wait()
				ok, refused := 0, 0
				for _, err := range errs {
					switch {
					case err == nil:
						ok++
					case canceldesk.ErrorCode(err) == canceldesk.ECONFLICT:
						refused++
					default:
						t.Errorf("round %d: unexpected error %v", round, err)
					}
				}
				if ok != 1 || refused != 1 {
					t.Fatalf("round %d: %d succeeded, %d refused (%v); want exactly one of each", round, ok, refused, errs)
				}
				if n := activeOwners(t, db); n != 1 {
					t.Fatalf("round %d: %d active owners, want 1", round, n)
				}
				// Restore both owners for the next round.
				for _, id := range []int64{a.ID, b.ID} {
					if _, err := db.UpdateAccount(ctx(t), id, canceldesk.RoleOwner, false); err != nil {
						t.Fatalf("round %d: restore: %v", round, err)
					}
				}
			}
		})
	})

	t.Run("accepted invitation sets the password and cannot be used twice", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			inv := addAccount(t, db, "Ivy", "ivy@example.com", canceldesk.RoleStaff, pending)
			if inv.Active() {
				t.Fatal("a pending account is active")
			}
			token := newInvite(t, db, inv.ID, fixedNow.Add(time.Hour))
			later := fixedNow.Add(time.Minute)
			db.Now = func() time.Time { return later }
			a, err := db.AcceptInvite(ctx(t), canceldesk.HashToken(token), hashA, later)
			if err != nil {
				t.Fatalf("AcceptInvite: %v", err)
			}
			if a.ID != inv.ID || a.PasswordHash != hashA || !a.Active() {
				t.Errorf("accepted account = %+v, want %d active with the new hash", a, inv.ID)
			}
			checkTime(t, "UpdatedAt", a.UpdatedAt, later)

			_, err = db.AcceptInvite(ctx(t), canceldesk.HashToken(token), hashB, later)
			checkError(t, "second AcceptInvite", err, canceldesk.ENOTFOUND, "invite.invalid")
			if got := getAccount(t, db, inv.ID); got.PasswordHash != hashA {
				t.Errorf("a used token changed the password to %q", got.PasswordHash)
			}
		})
	})

	t.Run("of two concurrent acceptances exactly one succeeds", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			inv := addAccount(t, db, "Ivy", "ivy@example.com", canceldesk.RoleStaff, pending)
			token := newInvite(t, db, inv.ID, fixedNow.Add(time.Hour))
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() {
					<-start
					_, errs[i] = db.AcceptInvite(ctx(t), canceldesk.HashToken(token), fmt.Sprintf("hash-%d", i), fixedNow)
				})
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner < 0:
					winner = i
				case err == nil:
					t.Errorf("acceptances %d and %d both succeeded", winner, i)
				case canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND:
					t.Errorf("acceptance %d: %v", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no acceptance succeeded")
			}
			if got := getAccount(t, db, inv.ID); got.PasswordHash != fmt.Sprintf("hash-%d", winner) {
				t.Errorf("password hash = %q, want the winner's hash-%d", got.PasswordHash, winner)
			}
		})
	})

	t.Run("expired or unknown invitation is refused and changes nothing", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			inv := addAccount(t, db, "Ivy", "ivy@example.com", canceldesk.RoleStaff, pending)
			token := newInvite(t, db, inv.ID, fixedNow)
			for _, now := range []time.Time{fixedNow, fixedNow.Add(time.Second), fixedNow.Add(30 * 24 * time.Hour)} {
				_, err := db.AcceptInvite(ctx(t), canceldesk.HashToken(token), hashA, now)
				checkError(t, "AcceptInvite at "+now.String(), err, canceldesk.ENOTFOUND, "invite.invalid")
			}
			_, err := db.AcceptInvite(ctx(t), canceldesk.HashToken("not-a-token"), hashA, fixedNow.Add(-time.Hour))
			checkError(t, "AcceptInvite(unknown)", err, canceldesk.ENOTFOUND, "invite.invalid")
			if got := getAccount(t, db, inv.ID); got.PasswordHash != "" {
				t.Errorf("a refused invitation set the password to %q", got.PasswordHash)
			}
			// The same token still works before its expiry.
			if _, err := db.AcceptInvite(ctx(t), canceldesk.HashToken(token), hashA, fixedNow.Add(-time.Second)); err != nil {
				t.Errorf("AcceptInvite before expiry: %v", err)
			}
		})
	})

	t.Run("a new invitation replaces the earlier one", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			inv := addAccount(t, db, "Ivy", "ivy@example.com", canceldesk.RoleStaff, pending)
			first := newInvite(t, db, inv.ID, fixedNow.Add(time.Hour))
			second := newInvite(t, db, inv.ID, fixedNow.Add(time.Hour))
			_, err := db.AcceptInvite(ctx(t), canceldesk.HashToken(first), hashA, fixedNow)
			checkError(t, "AcceptInvite(replaced)", err, canceldesk.ENOTFOUND, "invite.invalid")
			if _, err := db.AcceptInvite(ctx(t), canceldesk.HashToken(second), hashA, fixedNow); err != nil {
				t.Errorf("AcceptInvite(latest): %v", err)
			}
		})
	})

	t.Run("invitation of a disabled account is refused until it is enabled", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			addAccount(t, db, "Owner", "owner@example.com", canceldesk.RoleOwner)
			inv := addAccount(t, db, "Ivy", "ivy@example.com", canceldesk.RoleStaff, pending)
			token := newInvite(t, db, inv.ID, fixedNow.Add(time.Hour))
			if _, err := db.UpdateAccount(ctx(t), inv.ID, canceldesk.RoleStaff, true); err != nil {
				t.Fatal(err)
			}
			_, err := db.AcceptInvite(ctx(t), canceldesk.HashToken(token), hashA, fixedNow)
			checkError(t, "AcceptInvite(disabled)", err, canceldesk.ENOTFOUND, "invite.invalid")
			if _, err := db.UpdateAccount(ctx(t), inv.ID, canceldesk.RoleStaff, false); err != nil {
				t.Fatal(err)
			}
			if _, err := db.AcceptInvite(ctx(t), canceldesk.HashToken(token), hashA, fixedNow); err != nil {
				t.Errorf("AcceptInvite after enabling: %v", err)
			}
		})
	})

	t.Run("set password replaces the hash and voids pending invitations", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			a := addAccount(t, db, "Ann", "ann@example.com", canceldesk.RoleOwner)
			token := newInvite(t, db, a.ID, fixedNow.Add(time.Hour))
			if err := db.SetPassword(ctx(t), a.ID, hashB); err != nil {
				t.Fatalf("SetPassword: %v", err)
			}
			if got := getAccount(t, db, a.ID); got.PasswordHash != hashB {
				t.Errorf("PasswordHash = %q, want %q", got.PasswordHash, hashB)
			}
			_, err := db.AcceptInvite(ctx(t), canceldesk.HashToken(token), hashA, fixedNow)
			checkError(t, "AcceptInvite after SetPassword", err, canceldesk.ENOTFOUND, "invite.invalid")
			if err := db.SetPassword(ctx(t), a.ID, ""); canceldesk.ErrorCode(err) != canceldesk.EINVALID {
				t.Errorf("SetPassword(empty) = %v, want %s", err, canceldesk.EINVALID)
			}
		})
	})

	t.Run("set language stores the choice", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			a := addAccount(t, db, "Ann", "ann@example.com", canceldesk.RoleOwner)
			for _, lang := range []string{"zh-TW", "en", ""} {
				if err := db.SetLanguage(ctx(t), a.ID, lang); err != nil {
					t.Fatalf("SetLanguage(%q): %v", lang, err)
				}
				if got := getAccount(t, db, a.ID); got.Language != lang {
					t.Errorf("Language = %q, want %q", got.Language, lang)
				}
			}
			for _, lang := range []string{"en_US", "-en", "zh-TW'", "en US"} {
				err := db.SetLanguage(ctx(t), a.ID, lang)
				checkError(t, fmt.Sprintf("SetLanguage(%q)", lang), err, canceldesk.EINVALID, "validation.language")
			}
		})
	})
}
