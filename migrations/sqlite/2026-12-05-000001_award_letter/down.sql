UPDATE contracts SET awarded_on = (
    SELECT date(t.awarded_at, '+8 hours') FROM tenders t WHERE t.id = contracts.tender_id
) WHERE EXISTS (
    SELECT 1 FROM tenders t WHERE t.id = contracts.tender_id AND t.awarded_at IS NOT NULL
);
ALTER TABLE tenders DROP COLUMN result_published_at;
