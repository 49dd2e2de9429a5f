//! The Element JSON-RPC envelope: method errors, typed parameter access that remembers which
//! parameters a method knows (for `unusedParameters`), and the response object with the transport
//! deviations applied. Knows nothing about volumes or handles.

use serde_json::{Map, Value, json};

use crate::mock::{Deviation, MockConfig};

/// A parameter that is an array of strings.
pub type Strings = Vec<String>;

/// A method error (`{"code", "name", "message"}`), always code 500 unless a deviation says else.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// Error code.
    pub code: u16,
    /// Error name (`xUnknownAPIMethod`, ...).
    pub name: String,
    /// Human-readable message.
    pub message: String,
}

impl RpcError {
    /// A code-500 error.
    pub fn new(name: &str, message: impl Into<String>) -> RpcError {
        RpcError {
            code: 500,
            name: name.into(),
            message: message.into(),
        }
    }

    /// `xMissingParameter` for `param`.
    pub fn missing(param: &str) -> RpcError {
        RpcError::new("xMissingParameter", format!("Missing member=[{param}]"))
    }

    /// `xInvalidParameterType` for `param`.
    pub fn mistyped(param: &str, expected: &str) -> RpcError {
        RpcError::new(
            "xInvalidParameterType",
            format!("Invalid type for member=[{param}]: expected {expected}"),
        )
    }
}

/// The `params` of one call, with the names the method declares.
#[derive(Debug)]
pub struct Params<'a> {
    map: &'a Map<String, Value>,
    known: &'a [&'a str],
}

impl<'a> Params<'a> {
    /// Wraps a params object and the method's known parameter names.
    pub fn new(map: &'a Map<String, Value>, known: &'a [&'a str]) -> Params<'a> {
        Params { map, known }
    }

    /// Parameters the method does not know, as an object (empty when none).
    pub fn unused(&self) -> Map<String, Value> {
        self.map
            .iter()
            .filter(|(k, _)| !self.known.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The raw value of a parameter (null counts as absent).
    pub fn raw(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// A required unsigned integer.
    pub fn u64(&self, name: &str) -> Result<u64, RpcError> {
        self.opt_u64(name)?.ok_or_else(|| RpcError::missing(name))
    }

    /// An optional unsigned integer (strings are a type error).
    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>, RpcError> {
        match self.raw(name) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| RpcError::mistyped(name, "integer")),
        }
    }

    /// A required string.
    pub fn str(&self, name: &str) -> Result<&'a str, RpcError> {
        self.opt_str(name)?.ok_or_else(|| RpcError::missing(name))
    }

    /// An optional string.
    pub fn opt_str(&self, name: &str) -> Result<Option<&'a str>, RpcError> {
        match self.raw(name) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| RpcError::mistyped(name, "string")),
        }
    }

    /// An optional boolean.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, RpcError> {
        match self.raw(name) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| RpcError::mistyped(name, "boolean")),
        }
    }

    /// An optional object.
    pub fn opt_object(&self, name: &str) -> Result<Option<&'a Map<String, Value>>, RpcError> {
        match self.raw(name) {
            None => Ok(None),
            Some(v) => v
                .as_object()
                .map(Some)
                .ok_or_else(|| RpcError::mistyped(name, "object")),
        }
    }

    /// An optional array of unsigned integers.
    pub fn opt_u64s(&self, name: &str) -> Result<Option<Vec<u64>>, RpcError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_u64()
                        .ok_or_else(|| RpcError::mistyped(name, "integer array"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(RpcError::mistyped(name, "integer array")),
        }
    }

    /// An optional array of strings.
    pub fn opt_strs(&self, name: &str) -> Result<Option<Strings>, RpcError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| RpcError::mistyped(name, "string array"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(RpcError::mistyped(name, "string array")),
        }
    }
}

/// The id to answer with (`id-not-echoed` changes it).
pub fn answer_id(id: &Value, config: &MockConfig) -> Value {
    if !config.deviates(Deviation::IdNotEchoed) {
        return id.clone();
    }
    match id {
        Value::Number(n) => json!(n.as_i64().unwrap_or(0).wrapping_add(1)),
        Value::String(s) => json!(format!("{s}-other")),
        _ => json!(1),
    }
}

/// A success response object.
pub fn success(id: &Value, result: Value, config: &MockConfig) -> Value {
    // Built by hand: `json!` would serialize `result` into a copy rather than move it.
    let mut o = Map::new();
    o.insert("id".into(), answer_id(id, config));
    o.insert("result".into(), result);
    Value::Object(o)
}

/// An error response object and its HTTP status.
pub fn failure(id: &Value, e: &RpcError, config: &MockConfig) -> (u16, Value) {
    let code = if config.deviates(Deviation::ErrorCodeString) {
        json!(e.code.to_string())
    } else {
        json!(e.code)
    };
    let status = if config.deviates(Deviation::ErrorsAsHttp500) {
        500
    } else {
        200
    };
    let body = json!({
        "id": answer_id(id, config),
        "error": {"code": code, "name": e.name, "message": e.message},
    });
    (status, body)
}
