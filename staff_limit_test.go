package canceldesk

import "testing"

func TestCheckStaffRefund(t *testing.T) {
	cases := []struct {
		name                   string
		role                   Role
		limit, already, amount int64
		refused                bool
	}{
		{"within the limit", RoleStaff, 1000, 0, 1000, false},
		{"over the limit", RoleStaff, 1000, 0, 1001, true},
		{"over with what was refunded before", RoleStaff, 1000, 900, 300, true},
		{"no role is no authority", "", 1000, 0, 1001, true},
		{"a manager", RoleManager, 1000, 900, 9500, false},
		{"an owner", RoleOwner, 1000, 0, 9500, false},
		{"no limit set", RoleStaff, 0, 0, 9500, false},
		{"no money moves", RoleStaff, 1000, 5000, 0, false},
	}
	for _, c := range cases {
		err := CheckStaffRefund(c.role, c.limit, c.already, c.amount)
		if got := err != nil; got != c.refused {
			t.Errorf("%s: %v, refused %v", c.name, err, c.refused)
		}
		if err != nil && (ErrorCode(err) != EFORBIDDEN || err.(*Error).Key != "refund.needs_manager") {
			t.Errorf("%s: %#v", c.name, err)
		}
	}
}

func TestRefundedBy(t *testing.T) {
	refunds := []Refund{
		{Kind: RefundKindRefund, Status: RefundSucceeded, Amount: 300, Actor: "staff@example.com"},
		{Kind: RefundKindRefund, Status: RefundPending, Amount: 200, Actor: "Staff@Example.com"},
		{Kind: RefundKindRefund, Status: RefundFailed, Amount: 5000, Actor: "staff@example.com"},
		{Kind: RefundKindVoid, Status: RefundSucceeded, Amount: 7000, Actor: "staff@example.com"},
		{Kind: RefundKindRefund, Status: RefundSucceeded, Amount: 900, Actor: "other@example.com"},
	}
	if got := RefundedBy(refunds, "staff@example.com"); got != 500 {
		t.Errorf("RefundedBy = %d, want 500 (not failed, not voided, not another's)", got)
	}
}
