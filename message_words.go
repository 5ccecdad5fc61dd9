package canceldesk

import (
	"fmt"
	"slices"
)

// messageWords are the sentences a message's placeholders become, per
// language: the reason, the refund, the store credit and the offer. Each
// language has every key (TestMessageWordsComplete).
var messageWords = map[string]map[string]string{
	"en": {
		"there":                             "there",
		"reason." + string(ReasonCustomer):  "you asked us to cancel it",
		"reason." + string(ReasonDeclined):  "the payment was declined",
		"reason." + string(ReasonFraud):     "we could not verify the payment",
		"reason." + string(ReasonInventory): "an item is out of stock",
		"reason." + string(ReasonStaff):     "of an error on our side",
		"reason." + string(ReasonOther):     "of a problem with the order",
		"method.original":                   "your original payment method",
		"method.hold":                       "a release of the payment hold",
		"method.credit":                     "store credit",
		"refund.now":                        "We are refunding %[1]s to %[2]s; it can take a few days to show.",
		"refund.void":                       "Your payment of %[1]s was never taken: the hold on it is released.",
		"refund.later":                      "Your refund will follow in a separate email.",
		"refunded":                          "We have refunded %[1]s to %[2]s.",
		"refunded.credit":                   "We have refunded %[1]s as store credit.",
		"credit":                            "Your store credit code: %[1]s (%[2]s). Enter it at checkout.",
		"credit.expires":                    "Your store credit code: %[1]s (%[2]s, valid through %[3]s). Enter it at checkout.",
		"offer.discount":                    "As a thank-you, here is a code for your next order: %[1]s",
		"offer.product":                     "You might also like: %[1]s",
		"refused.cancelled":                 "This order has already been cancelled.",
		"refused.shipped": "Part or all of this order has already shipped, so it can no longer be cancelled. " +
			"You can return items after they arrive: reply to this email to start a return.",
	},
	"zh-TW": {
		"there":                             "顧客",
		"reason." + string(ReasonCustomer):  "您要求取消",
		"reason." + string(ReasonDeclined):  "付款未獲授權",
		"reason." + string(ReasonFraud):     "我們無法確認這筆付款",
		"reason." + string(ReasonInventory): "有商品缺貨",
		"reason." + string(ReasonStaff):     "我們作業上的疏失",
		"reason." + string(ReasonOther):     "訂單發生問題",
		"method.original":                   "您原本的付款方式",
		"method.hold":                       "解除付款預授權",
		"method.credit":                     "購物金",
		"refund.now":                        "我們將退款 %[1]s 至%[2]s，可能需要幾天才會入帳。",
		"refund.void":                       "您的款項 %[1]s 並未實際扣款，預授權已解除。",
		"refund.later":                      "退款事宜將另以電子郵件通知。",
		"refunded":                          "我們已退款 %[1]s 至%[2]s。",
		"refunded.credit":                   "我們已將 %[1]s 以購物金退還給您。",
		"credit":                            "您的購物金代碼：%[1]s（%[2]s），結帳時輸入即可使用。",
		"credit.expires":                    "您的購物金代碼：%[1]s（%[2]s，有效期限至 %[3]s），結帳時輸入即可使用。",
		"offer.discount":                    "為表謝意，送您下次訂購可用的折扣碼：%[1]s",
		"offer.product":                     "您或許也會喜歡：%[1]s",
		"refused.cancelled":                 "此訂單已經取消。",
		"refused.shipped":                   "此訂單已有部分或全部商品出貨，因此無法再取消。商品送達後可以辦理退貨：直接回覆這封郵件即可。",
	},
}

// messageLanguage is lang when it is one of MessageLanguages, else the
// default language.
func messageLanguage(lang string) string {
	if slices.Contains(MessageLanguages, lang) {
		return lang
	}
	return DefaultLanguage
}

// words is the sentence key in lang (English when lang has none), with
// args filled in.
func words(lang, key string, args ...any) string {
	w, ok := messageWords[messageLanguage(lang)][key]
	if !ok {
		w = messageWords[DefaultLanguage][key]
	}
	if len(args) == 0 {
		return w
	}
	return fmt.Sprintf(w, args...)
}

// chineseTemplates are the built-in messages in Traditional Chinese.
func chineseTemplates() []Template {
	return []Template{
		{Kind: MessageOrderCancelled, Subject: "您的訂單 {order_number} 已取消",
			Body: "{customer_name} 您好：\n\n您的訂單 {order_number} 已取消，原因是{reason}。\n\n{items}\n\n" +
				"{refund}\n\n{offer}\n\n如有任何問題，直接回覆這封郵件即可。\n\n{store_name}"},
		{Kind: MessageOrderCancelled, Variant: string(ReasonCustomer), Subject: "我們已為您取消訂單 {order_number}",
			Body: "{customer_name} 您好：\n\n依您的要求，我們已取消訂單 {order_number}：\n\n{items}\n\n" +
				"{refund}\n\n{offer}\n\n期待再次為您服務。\n\n{store_name}"},
		{Kind: MessageOrderCancelled, Variant: string(ReasonInventory), Subject: "很抱歉：您的訂單 {order_number} 商品缺貨",
			Body: "{customer_name} 您好：\n\n很抱歉，您訂單 {order_number} 中的商品在出貨前已售完，" +
				"因此我們取消了這筆訂單：\n\n{items}\n\n{refund}\n\n{offer}\n\n" +
				"造成您的不便，敬請見諒。\n\n{store_name}"},
		{Kind: MessageOrderCancelled, Variant: string(ReasonFraud), Subject: "您的訂單 {order_number} 已取消",
			Body: "您好：\n\n我們無法確認訂單 {order_number} 的付款，因此已取消這筆訂單。" +
				"{refund}\n\n如果您認為這是誤會，請直接回覆這封郵件。\n\n{store_name}"},
		{Kind: MessageOrderCancelled, Variant: string(ReasonDeclined), Subject: "您訂單 {order_number} 的付款未獲授權",
			Body: "{customer_name} 您好：\n\n您訂單 {order_number} 的付款未獲授權，因此訂單已取消：\n\n" +
				"{items}\n\n歡迎您改用其他付款方式重新訂購。\n\n{store_name}"},
		{Kind: MessageRefundIssued, Subject: "訂單 {order_number} 的退款通知",
			Body: "{customer_name} 您好：\n\n{refund}這是訂單 {order_number} 的退款：\n\n{items}\n\n" +
				"{credit}\n\n{store_name}"},
		{Kind: MessageRequestReceived, Subject: "我們已收到您取消訂單 {order_number} 的申請",
			Body: "{customer_name} 您好：\n\n我們已收到您取消訂單 {order_number} 的申請，會盡快回覆您。" +
				"您可以在這裡查看進度：\n{status_link}\n\n{store_name}"},
		{Kind: MessageRequestApproved, Subject: "您的訂單 {order_number} 已取消",
			Body: "{customer_name} 您好：\n\n我們已核准您的申請：訂單 {order_number} 已取消。\n\n" +
				"{refund}\n\n{status_link}\n\n{store_name}"},
		{Kind: MessageRequestDeclined, Subject: "關於您取消訂單 {order_number} 的申請",
			Body: "{customer_name} 您好：\n\n我們無法取消訂單 {order_number}。\n\n{store_message}\n\n{status_link}\n\n{store_name}"},
	}
}
