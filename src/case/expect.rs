//! An expectation of a case file: one rule and exactly one assertion ([`ExpectKind`]). A case file
//! writes it as a flat object (`{"rule": R, "status": 200}`, `{"rule": R, "pointer": P, "equals":
//! V}`); [`RawExpect`] is that form, and turning it into an [`Expect`] refuses zero or two
//! assertions with an [`ExpectError`], so the loader reports the file and JSON pointer. Only the
//! case model's types; judging is `check::expect`'s.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::check::names::Response;

/// One expectation, attributed to one rule.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(try_from = "RawExpect", into = "RawExpect")]
pub struct Expect {
    /// The rule a failure is reported against.
    pub rule: String,
    /// The one assertion.
    pub kind: ExpectKind,
}

/// What an expectation asserts.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectKind {
    /// The HTTP status, or one of a list.
    Status(OneOrMany<u16>),
    /// The `Content-Type` must start with this (`application/json`).
    ContentType(String),
    /// The body must validate against this schema, named by file and optional fragment
    /// (`element/get-async-result.json#/$defs/running`).
    Schema(String),
    /// The answer must come within this many milliseconds (target time).
    MaxMs(u64),
    /// A named response check.
    Check(Response),
    /// A JSON pointer into the body and what must hold there.
    Pointer {
        /// The JSON pointer.
        pointer: String,
        /// What must hold at it.
        assert: PointerAssert,
    },
}

/// What must hold at an expectation's pointer.
#[derive(Debug, Clone, PartialEq)]
pub enum PointerAssert {
    /// The value equals this (templated).
    Equals(Value),
    /// The value is one of these (templated).
    OneOf(Vec<Value>),
    /// Nothing is there.
    Absent,
    /// Something is there.
    Present,
    /// The value has this JSON type.
    Type(JsonType),
}

impl Expect {
    /// The expectation with `f` applied to its templated values (`equals`, `one_of`), the first
    /// error stopping it.
    pub fn map_values<E>(
        &self,
        mut f: impl FnMut(&Value) -> Result<Value, E>,
    ) -> Result<Expect, E> {
        let kind = match &self.kind {
            ExpectKind::Pointer {
                pointer,
                assert: PointerAssert::Equals(v),
            } => ExpectKind::Pointer {
                pointer: pointer.clone(),
                assert: PointerAssert::Equals(f(v)?),
            },
            ExpectKind::Pointer {
                pointer,
                assert: PointerAssert::OneOf(vs),
            } => ExpectKind::Pointer {
                pointer: pointer.clone(),
                assert: PointerAssert::OneOf(vs.iter().map(&mut f).collect::<Result<_, _>>()?),
            },
            other => other.clone(),
        };
        Ok(Expect {
            rule: self.rule.clone(),
            kind,
        })
    }
}

/// Why a written expectation is not one assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExpectError {
    /// None or several of the assertion members.
    #[error(
        "an expectation needs exactly one of status, content_type, schema, max_ms, check, pointer"
    )]
    Kinds,
    /// A pointer without exactly one value assertion, or a value assertion without a pointer.
    #[error(
        "a pointer needs exactly one of equals, one_of, absent, present, type (and only a pointer takes them)"
    )]
    PointerAsserts,
    /// `absent: false` or `present: false`.
    #[error("absent and present can only be true")]
    NotTrue,
}

/// An expectation as a case file writes it: every assertion member optional.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    /// The rule a failure is reported against.
    pub rule: String,
    /// The HTTP status, or one of a list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OneOrMany<u16>>,
    /// The `Content-Type` must start with this (`application/json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The body must validate against this schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The answer must come within this many milliseconds (target time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<u64>,
    /// A named response check (see `check::names::Response`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<Response>,
    /// JSON pointer into the body, for the value assertions below.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The value at `pointer` equals this (templated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Value>,
    /// The value at `pointer` is one of these (templated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<Value>>,
    /// Nothing is at `pointer` (must be `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent: Option<bool>,
    /// Something is at `pointer` (must be `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present: Option<bool>,
    /// The value at `pointer` has this JSON type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub json_type: Option<JsonType>,
}

impl TryFrom<RawExpect> for Expect {
    type Error = ExpectError;
    fn try_from(r: RawExpect) -> Result<Expect, ExpectError> {
        let mut asserts = Vec::new();
        if let Some(v) = r.equals {
            asserts.push(PointerAssert::Equals(v));
        }
        if let Some(v) = r.one_of {
            asserts.push(PointerAssert::OneOf(v));
        }
        if let Some(b) = r.absent {
            asserts.push(if b {
                PointerAssert::Absent
            } else {
                return Err(ExpectError::NotTrue);
            });
        }
        if let Some(b) = r.present {
            asserts.push(if b {
                PointerAssert::Present
            } else {
                return Err(ExpectError::NotTrue);
            });
        }
        if let Some(t) = r.json_type {
            asserts.push(PointerAssert::Type(t));
        }
        let pointer = match (r.pointer, asserts.len()) {
            (Some(p), 1) => asserts
                .pop()
                .map(|assert| ExpectKind::Pointer { pointer: p, assert }),
            (None, 0) => None,
            _ => return Err(ExpectError::PointerAsserts),
        };
        let mut kinds = [
            r.status.map(ExpectKind::Status),
            r.content_type.map(ExpectKind::ContentType),
            r.schema.map(ExpectKind::Schema),
            r.max_ms.map(ExpectKind::MaxMs),
            r.check.map(ExpectKind::Check),
            pointer,
        ]
        .into_iter()
        .flatten();
        match (kinds.next(), kinds.next()) {
            (Some(kind), None) => Ok(Expect { rule: r.rule, kind }),
            _ => Err(ExpectError::Kinds),
        }
    }
}

impl From<Expect> for RawExpect {
    fn from(e: Expect) -> RawExpect {
        let mut r = RawExpect {
            rule: e.rule,
            ..RawExpect::default()
        };
        match e.kind {
            ExpectKind::Status(s) => r.status = Some(s),
            ExpectKind::ContentType(c) => r.content_type = Some(c),
            ExpectKind::Schema(s) => r.schema = Some(s),
            ExpectKind::MaxMs(m) => r.max_ms = Some(m),
            ExpectKind::Check(c) => r.check = Some(c),
            ExpectKind::Pointer { pointer, assert } => {
                r.pointer = Some(pointer);
                match assert {
                    PointerAssert::Equals(v) => r.equals = Some(v),
                    PointerAssert::OneOf(v) => r.one_of = Some(v),
                    PointerAssert::Absent => r.absent = Some(true),
                    PointerAssert::Present => r.present = Some(true),
                    PointerAssert::Type(t) => r.json_type = Some(t),
                }
            }
        }
        r
    }
}

/// A single value or a list of them.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// One value.
    One(T),
    /// Any of several.
    Many(Vec<T>),
}

impl<T: PartialEq> OneOrMany<T> {
    /// Whether `v` is the value or one of the values.
    pub fn contains(&self, v: &T) -> bool {
        match self {
            OneOrMany::One(x) => x == v,
            OneOrMany::Many(xs) => xs.contains(v),
        }
    }
}

/// A JSON type name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonType {
    /// `null`
    Null,
    /// `true`/`false`
    Boolean,
    /// An integer number.
    Integer,
    /// Any number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(v: Value) -> Result<Expect, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn one_assertion_round_trips_in_the_written_form() {
        for v in [
            json!({"rule": "R", "status": [200, 202]}),
            json!({"rule": "R", "content_type": "application/json"}),
            json!({"rule": "R", "schema": "element/x.json"}),
            json!({"rule": "R", "max_ms": 5}),
            json!({"rule": "R", "check": "status-partial-failures"}),
            json!({"rule": "R", "pointer": "/a", "equals": {"b": 1}}),
            json!({"rule": "R", "pointer": "/a", "one_of": [1, "x"]}),
            json!({"rule": "R", "pointer": "/a", "absent": true}),
            json!({"rule": "R", "pointer": "/a", "present": true}),
            json!({"rule": "R", "pointer": "/a", "type": "integer"}),
        ] {
            let e = parse(v.clone()).expect("one assertion");
            assert_eq!(serde_json::to_value(&e).ok(), Some(v));
        }
    }

    #[test]
    fn zero_or_two_assertions_are_refused_by_name() {
        let kinds = ExpectError::Kinds.to_string();
        let asserts = ExpectError::PointerAsserts.to_string();
        for (v, want) in [
            (json!({"rule": "R"}), &kinds),
            (json!({"rule": "R", "status": 200, "max_ms": 5}), &kinds),
            (json!({"rule": "R", "pointer": "/a"}), &asserts),
            (
                json!({"rule": "R", "pointer": "/a", "absent": true, "present": true}),
                &asserts,
            ),
            (json!({"rule": "R", "status": 200, "equals": 1}), &asserts),
            (
                json!({"rule": "R", "pointer": "/a", "present": false}),
                &ExpectError::NotTrue.to_string(),
            ),
            (
                json!({"rule": "R", "check": "nope"}),
                &"unknown response check \"nope\"".to_string(),
            ),
        ] {
            let got = parse(v.clone()).err().map(|e| e.to_string());
            assert_eq!(got.as_ref(), Some(want), "{v}");
        }
    }

    #[test]
    fn map_values_touches_only_templated_values() {
        let e = parse(json!({"rule": "R", "pointer": "/a", "one_of": [1, 2]})).expect("valid");
        let doubled = e
            .map_values(|v| Ok::<_, ()>(json!(v.as_i64().unwrap_or(0) * 2)))
            .expect("no error");
        assert_eq!(
            serde_json::to_value(&doubled).ok(),
            Some(json!({"rule": "R", "pointer": "/a", "one_of": [2, 4]}))
        );
        let s = parse(json!({"rule": "R", "status": 200})).expect("valid");
        assert_eq!(s.map_values(|_| Err("called")).ok(), Some(s.clone()));
    }
}
