package store_test

import (
	"slices"
	"testing"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/store"
)

func reasonKeys(t *testing.T, db *store.DB, all bool) []string {
	t.Helper()
	list, err := db.Reasons(ctx(t), all)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range list {
		keys = append(keys, r.Key)
	}
	return keys
}

// A new store has the default list with its labels; managers add, rename,
// move, retire and restore reasons, and keys never change.
func TestReasons(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		list, err := db.Reasons(ctx(t), true)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(canceldesk.DefaultReasons) {
			t.Fatalf("a new store has %d reasons, want %d", len(list), len(canceldesk.DefaultReasons))
		}
		for i, want := range canceldesk.DefaultReasons {
			got := list[i]
			if got.Key != want.Key || got.Code != want.Code || got.Retired || got.Label("en") != want.Label("en") || got.Label("zh-TW") != want.Label("zh-TW") {
				t.Errorf("reason %d = %+v, want %+v", i, got, want)
			}
		}

		added, err := db.AddReason(ctx(t), canceldesk.ReasonOption{Code: canceldesk.ReasonInventory,
			Labels: map[string]string{"en": "  Wrong size! ", "zh-TW": "尺寸錯誤"}})
		if err != nil {
			t.Fatal(err)
		}
		if added.Key != "wrong_size" || added.Label("en") != "Wrong size!" {
			t.Errorf("added %+v", added)
		}
		again, err := db.AddReason(ctx(t), canceldesk.ReasonOption{Code: canceldesk.ReasonOther, Labels: map[string]string{"en": "Wrong size"}})
		if err != nil || again.Key != "wrong_size_2" {
			t.Errorf("second add: %+v, %v; want key wrong_size_2", again, err)
		}
		if keys := reasonKeys(t, db, false); len(keys) != 9 || keys[7] != "wrong_size" || keys[8] != "wrong_size_2" {
			t.Errorf("after adding: %v", keys)
		}
		if _, err := db.AddReason(ctx(t), canceldesk.ReasonOption{Code: "refund", Labels: map[string]string{"en": "x"}}); canceldesk.ErrorCode(err) != canceldesk.EINVALID {
			t.Errorf("a bad code: %v", err)
		}

		// Rename: the key stays, the labels and code change.
		upd, err := db.UpdateReason(ctx(t), canceldesk.ReasonOption{Key: "out_of_stock", Code: canceldesk.ReasonOther,
			Labels: map[string]string{"en": "Sold out", "zh-TW": "已售完"}})
		if err != nil {
			t.Fatal(err)
		}
		list, _ = db.Reasons(ctx(t), false)
		if r, ok := canceldesk.FindReason(list, "out_of_stock"); !ok || r.Label("en") != "Sold out" || r.Label("zh-TW") != "已售完" || r.Code != canceldesk.ReasonOther || upd.Key != "out_of_stock" {
			t.Errorf("renamed: %+v (%v)", r, ok)
		}
		if _, err := db.UpdateReason(ctx(t), canceldesk.ReasonOption{Key: "nope", Code: canceldesk.ReasonOther, Labels: map[string]string{"en": "x"}}); canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
			t.Errorf("renaming an unknown reason: %v", err)
		}

		// Move: up from the top stays, down swaps with the next.
		if err := db.MoveReason(ctx(t), "customer_changed_mind", -1); err != nil {
			t.Fatal(err)
		}
		if err := db.MoveReason(ctx(t), "customer_changed_mind", 1); err != nil {
			t.Fatal(err)
		}
		if err := db.MoveReason(ctx(t), "wrong_size_2", 1); err != nil {
			t.Fatal(err)
		}
		if keys := reasonKeys(t, db, true); keys[0] != "out_of_stock" || keys[1] != "customer_changed_mind" || keys[8] != "wrong_size_2" {
			t.Errorf("after moving: %v", keys)
		}
		if err := db.MoveReason(ctx(t), "nope", 1); canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
			t.Errorf("moving an unknown reason: %v", err)
		}

		// Retire: gone from the active list, kept in the full one.
		if err := db.RetireReason(ctx(t), "suspected_fraud", true); err != nil {
			t.Fatal(err)
		}
		if keys := reasonKeys(t, db, false); slices.Contains(keys, "suspected_fraud") || len(keys) != 8 {
			t.Errorf("active after retiring: %v", keys)
		}
		all, _ := db.Reasons(ctx(t), true)
		if r, ok := canceldesk.FindReason(all, "suspected_fraud"); !ok || !r.Retired || r.Label("en") != "Suspected fraud" {
			t.Errorf("retired reason in the full list: %+v, %v", r, ok)
		}
		if err := db.RetireReason(ctx(t), "suspected_fraud", false); err != nil {
			t.Fatal(err)
		}
		if keys := reasonKeys(t, db, false); !slices.Contains(keys, "suspected_fraud") {
			t.Errorf("restored reason missing: %v", keys)
		}
		if err := db.RetireReason(ctx(t), "nope", true); canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
			t.Errorf("retiring an unknown reason: %v", err)
		}
	})
}
