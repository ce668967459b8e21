-- Enquiries at any number (issue 9): a page of a tender's enquiries, newest first, reads the index on
-- (tender_id, id), and the public page (answered ones only) a partial index of the answered ones, so neither
-- reads the unanswered rows one organisation could pile up; the daily limit per organisation and tender
-- counts through (tender_id, organisation_id, asked_at), at most the day's limit of rows.
CREATE INDEX enquiries_tender_newest_idx ON enquiries (tender_id, id);
CREATE INDEX enquiries_tender_answered_idx ON enquiries (tender_id, id) WHERE answer IS NOT NULL;
CREATE INDEX enquiries_tender_org_asked_idx ON enquiries (tender_id, organisation_id, asked_at);
