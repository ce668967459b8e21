-- What the bureau writes into a report before generating it (DOMAIN.md, The 三社联动 report: 4. problems
-- and 5. next steps), per report and period (`key`: first..last day and the street, or `all`).
CREATE TABLE report_texts (
    report TEXT NOT NULL,
    period_key TEXT NOT NULL,
    problems TEXT NOT NULL,
    next_steps TEXT NOT NULL,
    updated_by BIGINT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (report, period_key)
);
CREATE INDEX report_texts_updated_by_idx ON report_texts (updated_by);
