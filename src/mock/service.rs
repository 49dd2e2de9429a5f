//! The mock as an in-process service: the router [`super::serve`] runs, for a client to hand its
//! requests to instead of sending them to a listener (the harness's `Client::in_process`), so
//! property tests and benches get the mock's answers without sockets. Each request carries the
//! peer address a loopback client has (`127.0.0.1`), so the journal names clients as it does over
//! HTTP. Owns nothing else: state, routes, faults and deviations are the mock's own, unchanged.
//! Like the rest of the mock it knows nothing of the harness's transport: the router is the
//! interface.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::ConnectInfo;

use super::{ELEMENT_CURRENT, MockConfig, State, Urls};

/// The origin of an in-process mock's URLs: a reserved name that resolves nowhere, so a URL used
/// by an HTTP client by mistake fails at once instead of reaching some other server.
pub const ORIGIN: &str = "http://in-process.invalid";

/// The peer address every in-process request carries (a loopback client's).
pub const PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// A mock served in this process.
#[derive(Debug, Clone)]
pub struct InProcess {
    /// Its URLs (under [`ORIGIN`]; only their paths and queries reach the mock).
    pub urls: Urls,
    /// Its state (tests may inspect it).
    pub state: Arc<State>,
    /// The mock's routes, as `serve` runs them (cheap to clone).
    pub service: axum::Router,
}

/// A mock for `config`, served in this process. Call it inside the runtime the clients run on
/// (the mock's clock starts now, so a paused runtime gives virtual time).
pub fn in_process(config: MockConfig) -> InProcess {
    let state = State::new(config);
    let service = super::router(state.clone()).layer(axum::Extension(ConnectInfo(PEER)));
    InProcess {
        urls: Urls {
            element: format!("{ORIGIN}/json-rpc/{ELEMENT_CURRENT}"),
            aiqum: format!("{ORIGIN}/api"),
            control: format!("{ORIGIN}/_jobconform"),
        },
        state,
        service,
    }
}
