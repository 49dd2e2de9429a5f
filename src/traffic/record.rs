//! The recording format of `jobconform proxy --record FILE`, and reading traffic back for
//! `jobconform judge FILE` (a recording, or a HAR file through [`super::har`]).
//!
//! A recording is JSON lines, appended and flushed one exchange at a time (so a crash loses at
//! most the line being written). Each proxy session starts with a header line
//! `{"jobconform_recording": 1, "started": "...", "element": URL|null, "aiqum": URL|null}`; every
//! other line is an [`Observed`] exchange (`seq`, `at_ms`, `client`, `exchange`), credentials
//! already redacted. Several sessions may follow each other in one file. Blank lines are skipped;
//! anything else that is not one of these two lines is an error naming its line.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Observed, Traffic};

/// The format version written in the header.
pub const FORMAT: u32 = 1;

/// The first line of each proxy session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Format version ([`FORMAT`]).
    pub jobconform_recording: u32,
    /// When the session started.
    pub started: jiff::Timestamp,
    /// The Element upstream.
    pub element: Option<String>,
    /// The AIQUM upstream.
    pub aiqum: Option<String>,
}

/// Why traffic could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be read.
    #[error("read {path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// A line of a recording is not what it should be.
    #[error("read {path}: line {line}: {message}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A HAR file is not usable.
    #[error("read {path}: {source}")]
    Har {
        /// The file.
        path: PathBuf,
        /// What is wrong (with the entry number where one is at fault).
        source: super::har::HarError,
    },
}

/// What a file held: a proxy recording or a HAR file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// JSON lines written by the proxy.
    Recording,
    /// An HTTP Archive.
    Har,
}

/// Reads a recording or a HAR file.
pub fn read(path: &Path) -> Result<(FileKind, Traffic), ReadError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReadError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if let Ok(v) = serde_json::from_str::<Value>(&text)
        && v.get("log").is_some()
    {
        let traffic = super::har::parse(&v).map_err(|source| ReadError::Har {
            path: path.to_path_buf(),
            source,
        })?;
        return Ok((FileKind::Har, traffic));
    }
    parse_lines(&text)
        .map(|t| (FileKind::Recording, t))
        .map_err(|(line, message)| ReadError::Line {
            path: path.to_path_buf(),
            line,
            message,
        })
}

/// Parses recording lines; the error is the 1-based line number and what is wrong with it.
pub fn parse_lines(text: &str) -> Result<Traffic, (usize, String)> {
    let mut traffic = Traffic::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| {
            let why = if e.is_eof() {
                "truncated JSON (the recording was cut off here)"
            } else {
                "not JSON"
            };
            (n + 1, format!("{why}: {e}"))
        })?;
        if v.get("jobconform_recording").is_some() {
            let h: Header = serde_json::from_value(v)
                .map_err(|e| (n + 1, format!("not a recording header: {e}")))?;
            if h.jobconform_recording != FORMAT {
                return Err((
                    n + 1,
                    format!(
                        "recording format {} (this jobconform reads {FORMAT})",
                        h.jobconform_recording
                    ),
                ));
            }
            traffic.element = traffic.element.or(h.element);
            traffic.aiqum = traffic.aiqum.or(h.aiqum);
            continue;
        }
        let o: Observed = serde_json::from_value(v).map_err(|e| {
            (
                n + 1,
                format!("not a recorded exchange (seq, at_ms, client, exchange): {e}"),
            )
        })?;
        traffic.exchanges.push(o);
    }
    Ok(traffic)
}

/// An open recording: each [`Recorder::append`] writes one line and flushes it.
#[derive(Debug)]
pub struct Recorder {
    file: std::fs::File,
}

impl Recorder {
    /// Opens `path` for appending (creating it) and writes the session header.
    pub fn open(path: &Path, header: &Header) -> std::io::Result<Recorder> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let mut r = Recorder { file };
        r.line(header)?;
        Ok(r)
    }

    /// Appends one exchange and flushes it.
    pub fn append(&mut self, o: &Observed) -> std::io::Result<()> {
        self.line(o)
    }

    fn line(&mut self, v: &impl Serialize) -> std::io::Result<()> {
        let mut bytes = serde_json::to_vec(v).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        self.file.write_all(&bytes)?;
        self.file.flush()
    }
}
