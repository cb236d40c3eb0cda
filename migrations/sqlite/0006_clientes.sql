-- `clientes` (CONTRACT.md §3): the customer's name folded for a case- and accent-insensitive
-- prefix search (ASCII lowercased, accented letters to their base letter, combining accents
-- dropped), kept by the database itself whoever writes the row (triggers), and indexed. The
-- same fold is `src/domain/name_fold.rs`, which a unit test checks against this text.
-- SQLite's lower() folds ASCII only, hence replace() per accented letter, applied in steps of
-- 8: one expression of every replace() nested overflows the parser of the SQLite that
-- other programs reading this file use (FreeRADIUS, the sqlite3 shell: "parser stack
-- overflow"), so no statement here nests deeper than that.
ALTER TABLE customers ADD COLUMN name_folded TEXT;

CREATE TRIGGER customers_fold_insert AFTER INSERT ON customers
BEGIN
    UPDATE customers SET name_folded = lower(trim(name)) WHERE id = NEW.id;
    UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'À', 'a'), 'Á', 'a'), 'Â', 'a'), 'Ã', 'a'), 'Ä', 'a'), 'Å', 'a'), 'à', 'a'), 'á', 'a') WHERE id = NEW.id;
    UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'â', 'a'), 'ã', 'a'), 'ä', 'a'), 'å', 'a'), 'È', 'e'), 'É', 'e'), 'Ê', 'e'), 'Ë', 'e') WHERE id = NEW.id;
    UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'è', 'e'), 'é', 'e'), 'ê', 'e'), 'ë', 'e'), 'Ì', 'i'), 'Í', 'i'), 'Î', 'i'), 'Ï', 'i') WHERE id = NEW.id;
    UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'ì', 'i'), 'í', 'i'), 'î', 'i'), 'ï', 'i'), 'Ò', 'o'), 'Ó', 'o'), 'Ô', 'o'), 'Õ', 'o') WHERE id = NEW.id;
    UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'Ö', 'o'), 'ò', 'o'), 'ó', 'o'), 'ô', 'o'), 'õ', 'o'), 'ö', 'o'), 'Ù', 'u'), 'Ú', 'u') WHERE id = NEW.id;
    UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'Û', 'u'), 'Ü', 'u'), 'ù', 'u'), 'ú', 'u'), 'û', 'u'), 'ü', 'u'), 'Ç', 'c'), 'ç', 'c') WHERE id = NEW.id;
    UPDATE customers SET name_folded = replace(replace(replace(replace(replace(name_folded, 'Ñ', 'n'), 'ñ', 'n'), 'Ý', 'y'), 'ý', 'y'), 'ÿ', 'y') WHERE id = NEW.id;
    UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(name_folded, char(768), ''), char(769), ''), char(770), ''), char(771), ''), char(776), ''), char(778), ''), char(807), '') WHERE id = NEW.id;
END;

CREATE TRIGGER customers_fold_update AFTER UPDATE OF name ON customers
BEGIN
    UPDATE customers SET name_folded = lower(trim(name)) WHERE id = NEW.id;
    UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'À', 'a'), 'Á', 'a'), 'Â', 'a'), 'Ã', 'a'), 'Ä', 'a'), 'Å', 'a'), 'à', 'a'), 'á', 'a') WHERE id = NEW.id;
    UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'â', 'a'), 'ã', 'a'), 'ä', 'a'), 'å', 'a'), 'È', 'e'), 'É', 'e'), 'Ê', 'e'), 'Ë', 'e') WHERE id = NEW.id;
    UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'è', 'e'), 'é', 'e'), 'ê', 'e'), 'ë', 'e'), 'Ì', 'i'), 'Í', 'i'), 'Î', 'i'), 'Ï', 'i') WHERE id = NEW.id;
    UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'ì', 'i'), 'í', 'i'), 'î', 'i'), 'ï', 'i'), 'Ò', 'o'), 'Ó', 'o'), 'Ô', 'o'), 'Õ', 'o') WHERE id = NEW.id;
    UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'Ö', 'o'), 'ò', 'o'), 'ó', 'o'), 'ô', 'o'), 'õ', 'o'), 'ö', 'o'), 'Ù', 'u'), 'Ú', 'u') WHERE id = NEW.id;
    UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'Û', 'u'), 'Ü', 'u'), 'ù', 'u'), 'ú', 'u'), 'û', 'u'), 'ü', 'u'), 'Ç', 'c'), 'ç', 'c') WHERE id = NEW.id;
    UPDATE customers SET name_folded = replace(replace(replace(replace(replace(name_folded, 'Ñ', 'n'), 'ñ', 'n'), 'Ý', 'y'), 'ý', 'y'), 'ÿ', 'y') WHERE id = NEW.id;
    UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(name_folded, char(768), ''), char(769), ''), char(770), ''), char(771), ''), char(776), ''), char(778), ''), char(807), '') WHERE id = NEW.id;
END;

-- The rows already there.
UPDATE customers SET name_folded = lower(trim(name)) WHERE 1 = 1;
UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'À', 'a'), 'Á', 'a'), 'Â', 'a'), 'Ã', 'a'), 'Ä', 'a'), 'Å', 'a'), 'à', 'a'), 'á', 'a') WHERE 1 = 1;
UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'â', 'a'), 'ã', 'a'), 'ä', 'a'), 'å', 'a'), 'È', 'e'), 'É', 'e'), 'Ê', 'e'), 'Ë', 'e') WHERE 1 = 1;
UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'è', 'e'), 'é', 'e'), 'ê', 'e'), 'ë', 'e'), 'Ì', 'i'), 'Í', 'i'), 'Î', 'i'), 'Ï', 'i') WHERE 1 = 1;
UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'ì', 'i'), 'í', 'i'), 'î', 'i'), 'ï', 'i'), 'Ò', 'o'), 'Ó', 'o'), 'Ô', 'o'), 'Õ', 'o') WHERE 1 = 1;
UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'Ö', 'o'), 'ò', 'o'), 'ó', 'o'), 'ô', 'o'), 'õ', 'o'), 'ö', 'o'), 'Ù', 'u'), 'Ú', 'u') WHERE 1 = 1;
UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(replace(name_folded, 'Û', 'u'), 'Ü', 'u'), 'ù', 'u'), 'ú', 'u'), 'û', 'u'), 'ü', 'u'), 'Ç', 'c'), 'ç', 'c') WHERE 1 = 1;
UPDATE customers SET name_folded = replace(replace(replace(replace(replace(name_folded, 'Ñ', 'n'), 'ñ', 'n'), 'Ý', 'y'), 'ý', 'y'), 'ÿ', 'y') WHERE 1 = 1;
UPDATE customers SET name_folded = replace(replace(replace(replace(replace(replace(replace(name_folded, char(768), ''), char(769), ''), char(770), ''), char(771), ''), char(776), ''), char(778), ''), char(807), '') WHERE 1 = 1;

CREATE INDEX customers_name_folded ON customers (name_folded);
