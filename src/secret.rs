//! The password type, a leaf both the harness (`transport`, which puts it on the wire and redacts
//! it) and the mock (which checks it) use; it depends on nothing in the crate. It only keeps a
//! password from printing: `Debug` and `Display` show `[redacted]`.

use std::fmt;
use std::sync::Arc;

/// A password that never prints: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a password.
    pub fn new(s: impl Into<Arc<str>>) -> Self {
        Secret(s.into())
    }
    /// The password itself; call only where it is put on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}
impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
