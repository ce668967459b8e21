DROP TABLE single_source_records;
DROP TABLE single_source_objections;
DROP TABLE single_source_notices;
