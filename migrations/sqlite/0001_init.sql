-- Core schema of ura on SQLite. Timestamps are UTC text (RFC 3339), money integer centavos.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE apps (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    token_hash        TEXT NOT NULL,
    enabled           INTEGER NOT NULL DEFAULT 1,
    allowed_functions TEXT,
    allowed_networks  TEXT,
    created_at        TEXT NOT NULL,
    last_used_at      TEXT
);

CREATE TABLE customers (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    document   TEXT NOT NULL,
    birth_date TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX customers_document ON customers (document);

CREATE TABLE customer_contacts (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('email', 'mobile', 'phone')),
    value       TEXT NOT NULL
);
CREATE INDEX customer_contacts_customer ON customer_contacts (customer_id);

CREATE TABLE pops (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    city TEXT
);

-- FreeRADIUS `nas` table (stock columns) plus ours after `description`.
CREATE TABLE nas (
    id          INTEGER PRIMARY KEY,
    nasname     TEXT NOT NULL,
    shortname   TEXT,
    type        TEXT DEFAULT 'other',
    ports       INTEGER,
    secret      TEXT NOT NULL DEFAULT 'secret',
    server      TEXT,
    community   TEXT,
    description TEXT DEFAULT 'RADIUS Client',
    coa_port    INTEGER NOT NULL DEFAULT 3799,
    pop_id      INTEGER REFERENCES pops (id),
    check_method TEXT NOT NULL DEFAULT 'none',
    reachable   INTEGER NOT NULL DEFAULT 1,
    checked_at  TEXT
);
CREATE INDEX nas_nasname ON nas (nasname);

CREATE TABLE network_elements (
    id     INTEGER PRIMARY KEY,
    name   TEXT NOT NULL,
    kind   TEXT NOT NULL DEFAULT 'olt',
    pop_id INTEGER REFERENCES pops (id)
);

CREATE TABLE plans (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    download_kbps INTEGER NOT NULL,
    upload_kbps   INTEGER NOT NULL,
    price_cents   INTEGER NOT NULL,
    radius_group  TEXT NOT NULL
);

CREATE TABLE contracts (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    status      INTEGER NOT NULL CHECK (status BETWEEN 1 AND 7),
    status_mode INTEGER NOT NULL DEFAULT 1 CHECK (status_mode IN (1, 2)),
    pop_id      INTEGER REFERENCES pops (id),
    due_day     INTEGER NOT NULL DEFAULT 10 CHECK (due_day BETWEEN 1 AND 31),
    address     TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX contracts_customer ON contracts (customer_id);

CREATE TABLE internet_services (
    id          INTEGER PRIMARY KEY,
    contract_id INTEGER NOT NULL REFERENCES contracts (id),
    login       TEXT NOT NULL UNIQUE,
    password    TEXT NOT NULL,
    plan_id     INTEGER REFERENCES plans (id),
    nas_id      INTEGER REFERENCES nas (id),
    element_id  INTEGER REFERENCES network_elements (id),
    mac         TEXT,
    enabled     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX internet_services_contract ON internet_services (contract_id);

CREATE TABLE invoices (
    id              INTEGER PRIMARY KEY,
    contract_id     INTEGER NOT NULL REFERENCES contracts (id),
    document_number TEXT NOT NULL,
    our_number      TEXT NOT NULL,
    amount_cents    INTEGER NOT NULL CHECK (amount_cents >= 0),
    issued_on       TEXT NOT NULL,
    due_on          TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'cancelled')),
    paid_on         TEXT,
    paid_cents      INTEGER,
    cancelled_on    TEXT,
    barcode         TEXT,
    digitable_line  TEXT,
    pix_payload     TEXT
);
CREATE INDEX invoices_contract ON invoices (contract_id, status, due_on);

-- Protocol numbers: one counter per local day, and every protocol ever given.
CREATE TABLE protocol_counters (
    day  TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE protocols (
    protocol    TEXT PRIMARY KEY,
    contract_id INTEGER,
    customer_id INTEGER,
    day         TEXT NOT NULL,
    origin      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX protocols_contract ON protocols (contract_id, day);

CREATE TABLE promises (
    id              INTEGER PRIMARY KEY,
    contract_id     INTEGER NOT NULL REFERENCES contracts (id),
    -- Local month (YYYY-MM) and the promise's rank in it: the unique index enforces the
    -- monthly limit in the database, whatever the number of processes.
    local_month     TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    promised_date   TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    protocol        TEXT,
    previous_status INTEGER NOT NULL,
    previous_mode   INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'active'
                    CHECK (state IN ('active', 'fulfilled', 'expired', 'revoked')),
    caller          TEXT,
    app_id          INTEGER REFERENCES apps (id),
    UNIQUE (contract_id, local_month, seq)
);

CREATE TABLE ticket_types (
    id          INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE work_order_reasons (
    id          INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE sectors (
    id     INTEGER PRIMARY KEY,
    name   TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE tickets (
    id          INTEGER PRIMARY KEY,
    protocol    TEXT NOT NULL,
    contract_id INTEGER NOT NULL REFERENCES contracts (id),
    -- No foreign keys to the catalogs: a ticket keeps the ids it was opened with even if
    -- the operator later removes a catalog entry.
    type_id     INTEGER NOT NULL,
    sector_id   INTEGER,
    content     TEXT NOT NULL,
    origin      TEXT NOT NULL DEFAULT 'ura',
    caller      TEXT,
    app_id      INTEGER REFERENCES apps (id),
    status      TEXT NOT NULL DEFAULT 'open',
    created_at  TEXT NOT NULL
);
CREATE INDEX tickets_protocol ON tickets (protocol);
CREATE INDEX tickets_contract ON tickets (contract_id);

CREATE TABLE work_orders (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id),
    reason_id  INTEGER NOT NULL,
    status     TEXT NOT NULL DEFAULT 'open',
    created_at TEXT NOT NULL
);

CREATE TABLE maintenances (
    id           INTEGER PRIMARY KEY,
    description  TEXT NOT NULL,
    ivr_message  TEXT,
    severity     INTEGER NOT NULL DEFAULT 4 CHECK (severity BETWEEN 0 AND 4),
    status       INTEGER NOT NULL DEFAULT 1 CHECK (status BETWEEN 0 AND 4),
    starts_at    TEXT NOT NULL,
    expected_end TEXT,
    resolved_at  TEXT,
    created_at   TEXT NOT NULL
);

CREATE TABLE maintenance_pops (
    maintenance_id INTEGER NOT NULL REFERENCES maintenances (id) ON DELETE CASCADE,
    pop_id         INTEGER NOT NULL REFERENCES pops (id),
    PRIMARY KEY (maintenance_id, pop_id)
);

CREATE TABLE maintenance_elements (
    maintenance_id INTEGER NOT NULL REFERENCES maintenances (id) ON DELETE CASCADE,
    element_id     INTEGER NOT NULL REFERENCES network_elements (id),
    PRIMARY KEY (maintenance_id, element_id)
);

CREATE TABLE maintenance_nas (
    maintenance_id INTEGER NOT NULL REFERENCES maintenances (id) ON DELETE CASCADE,
    nas_id         INTEGER NOT NULL REFERENCES nas (id),
    PRIMARY KEY (maintenance_id, nas_id)
);

CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY,
    contract_id INTEGER NOT NULL REFERENCES contracts (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    protocol    TEXT NOT NULL,
    caller      TEXT,
    agent       TEXT,
    app_id      INTEGER REFERENCES apps (id),
    state       TEXT NOT NULL DEFAULT 'new',
    created_at  TEXT NOT NULL
);
CREATE INDEX notifications_created ON notifications (created_at);

-- Every invoice message handed to the mail server or SMS gateway (or the file directory).
CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    contract_id INTEGER NOT NULL REFERENCES contracts (id),
    channel     TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient   TEXT NOT NULL,
    subject     TEXT,
    body        TEXT NOT NULL,
    protocol    TEXT,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'abandoned')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    sent_at     TEXT
);

-- FreeRADIUS 3.2 schema (raddb/mods-config/sql/main/sqlite/schema.sql): same tables and
-- columns, so that rlm_sql can share this database.
CREATE TABLE radacct (
    radacctid           INTEGER PRIMARY KEY AUTOINCREMENT,
    acctsessionid       TEXT NOT NULL DEFAULT '',
    acctuniqueid        TEXT NOT NULL DEFAULT '',
    username            TEXT NOT NULL DEFAULT '',
    realm               TEXT DEFAULT '',
    nasipaddress        TEXT NOT NULL DEFAULT '',
    nasportid           TEXT DEFAULT NULL,
    nasporttype         TEXT DEFAULT NULL,
    acctstarttime       DATETIME NULL DEFAULT NULL,
    acctupdatetime      DATETIME NULL DEFAULT NULL,
    acctstoptime        DATETIME NULL DEFAULT NULL,
    acctinterval        INTEGER DEFAULT NULL,
    acctsessiontime     INTEGER DEFAULT NULL,
    acctauthentic       TEXT DEFAULT NULL,
    connectinfo_start   TEXT DEFAULT NULL,
    connectinfo_stop    TEXT DEFAULT NULL,
    acctinputoctets     BIGINT DEFAULT NULL,
    acctoutputoctets    BIGINT DEFAULT NULL,
    calledstationid     TEXT NOT NULL DEFAULT '',
    callingstationid    TEXT NOT NULL DEFAULT '',
    acctterminatecause  TEXT NOT NULL DEFAULT '',
    servicetype         TEXT DEFAULT NULL,
    framedprotocol      TEXT DEFAULT NULL,
    framedipaddress     TEXT NOT NULL DEFAULT '',
    framedipv6address   TEXT NOT NULL DEFAULT '',
    framedipv6prefix    TEXT NOT NULL DEFAULT '',
    framedinterfaceid   TEXT NOT NULL DEFAULT '',
    delegatedipv6prefix TEXT NOT NULL DEFAULT '',
    class               TEXT DEFAULT NULL
);
CREATE UNIQUE INDEX radacct_acctuniqueid ON radacct (acctuniqueid);
CREATE INDEX radacct_username ON radacct (username);
CREATE INDEX radacct_acctstoptime ON radacct (acctstoptime);

CREATE TABLE radcheck (
    id        INTEGER PRIMARY KEY,
    username  TEXT NOT NULL DEFAULT '',
    attribute TEXT NOT NULL DEFAULT '',
    op        TEXT NOT NULL DEFAULT '==',
    value     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX radcheck_username ON radcheck (username);

CREATE TABLE radreply (
    id        INTEGER PRIMARY KEY,
    username  TEXT NOT NULL DEFAULT '',
    attribute TEXT NOT NULL DEFAULT '',
    op        TEXT NOT NULL DEFAULT '=',
    value     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX radreply_username ON radreply (username);

CREATE TABLE radgroupcheck (
    id        INTEGER PRIMARY KEY,
    groupname TEXT NOT NULL DEFAULT '',
    attribute TEXT NOT NULL DEFAULT '',
    op        TEXT NOT NULL DEFAULT '==',
    value     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX radgroupcheck_groupname ON radgroupcheck (groupname);

CREATE TABLE radgroupreply (
    id        INTEGER PRIMARY KEY,
    groupname TEXT NOT NULL DEFAULT '',
    attribute TEXT NOT NULL DEFAULT '',
    op        TEXT NOT NULL DEFAULT '=',
    value     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX radgroupreply_groupname ON radgroupreply (groupname);

CREATE TABLE radusergroup (
    id        INTEGER PRIMARY KEY,
    username  TEXT NOT NULL DEFAULT '',
    groupname TEXT NOT NULL DEFAULT '',
    priority  INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX radusergroup_username ON radusergroup (username);

CREATE TABLE radpostauth (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL DEFAULT '',
    pass     TEXT NOT NULL DEFAULT '',
    reply    TEXT NOT NULL DEFAULT '',
    authdate TIMESTAMP NOT NULL,
    class    TEXT DEFAULT NULL
);
CREATE INDEX radpostauth_username ON radpostauth (username);

CREATE TABLE nasreload (
    nasipaddress TEXT PRIMARY KEY,
    reloadtime   DATETIME NOT NULL
);

-- Default catalogs of the original system (CONTRACT.md §2.6); the operator may edit them.
INSERT INTO ticket_types (id, description) VALUES
    (1, 'Suporte - Sem Acesso'),
    (2, 'Suporte - Alterar MAC Placa de Rede'),
    (3, 'Suporte - Acesso Lento'),
    (4, 'Suporte - Problemas com páginas'),
    (5, 'Suporte - Outros'),
    (20, 'Financeiro - Alteração de Valor'),
    (21, 'Financeiro - Bloqueio'),
    (22, 'Financeiro - Reclamação Fatura'),
    (23, 'Financeiro - Mudança de Plano'),
    (24, 'Financeiro - Cancelamento Cobrança'),
    (25, 'Financeiro - Cancelamento Serviço'),
    (26, 'Financeiro - Outros'),
    (27, 'Financeiro - Cancelamento Contrato'),
    (28, 'Financeiro - Ativação de Contrato'),
    (29, 'Cobrança - Título em atraso'),
    (30, 'Cobrança - Lembrança de Pagamento');

INSERT INTO work_order_reasons (id, description) VALUES
    (10, 'Instalação de KIT'),
    (20, 'Remoção de KIT'),
    (30, 'Preventiva'),
    (40, 'Corretiva'),
    (50, 'Financeiro'),
    (60, 'Mudança Endereço');

INSERT INTO sectors (id, name) VALUES
    (1, 'Suporte'),
    (2, 'Financeiro'),
    (3, 'Comercial');
