UPDATE contracts c SET awarded_on = (t.awarded_at + interval '8 hours')::date
FROM tenders t WHERE t.id = c.tender_id AND t.awarded_at IS NOT NULL;
ALTER TABLE tenders DROP COLUMN result_published_at;
