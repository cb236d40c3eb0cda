-- A PostgreSQL role for FreeRADIUS in ura's database, with only what rlm_sql needs.
--
-- Run it once, in ura's database, as the owner of its tables (the role of ura's
-- database_url), after `ura migrate`:
--
--     psql "postgres://ura@localhost/ura" -f postgresql-grants.sql
--
-- then put the same name and password in mods-available/sql (login, password).
-- Change the password below first.

CREATE ROLE freeradius LOGIN PASSWORD 'troque-esta-senha';

-- Authorization: passwords, groups and reply attributes, written by ura.
-- The nas table too, for "read_clients = yes".
GRANT SELECT ON radcheck, radreply, radusergroup, radgroupcheck, radgroupreply, nas
    TO freeradius;

-- Accounting: sessions are inserted and then updated (interim, stop); Accounting-On/Off
-- close a NAS's sessions and record the reload time.
GRANT SELECT, INSERT, UPDATE ON radacct, nasreload TO freeradius;
GRANT USAGE ON SEQUENCE radacct_radacctid_seq TO freeradius;

-- Post-auth: one row per login attempt.
GRANT INSERT ON radpostauth TO freeradius;
GRANT USAGE ON SEQUENCE radpostauth_id_seq TO freeradius;
