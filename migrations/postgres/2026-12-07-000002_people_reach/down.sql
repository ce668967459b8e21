DROP TABLE reach_people;
DROP TABLE reach_counts;
