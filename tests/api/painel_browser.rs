//! The agents' console (`/painel/`) end to end in a real headless Chromium: an agent created
//! with `ura agent add` signs in, the IVR transfers a call (`notificacaosistema`), the call pops
//! on the agent's screen, the agent takes it and opens a ticket from it
//! (tests/browser/painel.mjs drives the browser with playwright-core).
//!
//! Needs the system's Chromium (`apt-get install chromium`: /usr/bin/chromium), Node.js and
//! `npm ci --prefix tests/browser`. Without them the test is skipped with a message, unless
//! `URA_TEST_REQUIRE_CHROMIUM=1`, which CI sets. The screenshots are left in
//! `target/artifacts/`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::common::*;

const BIN: &str = env!("CARGO_BIN_EXE_ura");
const CHROMIUM: &str = "/usr/bin/chromium";
const LOGIN: &str = "maria";
const SENHA: &str = "senha-forte-123";
const FILA: &str = "suporte";
const CONTRATO: &str = "1001";
const TELEFONE: &str = "84991380000";
/// The script gives up on its own after 75 s, with the step it was at; this is a backstop.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Why the browser test cannot run here, if it cannot.
async fn missing_prerequisite() -> Option<String> {
    if !Path::new(CHROMIUM).exists() {
        return Some(format!("{CHROMIUM} not found (apt-get install chromium)"));
    }
    let node = Command::new("node")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .await;
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("node (Node.js 20 or newer) not found on PATH".to_string());
    }
    let playwright = manifest_dir().join("tests/browser/node_modules/playwright-core");
    if !playwright.is_dir() {
        return Some(format!(
            "{} not found (npm ci --prefix tests/browser)",
            playwright.display()
        ));
    }
    None
}

/// `ura agent add` as an operator runs it, the password on stdin.
async fn add_agent(app: &TestApp) {
    let mut child = Command::new(BIN)
        .args([
            "agent",
            "add",
            LOGIN,
            "--nome",
            "Maria Atendente",
            "--filas",
            FILA,
            "--senha-stdin",
            "--database",
            &app.settings.database_url,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run ura agent add");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(format!("{SENHA}\n").as_bytes())
        .await
        .expect("write the password to ura agent add");
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("ura agent add did not finish within 30 s")
        .expect("wait for ura agent add");
    assert!(
        out.status.success(),
        "ura agent add failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_takes_a_transferred_call_and_opens_a_ticket_in_chromium() {
    const TEST: &str = "painel_browser";
    if let Some(why) = missing_prerequisite().await {
        crate::skip::skip(
            "browser",
            TEST,
            &why,
            "apt-get install chromium; npm ci --prefix tests/browser (Node.js 20 or newer)",
            Some("CHROMIUM"),
        );
        return;
    }

    let app = spawn().await;
    add_agent(&app).await;

    let screenshot: PathBuf = manifest_dir().join("target/artifacts/painel.png");
    let _ = std::fs::remove_file(&screenshot);
    let child = Command::new("node")
        .arg("tests/browser/painel.mjs")
        .current_dir(manifest_dir())
        .env("URA_URL", &app.base)
        .env("URA_AGENT_LOGIN", LOGIN)
        .env("URA_AGENT_SENHA", SENHA)
        .env("URA_APP", APP)
        .env("URA_TOKEN", &app.token)
        .env("URA_CONTRATO", CONTRATO)
        .env("URA_TELEFONE", TELEFONE)
        .env("URA_FILA", FILA)
        .env("URA_SCREENSHOT", &screenshot)
        .env("URA_CHROMIUM", CHROMIUM)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node tests/browser/painel.mjs");
    let out = tokio::time::timeout(BROWSER_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{TEST}: painel.mjs did not finish within {BROWSER_TIMEOUT:?}"))
        .expect("wait for node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("--- painel.mjs stdout\n{stdout}--- painel.mjs stderr\n{stderr}---");
    assert!(
        out.status.success(),
        "{TEST}: the browser run failed ({}):\n{stderr}",
        out.status
    );

    let size = std::fs::metadata(&screenshot)
        .unwrap_or_else(|e| panic!("{TEST}: no screenshot at {}: {e}", screenshot.display()))
        .len();
    assert!(
        size > 0,
        "{TEST}: empty screenshot {}",
        screenshot.display()
    );

    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM tickets WHERE origin = 'painel' AND contract_id = {CONTRATO}"
        ))
        .await,
        1,
        "{TEST}: one ticket opened from the console for contract {CONTRATO}"
    );

    app.stop().await;
}
