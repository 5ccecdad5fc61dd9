package canceldesk

// ReasonOption is one entry of the cancel dialog's reason list: a stable
// key (its label comes from the message catalogues) and the Shopify code
// it maps to. Managers will edit the list in settings; until then the
// store uses DefaultReasons.
type ReasonOption struct {
	Key  string
	Code CancelReason
}

// DefaultReasons is the reason list of a new store.
var DefaultReasons = []ReasonOption{
	{"customer_changed_mind", ReasonCustomer},
	{"out_of_stock", ReasonInventory},
	{"suspected_fraud", ReasonFraud},
	{"shipping_problem", ReasonOther},
	{"payment_declined", ReasonDeclined},
	{"staff_error", ReasonStaff},
	{"other", ReasonOther},
}

// ReasonByKey finds a reason of the list by its key.
func ReasonByKey(key string) (ReasonOption, bool) {
	for _, r := range DefaultReasons {
		if r.Key == key {
			return r, true
		}
	}
	return ReasonOption{}, false
}
