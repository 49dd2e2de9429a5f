//! Variable templating of case values: `"${h}"` alone becomes the captured JSON value (keeping its
//! type), `${h}` inside a longer string becomes its text. Pure; knows nothing about where the
//! variables come from (captures and built-ins are the executor's business).

use std::collections::BTreeMap;

use serde_json::Value;

/// Built-in variables every case may use without capturing them.
pub const BUILTINS: &[&str] = &["unknown_handle", "unknown_key", "version"];

/// Variables in scope: name -> value.
pub type Vars = BTreeMap<String, Value>;

/// A reference to a variable that has no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expand template: variable ${{{0}}} is not defined")]
pub struct Undefined(pub String);

/// The variable names a string refers to, in order.
pub fn names_in(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push(after[..end].to_string());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Every variable name referred to anywhere in a value (strings and object keys are not templated;
/// only string values).
pub fn references(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect(v, &mut out);
    out
}

fn collect(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.extend(names_in(s)),
        Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect(x, out)),
        _ => {}
    }
}

/// The text of a value when it is spliced into a longer string (strings without quotes).
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Expands one string.
pub fn expand_str(s: &str, vars: &Vars) -> Result<Value, Undefined> {
    if let Some(name) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}'))
        && !name.contains('}')
        && !name.contains("${")
    {
        return vars
            .get(name)
            .cloned()
            .ok_or_else(|| Undefined(name.to_string()));
    }
    if !s.contains("${") {
        return Ok(Value::String(s.to_string()));
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = &after[..end];
        let v = vars.get(name).ok_or_else(|| Undefined(name.to_string()))?;
        out.push_str(&text_of(v));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Value::String(out))
}

/// Expands every string value inside `v`.
pub fn expand(v: &Value, vars: &Vars) -> Result<Value, Undefined> {
    Ok(match v {
        Value::String(s) => expand_str(s, vars)?,
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| expand(x, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, x) in m {
                out.insert(k.clone(), expand(x, vars)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}
