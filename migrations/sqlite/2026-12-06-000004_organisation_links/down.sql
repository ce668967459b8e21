DROP TABLE organisation_links;
