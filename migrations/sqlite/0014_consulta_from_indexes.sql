-- consultacliente by document reads the customer, its contracts and each contract's first
-- service from their indexes alone, no longer from the tables' rows as well: three B-tree
-- descents fewer per contract, each one a page read from the OS on a large database
-- (BENCHMARKS.md, "SQLite's locks and allocations"). Contracts and services in id order
-- within a customer and a contract, as the answers list them.
DROP INDEX customers_document;
CREATE INDEX customers_document ON customers (document, name);
DROP INDEX contracts_customer;
CREATE INDEX contracts_customer ON contracts (customer_id, id, status, status_mode, pop_id, due_day);
DROP INDEX internet_services_contract;
CREATE INDEX internet_services_contract ON internet_services (contract_id, id, login, plan_id);
