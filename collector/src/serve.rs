//! Serving HTTP/1.1 with limits a hostile client cannot outwait.
//!
//! `axum::serve` sets no timer, so a client that sends half a request head, or promises a body
//! it never sends, holds its connection (and a file descriptor) for ever, and a shutdown waits
//! for it for ever. Here every connection has a deadline for each request head (which also
//! closes a connection idle between requests), [`body_deadline`] bounds the time to send a
//! body, one client address may hold only so many connections, and a shutdown waits a bounded
//! time for requests in flight.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::Service;

/// How long a client may take, and how many connections it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time to send a request head, counted from the connection's start or the previous
    /// response: a connection idle for longer is closed.
    pub header_timeout: Duration,
    /// Time to send a request body, counted from the end of its head.
    pub body_timeout: Duration,
    /// Connections one client address may hold at once; 0 for no cap (behind a reverse
    /// proxy every client has the proxy's address).
    pub per_client: usize,
    /// How long a shutdown waits for requests in flight before it closes their connections.
    pub shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(20),
            per_client: 256,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// Connections open per client address.
#[derive(Default)]
struct Open(Mutex<HashMap<IpAddr, usize>>);

/// One counted connection; uncounted when dropped.
struct Counted {
    open: Arc<Open>,
    ip: IpAddr,
}

impl Open {
    /// Counts a connection from `ip`, unless it already holds `cap` (0: no cap).
    fn admit(self: &Arc<Open>, ip: IpAddr, cap: usize) -> Option<Counted> {
        let mut open = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let held = open.entry(ip).or_insert(0);
        if cap != 0 && *held >= cap {
            return None;
        }
        *held += 1;
        Some(Counted {
            open: self.clone(),
            ip,
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self
            .open
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(held) = open.get_mut(&self.ip) {
            *held -= 1;
            if *held == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then waits at most
/// `limits.shutdown_timeout` for requests in flight. Requests carry the client's
/// [`ConnectInfo<SocketAddr>`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Open::default());
    // Each connection holds a receiver; `closing` is sent on shutdown, and every receiver
    // dropped means every connection has ended.
    let (closing, watch_rx) = watch::channel(false);
    let mut refused_logged = false;
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, mostly: wait for connections to close.
                    eprintln!("bantam-collector: cannot accept a connection: {err}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Some(counted) = open.admit(addr.ip(), limits.per_client) else {
            if !refused_logged {
                eprintln!(
                    "bantam-collector: {} holds {} connections, the most one client may (--max-connections-per-client); closing its new ones",
                    addr.ip(),
                    limits.per_client
                );
                refused_logged = true;
            }
            drop(stream);
            continue;
        };
        // Without TCP_NODELAY a small response can wait for the client's delayed ACK (40 ms).
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let mut watch_rx = watch_rx.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(addr));
                let mut router = router.clone();
                async move {
                    let response: Result<Response, Infallible> =
                        router.call(request.map(Body::new)).await;
                    response
                }
            });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .keep_alive(true);
            let connection = http.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = watch_rx.changed() => {
                    // Finish the request in flight, if any, then close.
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.as_mut().await;
                }
            }
            drop(counted);
            drop(watch_rx);
        });
    }
    drop(listener);
    let _ = closing.send(true);
    drop(watch_rx);
    let ended = closing.closed();
    if tokio::time::timeout(limits.shutdown_timeout, ended)
        .await
        .is_err()
    {
        eprintln!(
            "bantam-collector: requests still open after {} s; closing them",
            limits.shutdown_timeout.as_secs()
        );
    }
}

/// Reads a request's body within `limit` of its head, so a client that promises a body and
/// sends it slowly, or never, is answered `408` and its connection closed.
pub async fn body_deadline(
    limit: Duration,
    max_bytes: usize,
    request: Request,
    next: Next,
) -> Response {
    let empty = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .is_some_and(|n| n.as_bytes() == b"0")
        || (!request.headers().contains_key(header::CONTENT_LENGTH)
            && !request.headers().contains_key(header::TRANSFER_ENCODING));
    if empty {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(limit, axum::body::to_bytes(body, max_bytes)).await;
    let body = match read {
        Ok(Ok(bytes)) => Body::from(bytes),
        Ok(Err(err)) => {
            let too_large = std::error::Error::source(&err)
                .is_some_and(|e| e.is::<http_body_util::LengthLimitError>());
            return if too_large {
                closing(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("body is larger than {max_bytes} bytes"),
                )
            } else {
                closing(
                    StatusCode::BAD_REQUEST,
                    format!("the request body could not be read: {err}"),
                )
            };
        }
        Err(_) => {
            return closing(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    limit.as_secs()
                ),
            )
        }
    };
    next.run(Request::from_parts(parts, body)).await
}

/// An error answer that also closes the connection: what is left of the body is unread.
fn closing(status: StatusCode, error: String) -> Response {
    let mut response = crate::AppError::bad(status, error, None).into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
