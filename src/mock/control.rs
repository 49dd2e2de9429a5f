//! The control API under `/_jobconform/` (mock only): scripted jobs, the journal, reset, state
//! (TO BE WRITTEN).

use std::sync::Arc;

use super::State;

/// Routes.
pub fn routes() -> axum::Router<Arc<State>> {
    axum::Router::new()
}
