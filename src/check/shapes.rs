//! Body-shape judgements for the Element and AIQUM answers that named response checks look at: the
//! unknown-handle error (register E1), method errors with code 500, GetAPI versions (E5),
//! ListAsyncResults entries and their type filter, the AIQUM job list and its query filters,
//! `unusedParameters` (E6). Pure; each helper reports against the rule it is given, and knows
//! nothing of check names (the dispatch by name is the caller's).

use serde_json::{Value, json};

use super::{ElementDialect, Finding, Judgement, UNKNOWN_HANDLE_NAMES, aiqum, type_name};
use crate::transport::Exchange;

/// Code 500, as an integer or (left to EL-RPC-ERROR-SHAPE) the string `"500"`.
pub(crate) fn code_500(b: &Value) -> bool {
    matches!(b.pointer("/error/code"), Some(c) if c == &json!(500) || c == &json!("500"))
}

pub(crate) fn unknown_handle(rule: &str, b: &Value, gone: bool, j: &mut Judgement) {
    if b.get("error").is_none() {
        if gone {
            j.inconclusive(
                "the handle is still valid (that is a keepResult rule's failure, not this one's)",
            );
        } else {
            j.fail(
                Finding::new(rule, "an unknown handle got a result, not a method error")
                    .at("")
                    .values(Some("an error".into()), b.get("result").cloned()),
            );
        }
        return;
    }
    if !code_500(b) {
        j.fail(
            Finding::new(rule, "the unknown-handle error's code is not 500")
                .at("/error/code")
                .values(Some(500.into()), b.pointer("/error/code").cloned()),
        );
    }
    let name = b.pointer("/error/name").and_then(Value::as_str);
    match name.and_then(ElementDialect::of_error_name) {
        Some(d) => {
            j.note(format!("E1: unknown handle named {}", d.error_name()));
            j.element_dialect(d);
        }
        None => j.fail(
            Finding::new(rule, "the unknown-handle error has an unexpected name")
                .at("/error/name")
                .values(
                    Some(json!(UNKNOWN_HANDLE_NAMES)),
                    b.pointer("/error/name").cloned(),
                ),
        ),
    }
}

fn version_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if s.parse::<f64>().is_ok() => Some(s.clone()),
        _ => None,
    }
}

fn same_version(a: &str, b: &str) -> bool {
    a == b || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
}

pub(crate) fn getapi(rule: &str, ex: &Exchange, b: &Value, j: &mut Judgement) {
    let r = b.get("result").unwrap_or(&Value::Null);
    if r.get("currentVersion").and_then(version_text).is_none() {
        j.fail(
            Finding::new(rule, "currentVersion is missing or not a version number")
                .at("/result/currentVersion")
                .values(
                    Some("number or numeric string".into()),
                    r.get("currentVersion").cloned(),
                ),
        );
    }
    let Some(list) = r.get("supportedVersions").and_then(Value::as_array) else {
        j.fail(
            Finding::new(rule, "supportedVersions is not an array")
                .at("/result/supportedVersions")
                .values(Some("array".into()), r.get("supportedVersions").cloned()),
        );
        return;
    };
    let texts: Vec<Option<String>> = list.iter().map(version_text).collect();
    if let Some(i) = texts.iter().position(Option::is_none) {
        j.fail(
            Finding::new(
                rule,
                "a supported version is not a number or numeric string",
            )
            .at(format!("/result/supportedVersions/{i}"))
            .values(None, list.get(i).cloned()),
        );
    }
    let url_version = ex.request.url.rsplit('/').next().unwrap_or("");
    if !texts.iter().flatten().any(|t| same_version(t, url_version)) {
        j.fail(
            Finding::new(rule, "the URL's version is not among supportedVersions")
                .at("/result/supportedVersions")
                .values(Some(url_version.into()), Some(Value::Array(list.clone()))),
        );
    }
}

/// EL-GAR-PARAMS: a method error (not a result) with code 500.
pub(crate) fn error_500(rule: &str, b: &Value, j: &mut Judgement) {
    if b.get("error").is_none() || b.get("result").is_some() {
        j.fail(Finding::new(rule, "the call answered with a result, not a method error").at(""));
    } else if !code_500(b) {
        j.fail(
            Finding::new(rule, "the method error's code is not 500")
                .at("/error/code")
                .values(Some(500.into()), b.pointer("/error/code").cloned()),
        );
    }
}

/// EL-LIST-FILTER: every entry's `resultType` is among the request's `asyncResultTypes`.
pub(crate) fn async_list_filter(rule: &str, ex: &Exchange, b: &Value, j: &mut Judgement) {
    let wanted = ex
        .request
        .body
        .as_ref()
        .and_then(|r| r.pointer("/params/asyncResultTypes"))
        .cloned()
        .unwrap_or(Value::Null);
    for (i, e) in entries(b).iter().enumerate() {
        let t = e.get("resultType").cloned().unwrap_or(Value::Null);
        if !wanted.as_array().is_some_and(|w| w.contains(&t)) {
            j.fail(
                Finding::new(rule, "an entry of a type not asked for came back")
                    .at(format!("/result/asyncHandles/{i}/resultType"))
                    .values(Some(wanted.clone()), Some(t)),
            );
        }
    }
}

fn entries(b: &Value) -> Vec<Value> {
    b.pointer("/result/asyncHandles")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

pub(crate) fn async_list_shape(rule: &str, b: &Value, j: &mut Judgement) {
    let Some(list) = b.pointer("/result/asyncHandles").and_then(Value::as_array) else {
        j.fail(
            Finding::new(rule, "result.asyncHandles is not an array")
                .at("/result/asyncHandles")
                .values(
                    Some("array".into()),
                    b.pointer("/result/asyncHandles").cloned(),
                ),
        );
        return;
    };
    let fields = [
        ("asyncResultID", "integer"),
        ("completed", "boolean"),
        ("createTime", "string"),
        ("lastUpdateTime", "string"),
        ("resultType", "string"),
        ("success", "boolean"),
        ("data", "object"),
    ];
    for (i, e) in list.iter().enumerate() {
        for (k, t) in fields {
            let got = e.get(k).map(type_name);
            if got != Some(t) {
                j.fail(
                    Finding::new(
                        rule,
                        format!(
                            "a listed entry's {k} is not a{} {t}",
                            super::element::article(t)
                        ),
                    )
                    .at(format!("/result/asyncHandles/{i}/{k}"))
                    .values(Some(t.into()), e.get(k).cloned()),
                );
                return;
            }
        }
    }
}

pub(crate) fn records(b: &Value) -> Vec<Value> {
    b.get("records")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

pub(crate) fn um_list_shape(rule: &str, b: &Value, j: &mut Judgement) {
    let Some(recs) = b.get("records").and_then(Value::as_array) else {
        j.fail(
            Finding::new(rule, "records is not an array")
                .at("/records")
                .values(Some("array".into()), b.get("records").cloned()),
        );
        return;
    };
    let n = b.get("num_records").and_then(Value::as_u64);
    if n != Some(recs.len() as u64) {
        j.fail(
            Finding::new(rule, "num_records is not the number of records")
                .at("/num_records")
                .values(Some(recs.len().into()), b.get("num_records").cloned()),
        );
    }
    let total = b.get("total_records").and_then(Value::as_u64);
    if total.is_none_or(|t| t < recs.len() as u64) {
        j.fail(
            Finding::new(
                rule,
                "total_records is missing or below the records returned",
            )
            .at("/total_records")
            .values(
                Some(format!(">= {}", recs.len()).into()),
                b.get("total_records").cloned(),
            ),
        );
    }
    if !b.get("_links").is_some_and(Value::is_object) {
        j.fail(
            Finding::new(rule, "the list has no _links object")
                .at("/_links")
                .values(Some("object".into()), b.get("_links").cloned()),
        );
    }
}

/// The query parameters of a URL, percent-decoded.
pub fn query_of(url: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(url)
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn list_filter(rule: &str, ex: &Exchange, b: &Value, j: &mut Judgement) {
    let filters: Vec<(String, String)> = query_of(&ex.request.url)
        .into_iter()
        .filter(|(k, _)| matches!(k.as_str(), "key" | "state" | "status"))
        .collect();
    for (i, r) in records(b).iter().enumerate() {
        for (k, want) in &filters {
            // Literal dialect (register U1): no `status`, the outcome is in `state`.
            let got = match r.get(k).and_then(Value::as_str) {
                None if k == "status" => aiqum::outcome(r).unwrap_or_default(),
                v => v.unwrap_or("").to_string(),
            };
            if !got.eq_ignore_ascii_case(want) {
                j.fail(
                    Finding::new(rule, format!("a record does not match the {k} filter"))
                        .at(format!("/records/{i}/{k}"))
                        .values(Some(want.clone().into()), r.get(k).cloned()),
                );
                return;
            }
        }
    }
}

/// Register E6: where an answer carries `unusedParameters`: at the top level, beside `id` and
/// `result` (NetApp's page on response object members), or inside `result` (what clusters and
/// the SDKs' examples show). Both are accepted.
pub(crate) fn unused_parameters_at(b: &Value) -> Option<(&'static str, &Value)> {
    [
        ("/unusedParameters", "top level"),
        ("/result/unusedParameters", "inside result"),
    ]
    .into_iter()
    .find_map(|(p, place)| b.pointer(p).map(|v| (place, v)))
}

/// EL-RPC-UNUSED-PARAMS (register E6): the call did not fail, and an `unusedParameters` object at
/// either place names every parameter of the request that starts with `harness` (the probes the
/// cases send). The place seen is noted.
pub(crate) fn unused_parameters(rule: &str, ex: &Exchange, b: &Value, j: &mut Judgement) {
    if b.get("result").is_none() {
        j.fail(
            Finding::new(
                rule,
                "a call with an unrecognised parameter did not return a result",
            )
            .at("/result")
            .values(Some("a result".into()), b.get("error").cloned()),
        );
        return;
    }
    let Some((place, unused)) = unused_parameters_at(b) else {
        j.fail(
            Finding::new(
                rule,
                "no unusedParameters member, at the top level or inside result (register E6)",
            )
            .at("/result/unusedParameters")
            .values(Some("an object".into()), None),
        );
        return;
    };
    j.note(format!("E6: unusedParameters {place}"));
    let probes: Vec<String> = ex
        .request
        .body
        .as_ref()
        .and_then(|r| r.get("params"))
        .and_then(Value::as_object)
        .map(|m| {
            m.keys()
                .filter(|k| k.starts_with("harness"))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let Some(obj) = unused.as_object() else {
        j.fail(
            Finding::new(rule, format!("unusedParameters ({place}) is not an object"))
                .values(Some("object".into()), Some(unused.clone())),
        );
        return;
    };
    for p in probes.iter().filter(|p| !obj.contains_key(p.as_str())) {
        j.fail(
            Finding::new(
                rule,
                format!("unusedParameters ({place}) does not name {p}"),
            )
            .values(Some(p.as_str().into()), Some(unused.clone())),
        );
    }
}
