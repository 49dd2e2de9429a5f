//! Reading an endpoint URL a user gave (flag or profile): the common part (trailing slashes
//! dropped, http or https) and [`EndpointError`], why a URL is not an Element or AIQUM endpoint.
//! The API-specific shapes are checked by `element::Endpoint::parse` and `aiqum::Endpoint::parse`.

/// Why a URL is not an endpoint; every message starts with the URL as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Not a URL at all.
    #[error("{url}: {reason}")]
    Unparsable {
        /// The URL as given.
        url: String,
        /// The URL parser's words.
        reason: String,
    },
    /// A scheme other than http or https.
    #[error("{url}: scheme must be http or https")]
    Scheme {
        /// The URL as given.
        url: String,
    },
    /// An Element URL whose path is not `/json-rpc/VERSION`.
    #[error("{url}: expected https://HOST/json-rpc/MAJOR.MINOR")]
    ElementPath {
        /// The URL as given.
        url: String,
    },
    /// An Element URL whose version is not dotted numbers.
    #[error("{url}: version {version:?} is not MAJOR.MINOR")]
    ElementVersion {
        /// The URL as given.
        url: String,
        /// The version part.
        version: String,
    },
    /// An AIQUM URL whose path does not end in `/api` or `/api/v2`.
    #[error("{url}: expected https://HOST/api or https://HOST/api/v2")]
    AiqumPath {
        /// The URL as given.
        url: String,
    },
}

/// Parses an endpoint URL given by a user: trailing slashes dropped, scheme http or https.
/// Returns the trimmed text and the parsed URL.
pub(super) fn parse_http_url(url: &str) -> Result<(&str, reqwest::Url), EndpointError> {
    let trimmed = url.trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed).map_err(|e| EndpointError::Unparsable {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(EndpointError::Scheme {
            url: url.to_string(),
        });
    }
    Ok((trimmed, parsed))
}
