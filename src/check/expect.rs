//! Evaluates a step's `expect` list against one answer: status, content type, schema, time (scaled
//! to target time), named response checks and JSON-pointer assertions. Pure; the executor expands
//! templates in the expectations before calling, and passes the body to judge (the answer's JSON,
//! or a poll's final job).

use serde_json::Value;

use super::{Finding, Judgement, named, type_name};
use crate::case::{Expect, ExpectKind, JsonType, PointerAssert};
use crate::transport::Exchange;

/// What an expectation list is judged against.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The exchange (status, content type, time).
    pub exchange: &'a Exchange,
    /// Its index in the case transcript.
    pub index: usize,
    /// The JSON judged by pointers, schemas and checks (`None`: the answer was not JSON).
    pub body: Option<&'a Value>,
    /// Target time runs this many times faster than real time (1.0 on live targets).
    pub time_scale: f64,
}

impl<'a> Subject<'a> {
    /// The answer's own JSON body as the subject.
    pub fn answer(exchange: &'a Exchange, index: usize, time_scale: f64) -> Subject<'a> {
        Subject {
            exchange,
            index,
            body: exchange.json(),
            time_scale,
        }
    }
}

/// Real milliseconds of latency allowed on top of a `max_ms` bound (target time).
pub const LATENCY_REAL_MS: u64 = 250;

/// Evaluates every expectation.
pub fn evaluate(expects: &[Expect], s: &Subject<'_>) -> Judgement {
    let mut j = Judgement::default();
    for e in expects {
        j.merge(one(e, s));
    }
    j.in_exchange(s.index)
}

fn no_answer(e: &Expect, s: &Subject<'_>) -> Option<Finding> {
    match &s.exchange.response {
        Ok(_) => None,
        Err(err) => Some(
            Finding::new(&e.rule, format!("no answer: failed to {err}"))
                .values(None, serde_json::to_value(err).ok()),
        ),
    }
}

fn one(e: &Expect, s: &Subject<'_>) -> Judgement {
    let mut j = Judgement::default();
    if let Some(f) = no_answer(e, s) {
        j.fail(f);
        return j;
    }
    let Ok(resp) = &s.exchange.response else {
        return j;
    };
    match &e.kind {
        ExpectKind::Status(want) => {
            if !want.contains(&resp.status) {
                j.fail(
                    Finding::new(&e.rule, format!("unexpected HTTP status {}", resp.status))
                        .values(serde_json::to_value(want).ok(), Some(resp.status.into())),
                );
            }
        }
        ExpectKind::ContentType(prefix) => {
            let ct = resp.content_type.clone().unwrap_or_default();
            if !ct
                .to_ascii_lowercase()
                .starts_with(&prefix.to_ascii_lowercase())
            {
                j.fail(
                    Finding::new(&e.rule, "unexpected Content-Type")
                        .values(Some(prefix.clone().into()), Some(ct.into())),
                );
            }
        }
        ExpectKind::MaxMs(max) => {
            let max = *max;
            let target_ms = (resp.elapsed_ms as f64 * s.time_scale).round() as u64;
            // Plus 250 ms of real time for transport and scheduling latency: on the mock (time
            // scale 50) a bound of a few target seconds is otherwise tens of real milliseconds,
            // less than the scheduling noise of a busy machine.
            let latency = (LATENCY_REAL_MS as f64 * s.time_scale).round() as u64;
            if target_ms > max + latency {
                j.fail(
                    Finding::new(
                        &e.rule,
                        format!("the answer took {target_ms} ms (target time), more than {max} ms"),
                    )
                    .values(Some(max.into()), Some(target_ms.into())),
                );
            }
        }
        ExpectKind::Schema(schema) => schema_check(e, schema, s, &mut j),
        ExpectKind::Check(check) => j.merge(named::response(*check, &e.rule, s.exchange, s.body)),
        ExpectKind::Pointer { pointer, assert } => {
            pointer_check(e, pointer, assert, s.body, &mut j)
        }
    }
    j
}

fn schema_check(e: &Expect, schema: &str, s: &Subject<'_>, j: &mut Judgement) {
    let Some(body) = s.body else {
        j.fail(
            Finding::new(
                &e.rule,
                format!("the answer is not JSON, so it cannot match {schema}"),
            )
            .at(""),
        );
        return;
    };
    match crate::contract::validate(schema, body) {
        Ok(errors) => {
            for err in errors.into_iter().take(5) {
                j.fail(
                    Finding::new(&e.rule, format!("does not match {schema}: {}", err.message))
                        .at(err.pointer.clone())
                        .values(None, body.pointer(&err.pointer).cloned()),
                );
            }
        }
        Err(err) => j.fail(Finding::new(&e.rule, format!("failed to {err}"))),
    }
}

fn json_type_ok(t: JsonType, v: &Value) -> bool {
    let name = type_name(v);
    match t {
        JsonType::Null => name == "null",
        JsonType::Boolean => name == "boolean",
        JsonType::Integer => name == "integer",
        JsonType::Number => v.is_number(),
        JsonType::String => name == "string",
        JsonType::Array => name == "array",
        JsonType::Object => name == "object",
    }
}

fn pointer_check(
    e: &Expect,
    ptr: &str,
    assert: &PointerAssert,
    body: Option<&Value>,
    j: &mut Judgement,
) {
    let at = body.and_then(|b| b.pointer(ptr));
    let f = |msg: String| Finding::new(&e.rule, msg).at(ptr);
    match assert {
        PointerAssert::Equals(want) => {
            if at != Some(want) {
                j.fail(
                    f(format!("{ptr} is not the expected value"))
                        .values(Some(want.clone()), at.cloned()),
                );
            }
        }
        PointerAssert::OneOf(options) => {
            if !at.is_some_and(|v| options.contains(v)) {
                j.fail(
                    f(format!("{ptr} is none of the expected values"))
                        .values(Some(Value::Array(options.clone())), at.cloned()),
                );
            }
        }
        PointerAssert::Absent => {
            if at.is_some() {
                j.fail(f(format!("{ptr} is present but must be absent")).values(None, at.cloned()));
            }
        }
        PointerAssert::Present => {
            if at.is_none() {
                j.fail(f(format!("{ptr} is absent but must be present")));
            }
        }
        PointerAssert::Type(t) => {
            if !at.is_some_and(|v| json_type_ok(*t, v)) {
                j.fail(
                    f(format!("{ptr} does not have the expected type"))
                        .values(serde_json::to_value(t).ok(), at.cloned()),
                );
            }
        }
    }
}
