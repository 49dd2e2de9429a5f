//! Element transitions of the model test: start a scripted job through the control API, then
//! GetAsyncResult (alone, with bad parameters, and several at once) and ListAsyncResults compared with the model (CONTRACT.md §2–3, register E1 in
//! the mock's default `current` dialect, E3 objects, E4 invalidation). Timestamps are checked for
//! shape and consistency only (EL-GAR-TIMES, EL-GAR-STABLE), never for their values.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use jobconform::mock::ElementDialect;
use jobconform::mock::script::JobScript;

use super::reference::{Bad, GarExpect, HandleRef, Model};
use super::sut::Sut;

/// A handle far above every issued one, so never issued at the time it is asked for.
fn never(sut: &Sut, k: u8) -> u64 {
    let top = sut.handles.iter().chain(&sut.el_baseline).max().copied();
    top.unwrap_or(0) + 1_000_000 + u64::from(k)
}

/// `POST /_jobconform/element/jobs` -> `{"asyncHandle": N}`, a fresh handle (EL-HANDLE-UNIQUE).
pub fn start(sut: &mut Sut, script: &JobScript) {
    let body = serde_json::to_value(script).expect("script serializes");
    let (status, answer) = sut.control("element", body);
    sut.ensure(
        (200..300).contains(&status),
        "control API starts an Element job",
        &answer,
    );
    let handle = answer["asyncHandle"].as_u64();
    sut.ensure(handle.is_some(), "asyncHandle is an integer", &answer);
    let handle = handle.unwrap_or_default();
    push_handle(sut, handle, &answer);
}

/// `CloneVolume` -> integer `asyncHandle`, `cloneID` and `volumeID` (EL-CLONE-START).
pub fn start_clone(sut: &mut Sut) {
    let n = sut.handles.len();
    let params = json!({"volumeID": sut.source_volume, "name": format!("model-clone-{n}")});
    let answer = sut.rpc("CloneVolume", params);
    let r = &answer["result"];
    let ids = (
        r["asyncHandle"].as_u64(),
        r["cloneID"].as_u64(),
        r["volumeID"].as_u64(),
    );
    let (Some(handle), Some(clone), Some(_)) = ids else {
        return sut.ensure(
            false,
            "asyncHandle, cloneID, volumeID integers (EL-CLONE-START)",
            &answer,
        );
    };
    push_handle(sut, handle, &answer);
    sut.clone_ids.insert(n, clone);
}

/// Records a newly issued handle, which must not be an old one (EL-HANDLE-UNIQUE).
fn push_handle(sut: &mut Sut, handle: u64, answer: &Value) {
    let reused = sut.handles.contains(&handle) || sut.el_baseline.contains(&handle);
    let what = "a new handle is never an old one (EL-HANDLE-UNIQUE)";
    sut.ensure(!reused, what, answer);
    sut.handles.push(handle);
}

/// A clone's result names the announced `cloneID`, a `volumeID` and a `message` (§3).
fn check_clone_result(sut: &Sut, i: usize, result: &Value, answer: &Value) {
    let Some(&clone) = sut.clone_ids.get(&i) else {
        return;
    };
    let what = "the clone's result names the announced cloneID (EL-CLONE-START)";
    sut.same(result["cloneID"].as_u64(), Some(clone), what, answer);
    let shaped = result["volumeID"].is_u64() && result["message"].is_string();
    sut.ensure(
        shaped,
        "a clone's result has volumeID and message (§3)",
        answer,
    );
}

/// GetAsyncResult on a started or never-issued handle, compared with the model's pre-state.
pub fn get_async(sut: &mut Sut, which: HandleRef, keep: Option<bool>) {
    let expect = sut.prev.gar_expect(which);
    let id = handle_id(sut, which);
    let mut params = json!({"asyncHandle": id});
    if let Some(k) = keep {
        params["keepResult"] = json!(k);
    }
    let answer = sut.rpc("GetAsyncResult", params);
    check_gar(sut, which, expect, &answer);
}

/// GetAsyncResult with a missing, non-numeric string or fractional `asyncHandle`, or an integer
/// one with a `keepResult` of the wrong type (the failing call that names a real handle): a method error
/// with code 500 (EL-GAR-PARAMS); that it invalidates nothing (EL-KEEP-FAILED-CALL) the later
/// steps check. A string of digits is no bad call: register E7 leaves it to be looked up (a real
/// fetch, which may purge) or refused, so the model never sends one as a failing call.
pub fn get_async_bad(sut: &mut Sut, which: HandleRef, bad: Bad) {
    let id = handle_id(sut, which);
    let params = match bad {
        Bad::Missing => json!({}),
        Bad::StringHandle => json!({"asyncHandle": format!("handle-{id}")}),
        Bad::Fraction => json!({"asyncHandle": id as f64 + 0.5}),
        Bad::KeepType => json!({"asyncHandle": id, "keepResult": "yes"}),
    };
    let answer = sut.rpc("GetAsyncResult", params);
    let e = &answer["error"];
    sut.ensure(
        answer.get("result").is_none(),
        "a bad call is a method error (EL-GAR-PARAMS)",
        &answer,
    );
    sut.same(
        e["code"].as_i64(),
        Some(500),
        "bad call: code 500 (EL-GAR-PARAMS)",
        &answer,
    );
    let shaped = e["name"].is_string() && e["message"].is_string();
    sut.ensure(
        shaped,
        "error has name and message (EL-RPC-ERROR-SHAPE)",
        &answer,
    );
}

/// Concurrent fetches: without keepResult, on a complete handle exactly one gets the result and
/// the others the unknown-handle error (EL-KEEP-ONCE); otherwise all get the same answer.
pub fn get_async_race(sut: &mut Sut, which: HandleRef, clients: usize, keep: bool) {
    let expect = sut.prev.gar_expect(which);
    let id = handle_id(sut, which);
    let mut params = json!({"asyncHandle": id});
    if keep {
        params["keepResult"] = json!(true);
    }
    let answers = sut.rpc_many("GetAsyncResult", vec![params; clients]);
    if keep || !matches!(expect, GarExpect::Complete { .. }) {
        for a in &answers {
            check_gar(sut, which, expect.clone(), a);
        }
        return;
    }
    let winners = answers.iter().filter(|a| a.get("result").is_some()).count();
    let all = Value::Array(answers.clone());
    sut.same(
        winners,
        1,
        "fetches that got the result (EL-KEEP-ONCE)",
        &all,
    );
    for a in &answers {
        match a.get("result") {
            Some(_) => check_gar(sut, which, expect.clone(), a),
            None => check_gar(sut, which, GarExpect::Unknown, a),
        }
    }
}

fn handle_id(sut: &Sut, which: HandleRef) -> u64 {
    match which {
        HandleRef::Issued(i) => sut.handles[i],
        HandleRef::Never(k) => never(sut, k),
    }
}

/// Compares one GetAsyncResult answer with what the model expects.
fn check_gar(sut: &mut Sut, which: HandleRef, expect: GarExpect, answer: &Value) {
    match expect {
        GarExpect::Unknown => unknown(sut, answer),
        GarExpect::Running(rt) => {
            let r = nested(sut, answer, "running", &rt);
            let bare = r.get("result").is_none() && r.get("error").is_none();
            sut.ensure(
                bare,
                "running: no result, no error (EL-GAR-RUNNING)",
                answer,
            );
            let details = r.get("details").is_some_and(Value::is_object);
            sut.ensure(details, "running: details object (EL-GAR-DETAILS)", answer);
        }
        GarExpect::Complete {
            result_type,
            ok,
            payload,
            default_error,
        } => {
            let r = nested(sut, answer, "complete", &result_type);
            let (member, other) = if ok {
                ("result", "error")
            } else {
                ("error", "result")
            };
            let one = r.get(member).is_some_and(Value::is_object) && r.get(other).is_none();
            sut.ensure(
                one,
                &format!("complete: an object {member}, no {other} (EL-GAR-COMPLETE)"),
                answer,
            );
            sut.ensure(
                r.get("details").is_none(),
                "complete: no details (EL-GAR-COMPLETE)",
                answer,
            );
            let got = r[member].clone();
            if !ok {
                let named = got["name"].is_string() && got["message"].is_string();
                sut.ensure(
                    named,
                    "nested error has string name and message (EL-GAR-ASYNC-ERROR)",
                    answer,
                );
            }
            match (&payload, default_error) {
                (Some(p), _) => sut.same(&got, p, "payload is the scripted one", answer),
                (None, Some(name)) => sut.same(
                    got["name"].as_str(),
                    Some(name),
                    "default error name",
                    answer,
                ),
                (None, None) => {}
            }
            if let HandleRef::Issued(i) = which {
                if ok {
                    check_clone_result(sut, i, &got, answer);
                }
                let first = sut.payloads.entry(i).or_insert_with(|| got.clone()).clone();
                sut.same(
                    &got,
                    &first,
                    "complete payload never changes (EL-KEEP-TRUE, EL-GAR-STABLE)",
                    answer,
                );
            }
        }
    }
    if let (HandleRef::Issued(i), Some(r)) = (which, answer.get("result")) {
        times(sut, i, r, answer);
    }
}

fn nested(sut: &Sut, answer: &Value, status: &str, result_type: &str) -> Value {
    let r = answer.get("result").filter(|r| r.is_object()).cloned();
    sut.ensure(
        r.is_some(),
        "GetAsyncResult answers a result object",
        answer,
    );
    let r = r.unwrap_or_default();
    sut.same(
        r["status"].as_str(),
        Some(status),
        "status (EL-GAR-STATUS)",
        answer,
    );
    sut.same(
        r["resultType"].as_str(),
        Some(result_type),
        "resultType",
        answer,
    );
    r
}

fn unknown(sut: &Sut, answer: &Value) {
    let e = &answer["error"];
    sut.ensure(
        answer.get("result").is_none(),
        "unknown handle: a method error, not a result",
        answer,
    );
    sut.same(
        e["code"].as_i64(),
        Some(500),
        "unknown handle: code (EL-GAR-UNKNOWN)",
        answer,
    );
    let name = match sut.config.element_dialect {
        ElementDialect::Current => "xAsyncHandleDoesNotExist",
        ElementDialect::DocLiteral => "xDBNoSuchPath",
    };
    let what = "unknown handle: name (EL-GAR-UNKNOWN, the dialect's name of register E1)";
    sut.same(e["name"].as_str(), Some(name), what, answer);
    sut.ensure(
        e["message"].is_string(),
        "error message is a string (EL-RPC-ERROR-SHAPE)",
        answer,
    );
}

fn iso(s: &Value) -> Option<jiff::Timestamp> {
    let s = s.as_str().filter(|s| s.ends_with('Z'))?;
    s.parse().ok()
}

/// EL-GAR-TIMES and EL-GAR-STABLE for one answer about handle index `i`.
fn times(sut: &mut Sut, i: usize, r: &Value, answer: &Value) {
    let (c, u) = (iso(&r["createTime"]), iso(&r["lastUpdateTime"]));
    sut.ensure(
        c.is_some() && u.is_some(),
        "times are ISO 8601 UTC ending in Z (EL-GAR-TIMES)",
        answer,
    );
    sut.ensure(
        u >= c,
        "lastUpdateTime >= createTime (EL-GAR-TIMES)",
        answer,
    );
    let now = (r["createTime"].clone(), r["lastUpdateTime"].clone());
    if let Some((c0, u0)) = sut.times.get(&i) {
        sut.same(
            &now.0,
            c0,
            "createTime never changes (EL-GAR-STABLE)",
            answer,
        );
        sut.ensure(
            u >= iso(u0),
            "lastUpdateTime never decreases (EL-GAR-STABLE)",
            answer,
        );
    }
    sut.times.insert(i, now);
}

/// ListAsyncResults, optionally filtered, against the model's live handles.
pub fn list_async(sut: &mut Sut, model: &Model, types: Option<&[String]>) {
    let params = match types {
        Some(t) => json!({"asyncResultTypes": t}),
        None => json!({}),
    };
    let answer = sut.rpc("ListAsyncResults", params);
    let entries = answer["result"]["asyncHandles"].as_array().cloned();
    sut.ensure(
        entries.is_some(),
        "asyncHandles is an array (EL-LIST-SHAPE)",
        &answer,
    );
    let mut by_id: BTreeMap<u64, Value> = BTreeMap::new();
    for e in entries.unwrap_or_default() {
        let id = e["asyncResultID"].as_u64();
        sut.ensure(
            id.is_some(),
            "asyncResultID is an integer (EL-LIST-SHAPE)",
            &e,
        );
        let id = id.unwrap_or_default();
        if sut.el_baseline.contains(&id) {
            continue;
        }
        sut.ensure(
            by_id.insert(id, e).is_none(),
            "a handle is listed once",
            &answer,
        );
    }
    let expected: BTreeMap<u64, usize> = model
        .listed_handles(types)
        .into_iter()
        .map(|i| (sut.handles[i], i))
        .collect();
    let listed: Vec<u64> = by_id.keys().copied().collect();
    let want: Vec<u64> = expected.keys().copied().collect();
    sut.same(
        listed,
        want,
        "listed handles: the live ones of the asked types (EL-LIST-FILTER, EL-LIST-PURGED)",
        &answer,
    );
    for (id, i) in expected {
        let Some(e) = by_id.get(&id) else { continue };
        let job = &model.handles[i];
        let done = job.complete(model.now);
        sut.same(
            e["completed"].as_bool(),
            Some(done),
            "completed (EL-LIST-AGREES)",
            e,
        );
        sut.same(
            e["success"].as_bool(),
            Some(done && job.ok()),
            "success (EL-LIST-AGREES)",
            e,
        );
        sut.same(
            e["resultType"].as_str(),
            Some(job.result_type()),
            "resultType",
            e,
        );
        sut.ensure(
            e["data"].is_object(),
            "data is an object (EL-LIST-SHAPE)",
            e,
        );
        let stamped = iso(&e["createTime"]).is_some() && iso(&e["lastUpdateTime"]).is_some();
        sut.ensure(stamped, "times are ISO 8601 UTC (EL-LIST-SHAPE)", e);
        if done && job.ok() {
            check_clone_result(sut, i, &e["data"], e);
            if let Some(p) = &job.script.result {
                sut.same(
                    &e["data"],
                    p,
                    "data is the scripted result (EL-LIST-AGREES)",
                    e,
                );
            }
            let first = sut
                .payloads
                .entry(i)
                .or_insert_with(|| e["data"].clone())
                .clone();
            sut.same(
                &e["data"],
                &first,
                "data equals GetAsyncResult's result (EL-LIST-AGREES)",
                e,
            );
        }
    }
}
