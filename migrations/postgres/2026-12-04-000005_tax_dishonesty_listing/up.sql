-- The major tax-dishonesty list (重大税收违法失信主体) bars from procurement as the other dishonesty lists do
-- (财库〔2016〕125号).
ALTER TABLE credit_listings DROP CONSTRAINT credit_listings_list_check;
ALTER TABLE credit_listings ADD CONSTRAINT credit_listings_list_check
    CHECK (list IN ('dishonesty', 'court_defaulter', 'debarment', 'abnormal', 'tax_dishonesty'));
