package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	redisstorage "github.com/gofiber/storage/redis/v3"

	"github.com/canceldesk/canceldesk/store"
)

// SessionIndex remembers which sessions each account has, beside the
// sessions (store.RedisSessionIndex, store.MemorySessionIndex), so that
// any instance can end every session of an account at once.
type SessionIndex interface {
	Add(ctx context.Context, account int64, id string, at time.Time) error
	Has(ctx context.Context, account int64, id string) (bool, error)
	IDs(ctx context.Context, account int64) ([]string, error)
	Remove(ctx context.Context, account int64, ids ...string) error
}

// newSessionIndex keeps the index where the sessions are: in their Redis,
// so every instance sharing it sees it, or in process with them.
func newSessionIndex(sessions fiber.Storage) (SessionIndex, error) {
	switch st := sessions.(type) {
	case nil:
		return store.NewMemorySessionIndex(AbsoluteTimeout), nil
	case *redisstorage.Storage:
		return store.NewRedisSessionIndex(st.Conn(), AbsoluteTimeout), nil
	default:
		return nil, errors.New("handlers: Config.Sessions must be Redis storage (or nil for sessions in process)")
	}
}

// recordSession adds the session just started for acct to its index.
func (s *Server) recordSession(c *fiber.Ctx, acct int64) error {
	return s.sessionIndex.Add(c.UserContext(), acct, currentSession(c).ID(), s.Now())
}

// endAccountSessions signs the account out everywhere: it deletes each of
// its sessions from the session storage, which every instance reads, so
// its next request on any instance goes to the sign-in page. A session
// another instance writes back afterwards (a request of it in flight) is
// no longer in the index, and require refuses it too. When the account is
// the one asking, its own session ends with this request.
func (s *Server) endAccountSessions(c *fiber.Ctx, acct int64) error {
	ctx := c.UserContext()
	ids, err := s.sessionIndex.IDs(ctx, acct)
	if err != nil {
		return errSignInUnavailable()
	}
	for _, id := range ids {
		if err := s.sessionStore.Delete(id); err != nil {
			return errSignInUnavailable()
		}
	}
	if err := s.sessionIndex.Remove(ctx, acct, ids...); err != nil {
		return errSignInUnavailable()
	}
	if me := currentAccount(c); me != nil && me.ID == acct {
		return endSession(c)
	}
	return nil
}

// sessionRecorded reports whether the request's session is one the index
// holds for acct: an ended session written back by a request in flight
// is not.
func (s *Server) sessionRecorded(c *fiber.Ctx, acct int64) (bool, error) {
	ok, err := s.sessionIndex.Has(c.UserContext(), acct, currentSession(c).ID())
	if err != nil {
		return false, errSignInUnavailable()
	}
	return ok, nil
}
