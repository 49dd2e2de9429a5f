//! The read-only Element methods a harness fingerprints a cluster with: GetAPI (register E5),
//! GetClusterVersionInfo, GetClusterInfo and GetLimits, shaped like a 12.5 cluster's answers; and
//! the cluster's identity (`uniqueID`) with what derives from it (volume SCSI device IDs).

use serde_json::{Value, json};

use super::rpc::{Params, RpcError};
use super::{Ctx, ElementState, METHODS, Note};
use crate::mock::{Deviation, ELEMENT_CURRENT, ELEMENT_VERSIONS};

/// Firmware the mock claims.
pub const FIRMWARE: &str = "12.5.0.897";
/// Smallest volume (`GetLimits.volumeSizeMin`).
pub const VOLUME_SIZE_MIN: u64 = 1_000_000_000;
/// Largest volume (`GetLimits.volumeSizeMax`).
pub const VOLUME_SIZE_MAX: u64 = 17_592_186_044_416;
/// The cluster's `uniqueID` (GetClusterInfo); volume IQNs and SCSI device IDs are derived from it.
pub const UNIQUE_ID: &str = "jcmk";

/// `scsiEUIDeviceID` and `scsiNAADeviceID` of volume `id`, derived as in every NetApp example
/// (the reference pages and the SDKs' recorded ListVolumes): the cluster's `uniqueID` as hex ASCII
/// and the volume ID as 8 hex digits, around the fixed `f47acc01` / `6f47acc1` parts
/// (`jyay`, volume 5: `6a79617900000005f47acc0100000000`, `6f47acc1000000006a79617900000005`).
pub fn scsi_ids(unique_id: &str, id: u64) -> (String, String) {
    let cluster: String = unique_id.bytes().map(|b| format!("{b:02x}")).collect();
    (
        format!("{cluster}{id:08x}f47acc0100000000"),
        format!("6f47acc100000000{cluster}{id:08x}"),
    )
}

/// GetAPI: the versions, as strings in both dialects (register E5: the SDKs type them as numbers,
/// but every answer NetApp published has strings, the 12.0 reference example and a 7.3 cluster
/// recorded in the Java SDK's tests alike), and the methods the endpoint asked serves, keyed by
/// that endpoint's version (the recording keys them by `7.0`, the version it was asked at).
pub fn get_api(
    _st: &mut ElementState,
    ctx: &Ctx,
    _p: &Params,
    _n: &mut Note,
) -> Result<Value, RpcError> {
    let supported: Vec<Value> = ELEMENT_VERSIONS
        .iter()
        .filter(|v| {
            !(ctx.config.deviates(Deviation::GetapiMissingUrlVersion) && **v == ctx.version)
        })
        .map(|v| json!(v))
        .collect();
    let mut names: Vec<&str> = METHODS
        .iter()
        .filter(|m| m.serves(ctx.version))
        .map(|m| m.name)
        .collect();
    names.sort_unstable();
    Ok(json!({
        "currentVersion": ELEMENT_CURRENT,
        "supportedVersions": supported,
        ctx.version: names,
    }))
}

/// GetClusterVersionInfo.
pub fn get_cluster_version_info(
    _st: &mut ElementState,
    ctx: &Ctx,
    _p: &Params,
    _n: &mut Note,
) -> Result<Value, RpcError> {
    let cluster_version = if ctx.config.deviates(Deviation::ClusterVersionNumber) {
        json!(12.5)
    } else {
        json!(FIRMWARE)
    };
    let nodes: Vec<Value> = (1..=4)
        .map(|id| {
            json!({"nodeID": id, "nodeVersion": FIRMWARE,
                   "nodeInternalRevision": format!("BuildType=Release Element=lithium Release=lithium ReleaseShort=lithium Version={FIRMWARE} sfdev=12.5.0.897 Repository=lithium Revision=jobconform-mock BuildDate=2026-01-01T00:00:00")})
        })
        .collect();
    Ok(json!({
        "clusterAPIVersion": ELEMENT_CURRENT,
        "clusterVersion": cluster_version,
        "clusterVersionInfo": nodes,
        "softwareVersionInfo": {
            "currentVersion": FIRMWARE,
            "nodeID": 0,
            "packageName": "",
            "pendingVersion": FIRMWARE,
            "startTime": "",
        },
    }))
}

/// GetClusterInfo.
pub fn get_cluster_info(
    _st: &mut ElementState,
    _ctx: &Ctx,
    _p: &Params,
    _n: &mut Note,
) -> Result<Value, RpcError> {
    Ok(json!({"clusterInfo": {
        "attributes": {},
        "defaultProtectionScheme": "doubleHelix",
        "enabledProtectionSchemes": ["doubleHelix"],
        "encryptionAtRestState": "disabled",
        "ensemble": ["10.117.0.1", "10.117.0.2", "10.117.0.3"],
        "mvip": "10.117.0.10",
        "mvipInterface": "team1G",
        "mvipNodeID": 1,
        "mvipVlanTag": "0",
        "name": "jobconform-mock",
        "repCount": 2,
        "softwareEncryptionAtRestState": "disabled",
        "supportedProtectionSchemes": ["doubleHelix"],
        "svip": "10.117.1.10",
        "svipInterface": "team10G",
        "svipNodeID": 1,
        "svipVlanTag": "0",
        "uniqueID": UNIQUE_ID,
        "uuid": "6b1c3a1e-1d2e-4c59-9c4b-5a7b0c1d2e3f",
        "volumeLoadBalanceOnActualIopsState": "disabled",
    }}))
}

/// GetLimits: every member of the 12.x reference page's example, with its values.
pub fn get_limits(
    _st: &mut ElementState,
    _ctx: &Ctx,
    _p: &Params,
    _n: &mut Note,
) -> Result<Value, RpcError> {
    let limits: [(&str, u64); 61] = [
        ("accountCountMax", 5000),
        ("accountNameLengthMax", 64),
        ("accountNameLengthMin", 1),
        ("backupTargetNameLengthMax", 64),
        ("backupTargetNameLengthMin", 1),
        ("bulkVolumeJobsPerNodeMax", 8),
        ("bulkVolumeJobsPerVolumeMax", 2),
        ("chapCredentialsCountMax", 15000),
        ("cloneJobsPerNodeMax", 8),
        ("cloneJobsPerVirtualVolumeMax", 8),
        ("cloneJobsPerVolumeMax", 2),
        ("clusterAdminAccountMax", 5000),
        ("clusterAdminInfoNameLengthMax", 1024),
        ("clusterAdminInfoNameLengthMin", 1),
        ("clusterPairsCountMax", 4),
        ("fibreChannelVolumeAccessMax", 16384),
        ("initiatorAliasLengthMax", 224),
        ("initiatorCountMax", 10000),
        ("initiatorNameLengthMax", 224),
        ("initiatorsPerVolumeAccessGroupCountMax", 128),
        ("iscsiSessionsFromFibreChannelNodesMax", 4096),
        ("maxAuthSessionsForCluster", 1024),
        ("maxAuthSessionsPerUser", 1024),
        ("nodesPerClusterCountMax", 100),
        ("nodesPerClusterCountMin", 3),
        ("qosPolicyCountMax", 500),
        ("qosPolicyNameLengthMax", 64),
        ("qosPolicyNameLengthMin", 1),
        ("scheduleNameLengthMax", 244),
        ("secretLengthMax", 16),
        ("secretLengthMin", 12),
        ("snapMirrorEndpointIPAddressesCountMax", 64),
        ("snapMirrorEndpointsCountMax", 4),
        ("snapMirrorLabelLengthMax", 31),
        ("snapMirrorObjectAttributeValueInfoCountMax", 9_900_000),
        ("snapshotNameLengthMax", 255),
        ("snapshotsPerVolumeMax", 32),
        ("storageNodesPerClusterCountMin", 2),
        ("virtualVolumeCountMax", 8000),
        ("virtualVolumesPerAccountCountMax", 10000),
        ("volumeAccessGroupCountMax", 1000),
        ("volumeAccessGroupLunMax", 16383),
        ("volumeAccessGroupNameLengthMax", 64),
        ("volumeAccessGroupNameLengthMin", 1),
        ("volumeAccessGroupsPerInitiatorCountMax", 1),
        ("volumeAccessGroupsPerVolumeCountMax", 64),
        ("volumeBurstIOPSMax", 200000),
        ("volumeBurstIOPSMin", 100),
        ("volumeCountMax", 4000),
        ("volumeMaxIOPSMax", 200000),
        ("volumeMaxIOPSMin", 100),
        ("volumeMinIOPSMax", 15000),
        ("volumeMinIOPSMin", 50),
        ("volumeNameLengthMax", 64),
        ("volumeNameLengthMin", 1),
        ("volumeSizeMax", VOLUME_SIZE_MAX),
        ("volumeSizeMin", VOLUME_SIZE_MIN),
        ("volumesPerAccountCountMax", 2000),
        ("volumesPerGroupSnapshotMax", 32),
        ("volumesPerVolumeAccessGroupCountMax", 2000),
        ("witnessNodesPerClusterCountMax", 4),
    ];
    Ok(Value::Object(
        limits
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect(),
    ))
}
