//! `latch serve`'s HTTP/1.1 server, with the defences a server facing clients directly needs
//! (docs/security.md I7). The Lambda functions do not use it: API Gateway reads requests for them.
//!
//! Every connection is in one of two phases:
//! - *waiting* for a request (just accepted, or kept alive after a response): it is closed once
//!   it has been silent for the idle timeout, and once a request's head has started to arrive,
//!   the whole head must arrive within the header read timeout and fit in `max_header_bytes`
//!   and [`MAX_HEADERS`] fields (else 431 in Stytch's envelope);
//! - *busy* with a request: each wait for the next piece of its body is bounded by the body
//!   read timeout (else 408 in the envelope, and the connection is closed).
//!
//! The head limits are enforced on the bytes as they come in (`Guarded`), before hyper buffers
//! them, so that an oversized head is answered with the envelope rather than hyper's bare 431.
//! A response to a request whose body was not read to its end closes the connection: the next
//! bytes would be the rest of that body, not a new request's head.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{header, HeaderValue, Request, Response};
use axum::Router;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use tower::ServiceExt;
use tower_http::timeout::{TimeoutBody, TimeoutError};

use crate::api::request_id::RequestId;
use crate::config::ServeSettings;
use crate::error::{Error, ErrorType};

/// The most header fields a request may carry (hyper's own limit, which is thus never reached).
pub const MAX_HEADERS: usize = 100;

/// How much of an oversized head is read and discarded after the 431 is sent, so that closing
/// the socket with unread data does not reset the connection before the client reads the answer.
const DRAIN_AFTER_REJECT: usize = 1024 * 1024;

/// TLS for `latch serve --tls-cert --tls-key`: rustls on aws-lc (the crypto the AWS SDK already
/// links), HTTP/1.1 only, as the server below speaks.
#[derive(Clone)]
pub struct Tls(tokio_rustls::TlsAcceptor);

impl Tls {
    /// A certificate chain and its private key, both PEM files.
    pub fn from_pem_files(cert: &std::path::Path, key: &std::path::Path) -> io::Result<Self> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| io::Error::other(format!("reading the certificate chain {}: {e}", cert.display())))?;
        if certs.is_empty() {
            return Err(io::Error::other(format!("{} holds no certificate", cert.display())));
        }
        let key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| io::Error::other(format!("reading the private key {}: {e}", key.display())))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| io::Error::other(format!("the certificate and key do not make a TLS identity: {e}")))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self(tokio_rustls::TlsAcceptor::from(Arc::new(config))))
    }
}

/// Serve `router` on `listener` (over TLS if `tls` is given) until `shutdown` completes; then
/// stop accepting, let the requests under way finish (for at most `settings.shutdown_grace`) and
/// close every connection.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: ServeSettings,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let (router, stop) = (router.clone(), stop_rx.clone());
                    match tls.clone() {
                        None => {
                            connections.spawn(connection(stream, router, settings, stop));
                        }
                        Some(Tls(acceptor)) => {
                            connections.spawn(async move {
                                // The handshake is bounded like a request's head: a client that
                                // opens a socket and says nothing holds it no longer.
                                let handshake = tokio::time::timeout(settings.header_read_timeout, acceptor.accept(stream));
                                match handshake.await {
                                    Ok(Ok(stream)) => connection(stream, router, settings, stop).await,
                                    Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                                    Err(_) => tracing::debug!("TLS handshake timed out"),
                                }
                            });
                        }
                    }
                }
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let under_way = connections.len();
    tracing::info!(
        connections = under_way,
        "shutting down: no new connections, finishing the requests under way"
    );
    let drained = tokio::time::timeout(settings.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = connections.len(),
            grace_secs = settings.shutdown_grace.as_secs(),
            "shutdown grace period over: closing the connections still open"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// One connection: hyper serves it while the watchdog enforces the phase's deadline.
async fn connection<S>(stream: S, router: Router, settings: ServeSettings, mut stop: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let watch = Arc::new(Watch::new(settings));
    let io = TokioIo::new(Guarded {
        inner: stream,
        watch: watch.clone(),
        reject: None,
    });
    let service = {
        let watch = watch.clone();
        hyper::service::service_fn(move |request| handle(request, router.clone(), watch.clone()))
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The watchdog times heads (hyper's own timeout would also run while a connection is idle).
    builder.header_read_timeout(None);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        let deadline = watch.deadline();
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = watch.changed.notified() => {}
            _ = sleep_until(deadline) => {
                if watch.deadline().is_some_and(|d| d <= Instant::now()) {
                    tracing::debug!("closing a connection stalled or idle past its timeout");
                    return;
                }
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// One request through the router, its body's waits bounded.
async fn handle(
    request: Request<Incoming>,
    router: Router,
    watch: Arc<Watch>,
) -> Result<Response<axum::body::Body>, Infallible> {
    watch.request_started();
    let (parts, body) = request.into_parts();
    let flags = Arc::new(BodyFlags {
        ended: AtomicBool::new(body.is_end_stream()),
        timed_out: AtomicBool::new(false),
    });
    let body = Watched {
        inner: Box::pin(TimeoutBody::new(watch.settings.body_read_timeout, body)),
        flags: flags.clone(),
    };
    let request = Request::from_parts(parts, axum::body::Body::new(body));
    let mut response = match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if flags.timed_out.load(Ordering::Relaxed) {
        let id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(RequestId::from_existing)
            .unwrap_or_else(RequestId::generate);
        let error = Error::new(
            ErrorType::RequestTimeout,
            format!(
                "The request body stopped arriving for {} s.",
                watch.settings.body_read_timeout.as_secs()
            ),
        );
        let (status, json) = error.envelope_json(&id);
        let mut timed_out = Response::new(axum::body::Body::from(json));
        *timed_out.status_mut() = status;
        timed_out
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Ok(v) = HeaderValue::from_str(id.as_str()) {
            timed_out.headers_mut().insert("x-request-id", v);
        }
        response = timed_out;
    }
    let ended = flags.ended.load(Ordering::Relaxed);
    if !ended {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    watch.request_finished();
    Ok(response)
}

struct BodyFlags {
    /// The body was read to its end.
    ended: AtomicBool,
    /// A wait for the body passed the body read timeout.
    timed_out: AtomicBool,
}

/// A request body that notes whether it was read to its end or timed out.
struct Watched {
    inner: Pin<Box<TimeoutBody<Incoming>>>,
    flags: Arc<BodyFlags>,
}

impl HttpBody for Watched {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let frame = ready!(self.inner.as_mut().poll_frame(cx));
        match &frame {
            None => self.flags.ended.store(true, Ordering::Relaxed),
            Some(Err(e)) if e.is::<TimeoutError>() => self.flags.timed_out.store(true, Ordering::Relaxed),
            _ => {}
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.flags.ended.load(Ordering::Relaxed)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What a connection is doing, for its deadline.
enum Phase {
    /// No request under way since `since` (accepted, or the last response); `head` once the
    /// next request's head has begun to arrive.
    Waiting { since: Instant, head: Option<HeadScan> },
    /// A request's head arrived at `since`; `requests` of them are being answered (0 until hyper
    /// hands the request over, which the header read timeout still bounds).
    Busy { requests: usize, since: Instant },
}

/// The part of a request head seen so far.
struct HeadScan {
    started: Instant,
    bytes: usize,
    lines: usize,
    /// The current line has no character yet (an empty line ends the head).
    line_empty: bool,
}

enum Verdict {
    Pass,
    TooLarge,
}

struct Watch {
    settings: ServeSettings,
    phase: Mutex<Phase>,
    /// Woken when the deadline may have moved.
    changed: Notify,
}

impl Watch {
    fn new(settings: ServeSettings) -> Self {
        Self {
            settings,
            phase: Mutex::new(Phase::Waiting {
                since: Instant::now(),
                head: None,
            }),
            changed: Notify::new(),
        }
    }

    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        // The phase is plain data: a panic elsewhere cannot leave it half-changed.
        self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn deadline(&self) -> Option<Instant> {
        match &*self.phase() {
            Phase::Waiting { head: Some(h), .. } => Some(h.started + self.settings.header_read_timeout),
            Phase::Waiting { since, head: None } => Some(*since + self.settings.idle_timeout),
            Phase::Busy { requests: 0, since } => Some(*since + self.settings.header_read_timeout),
            Phase::Busy { .. } => None,
        }
    }

    fn request_started(&self) {
        let mut phase = self.phase();
        *phase = match *phase {
            Phase::Busy { requests, since } => Phase::Busy {
                requests: requests + 1,
                since,
            },
            Phase::Waiting { .. } => Phase::Busy {
                requests: 1,
                since: Instant::now(),
            },
        };
        drop(phase);
        self.changed.notify_one();
    }

    fn request_finished(&self) {
        let mut phase = self.phase();
        if let Phase::Busy { requests, .. } = &mut *phase {
            *requests = requests.saturating_sub(1);
            if *requests == 0 {
                *phase = Phase::Waiting {
                    since: Instant::now(),
                    head: None,
                };
            }
        }
        drop(phase);
        self.changed.notify_one();
    }

    /// Bytes written: a response still leaving counts as activity, not idleness.
    fn on_write(&self) {
        if let Phase::Waiting { since, head: None } = &mut *self.phase() {
            *since = Instant::now();
        }
    }

    /// Bytes read from the client: while waiting, they are the next request's head.
    fn on_read(&self, data: &[u8]) -> Verdict {
        if data.is_empty() {
            return Verdict::Pass;
        }
        let mut phase = self.phase();
        let Phase::Waiting { head, .. } = &mut *phase else {
            return Verdict::Pass;
        };
        if head.is_none() {
            *head = Some(HeadScan {
                started: Instant::now(),
                bytes: 0,
                lines: 0,
                line_empty: false,
            });
            self.changed.notify_one();
        }
        let scan = head.as_mut().expect("just set");
        for &b in data {
            scan.bytes += 1;
            if scan.bytes > self.settings.max_header_bytes {
                return Verdict::TooLarge;
            }
            match b {
                b'\n' if scan.line_empty && scan.lines > 0 => {
                    // The head is complete; what follows is its body (or a pipelined request).
                    *phase = Phase::Busy {
                        requests: 0,
                        since: Instant::now(),
                    };
                    self.changed.notify_one();
                    return Verdict::Pass;
                }
                b'\n' => {
                    scan.lines += 1;
                    // The request line and MAX_HEADERS fields.
                    if scan.lines > MAX_HEADERS + 1 {
                        return Verdict::TooLarge;
                    }
                    scan.line_empty = true;
                }
                b'\r' => {}
                _ => scan.line_empty = false,
            }
        }
        Verdict::Pass
    }
}

/// The 431 for an oversized head, sent by `Guarded` in place of hyper's bare one.
fn too_large_response(settings: &ServeSettings) -> Vec<u8> {
    let id = RequestId::generate();
    let error = Error::new(
        ErrorType::RequestHeaderFieldsTooLarge,
        format!(
            "The request's head is larger than {} bytes or has more than {MAX_HEADERS} header fields.",
            settings.max_header_bytes
        ),
    );
    let (status, json) = error.envelope_json(&id);
    format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nx-request-id: {}\r\n\r\n{json}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        json.len(),
        id.as_str(),
    )
    .into_bytes()
}

/// Answering an oversized head: write the 431, end the write side, discard what still comes.
struct Rejection {
    response: Vec<u8>,
    written: usize,
    flushed: bool,
    shut: bool,
    drained: usize,
}

/// The socket as hyper sees it: reads are checked against the head limits, and an oversized
/// head is answered here; hyper then sees the end of the stream and closes without answering.
struct Guarded<S> {
    inner: S,
    watch: Arc<Watch>,
    reject: Option<Rejection>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Guarded<S> {
    fn poll_reject(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(r) = self.reject.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let mut inner = Pin::new(&mut self.inner);
        while r.written < r.response.len() {
            let n = ready!(inner.as_mut().poll_write(cx, &r.response[r.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            r.written += n;
        }
        if !r.flushed {
            ready!(inner.as_mut().poll_flush(cx))?;
            r.flushed = true;
        }
        if !r.shut {
            ready!(inner.as_mut().poll_shutdown(cx))?;
            r.shut = true;
        }
        let mut scratch = [0u8; 8192];
        while r.drained < DRAIN_AFTER_REJECT {
            let mut buf = ReadBuf::new(&mut scratch);
            ready!(inner.as_mut().poll_read(cx, &mut buf))?;
            if buf.filled().is_empty() {
                break;
            }
            r.drained += buf.filled().len();
        }
        // The end of the stream, as far as hyper is concerned.
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.reject.is_some() {
            return this.poll_reject(cx);
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let verdict = this.watch.on_read(&buf.filled()[before..]);
        match verdict {
            Verdict::Pass => Poll::Ready(Ok(())),
            Verdict::TooLarge => {
                // hyper never sees these bytes.
                buf.set_filled(before);
                this.reject = Some(Rejection {
                    response: too_large_response(&this.watch.settings),
                    written: 0,
                    flushed: false,
                    shut: false,
                    drained: 0,
                });
                this.poll_reject(cx)
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.reject.is_some() {
            // Nothing of hyper's goes out after the 431.
            return Poll::Ready(Ok(data.len()));
        }
        let n = ready!(Pin::new(&mut this.inner).poll_write(cx, data))?;
        if n > 0 {
            this.watch.on_write();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.reject.is_some() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.reject.as_ref().is_some_and(|r| r.shut) {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}
