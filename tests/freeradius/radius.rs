//! A real FreeRADIUS 3.2 (`freeradius -X`) configured from `examples/freeradius/`, and the
//! stock clients `radtest` and `radclient` that talk to it.
//!
//! The configuration directory is generated in a temp dir: a small `radiusd.conf` that
//! includes the stock modules and policies of the installed FreeRADIUS (`pap`, `chap`,
//! `mschap`, `preprocess`, `expr`, `always`, `attr_filter`, `policy.d/`), the example's
//! `mods-available/sql` with only its connection lines replaced, and the example's
//! `sites-available/ura` with only its addresses and ports replaced. So what operators copy
//! is what runs here.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

/// How long FreeRADIUS may take to start (it connects its SQL pool first).
const START_DEADLINE: Duration = Duration::from_secs(30);
/// Longest run of radtest/radclient (they retry 3 times, 3 seconds apart, on their own).
const TOOL_DEADLINE: Duration = Duration::from_secs(30);
/// How long it may take to stop after SIGTERM before it is killed.
const STOP_DEADLINE: Duration = Duration::from_secs(5);

/// Where the installed FreeRADIUS and its stock configuration are.
#[derive(Clone, Debug)]
pub struct Install {
    pub freeradius: PathBuf,
    pub radtest: PathBuf,
    pub radclient: PathBuf,
    /// The stock configuration (Debian: `/etc/freeradius/3.0`): modules, policies, queries.
    pub stock: PathBuf,
    /// `examples/freeradius` of this repository.
    pub examples: PathBuf,
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    // Non-root PATHs often lack the sbin directories where the daemon lives.
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from));
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

impl Install {
    /// Whether FreeRADIUS has the module `rlm_<name>` (Debian ships the SQL drivers in
    /// packages of their own: `freeradius-mysql`, `freeradius-postgresql`).
    pub fn has_module(name: &str) -> bool {
        [
            "/usr/lib/freeradius",
            "/usr/lib64/freeradius",
            "/usr/local/lib/freeradius",
            "/usr/lib/x86_64-linux-gnu/freeradius",
            "/usr/lib/aarch64-linux-gnu/freeradius",
        ]
        .iter()
        .any(|dir| Path::new(dir).join(format!("rlm_{name}.so")).is_file())
    }

    /// Finds FreeRADIUS, or says why it cannot be used.
    ///
    /// `URA_TEST_FREERADIUS_RADDB` overrides the stock configuration directory.
    pub fn find() -> Result<Install, String> {
        let freeradius = find_program(&["freeradius", "radiusd"])
            .ok_or("FreeRADIUS is not installed (no freeradius or radiusd in PATH or /usr/sbin)")?;
        let radtest = find_program(&["radtest"]).ok_or("radtest is not installed")?;
        let radclient = find_program(&["radclient"]).ok_or("radclient is not installed")?;
        let stock = match std::env::var_os("URA_TEST_FREERADIUS_RADDB") {
            Some(dir) => PathBuf::from(dir),
            None => ["/etc/freeradius/3.0", "/etc/freeradius", "/etc/raddb"]
                .map(PathBuf::from)
                .into_iter()
                .find(|d| d.join("mods-available").is_dir())
                .unwrap_or_else(|| PathBuf::from("/etc/freeradius/3.0")),
        };
        let probe = stock.join("mods-config/sql/main/sqlite/queries.conf");
        fs::read_to_string(&probe).map_err(|e| match e.kind() {
            std::io::ErrorKind::PermissionDenied => format!(
                "cannot read {} ({e}): run the tests as root or as a member of the \
                 freerad group",
                probe.display()
            ),
            _ => format!(
                "cannot read {} ({e}): set URA_TEST_FREERADIUS_RADDB to the stock \
                 FreeRADIUS configuration directory",
                probe.display()
            ),
        })?;
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/freeradius");
        Ok(Install {
            freeradius,
            radtest,
            radclient,
            stock,
            examples,
        })
    }
}

/// The database FreeRADIUS's `sql` module connects to.
#[derive(Clone, Debug)]
pub enum SqlTarget {
    Sqlite {
        file: PathBuf,
    },
    Postgres {
        host: String,
        port: u16,
        login: String,
        password: String,
        database: String,
    },
    Mysql {
        host: String,
        port: u16,
        login: String,
        password: String,
        database: String,
    },
}

/// A FreeRADIUS configuration string: quoted, with `"` and `\` escaped.
pub(crate) fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Replaces the uncommented `key = ...` lines of `text` (keeping their indentation), of which
/// there must be exactly `count`.
fn set_option(text: &str, file: &str, key: &str, value: &str, count: usize) -> String {
    let prefix = format!("{key} =");
    let mut found = 0;
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with(&prefix) {
            found += 1;
            let indent = &line[..line.len() - trimmed.len()];
            out.push_str(&format!("{indent}{key} = {value}"));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    assert_eq!(
        found, count,
        "{file}: expected {count} uncommented `{key} = ...` line(s), found {found}"
    );
    out
}

/// The example's `mods-available/sql`, connected to `target`.
pub fn sql_module(example: &str, target: &SqlTarget) -> String {
    const FILE: &str = "examples/freeradius/mods-available/sql";
    let mut text = example.to_string();
    let (dialect, host, port, login, password, database) = match target {
        SqlTarget::Sqlite { file } => {
            text = set_option(&text, FILE, "dialect", &quoted("sqlite"), 1);
            return set_option(
                &text,
                FILE,
                "filename",
                &quoted(&file.display().to_string()),
                1,
            );
        }
        SqlTarget::Postgres {
            host,
            port,
            login,
            password,
            database,
        } => ("postgresql", host, port, login, password, database),
        SqlTarget::Mysql {
            host,
            port,
            login,
            password,
            database,
        } => ("mysql", host, port, login, password, database),
    };
    text = set_option(&text, FILE, "dialect", &quoted(dialect), 1);
    text = set_option(&text, FILE, "server", &quoted(host), 1);
    text = set_option(&text, FILE, "port", &port.to_string(), 1);
    text = set_option(&text, FILE, "login", &quoted(login), 1);
    text = set_option(&text, FILE, "password", &quoted(password), 1);
    set_option(&text, FILE, "radius_db", &quoted(database), 1)
}

/// The example's `sites-available/ura`, on 127.0.0.1 and the given ports.
pub fn site(example: &str, auth_port: u16, acct_port: u16) -> String {
    const FILE: &str = "examples/freeradius/sites-available/ura";
    let text = set_option(example, FILE, "ipaddr", "127.0.0.1", 2);
    let text = text.replace("port = 1812\n", &format!("port = {auth_port}\n"));
    let text = text.replace("port = 1813\n", &format!("port = {acct_port}\n"));
    assert!(
        text.contains(&format!("port = {auth_port}\n"))
            && text.contains(&format!("port = {acct_port}\n")),
        "{FILE}: expected `port = 1812` and `port = 1813`"
    );
    text
}

fn radiusd_conf(dir: &Path, stock: &Path) -> String {
    let dir = dir.display();
    let stock = stock.display();
    format!(
        r#"# Generated by tests/freeradius: the stock modules and policies of the installed
# FreeRADIUS, the example's sql module and site.
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
max_requests = 16384
hostname_lookups = no
log {{
	destination = stdout
	colourise = no
	auth = yes
	auth_badpass = no
	auth_goodpass = no
}}
checkrad = ${{sbindir}}/checkrad
security {{
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = yes
}}
proxy_requests = no
$INCLUDE clients.conf
thread pool {{
	start_servers = 2
	max_servers = 8
	min_spare_servers = 1
	max_spare_servers = 4
	max_requests_per_server = 0
	auto_limit_acct = no
}}
modules {{
	$INCLUDE {stock}/mods-available/always
	$INCLUDE {stock}/mods-available/expr
	$INCLUDE {stock}/mods-available/attr_filter
	$INCLUDE {stock}/mods-available/preprocess
	$INCLUDE {stock}/mods-available/pap
	$INCLUDE {stock}/mods-available/chap
	$INCLUDE {stock}/mods-available/mschap
	$INCLUDE mods-enabled/sql
}}
instantiate {{
}}
policy {{
	$INCLUDE {stock}/policy.d/
}}
$INCLUDE sites-enabled/ura

# As in a stock installation, where sites-enabled/inner-tunnel stays: a bare "mschap" in
# another server's authenticate section makes the mschap module ask for "Auth-Type mschap".
server inner-tunnel {{
authorize {{
	mschap
}}
authenticate {{
	mschap
}}
}}
"#
    )
}

fn clients_conf(secret: &str) -> String {
    format!(
        "client teste {{\n\tipaddr = 127.0.0.1\n\tsecret = {}\n\tshortname = teste\n\
         \tnas_type = other\n\trequire_message_authenticator = no\n}}\n",
        quoted(secret)
    )
}

/// Two UDP ports that were free a moment ago.
fn free_udp_ports() -> (u16, u16) {
    let a = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    let b = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    let ports = (
        a.local_addr().expect("addr").port(),
        b.local_addr().expect("addr").port(),
    );
    drop((a, b));
    ports
}

pub fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// A running `freeradius -X`; stopped (SIGTERM, then SIGKILL) when dropped.
pub struct FreeRadius {
    child: Option<Child>,
    install: Install,
    pub auth_port: u16,
    pub acct_port: u16,
    pub secret: String,
    log: PathBuf,
    /// The generated configuration directory (kept until the server is stopped).
    dir: tempfile::TempDir,
}

/// An answer read from `radtest` / `radclient` output.
#[derive(Debug, Clone)]
pub struct Reply {
    /// `Access-Accept`, `Access-Reject`, `Accounting-Response`...
    pub code: String,
    /// The reply's attributes, values as printed (strings keep their quotes).
    pub attrs: Vec<(String, String)>,
    /// Everything the tool printed.
    pub output: String,
}

impl Reply {
    /// The value of an attribute, with the quotes of a string removed.
    pub fn get(&self, name: &str) -> Option<String> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| {
            v.strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v)
                .to_string()
        })
    }

    pub fn has_vendor(&self, prefix: &str) -> bool {
        self.attrs.iter().any(|(n, _)| n.starts_with(prefix))
    }
}

/// Reads the first `Received <code> ...` block of radclient's output.
pub(crate) fn parse_reply(output: &str) -> Option<Reply> {
    let mut lines = output.lines();
    let code = lines.by_ref().find_map(|l| {
        l.strip_prefix("Received ")
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_string)
    })?;
    let attrs = lines
        .take_while(|l| l.starts_with('\t') || l.starts_with("  "))
        .filter_map(|l| {
            let (name, value) = l.trim().split_once(" = ")?;
            Some((name.to_string(), value.to_string()))
        })
        .collect();
    Some(Reply {
        code,
        attrs,
        output: output.to_string(),
    })
}

/// How radtest authenticates.
#[derive(Clone, Copy, Debug)]
pub enum Auth {
    Pap,
    Chap,
    MsChap,
}

impl FreeRadius {
    /// Generates a configuration for `target` and starts FreeRADIUS on free ports of
    /// 127.0.0.1; returns once it answers (bounded by `START_DEADLINE`).
    pub async fn start(install: &Install, target: &SqlTarget) -> FreeRadius {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["mods-enabled", "sites-enabled", "log", "run"] {
            fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        let read_example = |rel: &str| {
            fs::read_to_string(install.examples.join(rel))
                .unwrap_or_else(|e| panic!("read examples/freeradius/{rel}: {e}"))
        };
        let sql = sql_module(&read_example("mods-available/sql"), target);
        let site_example = read_example("sites-available/ura");
        let secret = random_hex(12);
        fs::write(
            dir.path().join("radiusd.conf"),
            radiusd_conf(dir.path(), &install.stock),
        )
        .expect("write radiusd.conf");
        fs::write(dir.path().join("clients.conf"), clients_conf(&secret))
            .expect("write clients.conf");
        fs::write(dir.path().join("mods-enabled/sql"), sql).expect("write sql");
        FreeRadius::launch(install, dir, secret, |dir, auth_port, acct_port| {
            fs::write(
                dir.join("sites-enabled/ura"),
                site(&site_example, auth_port, acct_port),
            )
            .expect("write site")
        })
        .await
    }

    /// Runs `freeradius -X -d <dir>` on two free UDP ports of 127.0.0.1 (`auth_port` and
    /// `acct_port`, whatever the configuration listens for there) and returns once it
    /// answers (bounded by `START_DEADLINE`). `configure` writes the parts of the
    /// configuration that name the ports; it is called again with other ports when one was
    /// taken between the probe and FreeRADIUS's bind.
    pub(crate) async fn launch(
        install: &Install,
        mut dir: tempfile::TempDir,
        secret: String,
        mut configure: impl FnMut(&Path, u16, u16),
    ) -> FreeRadius {
        // A port taken between our probe and FreeRADIUS's bind: try again with others.
        let mut last_log = String::new();
        for attempt in 1..=5 {
            let (auth_port, acct_port) = free_udp_ports();
            configure(dir.path(), auth_port, acct_port);
            let log = dir.path().join(format!("freeradius-{attempt}.log"));
            let out = fs::File::create(&log).expect("log file");
            let child = Command::new(&install.freeradius)
                .arg("-X")
                .arg("-d")
                .arg(dir.path())
                .stdin(Stdio::null())
                .stdout(out.try_clone().expect("dup log"))
                .stderr(out)
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", install.freeradius.display()));
            let mut server = FreeRadius {
                child: Some(child),
                install: install.clone(),
                auth_port,
                acct_port,
                secret: secret.clone(),
                log,
                dir,
            };
            match server.wait_ready().await {
                Ok(()) => return server,
                Err(text) => {
                    server.stop();
                    let port_taken =
                        text.contains("Address already in use") || text.contains("Failed binding");
                    if !port_taken {
                        panic!("FreeRADIUS did not start:\n{}", tail(&text, 80));
                    }
                    last_log = text;
                    dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tmp"));
                }
            }
        }
        panic!(
            "FreeRADIUS could not bind free ports:\n{}",
            tail(&last_log, 40)
        );
    }

    /// Polls the log until "Ready to process requests", the process ends, or the deadline.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let text = self.log_text();
            if text.contains("Ready to process requests") {
                return Ok(());
            }
            let child = self.child.as_mut().expect("child");
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("{}\n(exited: {status})", self.log_text()));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{text}\n(not ready after {}s)",
                    START_DEADLINE.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The whole log so far.
    pub fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = fs::File::open(&self.log) {
            let _ = f.seek(SeekFrom::Start(0));
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    /// The last lines of the log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log_text(), lines)
    }

    /// The generated configuration directory.
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `radtest <user> <password> 127.0.0.1:<auth port> 0 <secret>`.
    pub async fn radtest(&self, user: &str, password: &str, auth: Auth) -> Reply {
        let kind = match auth {
            Auth::Pap => "pap",
            Auth::Chap => "chap",
            Auth::MsChap => "mschap",
        };
        let output = tokio::process::Command::new(&self.install.radtest)
            .args(["-t", kind, "-d"])
            .arg(self.dir.path())
            .args([
                user,
                password,
                &format!("127.0.0.1:{}", self.auth_port),
                "0",
                &self.secret,
            ])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(TOOL_DEADLINE, output)
            .await
            .expect("radtest did not finish")
            .expect("run radtest");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        parse_reply(&text).unwrap_or_else(|| {
            panic!(
                "radtest got no answer:\n{text}\n--- FreeRADIUS:\n{}",
                self.log_tail(60)
            )
        })
    }

    /// Sends one Accounting-Request with `radclient` and returns the answer.
    pub async fn accounting(&self, attrs: &[(&str, String)]) -> Reply {
        let body: String = attrs
            .iter()
            .map(|(name, value)| format!("{name} = {value}\n"))
            .collect();
        let run = radclient(
            &self.install,
            self.dir.path(),
            &format!("127.0.0.1:{}", self.acct_port),
            "acct",
            &self.secret,
            &body,
            Patience {
                retries: 3,
                timeout_secs: 3,
            },
        )
        .await;
        parse_reply(&run.output).unwrap_or_else(|| {
            panic!(
                "radclient got no answer:\n{}\n--- FreeRADIUS:\n{}",
                run.output,
                self.log_tail(60)
            )
        })
    }

    /// SIGTERM, then SIGKILL after `STOP_DEADLINE`; waits for the process.
    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(None) = child.try_wait() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let deadline = Instant::now() + STOP_DEADLINE;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
        }
        let _ = child.wait();
    }
}

impl Drop for FreeRadius {
    fn drop(&mut self) {
        if std::thread::panicking() && self.child.is_some() {
            eprintln!(
                "--- FreeRADIUS log ({}):\n{}",
                self.log.display(),
                self.log_tail(120)
            );
        }
        self.stop();
    }
}

/// How many times radclient resends a request (`-r`) and how long it waits for each answer
/// (`-t`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Patience {
    pub retries: u32,
    pub timeout_secs: u32,
}

/// How a radclient run ended.
#[derive(Debug)]
pub(crate) struct ToolRun {
    pub status: std::process::ExitStatus,
    /// stdout then stderr.
    pub output: String,
}

/// `radclient -x -r <retries> -t <timeout> -d <dict_dir> <server> <command> <secret>` with
/// `body` (attribute lines) on stdin, bounded by `TOOL_DEADLINE`.
pub(crate) async fn radclient(
    install: &Install,
    dict_dir: &Path,
    server: &str,
    command: &str,
    secret: &str,
    body: &str,
    patience: Patience,
) -> ToolRun {
    let mut child = tokio::process::Command::new(&install.radclient)
        .arg("-x")
        .args(["-r", &patience.retries.to_string()])
        .args(["-t", &patience.timeout_secs.to_string()])
        .arg("-d")
        .arg(dict_dir)
        .args([server, command, secret])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run radclient");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(body.as_bytes()).await.expect("write");
    drop(stdin);
    let output = tokio::time::timeout(TOOL_DEADLINE, child.wait_with_output())
        .await
        .expect("radclient did not finish")
        .expect("radclient");
    ToolRun {
        status: output.status,
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Accounting-Request attributes of a PPPoE session, as a MikroTik sends them.
pub fn session_attrs(
    user: &str,
    session_id: &str,
    status: &str,
    framed_ip: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("User-Name", quoted(user)),
        ("Acct-Status-Type", status.to_string()),
        ("Acct-Session-Id", quoted(session_id)),
        ("NAS-IP-Address", "127.0.0.1".into()),
        ("NAS-Port-Id", quoted("pppoe-in")),
        ("NAS-Port-Type", "Virtual".into()),
        ("Service-Type", "Framed-User".into()),
        ("Framed-Protocol", "PPP".into()),
        ("Framed-IP-Address", framed_ip.to_string()),
        ("Calling-Station-Id", quoted("02:00:00:00:01:02")),
        ("Acct-Authentic", "RADIUS".into()),
    ]
}
