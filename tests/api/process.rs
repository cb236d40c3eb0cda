use crate::common::*;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

const BIN: &str = env!("CARGO_BIN_EXE_ura");
const STARTUP: Duration = Duration::from_secs(60);
const READY: &str = "ura escutando em http://";

/// A command of the binary, isolated from the caller's environment: runs in `dir` (no stray
/// `ura.toml`, messages land there), without any `URA_*` variable, without colours.
pub(crate) fn ura(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("URA_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1")
        .env("URA_LOG", "info")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

pub(crate) struct Output {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

pub(crate) async fn run(dir: &Path, args: &[&str]) -> Output {
    let out = tokio::time::timeout(STARTUP, ura(dir).args(args).output())
        .await
        .unwrap_or_else(|_| panic!("ura {args:?} did not finish"))
        .expect("run ura");
    Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A running `ura serve` / `ura demo`. Dropping it kills the process.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    /// Every stdout line received so far.
    pub(crate) stdout: Vec<String>,
    /// Lines of the process: (is stdout, line).
    lines: mpsc::UnboundedReceiver<(bool, String)>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
        let _ = self.child.start_kill();
    }
}

impl Server {
    /// Starts the binary and waits (bounded) until its log says where it listens.
    pub(crate) async fn start(dir: &Path, args: &[&str]) -> Server {
        Server::start_with(dir, args, &[]).await
    }

    /// As `start`, with these variables set.
    pub(crate) async fn start_with(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Server {
        let mut child = ura(dir)
            .args(args)
            .envs(vars.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ura");
        let stderr = child.stderr.take().expect("stderr");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::unbounded_channel::<(bool, String)>();
        // Keep draining both pipes for the life of the process, so it never blocks on them.
        let tx_err = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                crate::common::scan::log_line(&line);
                let _ = tx_err.send((false, line));
            }
        });
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = tx.send((true, line));
            }
        });
        let mut server = Server {
            child,
            base: String::new(),
            stdout: Vec::new(),
            lines: rx,
        };
        let mut log = Vec::new();
        let deadline = tokio::time::Instant::now() + STARTUP;
        loop {
            let next = tokio::time::timeout_at(deadline, server.lines.recv()).await;
            match next {
                Ok(Some((true, line))) => server.stdout.push(line),
                Ok(Some((false, line))) => {
                    if let Some(pos) = line.find(READY) {
                        let rest = &line[pos + READY.len()..];
                        let addr: String =
                            rest.chars().take_while(|c| !c.is_whitespace()).collect();
                        server.base = format!("http://{addr}");
                        break;
                    }
                    log.push(line);
                }
                Ok(None) => panic!("ura {args:?} exited before listening: {log:#?}"),
                Err(_) => panic!("ura {args:?} did not start listening in time: {log:#?}"),
            }
        }
        server
    }

    /// Waits (bounded) until stdout has a line starting with `prefix`; returns stdout so far.
    pub(crate) async fn stdout_until(&mut self, prefix: &str) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + STARTUP;
        while !self.stdout.iter().any(|l| l.starts_with(prefix)) {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some((true, line))) => self.stdout.push(line),
                Ok(Some((false, _))) => {}
                Ok(None) | Err(_) => panic!("no stdout line {prefix:?}: {:#?}", self.stdout),
            }
        }
        self.stdout.clone()
    }

    /// SIGTERM, then every stderr line from the moment it listened until it exited.
    pub(crate) async fn stop_with_log(mut self) -> Vec<String> {
        let pid = self.child.id().expect("running") as i32;
        kill(Pid::from_raw(pid), Signal::SIGTERM).expect("SIGTERM");
        let mut log = Vec::new();
        let deadline = tokio::time::Instant::now() + STARTUP;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some((false, line))) => log.push(line),
                Ok(Some((true, _))) => {}
                Ok(None) => break,
                Err(_) => panic!("ura did not stop in time: {log:#?}"),
            }
        }
        log
    }

    /// SIGKILL and reap: no shutdown, no flush, as in a crash.
    async fn crash(mut self) {
        let pid = self.child.id().expect("running") as i32;
        kill(Pid::from_raw(pid), Signal::SIGKILL).expect("SIGKILL");
        let status = tokio::time::timeout(STARTUP, self.child.wait())
            .await
            .expect("process ends")
            .expect("wait");
        assert!(!status.success());
    }

    pub(crate) async fn call(
        &self,
        token: &str,
        app: &str,
        function: &str,
        params: &[(&str, &str)],
    ) -> Resp {
        let mut form: Vec<(&str, &str)> = vec![("app", app), ("token", token)];
        form.extend_from_slice(params);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        into_resp(
            client
                .post(format!("{}/ws/ura/{function}/", self.base))
                .form(&form)
                .send()
                .await
                .expect("send"),
        )
        .await
    }
}

/// The stdout of `ura demo`, up to its last line before serving.
async fn demo_lines(server: &mut Server) -> Vec<String> {
    server.stdout_until("Servindo em").await
}

pub(crate) fn sqlite_url(dir: &Path, file: &str) -> String {
    format!("sqlite://{}", dir.join(file).display())
}

// ---------------------------------------------------------------- (a) CLI and apps

/// A `consultacliente` whose body arrives `pause` after its first bytes (the body is read
/// before the credentials are checked); the answer's status, read as soon as it comes.
async fn slow_body_status(base: &str, pause: Duration) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .expect("connect");
    let body = "app=ninguem&token=x&contrato=1";
    let head = format!(
        "POST /ws/ura/consultacliente/ HTTP/1.1\r\nHost: x\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&body.as_bytes()[..4]).await.unwrap();
    tokio::time::sleep(pause).await;
    // The server may have answered (and closed) already: the rest may not be taken.
    let _ = s.write_all(&body.as_bytes()[4..]).await;
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        let n = tokio::time::timeout(STARTUP, s.read(&mut buf))
            .await
            .expect("an answer")
            .expect("read");
        assert!(n > 0, "closed without an answer");
        answer.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&answer);
    line.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status")
}

#[tokio::test]
async fn answers_are_logged_when_they_fail_or_are_slow_and_each_at_debug() {
    for (filter, per_answer) in [("info", false), ("info,ura::http=debug", true)] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let db = sqlite_url(dir, "x.db");
        let server = Server::start_with(
            dir,
            &["serve", "--listen", "127.0.0.1:0", "--database", &db],
            &[("URA_LOG", filter), ("URA_REQUEST_TIMEOUT", "2")],
        )
        .await;
        let client = reqwest::Client::new();
        let healthz = client.get(format!("{}/healthz", server.base));
        assert_eq!(healthz.send().await.unwrap().status(), 200);
        let unknown = client.get(format!("{}/nada", server.base));
        assert_eq!(unknown.send().await.unwrap().status(), 404);
        let no_token = client
            .post(format!("{}/ws/ura/consultacliente/", server.base))
            .form(&[("app", "ninguem"), ("token", "x"), ("contrato", "1")]);
        assert_eq!(no_token.send().await.unwrap().status(), 403);
        // Slow (its body took over a second), then past the request's time (a 503).
        let slow = slow_body_status(&server.base, Duration::from_millis(1_200)).await;
        assert_eq!(slow, 403);
        let timed_out = slow_body_status(&server.base, Duration::from_millis(2_500)).await;
        assert_eq!(timed_out, 503);

        let log = server.stop_with_log().await;
        assert!(
            log.iter().any(|l| l.contains("ura encerrado")),
            "{filter}: the log was read to the end: {log:#?}"
        );
        let answers: Vec<&String> = log.iter().filter(|l| l.contains("resposta")).collect();
        let expected: &[(&str, &str)] = if per_answer {
            &[
                ("DEBUG", "resposta status=200 "),
                ("DEBUG", "resposta status=404 "),
                ("DEBUG", "resposta status=403 "),
                ("INFO", "resposta lenta status=403 "),
                ("WARN", "resposta status=503 "),
            ]
        } else {
            &[
                ("INFO", "resposta lenta status=403 "),
                ("WARN", "resposta status=503 "),
            ]
        };
        assert_eq!(answers.len(), expected.len(), "{filter}: {answers:#?}");
        for (line, (level, text)) in answers.iter().zip(expected) {
            assert!(
                line.contains(&format!(" {level} "))
                    && line.contains(text)
                    && line.contains(" us="),
                "{filter}: expected {level} {text:?}: {line}"
            );
        }
    }
}

#[tokio::test]
async fn app_tokens_from_the_cli_work_and_disable_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = sqlite_url(dir, "x.db");

    let add = run(dir, &["app", "add", "asterisk", "--database", &db]).await;
    assert_eq!(add.code, Some(0), "{}", add.stderr);
    let lines: Vec<&str> = add.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the token on stdout: {:?}", add.stdout);
    let token = lines[0].trim().to_string();
    assert!(token.len() >= 32, "a high-entropy token: {token:?}");
    assert!(!token.contains(' '), "{token:?}");

    let other = run(dir, &["app", "add", "chatbot", "--database", &db]).await;
    assert_eq!(other.code, Some(0), "{}", other.stderr);
    let other_token = other.stdout.trim().to_string();
    assert_ne!(other_token, token);

    let list = run(dir, &["app", "list", "--database", &db]).await;
    assert_eq!(list.code, Some(0), "{}", list.stderr);
    assert!(list.stdout.contains("asterisk"), "{}", list.stdout);
    assert!(list.stdout.contains("chatbot"), "{}", list.stdout);
    for t in [&token, &other_token] {
        assert!(!list.stdout.contains(t.as_str()), "list shows a token");
        assert!(!list.stderr.contains(t.as_str()), "list shows a token");
    }

    let dup = run(dir, &["app", "add", "asterisk", "--database", &db]).await;
    assert_ne!(dup.code, Some(0), "a duplicate app must fail");
    assert!(
        dup.stdout.trim().is_empty(),
        "no token for a duplicate: {}",
        dup.stdout
    );

    let server = Server::start(
        dir,
        &["serve", "--listen", "127.0.0.1:0", "--database", &db],
    )
    .await;
    let ok = server
        .call(
            &token,
            "asterisk",
            "consultacliente",
            &[("contrato", "1001")],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body, r#"{"contratos":[]}"#);
    let wrong = server
        .call(
            &other_token,
            "asterisk",
            "consultacliente",
            &[("contrato", "1001")],
        )
        .await;
    assert_eq!(wrong.status, 403, "another app's token");
    assert_eq!(
        wrong.body,
        r#"{"detail":"Credenciais de autenticação incorretas."}"#
    );

    // disabled while the server runs: refused at once
    let disable = run(dir, &["app", "disable", "asterisk", "--database", &db]).await;
    assert_eq!(disable.code, Some(0), "{}", disable.stderr);
    let refused = server
        .call(
            &token,
            "asterisk",
            "consultacliente",
            &[("contrato", "1001")],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(
        refused.body,
        r#"{"detail":"Credenciais de autenticação incorretas."}"#
    );
    // the other app is unaffected
    let still = server
        .call(
            &other_token,
            "chatbot",
            "consultacliente",
            &[("contrato", "1001")],
        )
        .await;
    assert_eq!(still.status, 200, "{}", still.body);

    let list = run(dir, &["app", "list", "--database", &db]).await;
    assert!(!list.stdout.contains(token.as_str()));
    drop(server);
}

#[tokio::test]
async fn cli_enable_allow_rotate_and_migrate() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = sqlite_url(dir, "y.db");
    let migrate = run(dir, &["migrate", "--database", &db]).await;
    assert_eq!(migrate.code, Some(0), "{}", migrate.stderr);
    assert!(dir.join("y.db").exists(), "migrate creates the database");

    let add = run(
        dir,
        &[
            "app",
            "add",
            "bot",
            "--allow",
            "consultacliente",
            "--database",
            &db,
        ],
    )
    .await;
    assert_eq!(add.code, Some(0), "{}", add.stderr);
    let token = add.stdout.trim().to_string();
    let bad = run(dir, &["app", "allow", "bot", "nada", "--database", &db]).await;
    assert_ne!(bad.code, Some(0), "an unknown function is refused");
    assert!(bad.stderr.contains("função desconhecida"), "{}", bad.stderr);

    let server = Server::start(
        dir,
        &["serve", "--listen", "127.0.0.1:0", "--database", &db],
    )
    .await;
    let call = |token: String, function: &'static str| {
        let server = &server;
        async move {
            server
                .call(&token, "bot", function, &[("contrato", "1001")])
                .await
        }
    };
    assert_eq!(call(token.clone(), "consultacliente").await.status, 200);
    let denied = call(token.clone(), "chamado").await;
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.body,
        r#"{"detail":"Você não tem permissão para executar essa ação."}"#
    );
    let allow = run(dir, &["app", "allow", "bot", "todas", "--database", &db]).await;
    assert_eq!(allow.code, Some(0), "{}", allow.stderr);
    assert_eq!(call(token.clone(), "chamado").await.status, 200);

    let list = run(dir, &["app", "list", "--database", &db]).await;
    assert!(list.stdout.contains("todas"), "{}", list.stdout);

    let disable = run(dir, &["app", "disable", "bot", "--database", &db]).await;
    assert_eq!(disable.code, Some(0));
    assert_eq!(call(token.clone(), "consultacliente").await.status, 403);
    let enable = run(dir, &["app", "enable", "bot", "--database", &db]).await;
    assert_eq!(enable.code, Some(0), "{}", enable.stderr);
    assert_eq!(call(token.clone(), "consultacliente").await.status, 200);

    let rotate = run(dir, &["app", "rotate", "bot", "--database", &db]).await;
    assert_eq!(rotate.code, Some(0), "{}", rotate.stderr);
    let new_token = rotate.stdout.trim().to_string();
    assert_ne!(new_token, token);
    assert_eq!(
        call(token, "consultacliente").await.status,
        403,
        "old token"
    );
    assert_eq!(call(new_token, "consultacliente").await.status, 200);
    drop(server);
}

#[tokio::test]
async fn unknown_app_cannot_be_disabled() {
    let tmp = tempfile::tempdir().unwrap();
    let db = sqlite_url(tmp.path(), "x.db");
    let out = run(tmp.path(), &["app", "disable", "nenhum", "--database", &db]).await;
    assert_ne!(out.code, Some(0));
}

// ---------------------------------------------------------------- (b) ura demo

fn parse_curl(line: &str) -> (String, Vec<(String, String)>) {
    let command = line.split(';').next().expect("command");
    let mut words = command.split_whitespace();
    assert_eq!(words.next(), Some("curl"), "{line}");
    let mut url = None;
    let mut params = Vec::new();
    while let Some(w) = words.next() {
        match w {
            "-s" => {}
            "-d" => {
                let pair = words.next().expect("-d value");
                let (k, v) = pair.split_once('=').expect("k=v");
                params.push((k.to_string(), v.to_string()));
            }
            other if other.starts_with("http://") => url = Some(other.to_string()),
            other => panic!("unexpected word {other:?} in {line}"),
        }
    }
    (url.expect("url"), params)
}

pub(crate) fn token_of(lines: &[String]) -> String {
    let tokens: Vec<&String> = lines.iter().filter(|l| l.starts_with("Token: ")).collect();
    assert_eq!(tokens.len(), 1, "{lines:#?}");
    tokens[0]["Token: ".len()..].trim().to_string()
}

async fn post(url: &str, params: &[(String, String)]) -> Resp {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    into_resp(client.post(url).form(params).send().await.expect("send")).await
}

#[tokio::test]
async fn demo_prints_working_curl_lines_and_keeps_data_on_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = sqlite_url(dir, "d.db");
    let mut server =
        Server::start(dir, &["demo", "--listen", "127.0.0.1:0", "--database", &db]).await;
    let lines = demo_lines(&mut server).await;
    let token = token_of(&lines);
    let curls: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("curl -s http://"))
        .collect();
    assert_eq!(curls.len(), 6, "{lines:#?}");

    let mut seen = Vec::new();
    let mut chamado_protocol = None;
    for line in curls {
        let (url, params) = parse_curl(line);
        assert!(url.starts_with(&server.base), "{url} vs {}", server.base);
        assert!(
            params.iter().any(|(k, v)| k == "token" && *v == token),
            "{line}"
        );
        let function = url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let r = post(&url, &params).await;
        assert_eq!(r.status, 200, "{function}: {}", r.body);
        assert_eq!(r.content_type, "application/json", "{function}");
        match function.as_str() {
            "consultacliente" => {
                assert_eq!(
                    r.json["msg"],
                    json!("Contrato(s) Localizado(s)"),
                    "{}",
                    r.body
                );
                let ids: Vec<i64> = r.json["contratos"]
                    .as_array()
                    .expect("contratos")
                    .iter()
                    .map(|c| c["contratoId"].as_i64().unwrap())
                    .collect();
                assert_eq!(ids, vec![1001, 1002]);
            }
            "liberacaopromessa" => {
                assert_eq!(r.json["status"], json!(1), "{}", r.body);
                assert_eq!(r.json["contratoId"], json!(1002));
            }
            "enviafatura" => assert_eq!(r.json["status"], json!(1), "{}", r.body),
            "verificaacesso" => {
                assert_eq!(r.json["status"], json!(9), "{}", r.body);
                assert_eq!(r.json["msg"], json!("Manutenção na região"));
            }
            "notificacaosistema" => assert_eq!(r.json["status"], json!(1), "{}", r.body),
            "chamado" => {
                assert_eq!(r.json["status"], json!(1), "{}", r.body);
                chamado_protocol = r.json["protocolo"].as_str().map(str::to_owned);
            }
            other => panic!("unexpected function {other}"),
        }
        seen.push(function);
    }
    seen.sort();
    assert_eq!(
        seen,
        vec![
            "chamado",
            "consultacliente",
            "enviafatura",
            "liberacaopromessa",
            "notificacaosistema",
            "verificaacesso"
        ]
    );
    let chamado_protocol = chamado_protocol.expect("chamado protocol");
    server.crash().await;

    // Again on the same file: data kept, a new token that works.
    let mut server =
        Server::start(dir, &["demo", "--listen", "127.0.0.1:0", "--database", &db]).await;
    let lines = demo_lines(&mut server).await;
    let new_token = token_of(&lines);
    assert_ne!(new_token, token);
    let r = server
        .call(
            &new_token,
            "demo",
            "consultacliente",
            &[("contrato", "1002")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json["contratos"][0]["contratoStatus"],
        json!(1),
        "{}",
        r.body
    );
    assert_eq!(
        r.json["contratos"][0]["promessasPagamentoMes"],
        json!(1),
        "{}",
        r.body
    );
    let r = server
        .call(
            &new_token,
            "demo",
            "liberacaopromessa",
            &[("contrato", "1002")],
        )
        .await;
    assert_eq!(
        r.json["status"],
        json!(2),
        "the promise made before is kept: {}",
        r.body
    );

    let store = ura::store::Store::open(&db).await.expect("open db");
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE protocol = $1")
        .bind(&chamado_protocol)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(
        kept >= 1,
        "the ticket opened before the restart is still there"
    );
    store.close().await;
    drop(server);
}

// ---------------------------------------------------------------- (c) crash safety

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = sqlite_url(dir, "crash.db");
    let token = {
        let store = ura::store::Store::open(&db).await.expect("open");
        let tz: chrono_tz::Tz = "America/Sao_Paulo".parse().unwrap();
        assert!(
            ura::demo::seed(&store, chrono::Utc::now(), tz)
                .await
                .unwrap()
        );
        let token = ura::store::apps::create(&store, "ivr").await.expect("app");
        store.close().await;
        token
    };
    let args = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        db.as_str(),
    ];

    let server = Server::start(dir, &args).await;
    let r = server
        .call(&token, "ivr", "liberacaopromessa", &[("contrato", "1002")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    let mut issued: Vec<String> = vec![r.json["protocolo"].as_str().unwrap().to_string()];
    for _ in 0..3 {
        let c = server
            .call(&token, "ivr", "chamado", &[("contrato", "1001")])
            .await;
        assert_eq!(c.json["status"], json!(1), "{}", c.body);
        issued.push(c.json["protocolo"].as_str().unwrap().to_string());
    }
    server.crash().await;

    let server = Server::start(dir, &args).await;
    let r = server
        .call(&token, "ivr", "consultacliente", &[("contrato", "1002")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c: &Value = &r.json["contratos"][0];
    assert_eq!(c["promessasPagamentoMes"], json!(1), "{}", r.body);
    assert_eq!(c["contratoStatus"], json!(1), "{}", r.body);
    let again = server
        .call(&token, "ivr", "liberacaopromessa", &[("contrato", "1002")])
        .await;
    assert_eq!(again.json["status"], json!(2), "{}", again.body);

    let after = server
        .call(&token, "ivr", "chamado", &[("contrato", "1001")])
        .await;
    assert_eq!(after.json["status"], json!(1), "{}", after.body);
    let new_protocol = after.json["protocolo"].as_str().unwrap().to_string();
    for old in &issued {
        assert_eq!(old.len(), new_protocol.len());
        assert!(
            new_protocol > *old,
            "protocol {new_protocol} after the restart must follow {old}"
        );
    }
    drop(server);

    let store = ura::store::Store::open(&db).await.expect("open");
    for p in &issued {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE protocol = $1")
            .bind(p)
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(n, 1, "ticket of {p} survived the crash");
    }
    store.close().await;
}
