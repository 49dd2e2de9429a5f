//! Evaluates a step's `expect` list against one answer: status, content type, schema, time (scaled
//! to target time), named response checks and JSON-pointer assertions. Pure; the executor expands
//! templates in the expectations before calling, and passes the body to judge (the answer's JSON,
//! or a poll's final job).

use serde_json::Value;

use super::{Finding, Judgement, named, type_name};
use crate::case::{Expect, JsonType};
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
    if let Some(want) = &e.status
        && !want.contains(&resp.status)
    {
        j.fail(
            Finding::new(&e.rule, format!("unexpected HTTP status {}", resp.status))
                .values(serde_json::to_value(want).ok(), Some(resp.status.into())),
        );
    }
    if let Some(prefix) = &e.content_type {
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
    if let Some(max) = e.max_ms {
        let target_ms = (resp.elapsed_ms as f64 * s.time_scale).round() as u64;
        if target_ms > max {
            j.fail(
                Finding::new(
                    &e.rule,
                    format!("the answer took {target_ms} ms (target time), more than {max} ms"),
                )
                .values(Some(max.into()), Some(target_ms.into())),
            );
        }
    }
    if let Some(schema) = &e.schema {
        schema_check(e, schema, s, &mut j);
    }
    if let Some(name) = &e.check {
        match named::response(name, &e.rule, s.exchange, s.body) {
            Some(r) => j.merge(r),
            None => j.fail(Finding::new(
                &e.rule,
                format!("unknown named check {name:?}"),
            )),
        }
    }
    if let Some(ptr) = &e.pointer {
        pointer_check(e, ptr, s.body, &mut j);
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

fn pointer_check(e: &Expect, ptr: &str, body: Option<&Value>, j: &mut Judgement) {
    let at = body.and_then(|b| b.pointer(ptr));
    let f = |msg: String| Finding::new(&e.rule, msg).at(ptr);
    if let Some(want) = &e.equals
        && at != Some(want)
    {
        j.fail(
            f(format!("{ptr} is not the expected value")).values(Some(want.clone()), at.cloned()),
        );
    }
    if let Some(options) = &e.one_of
        && !at.is_some_and(|v| options.contains(v))
    {
        j.fail(
            f(format!("{ptr} is none of the expected values"))
                .values(Some(Value::Array(options.clone())), at.cloned()),
        );
    }
    if e.absent == Some(true) && at.is_some() {
        j.fail(f(format!("{ptr} is present but must be absent")).values(None, at.cloned()));
    }
    if e.present == Some(true) && at.is_none() {
        j.fail(f(format!("{ptr} is absent but must be present")));
    }
    if let Some(t) = e.json_type
        && !at.is_some_and(|v| json_type_ok(t, v))
    {
        j.fail(
            f(format!("{ptr} does not have the expected type"))
                .values(serde_json::to_value(t).ok(), at.cloned()),
        );
    }
}
