-- `clientes` (CONTRACT.md §3): the customer's name folded for a case- and accent-insensitive
-- prefix search (ASCII lowercased, accented letters to their base letter, combining accents
-- dropped), kept by the database itself whoever writes the row, and indexed. The same fold
-- is `src/domain/name_fold.rs`, which a unit test checks against this text.
-- translate() deletes the characters of its second argument that have no counterpart in the
-- third (the combining accents). Collation "C": text order is code point order, which the
-- prefix range of the search relies on, and the index serves it whatever the database's
-- locale.
ALTER TABLE customers ADD COLUMN name_folded TEXT COLLATE "C" GENERATED ALWAYS AS (
    translate(trim(name),
        'ABCDEFGHIJKLMNOPQRSTUVWXYZÀÁÂÃÄÅàáâãäåÈÉÊËèéêëÌÍÎÏìíîïÒÓÔÕÖòóôõöÙÚÛÜùúûüÇçÑñÝýÿ'
        || chr(768) || chr(769) || chr(770) || chr(771) || chr(776) || chr(778) || chr(807),
        'abcdefghijklmnopqrstuvwxyzaaaaaaaaaaaaeeeeeeeeiiiiiiiioooooooooouuuuuuuuccnnyyy')
) STORED;
CREATE INDEX customers_name_folded ON customers (name_folded);
