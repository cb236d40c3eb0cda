//! Whether a peer can be reached at all, for `ura doctor`: a name resolves, a TCP port
//! accepts connections.

use std::time::Duration;

/// Whether `host` resolves to at least one address.
pub async fn resolve(host: &str, port: u16, within: Duration) -> Result<(), String> {
    match tokio::time::timeout(within, tokio::net::lookup_host((host, port))).await {
        Ok(Ok(mut addrs)) => match addrs.next() {
            Some(_) => Ok(()),
            None => Err(format!("{host} não tem endereço")),
        },
        Ok(Err(e)) => Err(format!("{host}: {e}")),
        Err(_) => Err(format!(
            "{host}: sem resposta do DNS em {} s",
            within.as_secs()
        )),
    }
}

/// Whether a TCP service (an SMS gateway, a web server) accepts connections at `host:port`.
pub async fn tcp(host: &str, port: u16, within: Duration) -> Result<(), String> {
    match tokio::time::timeout(within, tokio::net::TcpStream::connect((host, port))).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("{host}:{port}: {e}")),
        Err(_) => Err(format!(
            "{host}:{port}: sem resposta em {} s",
            within.as_secs()
        )),
    }
}
