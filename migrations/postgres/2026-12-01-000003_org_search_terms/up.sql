-- Name and credit-code search without reading every organisation: each organisation's search text cut into
-- overlapping two-character terms (domain::search), kept by every write of a name or code. A two-character
-- query is one term; a longer one narrows to the organisations holding its rarest term. search_version marks
-- rows whose terms were written by the current cutting (0: not yet; filled in by the first search).
CREATE TABLE organisation_terms (
    term TEXT NOT NULL,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (term, organisation_id)
);
CREATE INDEX organisation_terms_organisation_idx ON organisation_terms (organisation_id);
ALTER TABLE organisations ADD COLUMN search_version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX organisations_search_version_idx ON organisations (search_version);
