//! The connections themselves: accepting them (at most `limites.conexoes_max` at a time),
//! TLS when configured, HTTP/1.1 and HTTP/2, and closing the ones that hold a slot without
//! using it: a request whose headers take longer than `limites.cabecalhos_tempo` to arrive
//! (half a request, sent slowly or never finished) and a kept-alive connection idle for
//! longer than `limites.ocioso_tempo`. A request being answered (a long live stream
//! included) is never cut by these.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

/// How the connections are served.
#[derive(Clone)]
pub struct Options {
    /// From the first byte of a request to the end of its headers.
    pub header_timeout: Duration,
    /// A kept-alive connection with no request.
    pub idle_timeout: Duration,
    /// Connections open at once; the next ones wait in the listening socket's queue.
    pub max_connections: usize,
    /// How long the graceful shutdown waits for the requests in flight.
    pub drain_timeout: Duration,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

/// Raises this process's limit of open files to what the system allows, and returns how
/// many connections fit under it (leaving room for the database pool, logs and files).
pub fn fit_connections(wanted: usize, reserved: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!("não foi possível consultar o limite de arquivos abertos: {e}");
            return wanted;
        }
    };
    let room = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_sub(reserved)
        .max(1);
    if room < wanted {
        tracing::warn!(
            "limites.conexoes_max = {wanted} reduzido para {room}: o sistema permite {limit} \
             arquivos abertos a este processo (aumente LimitNOFILE no systemd ou ulimit -n)"
        );
        room
    } else {
        tracing::info!("até {wanted} conexões simultâneas (limite de arquivos abertos: {limit})");
        wanted
    }
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, lets the
/// requests in flight finish (at most `drain_timeout`) and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Headers are timed here, from the request's first byte, not from the end of the
    // previous answer (the idle time of a kept-alive connection has its own limit).
    builder.http1().header_read_timeout(None);
    let builder = Arc::new(builder);
    let mut last_error_log: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        // A free slot first: while every slot is taken, new connections wait in the
        // kernel's queue instead of being accepted and refused.
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors (or another passing error): pause instead of
                    // spinning, and say so at most once a second.
                    if last_error_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                        tracing::warn!("erro ao aceitar conexão: {e}");
                        last_error_log = Some(Instant::now());
                    }
                    drop(permit);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let builder = builder.clone();
        let options = options.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            connection(stream, peer, router, &builder, &options, watcher).await;
        });
    }
    drop(listener);
    if tokio::time::timeout(options.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requisições ainda em andamento ao fim do prazo de encerramento");
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    builder: &auto::Builder<TokioExecutor>,
    options: &Options,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let activity = Arc::new(Activity::new());
    match &options.tls {
        None => {
            let io = Watched::new(stream, activity.clone());
            run(io, peer, router, builder, options, watcher, activity).await;
        }
        Some(acceptor) => {
            // The handshake is held to the same time as a request's headers.
            let tls =
                match tokio::time::timeout(options.header_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        tracing::debug!("TLS recusado de {peer}: {e}");
                        return;
                    }
                    Err(_) => return,
                };
            let io = Watched::new(tls, activity.clone());
            run(io, peer, router, builder, options, watcher, activity).await;
        }
    }
}

async fn run<IO>(
    io: Watched<IO>,
    peer: SocketAddr,
    router: Router,
    builder: &auto::Builder<TokioExecutor>,
    options: &Options,
    watcher: hyper_util::server::graceful::Watcher,
    activity: Arc<Activity>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let in_flight = activity.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        // Counted from here until the answer's body is dropped (sent or abandoned).
        let guard = InFlight::start(in_flight.clone());
        request.extensions_mut().insert(ConnectInfo(peer));
        let router = router.clone();
        async move {
            let response = router.oneshot(request.map(Body::new)).await?;
            Ok::<_, std::convert::Infallible>(response.map(|body| {
                Body::new(Guarded {
                    inner: body,
                    _guard: guard,
                })
            }))
        }
    });
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    let conn = watcher.watch(conn.into_owned());
    tokio::select! {
        result = conn => {
            if let Err(e) = result {
                tracing::debug!("conexão de {peer} encerrada: {e}");
            }
        }
        () = activity.expired(options.header_timeout, options.idle_timeout) => {
            tracing::debug!("conexão de {peer} fechada: cabeçalhos incompletos ou ociosa");
        }
    }
}

/// What the connection is doing, for its timeouts: requests being answered, since when it
/// is idle, and since when a request's headers are arriving.
struct Activity {
    origin: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds from `origin`.
    idle_since: AtomicU64,
    /// Milliseconds from `origin`; `NONE` when no request is arriving.
    head_since: AtomicU64,
    changed: Notify,
}

const NONE: u64 = u64::MAX;

impl Activity {
    fn new() -> Activity {
        Activity {
            origin: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            head_since: AtomicU64::new(NONE),
            changed: Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    /// Bytes came in: with no request being answered, a new one is arriving.
    fn read(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0
            && self.head_since.load(Ordering::Acquire) == NONE
        {
            self.head_since.store(self.now(), Ordering::Release);
            self.changed.notify_one();
        }
    }

    /// Resolves when the connection should be closed: headers late, or idle too long.
    async fn expired(&self, header: Duration, idle: Duration) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.in_flight.load(Ordering::Acquire) > 0 {
                changed.await;
                continue;
            }
            let head = self.head_since.load(Ordering::Acquire);
            let deadline = if head != NONE {
                self.origin + Duration::from_millis(head) + header
            } else {
                self.origin + Duration::from_millis(self.idle_since.load(Ordering::Acquire)) + idle
            };
            if Instant::now() >= deadline {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => {}
                () = changed => {}
            }
        }
    }
}

/// One request being answered on a connection.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: Arc<Activity>) -> InFlight {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.head_since.store(NONE, Ordering::Release);
        activity.changed.notify_one();
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle_since.store(self.0.now(), Ordering::Release);
            self.0.changed.notify_one();
        }
    }
}

/// An answer's body that keeps its request counted as in flight until it is dropped.
struct Guarded {
    inner: Body,
    _guard: InFlight,
}

impl http_body::Body for Guarded {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The connection's bytes, noting when some arrive.
struct Watched<IO> {
    io: IO,
    activity: Arc<Activity>,
}

impl<IO> Watched<IO> {
    fn new(io: IO, activity: Arc<Activity>) -> Watched<IO> {
        Watched { io, activity }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Watched<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        result
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Watched<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
