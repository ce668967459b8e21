-- When the result notice and the award letter (中标/成交通知书) went out: the letter, issued with the notice,
-- starts the 30-day signing clock (政府采购法 Art 46). Filled from the timeline for tenders already past it.
ALTER TABLE tenders ADD COLUMN result_published_at TIMESTAMP;
UPDATE tenders SET result_published_at = (
    SELECT max(e.at) FROM tender_events e
    WHERE e.tender_id = tenders.id AND e.to_state = 'publicity' AND e.from_state = 'award_proposed'
) WHERE award_bid_id IS NOT NULL AND state IN ('publicity', 'challenge', 'awarded', 'contracted');
-- A contract's clock runs from the letter (its Beijing date), no longer from the end of the challenge window.
UPDATE contracts c SET awarded_on = (t.result_published_at + interval '8 hours')::date
FROM tenders t WHERE t.id = c.tender_id AND t.result_published_at IS NOT NULL;
