-- Every change to the apps' credentials is announced on the channel `ura_apps`, whoever
-- makes it (a server, the command line, SQL by hand): servers keep the credentials in memory
-- while they listen, and empty that memory when they hear it. `last_used_at` is not a
-- credential, and is written every minute: its updates announce nothing.
CREATE FUNCTION ura_apps_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ura_apps', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER apps_changed
    AFTER INSERT OR DELETE OR UPDATE OF name, token_hash, enabled, allowed_functions, allowed_networks
    ON apps FOR EACH STATEMENT EXECUTE FUNCTION ura_apps_changed();

CREATE TRIGGER apps_truncated
    AFTER TRUNCATE ON apps FOR EACH STATEMENT EXECUTE FUNCTION ura_apps_changed();
