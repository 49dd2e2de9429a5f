//! Why the mock answers an AIQUM request 400, each a closed set whose text is the answer's
//! message: a provisioning body (POST and PATCH of LUNs and file shares, checked here:
//! [`BodyError`]) or long-poll parameters of a job GET ([`LongPollError`], found by `handlers`).
//! Pure; the routes are `provision`'s and `handlers`'.

use serde_json::{Map, Value, json};

pub(super) fn non_empty_str<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn positive_int(v: &Value, pointer: &str) -> Option<u64> {
    v.pointer(pointer)
        .and_then(Value::as_u64)
        .filter(|n| *n > 0)
}

/// Why a provisioning body is refused (a 400 whose message is this text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Not a JSON object.
    #[error("the body must be a JSON object")]
    NotObject,
    /// POST without a usable `name`.
    #[error("name is required and must be a non-empty string")]
    NameRequired,
    /// POST without a usable `space.size`.
    #[error("space.size is required and must be an integer greater than 0")]
    SizeRequired,
    /// POST without a usable `svm.key`.
    #[error("svm.key is required and must be a non-empty string")]
    SvmRequired,
    /// PATCH with an unusable `name`.
    #[error("name must be a non-empty string")]
    Name,
    /// PATCH with an unusable `space.size`.
    #[error("space.size must be an integer greater than 0")]
    Size,
    /// PATCH with an unusable `performance_service_level.key`.
    #[error("performance_service_level.key must be a non-empty string")]
    ServiceLevel,
    /// PATCH that changes nothing.
    #[error("nothing to change: give name, space.size or performance_service_level.key")]
    NothingToChange,
}

/// Checks a POST body: `name` (non-empty string), `space.size` (integer > 0), `svm.key`
/// (non-empty string).
pub fn validate_create(body: &Value) -> Result<(), BodyError> {
    if !body.is_object() {
        return Err(BodyError::NotObject);
    }
    if non_empty_str(body, "/name").is_none() {
        return Err(BodyError::NameRequired);
    }
    if positive_int(body, "/space/size").is_none() {
        return Err(BodyError::SizeRequired);
    }
    if non_empty_str(body, "/svm/key").is_none() {
        return Err(BodyError::SvmRequired);
    }
    Ok(())
}

/// Checks a PATCH body and returns the members to merge: at least one of `name` (non-empty
/// string), `space.size` (integer > 0), `performance_service_level.key` (non-empty string).
pub fn validate_patch(body: &Value) -> Result<Value, BodyError> {
    let Some(o) = body.as_object() else {
        return Err(BodyError::NotObject);
    };
    let mut patch = Map::new();
    if o.contains_key("name") {
        let name = non_empty_str(body, "/name").ok_or(BodyError::Name)?;
        patch.insert("name".into(), json!(name));
    }
    if o.contains_key("space") {
        let size = positive_int(body, "/space/size").ok_or(BodyError::Size)?;
        patch.insert("space".into(), json!({"size": size}));
    }
    if o.contains_key("performance_service_level") {
        let psl =
            non_empty_str(body, "/performance_service_level/key").ok_or(BodyError::ServiceLevel)?;
        patch.insert("performance_service_level".into(), json!({"key": psl}));
    }
    if patch.is_empty() {
        return Err(BodyError::NothingToChange);
    }
    Ok(Value::Object(patch))
}

/// Long-poll parameters of a job GET that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LongPollError {
    /// `poll_timeout` is not a whole number of seconds in range.
    #[error("poll_timeout must be an integer from 1 to 120, got {0:?}")]
    PollTimeout(String),
    /// `last_modified` is not a timestamp.
    #[error("last_modified must be an ISO 8601 timestamp, got {0:?}")]
    LastModified(String),
}
