//! Element JSON-RPC at `/json-rpc/{version}` (TO BE WRITTEN by the mock-element work).

use std::sync::Arc;

use super::{MockConfig, State, clock::Clock};

/// Element objects and asynchronous results.
#[derive(Debug, Default)]
pub struct ElementState {}

impl ElementState {
    /// Fresh state.
    pub fn new(_config: &MockConfig, _clock: &Clock) -> Self {
        ElementState {}
    }
}

/// Routes.
pub fn routes() -> axum::Router<Arc<State>> {
    axum::Router::new()
}
