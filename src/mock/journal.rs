//! The mock's request journal: one entry per request that touched a job (a GetAsyncResult, an
//! AIQUM job read, a start), with target time and client identity. The control API serves it and
//! the client audit judges it. Bounded: the oldest entries are dropped past [`CAPACITY`].

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

/// Most entries kept.
pub const CAPACITY: usize = 200_000;

/// Header a client may send to name itself in the journal (else its IP address is used).
pub const CLIENT_HEADER: &str = "x-jobconform-client";

/// One journaled request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Target milliseconds since the mock started.
    pub t_ms: u64,
    /// Client identity (`x-jobconform-client` header, else peer IP).
    pub client: String,
    /// `element` or `aiqum`.
    pub api: &'static str,
    /// What was asked: `GetAsyncResult`, `ListAsyncResults`, `CloneVolume`, `GET job`, `POST luns`...
    pub op: String,
    /// The handle or job key concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Element: the keepResult sent (None when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_result: Option<bool>,
    /// What the answer showed: `running`, `complete`, `unknown` (Element); the job's state (AIQUM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    /// Whether the answer showed the job terminal.
    pub terminal: bool,
    /// Whether the answer released the handle (Element complete without keepResult).
    pub released: bool,
    /// HTTP status of the answer.
    pub http_status: u16,
}

/// The journal.
#[derive(Debug, Default)]
pub struct Journal {
    entries: Mutex<VecDeque<Entry>>,
}

impl Journal {
    /// Appends an entry.
    pub fn push(&self, e: Entry) {
        let mut q = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() >= CAPACITY {
            q.pop_front();
        }
        q.push_back(e);
    }
    /// A copy of every entry, oldest first.
    pub fn snapshot(&self) -> Vec<Entry> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }
    /// Forgets every entry.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// The client identity of a request.
pub fn client_of(headers: &axum::http::HeaderMap, peer: Option<std::net::SocketAddr>) -> String {
    headers
        .get(CLIENT_HEADER)
        .and_then(|v| v.to_str().ok())
        // At most 64 bytes hold at most 64 characters: kept whole without walking them.
        .map(|s| {
            if s.len() <= 64 {
                s.to_string()
            } else {
                s.chars().take(64).collect()
            }
        })
        .or_else(|| peer.map(|p| p.ip().to_string()))
        .unwrap_or_else(|| "unknown".into())
}
