//! The Element methods that start asynchronous work (CloneVolume, CopyVolume) and CancelClone.
//! A clone is a job on the clock: its new volume is listed at once as `init` and turns `active`
//! when the handle completes (`clone_ms` of target time); nothing runs in the background.

use serde_json::{Value, json};

use super::jobs::{self, clone_steps};
use super::objects::{self, NewVolume, curve};
use super::rpc::{Params, RpcError};
use super::{Ctx, ElementState, Note};
use crate::mock::Deviation;
use crate::mock::script::{JobScript, Outcome};

fn clone_script(ctx: &Ctx, clone_id: u64, volume_id: u64, message: &str) -> JobScript {
    let reported = if ctx.config.deviates(Deviation::CloneResultWrongId) {
        clone_id.saturating_add(1000)
    } else {
        clone_id
    };
    JobScript {
        steps: clone_steps(ctx.config.clone_ms),
        outcome: Outcome::Success,
        result_type: Some("Clone".into()),
        result: Some(json!({"cloneID": reported, "volumeID": volume_id, "message": message})),
        error: None,
        name: None,
        faults: Vec::new(),
    }
}

fn note_start(note: &mut Note, handle: u64) {
    note.job = Some(handle.to_string());
    note.observed = Some("running".into());
}

/// CloneVolume.
pub fn clone_volume(
    st: &mut ElementState,
    ctx: &Ctx,
    p: &Params,
    note: &mut Note,
) -> Result<Value, RpcError> {
    let src_id = p.u64("volumeID")?;
    let name = p.str("name")?.to_string();
    let new_account = p.opt_u64("newAccountID")?;
    let new_size = p.opt_u64("newSize")?;
    let access = p.opt_str("access")?;
    let attributes = p.opt_object("attributes")?.cloned();
    let enable512e = p.opt_bool("enable512e")?;
    p.opt_u64("snapshotID")?;
    p.opt_bool("enableSnapMirrorReplication")?;
    if name.is_empty() || name.chars().count() > 64 {
        return Err(RpcError::new(
            "xInvalidParameter",
            "name must be 1 to 64 characters",
        ));
    }
    if let Some(size) = new_size {
        objects::check_size(size)?;
    }
    let src = objects::volume(st, src_id)?.clone();
    if src.deleted_ms.is_some() {
        return Err(RpcError::new(
            "xVolumeIDDoesNotExist",
            format!("VolumeID {src_id}"),
        ));
    }
    let account_id = new_account.unwrap_or(src.account_id);
    if !st.accounts.contains_key(&account_id) {
        return Err(RpcError::new(
            "xAccountIDDoesNotExist",
            format!("AccountID {account_id}"),
        ));
    }
    if let Some(a) = access
        && !["readOnly", "readWrite", "locked", "replicationTarget"].contains(&a)
    {
        return Err(RpcError::new(
            "xUnrecognizedEnumString",
            format!("Unrecognized access {a:?}"),
        ));
    }
    let clone_id = st.next_clone();
    let done_at = ctx.now.saturating_add(ctx.config.clone_ms);
    let new_id = objects::new_volume(
        st,
        ctx,
        NewVolume {
            name,
            account_id,
            total_size: new_size.unwrap_or(src.total_size),
            enable512e: enable512e.unwrap_or(src.enable512e),
            access: access.unwrap_or(&src.access).to_string(),
            attributes: attributes.map(Value::Object).unwrap_or(src.attributes),
            qos: Some(src.qos),
            ready_ms: Some(done_at),
        },
    );
    let handle = jobs::start(
        st,
        ctx,
        clone_script(ctx, clone_id, new_id, "Clone complete."),
    );
    if let Some(h) = st.handles.get_mut(&handle) {
        h.clone_id = Some(clone_id);
        h.new_volume = Some(new_id);
    }
    note_start(note, handle);
    let volume = objects::volume(st, new_id)?.json(ctx);
    Ok(
        json!({"asyncHandle": handle, "cloneID": clone_id, "volumeID": new_id,
              "curve": curve(), "volume": volume}),
    )
}

/// CopyVolume: overwrites `dstVolumeID` with `volumeID`'s data.
pub fn copy_volume(
    st: &mut ElementState,
    ctx: &Ctx,
    p: &Params,
    note: &mut Note,
) -> Result<Value, RpcError> {
    let src_id = p.u64("volumeID")?;
    let dst_id = p.u64("dstVolumeID")?;
    p.opt_u64("snapshotID")?;
    for id in [src_id, dst_id] {
        if objects::volume(st, id)?.deleted_ms.is_some() {
            return Err(RpcError::new(
                "xVolumeIDDoesNotExist",
                format!("VolumeID {id}"),
            ));
        }
    }
    let clone_id = st.next_clone();
    let handle = jobs::start(
        st,
        ctx,
        clone_script(ctx, clone_id, dst_id, "Copy complete."),
    );
    if let Some(h) = st.handles.get_mut(&handle) {
        h.clone_id = Some(clone_id);
    }
    note_start(note, handle);
    Ok(json!({"asyncHandle": handle, "cloneID": clone_id}))
}

/// CancelClone: stops a running clone or copy, removes its handle and the unfinished volume.
pub fn cancel_clone(
    st: &mut ElementState,
    ctx: &Ctx,
    p: &Params,
    _n: &mut Note,
) -> Result<Value, RpcError> {
    let clone_id = p.u64("cloneID")?;
    let running = st.handles.values_mut().find(|h| {
        h.clone_id == Some(clone_id)
            && !h.purged
            && matches!(h.view(ctx.now), jobs::View::Running { .. })
    });
    let Some(h) = running else {
        return Err(RpcError::new(
            "xCloneIDDoesNotExist",
            format!("CloneID {clone_id} is not running"),
        ));
    };
    h.purged = true;
    if let Some(v) = h.new_volume {
        st.volumes.remove(&v);
    }
    Ok(json!({}))
}
