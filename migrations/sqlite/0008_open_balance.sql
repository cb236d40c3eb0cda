-- The open balance of a contract (sum, count and oldest due date of its open invoices) is read
-- on every consultacliente, verificaacesso and titulos: with the amount in the index it is read
-- from the index alone, without a lookup of each invoice's row.
DROP INDEX invoices_contract;
CREATE INDEX invoices_contract ON invoices (contract_id, status, due_on, amount_cents);
