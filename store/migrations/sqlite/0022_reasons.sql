-- The cancel dialog's reasons, edited by managers on Settings: a stable key
-- (cancellations and their timeline keep it, so a retired reason still
-- names old cancels), Shopify's code, the place in the list, and a label
-- per language. Seeded with the list every store had until now, under the
-- same keys and with the catalogue's labels.
CREATE TABLE cancel_reasons (
    key        TEXT    PRIMARY KEY,
    code       TEXT    NOT NULL CHECK (code IN ('customer', 'declined', 'fraud', 'inventory', 'staff', 'other')),
    position   INTEGER NOT NULL,
    retired    BOOLEAN NOT NULL DEFAULT FALSE,
    label_en   TEXT    NOT NULL,
    label_zh_tw TEXT   NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

INSERT INTO cancel_reasons (key, code, position, label_en, label_zh_tw, created_at, updated_at) VALUES
    ('customer_changed_mind', 'customer', 1, 'Customer changed their mind', '顧客改變心意', CAST(unixepoch('subsec') * 1000000 AS INTEGER), CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    ('out_of_stock', 'inventory', 2, 'Item out of stock', '商品缺貨', CAST(unixepoch('subsec') * 1000000 AS INTEGER), CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    ('suspected_fraud', 'fraud', 3, 'Suspected fraud', '疑似詐騙', CAST(unixepoch('subsec') * 1000000 AS INTEGER), CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    ('shipping_problem', 'other', 4, 'Shipping problem', '運送問題', CAST(unixepoch('subsec') * 1000000 AS INTEGER), CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    ('payment_declined', 'declined', 5, 'Payment declined', '付款遭拒', CAST(unixepoch('subsec') * 1000000 AS INTEGER), CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    ('staff_error', 'staff', 6, 'Staff error', '員工作業錯誤', CAST(unixepoch('subsec') * 1000000 AS INTEGER), CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    ('other', 'other', 7, 'Other', '其他', CAST(unixepoch('subsec') * 1000000 AS INTEGER), CAST(unixepoch('subsec') * 1000000 AS INTEGER));
