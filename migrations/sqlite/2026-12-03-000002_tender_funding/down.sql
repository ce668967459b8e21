DROP TABLE tender_funding;
