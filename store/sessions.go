package store

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisSessionIndex remembers the ids of each account's sessions in Redis,
// beside the sessions themselves, so any instance can find and end all the
// sessions of an account. Each account has a sorted set of its session ids
// scored by sign-in time; ids older than the longest a session lives are
// dropped at the next sign-in, and the set expires with its newest session.
type RedisSessionIndex struct {
	rdb      redis.UniversalClient
	lifetime time.Duration
}

// NewRedisSessionIndex keeps the index in Redis; lifetime is the longest a
// session lives.
func NewRedisSessionIndex(rdb redis.UniversalClient, lifetime time.Duration) *RedisSessionIndex {
	return &RedisSessionIndex{rdb: rdb, lifetime: lifetime}
}

const sessionIndexPrefix = "canceldesk:account-sessions:"

func sessionIndexKey(account int64) string {
	return sessionIndexPrefix + strconv.FormatInt(account, 10)
}

// Add records session id of account, started at.
func (x *RedisSessionIndex) Add(ctx context.Context, account int64, id string, at time.Time) error {
	key := sessionIndexKey(account)
	_, err := x.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, key, redis.Z{Score: float64(at.Unix()), Member: id})
		p.ZRemRangeByScore(ctx, key, "-inf", "("+strconv.FormatInt(at.Add(-x.lifetime).Unix(), 10))
		p.Expire(ctx, key, x.lifetime)
		return nil
	})
	return err
}

// Has reports whether id is a recorded session of account.
func (x *RedisSessionIndex) Has(ctx context.Context, account int64, id string) (bool, error) {
	err := x.rdb.ZScore(ctx, sessionIndexKey(account), id).Err()
	if err == redis.Nil {
		return false, nil
	}
	return err == nil, err
}

// IDs lists the recorded sessions of account.
func (x *RedisSessionIndex) IDs(ctx context.Context, account int64) ([]string, error) {
	return x.rdb.ZRange(ctx, sessionIndexKey(account), 0, -1).Result()
}

// Remove forgets sessions of account: only those named, so a sign-in
// recorded meanwhile stays.
func (x *RedisSessionIndex) Remove(ctx context.Context, account int64, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	members := make([]any, len(ids))
	for i, id := range ids {
		members[i] = id
	}
	return x.rdb.ZRem(ctx, sessionIndexKey(account), members...).Err()
}

// MemorySessionIndex is the in-process session index, for a single
// instance keeping its sessions in process.
type MemorySessionIndex struct {
	mu       sync.Mutex
	lifetime time.Duration
	m        map[int64]map[string]time.Time // account → session id → sign-in
}

// NewMemorySessionIndex keeps the index in process; lifetime is the
// longest a session lives.
func NewMemorySessionIndex(lifetime time.Duration) *MemorySessionIndex {
	return &MemorySessionIndex{lifetime: lifetime, m: map[int64]map[string]time.Time{}}
}

// Add records session id of account, started at.
func (x *MemorySessionIndex) Add(_ context.Context, account int64, id string, at time.Time) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	ids := x.m[account]
	if ids == nil {
		ids = map[string]time.Time{}
		x.m[account] = ids
	}
	for old, started := range ids {
		if started.Before(at.Add(-x.lifetime)) {
			delete(ids, old)
		}
	}
	ids[id] = at
	return nil
}

// Has reports whether id is a recorded session of account.
func (x *MemorySessionIndex) Has(_ context.Context, account int64, id string) (bool, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	_, ok := x.m[account][id]
	return ok, nil
}

// IDs lists the recorded sessions of account.
func (x *MemorySessionIndex) IDs(_ context.Context, account int64) ([]string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	ids := make([]string, 0, len(x.m[account]))
	for id := range x.m[account] {
		ids = append(ids, id)
	}
	return ids, nil
}

// Remove forgets sessions of account.
func (x *MemorySessionIndex) Remove(_ context.Context, account int64, ids ...string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, id := range ids {
		delete(x.m[account], id)
	}
	if len(x.m[account]) == 0 {
		delete(x.m, account)
	}
	return nil
}
