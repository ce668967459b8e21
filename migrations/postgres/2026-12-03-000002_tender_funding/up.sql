-- Which appropriation a tender draws on (ledger::tenders): named by the bureau while the tender is a draft;
-- publishing reserves the ceiling in that budget, the award and the end of the tender release it.
CREATE TABLE tender_funding (
    tender_id BIGINT PRIMARY KEY REFERENCES tenders (id),
    appropriation_id BIGINT NOT NULL REFERENCES appropriations (id),
    named_by BIGINT NOT NULL REFERENCES users (id),
    named_at TIMESTAMP NOT NULL
);
CREATE INDEX tender_funding_appropriation ON tender_funding (appropriation_id);
CREATE INDEX tender_funding_named_by ON tender_funding (named_by);
