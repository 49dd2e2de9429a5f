//! HTTPS for `jobconform serve --tls`: a self-signed certificate for `localhost` and `127.0.0.1`
//! generated at start (rcgen, ring), served with tokio-rustls and hyper around the same axum
//! router as plain HTTP. It owns no mock behaviour: every request goes to [`super::router`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::State;

/// Errors making the certificate or the TLS configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen failed.
    #[error("generate a self-signed certificate: {0}")]
    Generate(String),
    /// rustls refused the certificate.
    #[error("configure TLS: {0}")]
    Config(String),
}

/// A generated certificate: the server configuration and the certificate's PEM (for clients to
/// trust).
#[derive(Debug, Clone)]
pub struct SelfSigned {
    /// rustls server configuration (HTTP/1.1 only).
    pub config: Arc<rustls::ServerConfig>,
    /// The certificate in PEM.
    pub cert_pem: String,
}

/// Generates a self-signed certificate for `localhost` and `127.0.0.1`.
pub fn self_signed() -> Result<SelfSigned, TlsError> {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let ck =
        rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::Generate(e.to_string()))?;
    let cert = ck.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        ck.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(SelfSigned {
        config: Arc::new(config),
        cert_pem: ck.cert.pem(),
    })
}

/// How long open connections get to finish after shutdown is asked for.
const DRAIN: Duration = Duration::from_secs(5);

/// Serves the mock over TLS on `listener` until `shutdown` resolves, then lets open connections
/// finish their current request (bounded) and returns.
pub async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    tls: &SelfSigned,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, super::router(state), tls, shutdown).await
}

/// Serves any axum router over TLS as [`serve`] does (the peer address is given to handlers as
/// `ConnectInfo<SocketAddr>`); `jobconform proxy --tls` uses it for its own side.
pub async fn serve_router(
    listener: TcpListener,
    router: axum::Router,
    tls: &SelfSigned,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(tls.config.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut conns = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => continue,
            },
        };
        while conns.try_join_next().is_some() {}
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        // The real `ConnectInfo`, as `into_make_service_with_connect_info` gives it over HTTP:
        // handlers read it from the request's extensions (`MockConnectInfo` only feeds the
        // extractor, so the journal named every TLS client "unknown").
        let app = router.clone().layer(axum::Extension(ConnectInfo(peer)));
        let mut stop = stop_rx.clone();
        conns.spawn(async move {
            let Ok(tls_stream) = acceptor.accept(stream).await else {
                return;
            };
            let service = TowerToHyperService::new(app);
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls_stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(DRAIN, async { while conns.join_next().await.is_some() {} }).await;
    conns.abort_all();
    Ok(())
}
