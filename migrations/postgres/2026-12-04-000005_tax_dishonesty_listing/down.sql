-- Fails while a tax-dishonesty listing exists: the old CHECK cannot hold it.
ALTER TABLE credit_listings DROP CONSTRAINT credit_listings_list_check;
ALTER TABLE credit_listings ADD CONSTRAINT credit_listings_list_check
    CHECK (list IN ('dishonesty', 'court_defaulter', 'debarment', 'abnormal'));
