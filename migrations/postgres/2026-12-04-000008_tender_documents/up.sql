-- The period a tender's documents are available (获取招标文件期限), Beijing dates, both days counted: at least
-- 5 working days for open and invited tenders (87号令 Art 18). No row: from publication to the bid deadline
-- (every tender drafted before). A table of its own, one row per tender: `tenders` is at diesel's 32 columns.
CREATE TABLE tender_documents (
    tender_id BIGINT PRIMARY KEY REFERENCES tenders (id),
    available_from DATE NOT NULL,
    available_until DATE NOT NULL,
    CHECK (available_from <= available_until)
);
