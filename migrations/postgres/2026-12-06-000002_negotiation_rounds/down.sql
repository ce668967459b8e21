DROP TABLE negotiation_quotes;
DROP TABLE negotiation_rounds;
DROP TABLE bid_compliance;
DROP TABLE negotiation_origins;
