//! The HTTP listener: connections accepted up to a cap (the longest-idle one
//! closed to make room), slow request heads and idle keep-alive connections
//! closed, and a shutdown with a deadline.
//!
//! axum's own `serve` has none of these: a client that sends half a header
//! keeps it from shutting down, and idle sockets exhaust the file descriptors.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::{Body as _, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

/// How the listener treats connections; `tombola serve`'s flags.
#[derive(Debug, Clone)]
pub struct Limits {
    /// From a request's first byte to the end of its head.
    pub header_timeout: Duration,
    /// How long a request's body may go without a byte arriving while the
    /// server waits for it.
    pub body_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// Connections held at once; at the cap the longest-idle one is closed.
    pub max_connections: usize,
    /// After the shutdown signal: how long requests in flight may take before
    /// their connections are cut.
    pub shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// One connection as the listener sees it, shared with its task and its I/O.
#[derive(Debug)]
struct Connection {
    /// Requests being answered on it.
    busy: AtomicUsize,
    /// A request's head has begun arriving and no request is being answered.
    reading_head: AtomicBool,
    /// Microseconds since the listener's start when it last turned idle, or
    /// when the head being read began.
    since: AtomicU64,
    /// It has answered a request: idle, it is a keep-alive connection.
    served: AtomicBool,
    /// Microseconds since the listener's start since when a request's handler
    /// has been waiting for body bytes that do not come; 0 when it is not.
    body_waiting: AtomicU64,
    /// Wakes its task: its state changed, or it is asked to close.
    wake: Notify,
    close: AtomicBool,
}

impl Connection {
    fn new(now: u64) -> Self {
        Connection {
            busy: AtomicUsize::new(0),
            reading_head: AtomicBool::new(false),
            since: AtomicU64::new(now),
            body_waiting: AtomicU64::new(0),
            served: AtomicBool::new(false),
            wake: Notify::new(),
            close: AtomicBool::new(false),
        }
    }

    fn idle(&self) -> bool {
        self.busy.load(Ordering::Acquire) == 0 && !self.reading_head.load(Ordering::Acquire)
    }

    /// When the connection must be closed if nothing changes; `None` while a
    /// request is being answered.
    fn deadline(&self, limits: &Limits) -> Option<u64> {
        if self.busy.load(Ordering::Acquire) > 0 {
            return None;
        }
        let since = self.since.load(Ordering::Acquire);
        let allowed = if self.reading_head.load(Ordering::Acquire) {
            limits.header_timeout
        } else {
            limits.idle_timeout
        };
        Some(since.saturating_add(allowed.as_micros() as u64))
    }
}

/// The connections open now, by number.
#[derive(Debug, Default)]
struct Open {
    connections: Mutex<HashMap<u64, Arc<Connection>>>,
    /// Signalled whenever a connection ends, for an accept loop at the cap.
    ended: Notify,
}

impl Open {
    fn count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Connection>>> {
        self.connections.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes a connection to make room, unless one asked is still closing:
    /// an idle keep-alive connection first (the one idle the longest); else
    /// the one that has kept the server waiting the longest — for its first
    /// request, for the rest of a head, or for a body that stalled — so a
    /// fresh client is served before a slow one. False if every connection
    /// is being answered.
    fn evict_one(&self) -> bool {
        let open = self.lock();
        if open.values().any(|c| c.close.load(Ordering::Acquire)) {
            return true;
        }
        let keep_alive = |c: &&Arc<Connection>| c.idle() && c.served.load(Ordering::Acquire);
        let since = |c: &&Arc<Connection>| c.since.load(Ordering::Acquire);
        // Since when a connection has kept the server waiting, if it has.
        let waiting = |c: &Arc<Connection>| match c.body_waiting.load(Ordering::Acquire) {
            0 if c.busy.load(Ordering::Acquire) == 0 => Some(c.since.load(Ordering::Acquire)),
            0 => None,
            stalled => Some(stalled),
        };
        let victim = open
            .values()
            .filter(keep_alive)
            .min_by_key(since)
            .or_else(|| {
                open.values()
                    .filter_map(|c| Some((waiting(c)?, c)))
                    .min_by_key(|(at, _)| *at)
                    .map(|(_, c)| c)
            });
        match victim {
            Some(connection) => {
                connection.close.store(true, Ordering::Release);
                connection.wake.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Microseconds since `start`, the listener's clock.
fn micros_since(start: Instant) -> u64 {
    start.elapsed().as_micros() as u64
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting
/// at once, lets requests in flight finish for `limits.shutdown_timeout`, cuts
/// the connections still open, and returns. Writes that run as tasks of their
/// own (see `AppState::tasks`) are the caller's to wait for.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let start = Instant::now();
    let open = Arc::new(Open::default());
    let tasks = TaskTracker::new();
    let stopping = CancellationToken::new();
    let cut = CancellationToken::new();
    let mut next_id = 0u64;
    let mut shutdown = pin!(shutdown);
    let mut last_error: Option<Instant> = None;
    loop {
        // At the cap, make room by closing the longest-idle connection and wait
        // for a connection to end before accepting another: accepting first
        // would run out of file descriptors before the closes land. With none
        // idle, this waits for one to end (the timeout looks for idle ones again).
        while open.count() >= limits.max_connections {
            open.evict_one();
            tokio::select! {
                () = open.ended.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
                () = &mut shutdown => return drain(open, tasks, stopping, cut, &limits).await,
            }
        }
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, or the peer left before the accept:
                    // log once a few seconds, not once a connection.
                    if last_error.is_none_or(|at| at.elapsed() > Duration::from_secs(5)) {
                        tracing::warn!(%error, open = open.count(), "accept failed");
                        last_error = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let connection = Arc::new(Connection::new(micros_since(start)));
        open.lock().insert(next_id, connection.clone());
        let task = ConnectionTask {
            id: next_id,
            connection,
            open: open.clone(),
            limits: limits.clone(),
            start,
            stopping: stopping.clone(),
            cut: cut.clone(),
        };
        tasks.spawn(task.run(stream, app.clone()));
    }
    drop(listener);
    drain(open, tasks, stopping, cut, &limits).await;
}

/// After the shutdown signal: every connection is asked to finish, and those
/// still open at the deadline are cut.
async fn drain(
    open: Arc<Open>,
    tasks: TaskTracker,
    stopping: CancellationToken,
    cut: CancellationToken,
    limits: &Limits,
) {
    stopping.cancel();
    tasks.close();
    let open_now = open.count();
    if tokio::time::timeout(limits.shutdown_timeout, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = open.count(),
            of = open_now,
            "shutdown deadline passed: cutting the connections still open"
        );
        cut.cancel();
        tasks.wait().await;
    }
}

/// What a connection's task holds.
struct ConnectionTask {
    id: u64,
    connection: Arc<Connection>,
    open: Arc<Open>,
    limits: Limits,
    start: Instant,
    stopping: CancellationToken,
    cut: CancellationToken,
}

impl ConnectionTask {
    async fn run(self, stream: TcpStream, app: Router) {
        let io = TokioIo::new(Watched {
            stream,
            connection: self.connection.clone(),
            start: self.start,
        });
        let (connection, start) = (self.connection.clone(), self.start);
        let body_timeout = self.limits.body_timeout;
        let service = tower::service_fn(move |request| {
            answer(
                app.clone(),
                connection.clone(),
                start,
                body_timeout,
                request,
            )
        });
        let hyper_service = TowerToHyperService::new(service);
        let builder = Builder::new(TokioExecutor::new());
        let mut serving = pin!(builder.serve_connection_with_upgrades(io, hyper_service));
        let mut finishing = false;
        loop {
            let deadline = self.connection.deadline(&self.limits);
            let now = micros_since(self.start);
            let sleep = match deadline {
                Some(at) => Duration::from_micros(at.saturating_sub(now)),
                // Busy: look again after a while; the state's change also wakes us.
                None => self.limits.idle_timeout,
            };
            tokio::select! {
                result = serving.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended");
                    }
                    break;
                }
                () = tokio::time::sleep(sleep) => {
                    let expired = self
                        .connection
                        .deadline(&self.limits)
                        .is_some_and(|at| at <= micros_since(self.start));
                    // An idle or slow connection is dropped, closing the socket:
                    // hyper's graceful close would wait for the head to finish.
                    if expired {
                        break;
                    }
                }
                // Evicted at the cap: idle, or too slow to be worth the room.
                () = self.connection.wake.notified() => {
                    if self.connection.close.load(Ordering::Acquire) {
                        break;
                    }
                }
                () = self.stopping.cancelled(), if !finishing => {
                    finishing = true;
                    serving.as_mut().graceful_shutdown();
                    // A connection waiting for (or halfway through) a head has no
                    // request in flight: it closes now rather than at the deadline.
                    if self.connection.busy.load(Ordering::Acquire) == 0 {
                        break;
                    }
                }
                () = self.cut.cancelled() => break,
            }
        }
        self.open.lock().remove(&self.id);
        self.open.ended.notify_one();
    }
}

/// The socket, noting when a request's head begins arriving on an idle connection.
struct Watched {
    stream: TcpStream,
    connection: Arc<Connection>,
    start: Instant,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        let c = &self.connection;
        if buf.filled().len() > before
            && c.busy.load(Ordering::Acquire) == 0
            && !c.reading_head.swap(true, Ordering::AcqRel)
        {
            c.since.store(micros_since(self.start), Ordering::Release);
            c.wake.notify_one();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Answers one request with `app`, the connection marked busy meanwhile and
/// its body read against the body timeout.
async fn answer(
    app: Router,
    connection: Arc<Connection>,
    start: Instant,
    body_timeout: Duration,
    request: hyper::Request<Incoming>,
) -> Result<Response, std::convert::Infallible> {
    connection.busy.fetch_add(1, Ordering::AcqRel);
    connection.reading_head.store(false, Ordering::Release);
    let request = request.map(|body| {
        Body::new(Punctual {
            body,
            timeout: body_timeout,
            stalled: None,
            connection: connection.clone(),
            start,
        })
    });
    let response = app.oneshot(request).await;
    connection.body_waiting.store(0, Ordering::Release);
    connection.served.store(true, Ordering::Release);
    if connection.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
        connection
            .since
            .store(micros_since(start), Ordering::Release);
        connection.wake.notify_one();
    }
    response
}

/// A request body that fails when no byte of it arrives for `timeout` while
/// the handler waits: a stalled upload holds no connection for ever.
struct Punctual {
    body: Incoming,
    timeout: Duration,
    /// Running while the handler waits and nothing arrives.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
    connection: Arc<Connection>,
    start: Instant,
}

impl hyper::body::Body for Punctual {
    type Data = axum::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Pending => {
                if this.stalled.is_none() {
                    this.stalled = Some(Box::pin(tokio::time::sleep(this.timeout)));
                    this.connection
                        .body_waiting
                        .store(micros_since(this.start).max(1), Ordering::Release);
                }
                let timer = this.stalled.as_mut().expect("set above");
                if timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Some(Err(format!(
                        "no byte of the body arrived for {} s",
                        this.timeout.as_secs_f64()
                    )
                    .into())));
                }
                Poll::Pending
            }
            ready => {
                this.stalled = None;
                this.connection.body_waiting.store(0, Ordering::Release);
                ready.map(|frame| frame.map(|r| r.map_err(Into::into)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Adds `Connection: close` to an answer given before the request's body was
/// read (a 401, 403, 404 or 429 refused from its head): the unread body is
/// still on the socket, so the connection cannot carry another request, and a
/// client told so opens a new one instead of failing on this one.
pub(crate) async fn close_if_body_unread(request: Request, next: Next) -> Response {
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    // A declared length over the limit is refused from the head, not after
    // waiting for bytes that would be refused anyway.
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > crate::MAX_BODY_BYTES as u64) {
        let mut response = crate::ApiError::MalformedBody(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body may be at most {} bytes", crate::MAX_BODY_BYTES),
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    let read = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| {
        Body::new(ReadToEnd {
            body,
            read: read.clone(),
        })
    });
    let mut response = next.run(request).await;
    if !read.load(Ordering::Acquire) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A request body that notes when it has been read to its end.
struct ReadToEnd {
    body: Body,
    read: Arc<AtomicBool>,
}

impl hyper::body::Body for ReadToEnd {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.body.is_end_stream() {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
