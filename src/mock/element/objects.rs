//! Element accounts and volumes: their stored form, their JSON with every member a 12.5 cluster
//! sends (the SDK's typed models reject missing required members), and the methods that create,
//! list, delete and purge them. Volume status (`init`/`active`/`deleted`) is computed from the
//! clock. Asynchronous handles live in `jobs.rs`.

use serde_json::{Value, json};

use super::rpc::{Params, RpcError};
use super::{Ctx, ElementState, Note};

/// Time between DeleteVolume and the automatic purge a cluster schedules: 8 hours (the
/// DeleteVolume reference example: `deleteTime` 22:59:42, `purgeTime` 06:59:42 the next day).
const PURGE_AFTER_MS: u64 = 8 * 3600 * 1000;

/// A stored account.
#[derive(Debug, Clone)]
pub struct Account {
    /// `accountID`.
    pub id: u64,
    /// `username`.
    pub username: String,
    /// `initiatorSecret`.
    pub initiator_secret: String,
    /// `targetSecret`.
    pub target_secret: String,
    /// `attributes`.
    pub attributes: Value,
    /// `enableChap`.
    pub enable_chap: bool,
}

/// A stored volume.
#[derive(Debug, Clone)]
pub struct Volume {
    /// `volumeID`.
    pub id: u64,
    /// `name`.
    pub name: String,
    /// `accountID`.
    pub account_id: u64,
    /// Target time of creation.
    pub created_ms: u64,
    /// Target time it becomes `active` (clones start as `init`).
    pub ready_ms: u64,
    /// Target time of DeleteVolume, if deleted.
    pub deleted_ms: Option<u64>,
    /// `totalSize` in bytes.
    pub total_size: u64,
    /// `enable512e`.
    pub enable512e: bool,
    /// `access`.
    pub access: String,
    /// `attributes`.
    pub attributes: Value,
    /// `qos`.
    pub qos: Value,
    /// Random bits for the UUIDs (the SCSI device IDs are derived: `info::scsi_ids`).
    pub salt: u64,
}

/// The QoS curve every volume reports.
pub fn curve() -> Value {
    json!({"4096": 100, "8192": 160, "16384": 270, "32768": 500, "65536": 1000,
           "131072": 1950, "262144": 3900, "524288": 7600, "1048576": 15000})
}

fn uuid(salt: u64, id: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (salt >> 32) as u32,
        (salt >> 16) as u16,
        (salt & 0xfff) as u16,
        (id & 0xfff) as u16,
        id
    )
}

impl Volume {
    /// `init`, `active` or `deleted` at target time `now`.
    pub fn status(&self, now: u64) -> &'static str {
        if self.deleted_ms.is_some() {
            "deleted"
        } else if now < self.ready_ms {
            "init"
        } else {
            "active"
        }
    }

    /// The volume as ListVolumes shows it.
    pub fn json(&self, ctx: &Ctx) -> Value {
        let deleted = self.deleted_ms.map(|t| ctx.clock.iso(t));
        let purge = self
            .deleted_ms
            .map(|t| ctx.clock.iso(t.saturating_add(PURGE_AFTER_MS)));
        let (eui, naa) = super::info::scsi_ids(super::info::UNIQUE_ID, self.id);
        json!({
            "volumeID": self.id,
            "name": self.name,
            "accountID": self.account_id,
            "createTime": ctx.clock.iso(self.created_ms),
            "volumeConsistencyGroupUUID": uuid(self.salt.rotate_left(7), self.id),
            "volumeUUID": uuid(self.salt, self.id),
            "enableSnapMirrorReplication": false,
            "dontMoveForIopsRebalance": false,
            "status": self.status(ctx.now),
            "access": self.access,
            "enable512e": self.enable512e,
            "iqn": format!("iqn.2010-01.com.solidfire:{}.{}.{}", super::info::UNIQUE_ID,
                           self.name.to_lowercase(), self.id),
            "scsiEUIDeviceID": eui,
            "scsiNAADeviceID": naa,
            "qos": self.qos,
            "qosPolicyID": null,
            "volumeAccessGroups": [],
            "volumePairs": [],
            "deleteTime": deleted.unwrap_or_default(),
            "purgeTime": purge.unwrap_or_default(),
            "lastAccessTime": null,
            "lastAccessTimeIO": null,
            "sliceCount": 1,
            "totalSize": self.total_size,
            "blockSize": 4096,
            "virtualVolumeID": null,
            "attributes": self.attributes,
            "currentProtectionScheme": "doubleHelix",
            "previousProtectionScheme": null,
            "fifoSize": 24,
            "minFifoSize": 0,
        })
    }
}

/// The account as GetAccountByID shows it.
pub fn account_json(st: &ElementState, a: &Account) -> Value {
    let volumes: Vec<u64> = st
        .volumes
        .values()
        .filter(|v| v.account_id == a.id)
        .map(|v| v.id)
        .collect();
    json!({
        "accountID": a.id,
        "username": a.username,
        "status": "active",
        "initiatorSecret": a.initiator_secret,
        "targetSecret": a.target_secret,
        "volumes": volumes,
        "storageContainerID": "00000000-0000-0000-0000-000000000000",
        "attributes": a.attributes,
        "enableChap": a.enable_chap,
    })
}

fn secret() -> String {
    (0..12).map(|_| fastrand::alphanumeric()).collect()
}

fn attributes(p: &Params) -> Result<Value, RpcError> {
    Ok(Value::Object(
        p.opt_object("attributes")?.cloned().unwrap_or_default(),
    ))
}

/// AddAccount.
pub fn add_account(
    st: &mut ElementState,
    _ctx: &Ctx,
    p: &Params,
    _n: &mut Note,
) -> Result<Value, RpcError> {
    let username = p.str("username")?;
    if username.is_empty() || username.chars().count() > 64 {
        return Err(RpcError::new(
            "xInvalidParameter",
            "username must be 1 to 64 characters",
        ));
    }
    if st.accounts.values().any(|a| a.username == username) {
        return Err(RpcError::new("xDuplicateUsername", username.to_string()));
    }
    let account = Account {
        id: st.next_account(),
        username: username.into(),
        initiator_secret: p
            .opt_str("initiatorSecret")?
            .map_or_else(secret, Into::into),
        target_secret: p.opt_str("targetSecret")?.map_or_else(secret, Into::into),
        attributes: attributes(p)?,
        enable_chap: p.opt_bool("enableChap")?.unwrap_or(true),
    };
    let out = json!({"accountID": account.id, "account": account_json(st, &account)});
    st.accounts.insert(account.id, account);
    Ok(out)
}

/// RemoveAccount: refused while the account still has volumes (deleted ones not yet purged count).
pub fn remove_account(
    st: &mut ElementState,
    _ctx: &Ctx,
    p: &Params,
    _n: &mut Note,
) -> Result<Value, RpcError> {
    let id = p.u64("accountID")?;
    if !st.accounts.contains_key(&id) {
        return Err(RpcError::new(
            "xAccountIDDoesNotExist",
            format!("AccountID {id}"),
        ));
    }
    if st.volumes.values().any(|v| v.account_id == id) {
        return Err(RpcError::new(
            "xAccountHasVolumes",
            format!("Account {id} still has volumes; delete and purge them first."),
        ));
    }
    st.accounts.remove(&id);
    Ok(json!({}))
}

/// Creates a stored volume; the caller has checked the account.
pub fn new_volume(st: &mut ElementState, ctx: &Ctx, v: NewVolume) -> u64 {
    let id = st.next_volume();
    let total_size = v.total_size.div_ceil(1 << 20).saturating_mul(1 << 20);
    let qos = json!({"minIOPS": 50, "maxIOPS": 15000, "burstIOPS": 15000, "burstTime": 60,
                     "curve": curve()});
    let qos = match v.qos {
        Some(Value::Object(over)) => {
            let mut q = qos;
            for (k, val) in over {
                q[k] = val;
            }
            q
        }
        _ => qos,
    };
    st.volumes.insert(
        id,
        Volume {
            id,
            name: v.name,
            account_id: v.account_id,
            created_ms: ctx.now,
            ready_ms: v.ready_ms.unwrap_or(ctx.now),
            deleted_ms: None,
            total_size,
            enable512e: v.enable512e,
            access: v.access,
            attributes: v.attributes,
            qos,
            salt: fastrand::u64(..),
        },
    );
    id
}

/// What a new volume is made of.
#[derive(Debug)]
pub struct NewVolume {
    /// `name`.
    pub name: String,
    /// `accountID`.
    pub account_id: u64,
    /// `totalSize` (rounded up to whole MiB).
    pub total_size: u64,
    /// `enable512e`.
    pub enable512e: bool,
    /// `access`.
    pub access: String,
    /// `attributes`.
    pub attributes: Value,
    /// `qos` overrides.
    pub qos: Option<Value>,
    /// When it turns `active` (None = at once).
    pub ready_ms: Option<u64>,
}

/// The volume, or xVolumeIDDoesNotExist.
pub fn volume(st: &ElementState, id: u64) -> Result<&Volume, RpcError> {
    st.volumes
        .get(&id)
        .ok_or_else(|| RpcError::new("xVolumeIDDoesNotExist", format!("VolumeID {id}")))
}

/// Refuses sizes outside GetLimits' volumeSizeMin..=volumeSizeMax.
pub fn check_size(total_size: u64) -> Result<(), RpcError> {
    if total_size < super::info::VOLUME_SIZE_MIN {
        return Err(RpcError::new(
            "xVolumeSizeTooSmall",
            format!("totalSize {total_size} is below the minimum"),
        ));
    }
    if total_size > super::info::VOLUME_SIZE_MAX {
        return Err(RpcError::new(
            "xVolumeSizeTooLarge",
            format!("totalSize {total_size} is above the maximum"),
        ));
    }
    Ok(())
}

/// CreateVolume.
pub fn create_volume(
    st: &mut ElementState,
    ctx: &Ctx,
    p: &Params,
    _n: &mut Note,
) -> Result<Value, RpcError> {
    let name = p.str("name")?.to_string();
    let account_id = p.u64("accountID")?;
    let total_size = p.u64("totalSize")?;
    let enable512e = p.opt_bool("enable512e")?.unwrap_or(false);
    let qos = p.opt_object("qos")?.cloned().map(Value::Object);
    let attributes = attributes(p)?;
    if !st.accounts.contains_key(&account_id) {
        return Err(RpcError::new(
            "xAccountIDDoesNotExist",
            format!("AccountID {account_id}"),
        ));
    }
    check_size(total_size)?;
    let id = new_volume(
        st,
        ctx,
        NewVolume {
            name,
            account_id,
            total_size,
            enable512e,
            access: "readWrite".into(),
            attributes,
            qos,
            ready_ms: None,
        },
    );
    let vol = volume(st, id)?.json(ctx);
    Ok(json!({"volumeID": id, "volume": vol, "curve": curve()}))
}

/// ListVolumes.
pub fn list_volumes(
    st: &mut ElementState,
    ctx: &Ctx,
    p: &Params,
    _n: &mut Note,
) -> Result<Value, RpcError> {
    let start = p.opt_u64("startVolumeID")?.unwrap_or(0);
    let limit = p.opt_u64("limit")?.unwrap_or(u64::MAX);
    let ids = p.opt_u64s("volumeIDs")?;
    let accounts = p.opt_u64s("accounts")?;
    let status = p.opt_str("volumeStatus")?;
    let name = p.opt_str("volumeName")?;
    let volumes: Vec<Value> = st
        .volumes
        .range(start..)
        .map(|(_, v)| v)
        .filter(|v| ids.as_ref().is_none_or(|ids| ids.contains(&v.id)))
        .filter(|v| accounts.as_ref().is_none_or(|a| a.contains(&v.account_id)))
        .filter(|v| status.is_none_or(|s| v.status(ctx.now) == s))
        .filter(|v| name.is_none_or(|n| v.name == n))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|v| v.json(ctx))
        .collect();
    Ok(json!({"volumes": volumes}))
}

/// DeleteVolume.
pub fn delete_volume(
    st: &mut ElementState,
    ctx: &Ctx,
    p: &Params,
    _n: &mut Note,
) -> Result<Value, RpcError> {
    let id = p.u64("volumeID")?;
    let v = st
        .volumes
        .get_mut(&id)
        .filter(|v| v.deleted_ms.is_none())
        .ok_or_else(|| RpcError::new("xVolumeIDDoesNotExist", format!("VolumeID {id}")))?;
    v.deleted_ms = Some(ctx.now);
    let vol = v.json(ctx);
    Ok(json!({"volume": vol}))
}

/// PurgeDeletedVolume.
pub fn purge_deleted_volume(
    st: &mut ElementState,
    _ctx: &Ctx,
    p: &Params,
    _n: &mut Note,
) -> Result<Value, RpcError> {
    let id = p.u64("volumeID")?;
    if volume(st, id)?.deleted_ms.is_none() {
        return Err(RpcError::new(
            "xVolumeNotDeleted",
            format!("VolumeID {id} must be deleted before it is purged"),
        ));
    }
    st.volumes.remove(&id);
    Ok(json!({}))
}
