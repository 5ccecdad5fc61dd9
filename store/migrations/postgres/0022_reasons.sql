-- The cancel dialog's reasons, edited by managers on Settings: a stable key
-- (cancellations and their timeline keep it, so a retired reason still
-- names old cancels), Shopify's code, the place in the list, and a label
-- per language. Seeded with the list every store had until now, under the
-- same keys and with the catalogue's labels.
CREATE TABLE cancel_reasons (
    key        TEXT    PRIMARY KEY,
    code       TEXT    NOT NULL CHECK (code IN ('customer', 'declined', 'fraud', 'inventory', 'staff', 'other')),
    position   BIGINT NOT NULL,
    retired    BOOLEAN NOT NULL DEFAULT FALSE,
    label_en   TEXT    NOT NULL,
    label_zh_tw TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

INSERT INTO cancel_reasons (key, code, position, label_en, label_zh_tw, created_at, updated_at) VALUES
    ('customer_changed_mind', 'customer', 1, 'Customer changed their mind', '顧客改變心意', (extract(epoch FROM now()) * 1000000)::BIGINT, (extract(epoch FROM now()) * 1000000)::BIGINT),
    ('out_of_stock', 'inventory', 2, 'Item out of stock', '商品缺貨', (extract(epoch FROM now()) * 1000000)::BIGINT, (extract(epoch FROM now()) * 1000000)::BIGINT),
    ('suspected_fraud', 'fraud', 3, 'Suspected fraud', '疑似詐騙', (extract(epoch FROM now()) * 1000000)::BIGINT, (extract(epoch FROM now()) * 1000000)::BIGINT),
    ('shipping_problem', 'other', 4, 'Shipping problem', '運送問題', (extract(epoch FROM now()) * 1000000)::BIGINT, (extract(epoch FROM now()) * 1000000)::BIGINT),
    ('payment_declined', 'declined', 5, 'Payment declined', '付款遭拒', (extract(epoch FROM now()) * 1000000)::BIGINT, (extract(epoch FROM now()) * 1000000)::BIGINT),
    ('staff_error', 'staff', 6, 'Staff error', '員工作業錯誤', (extract(epoch FROM now()) * 1000000)::BIGINT, (extract(epoch FROM now()) * 1000000)::BIGINT),
    ('other', 'other', 7, 'Other', '其他', (extract(epoch FROM now()) * 1000000)::BIGINT, (extract(epoch FROM now()) * 1000000)::BIGINT);
