//! AIQUM REST at `/api` and `/api/v2` (TO BE WRITTEN by the mock-aiqum work).

use std::sync::Arc;

use super::{MockConfig, State, clock::Clock};

/// AIQUM jobs.
#[derive(Debug, Default)]
pub struct AiqumState {}

impl AiqumState {
    /// Fresh state.
    pub fn new(_config: &MockConfig, _clock: &Clock) -> Self {
        AiqumState {}
    }
}

/// Routes.
pub fn routes() -> axum::Router<Arc<State>> {
    axum::Router::new()
}
