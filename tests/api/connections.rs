//! The connections themselves: half-sent requests and idle keep-alive connections are closed
//! (`limites.cabecalhos_tempo`, `limites.ocioso_tempo`), at most `limites.conexoes_max` are
//! open at once without anyone being refused, and an early answer (`401`, `405`, `429`) to a
//! request with a body leaves a keep-alive connection usable or says `Connection: close`.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

/// Guards against a hang only: each wait below ends far sooner when the server does its job.
const HANG: Duration = Duration::from_secs(60);

fn authority(app: &TestApp) -> String {
    app.base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

/// Reads until the peer closes; true when it did (an orderly close or a reset).
async fn closed_by_peer(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(HANG, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// One HTTP/1.1 answer read from the stream: status, headers (lowercase names), body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

async fn read_answer(stream: &mut TcpStream) -> std::io::Result<Answer> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = tokio::time::timeout(HANG, stream.read(&mut buf))
            .await
            .map_err(|_| std::io::Error::other("no answer"))??;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "closed before the answer",
            ));
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end..].to_vec();
    while body.len() < length {
        let n = tokio::time::timeout(HANG, stream.read(&mut buf))
            .await
            .map_err(|_| std::io::Error::other("no body"))??;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Ok(Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_are_closed_and_a_normal_client_is_still_served() {
    const CAP: usize = 20;
    let app = spawn_with(|s| {
        s.limites.conexoes_max = CAP;
        s.limites.cabecalhos_tempo = 1.0;
    })
    .await;
    let authority = authority(&app);
    // Twice the cap of connections that send half a request and stop.
    let mut partial = Vec::new();
    for _ in 0..CAP * 2 {
        let mut s = TcpStream::connect(&authority).await.expect("connect");
        s.write_all(b"POST /ws/ura/consultacliente/ HTTP/1.1\r\nHost: x\r\nContent-Le")
            .await
            .expect("write");
        partial.push(s);
    }
    // A normal client is served: nobody is refused, the half requests give way.
    let r = tokio::time::timeout(
        HANG,
        app.call("consultacliente", &[("cpfcnpj", "52998224725")]),
    )
    .await
    .expect("the normal client was served");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json["contratos"].is_array(), "{}", r.body);
    // Every half request was closed by the server.
    for (i, s) in partial.iter_mut().enumerate() {
        assert!(closed_by_peer(s).await, "half request {i} still open");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_its_answer() {
    let app = spawn_with(|s| s.limites.ocioso_tempo = 1.0).await;
    let mut s = TcpStream::connect(authority(&app)).await.expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_answer(&mut s).await.expect("answer");
    assert_eq!(answer.status, 200);
    assert_ne!(answer.header("connection"), Some("close"));
    assert!(closed_by_peer(&mut s).await, "idle connection left open");
    app.stop().await;
}

#[tokio::test]
async fn a_live_answer_is_not_cut_by_the_timeouts() {
    // A request being answered (here a slow body upload) is no idle connection: a
    // connection whose request is in flight keeps going past both timeouts.
    let app = spawn_with(|s| {
        s.limites.cabecalhos_tempo = 0.3;
        s.limites.ocioso_tempo = 0.3;
    })
    .await;
    let mut s = TcpStream::connect(authority(&app)).await.expect("connect");
    let body = format!("app={APP}&token={}&contrato=1001", app.token);
    let head = format!(
        "POST /ws/ura/consultacliente/ HTTP/1.1\r\nHost: x\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let (first, rest) = body.split_at(5);
    s.write_all(first.as_bytes()).await.unwrap();
    // Longer than both timeouts, while the server waits for the body.
    tokio::time::sleep(Duration::from_millis(900)).await;
    s.write_all(rest.as_bytes()).await.unwrap();
    let answer = read_answer(&mut s).await.expect("answer");
    assert_eq!(answer.status, 200, "{}", answer.body);
    app.stop().await;
}

/// Sends `head` and a body of `size` bytes on a keep-alive connection, reads the answer, and
/// checks that the connection either serves a next request or was announced as closing.
async fn early_answer_keeps_the_connection_usable(app: &TestApp, head: &str, size: usize) -> u16 {
    let mut s = TcpStream::connect(authority(app)).await.expect("connect");
    let request = format!("{head}Content-Length: {size}\r\n\r\n");
    s.write_all(request.as_bytes()).await.unwrap();
    // The whole body, in pieces, as a client streaming an upload would.
    let chunk = vec![b'a'; 16 * 1024];
    let mut sent = 0;
    while sent < size {
        let n = chunk.len().min(size - sent);
        if s.write_all(&chunk[..n]).await.is_err() {
            break;
        }
        sent += n;
    }
    let answer = read_answer(&mut s)
        .await
        .expect("the early answer reached the client (no reset)");
    if answer.header("connection") == Some("close") {
        assert!(closed_by_peer(&mut s).await);
        return answer.status;
    }
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("the connection is still open");
    let next = read_answer(&mut s)
        .await
        .expect("the next request on the same connection is answered");
    assert_eq!(next.status, 200, "{}", next.body);
    answer.status
}

#[tokio::test]
async fn early_answers_to_requests_with_bodies_keep_keep_alive_clients_working() {
    let app = spawn_with(|s| s.limites.por_endereco = 1).await;
    // The address's one request of the minute.
    assert_eq!(
        app.call("consultacliente", &[("contrato", "1001")])
            .await
            .status,
        200
    );
    let form = "Content-Type: application/x-www-form-urlencoded\r\n";
    for size in [1000, 200 * 1024] {
        let status = early_answer_keeps_the_connection_usable(
            &app,
            &format!("POST /ws/ura/consultacliente/ HTTP/1.1\r\nHost: x\r\n{form}"),
            size,
        )
        .await;
        assert_eq!(status, 429, "over the address's limit");
        let status = early_answer_keeps_the_connection_usable(
            &app,
            &format!("PUT /ws/ura/consultacliente/ HTTP/1.1\r\nHost: x\r\n{form}"),
            size,
        )
        .await;
        assert_eq!(status, 405);
        let status = early_answer_keeps_the_connection_usable(
            &app,
            "POST /admin/api/v1/pops HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer errado\r\n\
             Content-Type: application/json\r\n",
            size,
        )
        .await;
        assert_eq!(status, 401);
    }
    // A body announced far over any bound is not waited for: the answer says the
    // connection closes.
    let mut s = TcpStream::connect(authority(&app)).await.expect("connect");
    s.write_all(
        format!(
            "PUT /ws/ura/consultacliente/ HTTP/1.1\r\nHost: x\r\n{form}\
             Content-Length: {}\r\n\r\n",
            64 * 1024 * 1024
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let answer = read_answer(&mut s).await.expect("answer");
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(closed_by_peer(&mut s).await);
    app.stop().await;
}
