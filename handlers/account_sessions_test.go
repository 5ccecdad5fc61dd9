package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
)

// twoInstances is instance A (the owner signed in on it) and a second
// instance B of the same deployment: one database, one Redis.
func twoInstances(t *testing.T) (a, b *testApp, rdb *redis.Client) {
	t.Helper()
	rdb = privateRedis(t)
	var cfg handlers.Config
	a = newTestApp(t, inRedis(rdb), func(c *handlers.Config) { cfg = *c })
	appB, err := handlers.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b = &testApp{app: appB, db: a.db, clock: a.clock}
	return a, b, rdb
}

// changeAccount posts an owner's change of the account with email, from
// the owner's client on instance a.
func changeAccount(t *testing.T, a *testApp, email string, form url.Values) {
	t.Helper()
	acct, err := a.db.AccountByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	a.get(t, "/staff")
	if res, _ := a.post(t, "/staff/"+strconv.FormatInt(acct.ID, 10), form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("%v of %s: %d", form, email, res.StatusCode)
	}
}

// TestDisablingEndsSessionsEverywhere: an account disabled on one instance
// is signed out on the other at once: its session is deleted from the
// Redis both share, and enabling the account again does not revive it.
func TestDisablingEndsSessionsEverywhere(t *testing.T) {
	a, b, rdb := twoInstances(t)
	exists := func(key string) bool { return rdb.Exists(context.Background(), key).Val() == 1 }
	staff := b.signedIn(t, canceldesk.RoleStaff)
	id := staff.sessionID()
	if !exists(id) {
		t.Fatal("the session is not in Redis")
	}
	changeAccount(t, a, testEmails[canceldesk.RoleStaff], url.Values{"action": {"disable"}})
	if exists(id) {
		t.Error("the disabled account's session is still in Redis")
	}
	if res, _ := staff.get(t, "/orders"); !toLogin(res) {
		t.Fatalf("instance B after the disable: %d %s, want /login", res.StatusCode, location(res))
	}
	changeAccount(t, a, testEmails[canceldesk.RoleStaff], url.Values{"action": {"enable"}})
	replay := b.anonymous()
	replay.jar["canceldesk_session"] = &http.Cookie{Name: "canceldesk_session", Value: id}
	if res, _ := replay.get(t, "/orders"); !toLogin(res) {
		t.Errorf("the ended session came back with the account: %d", res.StatusCode)
	}
	if res, _ := b.signedIn(t, canceldesk.RoleStaff).get(t, "/orders"); res.StatusCode != http.StatusOK {
		t.Errorf("signing in again after enabling: %d", res.StatusCode)
	}
}

// TestEndedSessionWrittenBackIsRefused: a request of the account in flight
// on instance B when its role is lowered on A saves its session back after
// the deletion; that session stays ended.
func TestEndedSessionWrittenBackIsRefused(t *testing.T) {
	a, b, rdb := twoInstances(t)
	manager := b.signedIn(t, canceldesk.RoleManager)
	id := manager.sessionID()
	ctx := context.Background()
	saved, err := rdb.Get(ctx, id).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	changeAccount(t, a, testEmails[canceldesk.RoleManager], url.Values{"action": {"role"}, "role": {"staff"}})
	if err := rdb.Set(ctx, id, saved, handlers.IdleTimeout).Err(); err != nil { // B's request in flight saves it
		t.Fatal(err)
	}
	if res, _ := manager.get(t, "/orders"); !toLogin(res) {
		t.Fatalf("the session written back: %d %s, want /login", res.StatusCode, location(res))
	}
}

// TestAccountChangesEndSessions: a lower role or a disable signs the
// account out (and a re-enable does not revive the session); a higher
// role, or enabling, keeps its sessions.
func TestAccountChangesEndSessions(t *testing.T) {
	redisAndInProcess(t, func(t *testing.T, config func(*handlers.Config), _ func() handlers.Limiter) {
		a := newTestApp(t, config)
		manager, staff := a.signedIn(t, canceldesk.RoleManager), a.signedIn(t, canceldesk.RoleStaff)
		changeAccount(t, a, testEmails[canceldesk.RoleStaff], url.Values{"action": {"role"}, "role": {"manager"}})
		changeAccount(t, a, testEmails[canceldesk.RoleStaff], url.Values{"action": {"enable"}})
		if res, _ := staff.get(t, "/analytics"); res.StatusCode != http.StatusOK {
			t.Errorf("a member given a higher role: %d, want the manager's page", res.StatusCode)
		}
		changeAccount(t, a, testEmails[canceldesk.RoleManager], url.Values{"action": {"role"}, "role": {"staff"}})
		if res, _ := manager.get(t, "/orders"); !toLogin(res) {
			t.Errorf("a member given a lower role: %d %s, want /login", res.StatusCode, location(res))
		}

		id := staff.sessionID()
		changeAccount(t, a, testEmails[canceldesk.RoleStaff], url.Values{"action": {"disable"}})
		changeAccount(t, a, testEmails[canceldesk.RoleStaff], url.Values{"action": {"enable"}})
		replay := a.anonymous()
		replay.jar["canceldesk_session"] = &http.Cookie{Name: "canceldesk_session", Value: id}
		if res, _ := replay.get(t, "/orders"); !toLogin(res) {
			t.Errorf("a session ended by a disable came back with the enable: %d", res.StatusCode)
		}
		if res, _ := a.get(t, "/staff"); res.StatusCode != http.StatusOK {
			t.Errorf("the owner who made the changes: %d", res.StatusCode)
		}
	})
}
