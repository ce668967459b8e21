DROP TABLE spending_items;
DROP TABLE payments;
DROP TABLE contract_instalments;
DROP TABLE contracts;
