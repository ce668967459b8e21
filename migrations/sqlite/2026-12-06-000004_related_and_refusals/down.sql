DROP TABLE award_refusals;
DROP TABLE organisation_links;
