DROP TABLE award_refusals;
