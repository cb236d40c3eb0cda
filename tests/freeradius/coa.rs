//! RFC 5176 Dynamic Authorization (and RFC 5997 Status-Server) against FreeRADIUS's own
//! implementation, both ways:
//!
//! - FreeRADIUS's `radclient` → `ura nas-sim`, the real binary as a child process: radclient
//!   accepts the simulator's answers (it drops a reply whose Response Authenticator or
//!   Message-Authenticator does not verify) and they carry the right code and Error-Cause; a
//!   request signed with another secret gets no answer and disconnects nothing.
//! - ura's `CoaClient` → a FreeRADIUS CoA listener (`listen { type = coa }`) whose client entry
//!   requires Message-Authenticator: FreeRADIUS accepts our Request Authenticator and
//!   Message-Authenticator, decodes our attributes with its dictionary (a `linelog` writes
//!   them to a file), and we accept its ACK or NAK. Status-Server goes to an auth listener,
//!   answered when `security { status_server = yes }`.
//!
//! Everything runs on 127.0.0.1; no database is involved.

use std::fs;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use ura::network::coa::{CoaClient, NasTarget, Outcome, SessionRef};

use crate::install_or_skip;
use crate::radius::{
    FreeRadius, Install, Patience, Reply, ToolRun, parse_reply, quoted, radclient, random_hex, tail,
};

/// How long `ura nas-sim` may take to print its address.
const SIM_START_DEADLINE: Duration = Duration::from_secs(20);
/// How long it may take to exit after SIGTERM before it is killed.
const SIM_STOP_DEADLINE: Duration = Duration::from_secs(5);
/// How long a line may take to reach a log file after the event that writes it.
const LOG_DEADLINE: Duration = Duration::from_secs(5);
/// Between two looks at a file being waited on.
const POLL: Duration = Duration::from_millis(20);

/// radclient when an answer is expected: up to 3 tries, 3 s apart.
const PATIENT: Patience = Patience {
    retries: 3,
    timeout_secs: 3,
};
/// radclient when no answer is expected: one try, 1 s.
const HASTY: Patience = Patience {
    retries: 1,
    timeout_secs: 1,
};

/// What `ura nas-sim` logs (at debug level) when it drops a request that does not verify.
const SIM_DROPPED: &str = "nas-sim: requisição não autenticada descartada";

/// The file's text so far ("" while it does not exist).
fn read_all(path: &Path) -> String {
    fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// Polls `path` until `done` holds for its text; the text last read, and whether it did.
async fn poll_file(path: &Path, deadline: Duration, done: impl Fn(&str) -> bool) -> (String, bool) {
    let until = Instant::now() + deadline;
    loop {
        let text = read_all(path);
        if done(&text) {
            return (text, true);
        }
        if Instant::now() >= until {
            return (text, false);
        }
        tokio::time::sleep(POLL).await;
    }
}

// ---------------------------------------------------------------------------------------------
// radclient → ura nas-sim

/// `ura nas-sim --listen 127.0.0.1:0` as a child process; SIGTERM (then SIGKILL) when dropped.
struct NasSimProcess {
    child: Option<Child>,
    /// Where it listens, as it printed it.
    addr: SocketAddr,
    secret: String,
    /// stdout, stderr, and the working directory of the process; also radclient's `-d`.
    dir: tempfile::TempDir,
}

impl NasSimProcess {
    /// Starts it holding `sessions` (`LOGIN=ACCT-SESSION-ID`) and returns once it printed
    /// where it listens (bounded by `SIM_START_DEADLINE`).
    async fn start(sessions: &[&str]) -> NasSimProcess {
        let dir = tempfile::tempdir().expect("tempdir");
        let secret = random_hex(12);
        let stdout = fs::File::create(dir.path().join("stdout")).expect("stdout file");
        let stderr = fs::File::create(dir.path().join("stderr")).expect("stderr file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ura"));
        cmd.args(["nas-sim", "--listen", "127.0.0.1:0", "--secret", &secret]);
        for session in sessions {
            cmd.args(["--session", session]);
        }
        let child = cmd
            // Debug level: the simulator says when it drops a request.
            .env("URA_LOG", "ura=debug")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start ura nas-sim");
        let mut sim = NasSimProcess {
            child: Some(child),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            secret,
            dir,
        };
        sim.addr = sim.wait_listening().await;
        sim
    }

    /// Polls stdout for `nas-sim escutando em udp://IP:PORT`.
    async fn wait_listening(&mut self) -> SocketAddr {
        const PREFIX: &str = "nas-sim escutando em udp://";
        let until = Instant::now() + SIM_START_DEADLINE;
        loop {
            let out = read_all(&self.dir.path().join("stdout"));
            // Only whole lines: the rest may still be being written.
            if let Some(addr) = out
                .split_inclusive('\n')
                .filter(|l| l.ends_with('\n'))
                .find_map(|l| l.trim_end().strip_prefix(PREFIX))
            {
                return addr
                    .parse()
                    .unwrap_or_else(|e| panic!("nas-sim printed a bad address {addr:?}: {e}"));
            }
            let child = self.child.as_mut().expect("child");
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "ura nas-sim exited ({status}):\n{out}\n{}",
                    self.stderr_text()
                );
            }
            if Instant::now() >= until {
                panic!(
                    "ura nas-sim did not print its address in {}s:\n{out}\n{}",
                    SIM_START_DEADLINE.as_secs(),
                    self.stderr_text()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn stderr_text(&self) -> String {
        read_all(&self.dir.path().join("stderr"))
    }

    /// Waits until the simulator has logged `needle` `times` times (or the deadline).
    async fn wait_logged(&self, needle: &str, times: usize) {
        let (text, found) = poll_file(&self.dir.path().join("stderr"), LOG_DEADLINE, |t| {
            t.matches(needle).count() >= times
        })
        .await;
        assert!(
            found,
            "nas-sim did not log {needle:?} {times} time(s):\n{text}"
        );
    }

    /// radclient to this simulator; `secret` is usually `self.secret`.
    async fn radclient(
        &self,
        install: &Install,
        command: &str,
        secret: &str,
        body: &str,
        patience: Patience,
    ) -> ToolRun {
        radclient(
            install,
            self.dir.path(),
            &self.addr.to_string(),
            command,
            secret,
            body,
            patience,
        )
        .await
    }

    /// SIGTERM, then SIGKILL after `SIM_STOP_DEADLINE`; how it exited (`None`: killed).
    fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let until = Instant::now() + SIM_STOP_DEADLINE;
        while Instant::now() < until {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(POLL);
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }
}

impl Drop for NasSimProcess {
    fn drop(&mut self) {
        if std::thread::panicking() && self.child.is_some() {
            eprintln!("--- ura nas-sim stderr:\n{}", tail(&self.stderr_text(), 60));
        }
        self.stop();
    }
}

/// radclient input: one attribute a line, and the reply code radclient must get for a zero
/// exit status (any other code makes it fail).
fn request(attrs: &[&str], expect: &str) -> String {
    let mut body: String = attrs.iter().map(|a| format!("{a}\n")).collect();
    body.push_str(&format!("Response-Packet-Type = {expect}\n"));
    body
}

/// radclient got a reply it verified, with code `code`.
fn assert_received(run: &ToolRun, code: &str) -> Reply {
    assert!(
        run.status.success(),
        "radclient ({}) did not get {code}:\n{}",
        run.status,
        run.output
    );
    let reply = parse_reply(&run.output)
        .unwrap_or_else(|| panic!("radclient printed no reply:\n{}", run.output));
    assert_eq!(reply.code, code, "{}", run.output);
    reply
}

/// radclient got no reply it would accept.
fn assert_no_answer(run: &ToolRun) {
    assert!(
        !run.status.success(),
        "radclient succeeded without an answer?\n{}",
        run.output
    );
    assert!(
        parse_reply(&run.output).is_none(),
        "radclient accepted a reply:\n{}",
        run.output
    );
    assert!(
        run.output.contains("No reply from server"),
        "radclient should have timed out:\n{}",
        run.output
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn radclient_disconnect_and_coa_to_nas_sim() {
    let Some(install) = install_or_skip("radclient_disconnect_and_coa_to_nas_sim") else {
        return;
    };
    let mut sim = NasSimProcess::start(&["maria.silva=S1", "jose.souza=S2"]).await;
    let secret = sim.secret.clone();

    // A CoA-Request for a held session: ACK, the session stays. The simulator signs its
    // replies with a Message-Authenticator, which radclient checks too.
    let run = sim
        .radclient(
            &install,
            "coa",
            &secret,
            &request(
                &["User-Name = \"maria.silva\"", "Acct-Session-Id = \"S1\""],
                "CoA-ACK",
            ),
            PATIENT,
        )
        .await;
    let reply = assert_received(&run, "CoA-ACK");
    assert!(
        reply.get("Message-Authenticator").is_some(),
        "{}",
        run.output
    );

    // Disconnect-Request with a Message-Authenticator computed by radclient (RFC 5176 §3.5:
    // over the packet with a zero Request Authenticator): the simulator verifies it, ACK.
    let run = sim
        .radclient(
            &install,
            "disconnect",
            &secret,
            &request(
                &[
                    "User-Name = \"maria.silva\"",
                    "Acct-Session-Id = \"S1\"",
                    "Message-Authenticator = 0x00",
                ],
                "Disconnect-ACK",
            ),
            PATIENT,
        )
        .await;
    assert_received(&run, "Disconnect-ACK");

    // The session is gone: Disconnect-NAK and CoA-NAK with Error-Cause 503, which radclient's
    // dictionary names.
    let run = sim
        .radclient(
            &install,
            "disconnect",
            &secret,
            &request(
                &["User-Name = \"maria.silva\"", "Acct-Session-Id = \"S1\""],
                "Disconnect-NAK",
            ),
            PATIENT,
        )
        .await;
    let reply = assert_received(&run, "Disconnect-NAK");
    assert_eq!(
        reply.get("Error-Cause").as_deref(),
        Some("Session-Context-Not-Found"),
        "{}",
        run.output
    );
    let run = sim
        .radclient(
            &install,
            "coa",
            &secret,
            &request(
                &[
                    "User-Name = \"maria.silva\"",
                    "Message-Authenticator = 0x00",
                ],
                "CoA-NAK",
            ),
            PATIENT,
        )
        .await;
    let reply = assert_received(&run, "CoA-NAK");
    assert_eq!(
        reply.get("Error-Cause").as_deref(),
        Some("Session-Context-Not-Found"),
        "{}",
        run.output
    );

    // Another Acct-Session-Id of a held login is another session.
    let run = sim
        .radclient(
            &install,
            "coa",
            &secret,
            &request(
                &["User-Name = \"jose.souza\"", "Acct-Session-Id = \"S9\""],
                "CoA-NAK",
            ),
            PATIENT,
        )
        .await;
    assert_received(&run, "CoA-NAK");
    // Acct-Session-Id alone identifies the session too.
    let run = sim
        .radclient(
            &install,
            "disconnect",
            &secret,
            &request(&["Acct-Session-Id = \"S2\""], "Disconnect-ACK"),
            PATIENT,
        )
        .await;
    assert_received(&run, "Disconnect-ACK");

    // SIGTERM ends it cleanly.
    let status = sim.stop();
    assert!(
        status.is_some_and(|s| s.success()),
        "ura nas-sim after SIGTERM: {status:?}\n{}",
        sim.stderr_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn radclient_status_server_to_nas_sim() {
    let Some(install) = install_or_skip("radclient_status_server_to_nas_sim") else {
        return;
    };
    let sim = NasSimProcess::start(&[]).await;
    let secret = sim.secret.clone();

    let run = sim
        .radclient(
            &install,
            "status",
            &secret,
            &request(&["Message-Authenticator = 0x00"], "Access-Accept"),
            PATIENT,
        )
        .await;
    let reply = assert_received(&run, "Access-Accept");
    assert!(
        reply.get("Message-Authenticator").is_some(),
        "{}",
        run.output
    );

    // RFC 5997 §3: a Status-Server without Message-Authenticator is discarded.
    let run = sim
        .radclient(
            &install,
            "status",
            &secret,
            "NAS-Identifier = \"sonda\"\n",
            HASTY,
        )
        .await;
    assert_no_answer(&run);
    sim.wait_logged(SIM_DROPPED, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn radclient_with_wrong_secret_disconnects_nothing() {
    let Some(install) = install_or_skip("radclient_with_wrong_secret_disconnects_nothing") else {
        return;
    };
    let sim = NasSimProcess::start(&["maria.silva=S1"]).await;
    let wrong = format!("{}x", sim.secret);

    // Without Message-Authenticator (the Request Authenticator does not verify) and with one
    // (neither does it): both dropped, no answer at all.
    for attrs in [
        &["User-Name = \"maria.silva\"", "Acct-Session-Id = \"S1\""][..],
        &[
            "User-Name = \"maria.silva\"",
            "Acct-Session-Id = \"S1\"",
            "Message-Authenticator = 0x00",
        ][..],
    ] {
        let run = sim
            .radclient(
                &install,
                "disconnect",
                &wrong,
                &request(attrs, "Disconnect-ACK"),
                HASTY,
            )
            .await;
        assert_no_answer(&run);
    }
    sim.wait_logged(SIM_DROPPED, 2).await;

    // The session is still there.
    let secret = sim.secret.clone();
    let run = sim
        .radclient(
            &install,
            "disconnect",
            &secret,
            &request(
                &["User-Name = \"maria.silva\"", "Acct-Session-Id = \"S1\""],
                "Disconnect-ACK",
            ),
            PATIENT,
        )
        .await;
    assert_received(&run, "Disconnect-ACK");
}

// ---------------------------------------------------------------------------------------------
// CoaClient → FreeRADIUS

/// What the FreeRADIUS CoA listener answers.
#[derive(Clone, Copy, Debug)]
enum Policy {
    /// `ok`: Disconnect-ACK / CoA-ACK.
    Ack,
    /// `reject`: Disconnect-NAK with Error-Cause Session-Context-Not-Found, CoA-NAK without
    /// Error-Cause.
    Reject,
}

/// What the `linelog` writes for each request, `key=value|...`: the attribute's value as
/// FreeRADIUS decoded it ("" when absent).
const LOGGED: &[(&str, &str)] = &[
    ("packet", "Packet-Type"),
    ("user", "User-Name"),
    ("session", "Acct-Session-Id"),
    ("framed", "Framed-IP-Address"),
    ("framed6", "Framed-IPv6-Address"),
    ("nas", "NAS-IP-Address"),
    ("nas6", "NAS-IPv6-Address"),
    ("rate", "Mikrotik-Rate-Limit"),
    ("ma", "Message-Authenticator"),
];

fn coa_radiusd_conf(
    dir: &Path,
    stock: &Path,
    secret: &str,
    policy: Policy,
    status_server: bool,
    coa_port: u16,
    auth_port: u16,
) -> String {
    let stock = stock.display();
    let format: Vec<String> = LOGGED
        .iter()
        .map(|(key, attr)| format!("{key}=%{{{attr}}}"))
        .collect();
    let format = format.join("|");
    let recv_coa = match policy {
        Policy::Ack => "\t\tcoa_log\n\t\tok\n",
        Policy::Reject => {
            "\t\tcoa_log\n\
             \t\tif (Packet-Type == Disconnect-Request) {\n\
             \t\t\tupdate reply {\n\
             \t\t\t\tError-Cause := Session-Context-Not-Found\n\
             \t\t\t}\n\
             \t\t}\n\
             \t\treject\n"
        }
    };
    let status_server = if status_server { "yes" } else { "no" };
    let secret = quoted(secret);
    let log = quoted(&dir.join("log/coa.log").display().to_string());
    let dir = dir.display();
    format!(
        r#"# Generated by tests/freeradius/coa.rs: a CoA listener that logs what it decodes.
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = {dir}
sbindir = ${{exec_prefix}}/sbin
logdir = {dir}/log
raddbdir = {dir}
radacctdir = ${{logdir}}/radacct
name = radiusd
confdir = ${{raddbdir}}
modconfdir = {stock}/mods-config
certdir = {stock}/certs
cadir = {stock}/certs
run_dir = {dir}/run
db_dir = ${{raddbdir}}
libdir = /usr/lib/freeradius
pidfile = ${{run_dir}}/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {{
	destination = stdout
	colourise = no
}}
security {{
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = {status_server}
}}
proxy_requests = no
client ura {{
	ipaddr = 127.0.0.1
	secret = {secret}
	shortname = ura
	# Drop any request without a valid Message-Authenticator.
	require_message_authenticator = yes
}}
thread pool {{
	start_servers = 2
	max_servers = 4
	min_spare_servers = 1
	max_spare_servers = 2
	max_requests_per_server = 0
}}
modules {{
	$INCLUDE {stock}/mods-available/always
	linelog coa_log {{
		filename = {log}
		permissions = 0600
		format = "{format}"
	}}
}}
instantiate {{
}}
server coa {{
	listen {{
		type = coa
		ipaddr = 127.0.0.1
		port = {coa_port}
	}}
	recv-coa {{
{recv_coa}	}}
	send-coa {{
		ok
	}}
}}
server status {{
	listen {{
		type = auth
		ipaddr = 127.0.0.1
		port = {auth_port}
	}}
	authorize {{
		ok
		Autz-Type Status-Server {{
			ok
		}}
	}}
	authenticate {{
	}}
}}
"#
    )
}

/// A FreeRADIUS with a CoA listener and an auth listener (for Status-Server).
struct CoaServer {
    radius: FreeRadius,
}

impl CoaServer {
    async fn start(install: &Install, policy: Policy, status_server: bool) -> CoaServer {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["log", "run"] {
            fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        let secret = random_hex(12);
        let stock = install.stock.clone();
        let conf_secret = secret.clone();
        // `launch` finds two free ports: the first for CoA, the second for Status-Server.
        let radius = FreeRadius::launch(install, dir, secret, move |dir, coa_port, auth_port| {
            fs::write(
                dir.join("radiusd.conf"),
                coa_radiusd_conf(
                    dir,
                    &stock,
                    &conf_secret,
                    policy,
                    status_server,
                    coa_port,
                    auth_port,
                ),
            )
            .expect("write radiusd.conf")
        })
        .await;
        CoaServer { radius }
    }

    fn target(&self, port: u16, secret: &str) -> NasTarget {
        NasTarget {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            secret: secret.as_bytes().to_vec(),
        }
    }

    /// The CoA listener, with the right secret.
    fn coa(&self) -> NasTarget {
        self.target(self.radius.auth_port, &self.radius.secret)
    }

    /// The auth listener that may answer Status-Server.
    fn status(&self) -> NasTarget {
        self.target(self.radius.acct_port, &self.radius.secret)
    }

    fn linelog(&self) -> PathBuf {
        self.radius.dir().join("log/coa.log")
    }

    /// The first `n` lines of the linelog (waiting for them, bounded by `LOG_DEADLINE`),
    /// each as key → value.
    async fn logged(&self, n: usize) -> Vec<Vec<(String, String)>> {
        let (text, found) = poll_file(&self.linelog(), LOG_DEADLINE, |t| {
            t.split_inclusive('\n')
                .filter(|l| l.ends_with('\n'))
                .count()
                >= n
        })
        .await;
        assert!(
            found,
            "FreeRADIUS logged fewer than {n} request(s):\n{text}\n--- FreeRADIUS:\n{}",
            self.radius.log_tail(60)
        );
        text.lines()
            .take(n)
            .map(|line| {
                line.split('|')
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                        (k.to_string(), v.to_string())
                    })
                    .collect()
            })
            .collect()
    }

    /// Waits for `needle` in FreeRADIUS's log (bounded by `LOG_DEADLINE`).
    async fn wait_log(&self, needle: &str) {
        let until = Instant::now() + LOG_DEADLINE;
        loop {
            if self.radius.log_text().contains(needle) {
                return;
            }
            if Instant::now() >= until {
                panic!(
                    "FreeRADIUS did not log {needle:?}:\n{}",
                    self.radius.log_tail(60)
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

fn field<'a>(line: &'a [(String, String)], key: &str) -> &'a str {
    line.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key} in {line:?}"))
}

/// A Message-Authenticator as FreeRADIUS prints it: 0x and 16 octets.
fn assert_message_authenticator(line: &[(String, String)]) {
    let ma = field(line, "ma");
    assert!(
        ma.len() == 34 && ma.starts_with("0x") && ma[2..].bytes().all(|b| b.is_ascii_hexdigit()),
        "no Message-Authenticator: {line:?}"
    );
}

fn client() -> CoaClient {
    CoaClient::new(Duration::from_secs(2), 2).expect("CoaClient")
}

/// For requests that must go unanswered: one try, a short wait.
fn hasty_client() -> CoaClient {
    CoaClient::new(Duration::from_millis(500), 0).expect("CoaClient")
}

/// A Mikrotik-Rate-Limit (vendor 14988, type 8) Vendor-Specific attribute.
fn mikrotik_rate_limit(value: &str) -> (u8, Vec<u8>) {
    let mut vsa = 14988u32.to_be_bytes().to_vec();
    vsa.push(8);
    vsa.push(u8::try_from(value.len() + 2).expect("short value"));
    vsa.extend_from_slice(value.as_bytes());
    (26, vsa)
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().expect("ip"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeradius_accepts_and_decodes_our_disconnect_and_coa() {
    let Some(install) = install_or_skip("freeradius_accepts_and_decodes_our_disconnect_and_coa")
    else {
        return;
    };
    let server = CoaServer::start(&install, Policy::Ack, true).await;
    let nas = server.coa();
    let coa = client();
    let session_id = format!("{:08X}", rand::random::<u32>());
    let session = SessionRef {
        user_name: "maria.silva".into(),
        acct_session_id: Some(session_id.clone()),
        framed_ip: ip("100.64.0.10"),
        nas_ip: ip("10.0.0.1"),
    };

    let out = coa.disconnect(&nas, &session).await;
    assert_eq!(out, Outcome::Ack, "{}", server.radius.log_tail(60));
    let out = coa
        .coa(&nas, &session, &[mikrotik_rate_limit("10M/20M")])
        .await;
    assert_eq!(out, Outcome::Ack, "{}", server.radius.log_tail(60));
    let v6 = SessionRef {
        user_name: "jose.souza".into(),
        acct_session_id: Some("S6".into()),
        framed_ip: ip("2001:db8::10"),
        nas_ip: ip("2001:db8::1"),
    };
    let out = coa.coa(&nas, &v6, &[]).await;
    assert_eq!(out, Outcome::Ack, "{}", server.radius.log_tail(60));

    let lines = server.logged(3).await;
    let expected = [
        [
            ("packet", "Disconnect-Request"),
            ("user", "maria.silva"),
            ("session", session_id.as_str()),
            ("framed", "100.64.0.10"),
            ("framed6", ""),
            ("nas", "10.0.0.1"),
            ("nas6", ""),
            ("rate", ""),
        ],
        [
            ("packet", "CoA-Request"),
            ("user", "maria.silva"),
            ("session", session_id.as_str()),
            ("framed", "100.64.0.10"),
            ("framed6", ""),
            ("nas", "10.0.0.1"),
            ("nas6", ""),
            ("rate", "10M/20M"),
        ],
        [
            ("packet", "CoA-Request"),
            ("user", "jose.souza"),
            ("session", "S6"),
            ("framed", ""),
            ("framed6", "2001:db8::10"),
            ("nas", ""),
            ("nas6", "2001:db8::1"),
            ("rate", ""),
        ],
    ];
    for (line, want) in lines.iter().zip(expected) {
        for (key, value) in want {
            assert_eq!(field(line, key), value, "{key} in {line:?}");
        }
        // The client entry requires it, so FreeRADIUS verified it.
        assert_message_authenticator(line);
    }
    let log = server.radius.log_text();
    for sent in ["Sent Disconnect-ACK", "Sent CoA-ACK"] {
        assert!(log.contains(sent), "{sent}:\n{}", tail(&log, 60));
    }

    // Signed with another secret: FreeRADIUS drops it unprocessed, we get no answer.
    let mut wrong = nas.clone();
    wrong.secret = b"outro-segredo".to_vec();
    assert_eq!(
        hasty_client().disconnect(&wrong, &session).await,
        Outcome::Timeout
    );
    server
        .wait_log("invalid Message-Authenticator!  (Shared secret is incorrect.)")
        .await;
    let text = read_all(&server.linelog());
    assert_eq!(text.lines().count(), 3, "processed anyway:\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeradius_reject_policy_is_a_nak() {
    let Some(install) = install_or_skip("freeradius_reject_policy_is_a_nak") else {
        return;
    };
    let server = CoaServer::start(&install, Policy::Reject, false).await;
    let nas = server.coa();
    let coa = client();
    let session = SessionRef {
        user_name: "maria.silva".into(),
        acct_session_id: Some("S1".into()),
        framed_ip: ip("100.64.0.10"),
        nas_ip: ip("127.0.0.1"),
    };

    let out = coa.disconnect(&nas, &session).await;
    assert_eq!(
        out,
        Outcome::Nak {
            error_cause: Some(503)
        },
        "{}",
        server.radius.log_tail(60)
    );
    assert!(out.session_not_found());
    let out = coa.coa(&nas, &session, &[]).await;
    assert_eq!(
        out,
        Outcome::Nak { error_cause: None },
        "{}",
        server.radius.log_tail(60)
    );

    // Both were decoded before being refused.
    let lines = server.logged(2).await;
    for (line, packet) in lines.iter().zip(["Disconnect-Request", "CoA-Request"]) {
        assert_eq!(field(line, "packet"), packet, "{line:?}");
        assert_eq!(field(line, "user"), "maria.silva", "{line:?}");
        assert_eq!(field(line, "session"), "S1", "{line:?}");
        assert_eq!(field(line, "framed"), "100.64.0.10", "{line:?}");
        assert_message_authenticator(line);
    }
    let log = server.radius.log_text();
    for sent in ["Sent Disconnect-NAK", "Sent CoA-NAK"] {
        assert!(log.contains(sent), "{sent}:\n{}", tail(&log, 60));
    }

    // `status_server = no`: FreeRADIUS ignores Status-Server.
    assert_eq!(
        hasty_client().status_server(&server.status()).await,
        Outcome::Timeout
    );
    server
        .wait_log("Ignoring Status-Server request due to security configuration")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeradius_answers_our_status_server() {
    let Some(install) = install_or_skip("freeradius_answers_our_status_server") else {
        return;
    };
    let server = CoaServer::start(&install, Policy::Ack, true).await;
    let out = client().status_server(&server.status()).await;
    assert_eq!(out, Outcome::Ack, "{}", server.radius.log_tail(60));
    server.wait_log("Received Status-Server").await;

    // With another secret its Message-Authenticator does not verify: dropped.
    let mut wrong = server.status();
    wrong.secret = b"outro-segredo".to_vec();
    assert_eq!(hasty_client().status_server(&wrong).await, Outcome::Timeout);
    server
        .wait_log("invalid Message-Authenticator!  (Shared secret is incorrect.)")
        .await;
}
