//! A stock FreeRADIUS 3.2 working on ura's database, end to end: `radtest` against the
//! passwords and groups ura provisions, `radclient` accounting that `verificaacesso` sees.
//!
//! FreeRADIUS runs from `examples/freeradius/` (see radius.rs). ura's database is an SQLite
//! file, or a fresh PostgreSQL database when `URA_TEST_DATABASE_URL` is set; the MariaDB test
//! uses `URA_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`).
//!
//! Without FreeRADIUS (or MariaDB) installed the tests are skipped with a message, unless
//! `URA_TEST_REQUIRE_FREERADIUS=1`, which CI sets.
//!
//! coa.rs checks RFC 5176 Dynamic Authorization both ways with FreeRADIUS's own tools:
//! `radclient` against `ura nas-sim`, and ura's CoA client against a FreeRADIUS CoA listener.
//!
//! cobranca.rs runs the money loop on that network: the dunning job blocks an overdue
//! contract, paying gives the line back (through the admin API, or a PSP's PIX notice), with
//! a NAS simulator receiving the Disconnects.
//!
//! retorno.rs: a bank return file paying the overdue invoice of a contract the job suspended
//! gives the line back the same way.
//!
//! Run: `cargo test --test freeradius`.

mod coa;
mod cobranca;
mod radius;
mod retorno;
#[path = "../skip.rs"]
mod skip;
mod ura;

use crate::radius::{Auth, FreeRadius, Install, Reply, session_attrs};
use crate::ura::{MariaDb, Resp, Ura};

fn skip_or_panic(test: &str, why: &str) {
    skip::skip(
        "freeradius",
        test,
        why,
        "apt-get install freeradius freeradius-postgresql freeradius-mysql freeradius-utils \
         mariadb-server mariadb-client, MariaDB at 127.0.0.1:3306 (root without password)",
        Some("FREERADIUS"),
    );
}

fn install_or_skip(test: &str) -> Option<Install> {
    let on_postgres = std::env::var_os("URA_TEST_DATABASE_URL").is_some();
    match Install::find() {
        Ok(_) if on_postgres && !Install::has_module("sql_postgresql") => {
            skip_or_panic(
                test,
                "FreeRADIUS's PostgreSQL driver rlm_sql_postgresql is not installed \
                 (freeradius-postgresql)",
            );
            None
        }
        Ok(install) => Some(install),
        Err(why) => {
            skip_or_panic(test, &why);
            None
        }
    }
}

async fn password_of(ura: &Ura, login: &str) -> String {
    ura.scalar_str(&format!(
        "SELECT password FROM internet_services WHERE login = '{login}'"
    ))
    .await
    .unwrap_or_else(|| panic!("no internet service with login {login}"))
}

fn assert_accept(r: &Reply) {
    assert_eq!(r.code, "Access-Accept", "{}", r.output);
}

async fn promise(ura: &Ura, contract: &str) {
    let r = ura
        .call("liberacaopromessa", &[("contrato", contract)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], 1, "liberacaopromessa: {}", r.body);
}

async fn check_access(ura: &Ura, contract: &str) -> Resp {
    let r = ura.call("verificaacesso", &[("contrato", contract)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r
}

fn assert_online(r: &Resp, login: &str) {
    assert_eq!(r.json["status"], 1, "verificaacesso: {}", r.body);
    assert_eq!(r.json["msg"], "Serviço Online", "{}", r.body);
    assert_eq!(r.json["login"], login, "{}", r.body);
}

fn assert_offline(r: &Resp, login: &str) {
    assert_eq!(r.json["status"], 2, "verificaacesso: {}", r.body);
    assert_eq!(r.json["msg"], "Serviço Offline", "{}", r.body);
    assert_eq!(r.json["login"], login, "{}", r.body);
}

fn session_id() -> String {
    format!("{:08X}", rand::random::<u32>())
}

/// Open sessions of `login` in ura's own radacct.
async fn open_sessions(ura: &Ura, login: &str) -> i64 {
    ura.scalar_i64(&format!(
        "SELECT COUNT(*) FROM radacct WHERE username = '{login}' AND acctstoptime IS NULL"
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspended_login_gets_the_block_group_until_a_promise() {
    let Some(install) = install_or_skip("suspended_login_gets_the_block_group_until_a_promise")
    else {
        return;
    };
    let ura = Ura::spawn(&install, |_| {}).await;
    let radius = FreeRadius::start(&install, &ura.radius_target()).await;
    let password = password_of(&ura, "maria.silva2").await;

    // 1002 is suspended: the NAS lets the customer in, in the block group.
    let r = radius.radtest("maria.silva2", &password, Auth::Pap).await;
    assert_accept(&r);
    assert_eq!(
        r.get("Mikrotik-Address-List").as_deref(),
        Some("bloqueados"),
        "the block group's reply: {}",
        r.output
    );
    assert_eq!(r.get("Mikrotik-Rate-Limit"), None, "{}", r.output);

    // The promise reactivates the contract: the plan's group, in the same transaction.
    promise(&ura, "1002").await;
    let r = radius.radtest("maria.silva2", &password, Auth::Pap).await;
    assert_accept(&r);
    assert_eq!(
        r.get("Mikrotik-Rate-Limit").as_deref(),
        Some("150M/300M"),
        "plano-300m's reply: {}",
        r.output
    );
    assert_eq!(r.get("Mikrotik-Address-List"), None, "{}", r.output);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chap_and_mschap_work_with_the_provisioned_password() {
    let Some(install) = install_or_skip("chap_and_mschap_work_with_the_provisioned_password")
    else {
        return;
    };
    let ura = Ura::spawn(&install, |_| {}).await;
    let radius = FreeRadius::start(&install, &ura.radius_target()).await;
    let password = password_of(&ura, "maria.silva").await;

    // 1001 is active on plano-600m.
    for auth in [Auth::Pap, Auth::Chap, Auth::MsChap] {
        let r = radius.radtest("maria.silva", &password, auth).await;
        assert_accept(&r);
        assert_eq!(
            r.get("Mikrotik-Rate-Limit").as_deref(),
            Some("300M/600M"),
            "{auth:?}: {}",
            r.output
        );
    }
    let r = radius.radtest("maria.silva", "errada", Auth::Chap).await;
    assert_eq!(r.code, "Access-Reject", "{}", r.output);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_unknown_login_are_rejected() {
    let Some(install) = install_or_skip("wrong_password_and_unknown_login_are_rejected") else {
        return;
    };
    let ura = Ura::spawn(&install, |_| {}).await;
    let radius = FreeRadius::start(&install, &ura.radius_target()).await;

    let r = radius
        .radtest("maria.silva2", "senha-errada", Auth::Pap)
        .await;
    assert_eq!(r.code, "Access-Reject", "{}", r.output);
    assert!(
        !r.has_vendor("Mikrotik-"),
        "a reject carries no group attributes: {}",
        r.output
    );

    let r = radius.radtest("ninguem.aqui", "qualquer", Auth::Pap).await;
    assert_eq!(r.code, "Access-Reject", "{}", r.output);

    // post-auth recorded both attempts, without the passwords that were typed.
    let rejects = ura
        .scalar_i64(
            "SELECT COUNT(*) FROM radpostauth WHERE reply = 'Access-Reject' \
             AND username IN ('maria.silva2', 'ninguem.aqui')",
        )
        .await;
    assert_eq!(rejects, 2, "radpostauth rows of the rejects");
    let with_password = ura
        .scalar_i64("SELECT COUNT(*) FROM radpostauth WHERE COALESCE(pass, '') <> ''")
        .await;
    assert_eq!(with_password, 0, "radpostauth must not keep passwords");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounting_start_and_stop_drive_verificaacesso() {
    let Some(install) = install_or_skip("accounting_start_and_stop_drive_verificaacesso") else {
        return;
    };
    let ura = Ura::spawn(&install, |_| {}).await;
    let radius = FreeRadius::start(&install, &ura.radius_target()).await;

    promise(&ura, "1002").await;
    assert_offline(&check_access(&ura, "1002").await, "maria.silva2");

    let id = session_id();
    let start = session_attrs("maria.silva2", &id, "Start", "100.64.0.99");
    let r = radius.accounting(&start).await;
    assert_eq!(r.code, "Accounting-Response", "{}", r.output);
    assert_eq!(
        open_sessions(&ura, "maria.silva2").await,
        1,
        "FreeRADIUS wrote the session into ura's radacct"
    );
    assert_online(&check_access(&ura, "1002").await, "maria.silva2");

    let interim = session_attrs("maria.silva2", &id, "Interim-Update", "100.64.0.99");
    let r = radius.accounting(&interim).await;
    assert_eq!(r.code, "Accounting-Response", "{}", r.output);
    assert_online(&check_access(&ura, "1002").await, "maria.silva2");

    let mut stop = session_attrs("maria.silva2", &id, "Stop", "100.64.0.99");
    stop.extend([
        ("Acct-Session-Time", "120".to_string()),
        ("Acct-Input-Octets", "123456".to_string()),
        ("Acct-Output-Octets", "654321".to_string()),
        ("Acct-Terminate-Cause", "User-Request".to_string()),
    ]);
    let r = radius.accounting(&stop).await;
    assert_eq!(r.code, "Accounting-Response", "{}", r.output);
    assert_eq!(open_sessions(&ura, "maria.silva2").await, 0);
    let closed = ura
        .scalar_i64(
            "SELECT COUNT(*) FROM radacct WHERE username = 'maria.silva2' \
             AND acctstoptime IS NOT NULL AND acctterminatecause = 'User-Request'",
        )
        .await;
    assert_eq!(closed, 1, "the Stop closed the session");
    assert_offline(&check_access(&ura, "1002").await, "maria.silva2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nas_reboot_accounting_on_closes_its_sessions() {
    let Some(install) = install_or_skip("nas_reboot_accounting_on_closes_its_sessions") else {
        return;
    };
    let ura = Ura::spawn(&install, |_| {}).await;
    let radius = FreeRadius::start(&install, &ura.radius_target()).await;

    promise(&ura, "1002").await;
    let start = session_attrs("maria.silva2", &session_id(), "Start", "100.64.0.98");
    let r = radius.accounting(&start).await;
    assert_eq!(r.code, "Accounting-Response", "{}", r.output);
    assert_online(&check_access(&ura, "1002").await, "maria.silva2");

    // A rebooted NAS sends Accounting-On: every session it had is over.
    let on = [
        ("Acct-Status-Type", "Accounting-On".to_string()),
        ("NAS-IP-Address", "127.0.0.1".to_string()),
        ("Acct-Session-Id", format!("\"{}\"", session_id())),
    ];
    let r = radius.accounting(&on).await;
    assert_eq!(r.code, "Accounting-Response", "{}", r.output);
    assert_eq!(open_sessions(&ura, "maria.silva2").await, 0);
    assert_offline(&check_access(&ura, "1002").await, "maria.silva2");

    // Again, with no session left to close: still answered, or the NAS would resend it.
    let r = radius.accounting(&on).await;
    assert_eq!(r.code, "Accounting-Response", "{}", r.output);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_sessions_are_read_through_radacct_url() {
    const TEST: &str = "mariadb_sessions_are_read_through_radacct_url";
    let Some(install) = install_or_skip(TEST) else {
        return;
    };
    if !Install::has_module("sql_mysql") {
        return skip_or_panic(
            TEST,
            "FreeRADIUS's MySQL/MariaDB driver rlm_sql_mysql is not installed (freeradius-mysql)",
        );
    }
    let (client, admin) = match MariaDb::probe() {
        Ok(found) => found,
        Err(why) => return skip_or_panic(TEST, &why),
    };
    // FreeRADIUS keeps its own MariaDB database; ura only reads sessions from it.
    let db = MariaDb::create(client, admin, &install);
    let radacct_url = db.url();
    let ura = Ura::spawn(&install, |s| s.radacct_url = Some(radacct_url)).await;
    let radius = FreeRadius::start(&install, &db.radius_target()).await;

    // ura's own radacct has an open demo session of maria.silva; the external one has none.
    assert_offline(&check_access(&ura, "1001").await, "maria.silva");

    let id = session_id();
    let r = radius
        .accounting(&session_attrs("maria.silva", &id, "Start", "100.64.0.77"))
        .await;
    assert_eq!(r.code, "Accounting-Response", "{}", r.output);
    let open = db.query(
        "SELECT COUNT(*) FROM radacct WHERE username = 'maria.silva' AND acctstoptime IS NULL",
    );
    assert_eq!(
        open.trim(),
        "1",
        "FreeRADIUS wrote the session into MariaDB"
    );
    assert_online(&check_access(&ura, "1001").await, "maria.silva");

    let mut stop = session_attrs("maria.silva", &id, "Stop", "100.64.0.77");
    stop.extend([
        ("Acct-Session-Time", "60".to_string()),
        ("Acct-Terminate-Cause", "Lost-Carrier".to_string()),
    ]);
    let r = radius.accounting(&stop).await;
    assert_eq!(r.code, "Accounting-Response", "{}", r.output);
    assert_offline(&check_access(&ura, "1001").await, "maria.silva");
}
