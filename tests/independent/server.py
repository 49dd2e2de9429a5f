#!/usr/bin/env python3
"""An independent reference server for jobconform (Python 3.11, standard library only).

Written from NetApp's pages and NetApp-written clients, not from jobconform's mock:

Element (SolidFire JSON-RPC), https://docs.netapp.com/us-en/element-software/api/
  - reference_element_api_getasyncresult: status running|complete, nested result/error,
    resultType, details only while running, createTime/lastUpdateTime UTC; keepResult missing or
    false makes the handle inactive "when the result is returned"; the unknown-handle example is
    xDBNoSuchPath with code 500.
  - concept_element_api_asynchronous_methods: only a *completed* operation is purged when queried.
  - reference_element_api_listasyncresults: never purges; asyncHandles[] with asyncResultID,
    completed, success, createTime, lastUpdateTime, resultType, data.
  - reference_element_api_response_object_members: `unusedParameters` is a member of the
    response object, beside result/error/id (so it is served there, not inside `result`).
  - reference_element_api_error: code, name, message; system errors use code 500.
  - concept_element_api_authentication: no credentials -> HTTP 401.
  - reference_element_api_clonevolume / createvolume / deletevolume / purgedeletedvolume /
    addaccount / removeaccount / listaccounts / listvolumes / getlimits / getapi /
    getclusterversioninfo: parameters and return members.
AIQUM (Active IQ Unified Manager), https://docs.netapp.com/us-en/active-iq-unified-manager/api-automation/
  - concept_async_run / concept_job_api: 202 + job object; standard and long polling; the job
    list returns the last submitted job on top, 20 by default.
  - concept_provision_luns / concept_manage_lun: POST /storage-provider/luns answers a job key;
    the created LUN's key is at the end of the job (job_results); DELETE /storage-provider/luns/{key}.
  - reference_recommendations_to_use_um_apis: at most 1000 records per GET; filters with | and *.
  - reference_authentication_errors / HTTP status codes page: 400 input validation, 401, 404, 405.
  - NetApp's AIQUM 9.7 Ansible modules and the matthew-beattie/AIQUM PowerShell module: the 202
    body is {"job": {"key": ...}}; state "completed" + status "normal" (lower case, /api/v2).
  - ONTAP Select Deploy's async page (the AIQUM page's template): long polling with
    `poll_timeout` (1-120 s) and `last_modified`.

Choices where the pages are silent are marked "CHOICE:" below.

Usage: server.py [--port 0] [--user admin] [--password-env VAR | --password PW] [--fast]
Prints one line per API: "ELEMENT http://127.0.0.1:<port>/json-rpc/12.5" and
"AIQUM http://127.0.0.1:<port>/api", then "PORT <port>", and serves until killed.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import fnmatch
import json
import os
import random
import re
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# ---------------------------------------------------------------------------------------------
# shared


# Variants: other readings of NetApp's pages that a conformant server may also pick
# (--variant NAME, repeatable). The default is the reading described in each CHOICE.
VARIANTS = {
    "millis": "timestamps carry milliseconds (ISO 8601 allows them; the examples have none)",
    "numbers": "GetAPI versions as JSON numbers (every NetApp SDK models them as numbers)",
    "upper": "AIQUM state/status in upper case (the doc's NORMAL...; NSLM 1.3 COMPLETED)",
    "queued": "an AIQUM job is `queued` before `running` (UI task states include Queued)",
    "nolinks": "the 202 body carries only job.key (the Ansible and PowerShell clients read only that)",
    "unused-in-result": "unusedParameters inside `result` instead of beside it",
    "busy": "someone else's work runs for an hour (an AIQUM rediscovery, an Element DriveAdd)",
    "utc-offset": "Element times end in +00:00 instead of Z (also UTC+0 in ISO 8601)",
    "instant": "work finishes before anyone can look (a clone of an empty volume can)",
    "abs-links": "AIQUM hrefs are absolute URLs (scheme and host) instead of paths",
    "local-offset": "AIQUM times in the server's zone, +05:30 (ISO 8601 with an offset)",
    "charset": "Content-Type: application/json;charset=UTF-8 (what Java servers send)",
    # The next two are NOT conformant; they check that the harness stops at once with a
    # finding instead of polling to its deadline on a value it cannot read.
    "bad-gar-status": "NOT CONFORMANT: a finished GetAsyncResult says status `completed`",
    "bad-job-state": "NOT CONFORMANT: a finished AIQUM job says state `success` (ONTAP's word)",
}
ACTIVE: set[str] = set()


def iso_z(t: float) -> str:
    """Element dates: ISO 8601 UTC+0 with a Z, seconds resolution (as in every doc example)."""
    d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    zone = "+00:00" if "utc-offset" in ACTIVE else "Z"
    if "millis" in ACTIVE:
        return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}{zone}"
    return d.strftime("%Y-%m-%dT%H:%M:%S") + zone


def iso_offset(t: float) -> str:
    """AIQUM dates. CHOICE: ISO 8601 with a numeric offset (Java's OffsetDateTime style)."""
    zone = dt.timezone.utc
    if "local-offset" in ACTIVE:
        zone = dt.timezone(dt.timedelta(hours=5, minutes=30))
    d = dt.datetime.fromtimestamp(t, zone)
    return d.isoformat(timespec="milliseconds" if "millis" in ACTIVE else "seconds")


class Config:
    def __init__(self, user: str, password: str, fast: bool):
        self.user = user
        self.password = password
        # Real time a job takes. CHOICE: ~1.5 s (a small clone, a LUN); --fast: 0.3 s.
        self.job_s = 0.3 if fast else 1.5
        if "instant" in ACTIVE:
            self.job_s = 0.0


# ---------------------------------------------------------------------------------------------
# Element

SUPPORTED_VERSIONS = [
    "1.0", "2.0", "3.0", "4.0", "5.0", "5.1", "6.0", "7.0", "7.1", "7.2", "7.3", "7.4",
    "8.0", "8.1", "8.2", "8.3", "8.4", "8.5", "8.6", "8.7", "9.0", "9.1", "9.2", "9.3",
    "9.4", "9.5", "9.6", "10.0", "10.1", "10.2", "10.3", "10.4", "10.5", "10.6", "10.7",
    "11.0", "11.1", "11.3", "11.5", "11.7", "11.8", "12.0", "12.2", "12.3", "12.5",
]
CURRENT_VERSION = "12.5"
CLUSTER_VERSION = "12.5.0.897"

# method -> first API version that has it (Python SDK `since`)
METHODS_SINCE = {
    "GetAPI": 1.0, "GetClusterVersionInfo": 1.0, "GetLimits": 1.0, "ListAccounts": 1.0,
    "AddAccount": 1.0, "RemoveAccount": 1.0, "CreateVolume": 1.0, "CloneVolume": 1.0,
    "GetAsyncResult": 1.0, "ListAsyncResults": 9.0, "DeleteVolume": 1.0,
    "PurgeDeletedVolume": 1.0, "ListVolumes": 8.0, "ListDeletedVolumes": 1.0,
}

# method -> accepted parameter names (anything else is reported in unusedParameters)
PARAMS = {
    "GetAPI": set(), "GetClusterVersionInfo": set(), "GetLimits": set(),
    "ListAccounts": {"startAccountID", "limit", "includeStorageContainers"},
    "AddAccount": {"username", "initiatorSecret", "targetSecret", "attributes", "enableChap"},
    "RemoveAccount": {"accountID"},
    "CreateVolume": {"name", "accountID", "totalSize", "enable512e", "qos", "attributes",
                     "associateWithQoSPolicy", "access", "enableSnapMirrorReplication",
                     "qosPolicyID", "protectionScheme", "fifoSize", "minFifoSize"},
    "CloneVolume": {"volumeID", "name", "newAccountID", "newSize", "access", "snapshotID",
                    "attributes", "enable512e", "enableSnapMirrorReplication"},
    "GetAsyncResult": {"asyncHandle", "keepResult"},
    "ListAsyncResults": {"asyncResultTypes"},
    "DeleteVolume": {"volumeID"},
    "PurgeDeletedVolume": {"volumeID"},
    "ListVolumes": {"startVolumeID", "limit", "volumeStatus", "accounts", "isPaired",
                    "volumeIDs", "volumeName", "includeVirtualVolumes", "protectionSchemes"},
    "ListDeletedVolumes": {"includeVirtualVolumes"},
}


class RpcError(Exception):
    def __init__(self, name: str, message: str, code: int = 500):
        super().__init__(message)
        self.name, self.message, self.code = name, message, code


class AsyncOp:
    """One asynchronous operation (a clone), advanced by the clock, not by a thread."""

    def __init__(self, handle: int, result_type: str, started: float, duration: float,
                 on_finish):
        self.handle = handle
        self.result_type = result_type
        self.created = started
        self.duration = duration
        self.on_finish = on_finish  # () -> (result dict | None, error dict | None)
        self.finished_at: float | None = None
        self.result: dict | None = None
        self.error: dict | None = None

    def settle(self, now: float) -> None:
        if self.finished_at is None and now >= self.created + self.duration:
            self.finished_at = self.created + self.duration
            self.result, self.error = self.on_finish()

    def complete(self) -> bool:
        return self.finished_at is not None

    def last_update(self, now: float) -> float:
        if self.finished_at is not None:
            return self.finished_at
        # progress is reported in steps; lastUpdateTime is the last step's time
        step = self.duration / 4
        done = int((now - self.created) / step) if step > 0 else 0
        return self.created + done * step

    def percent(self, now: float) -> int:
        if self.duration <= 0:
            return 100
        return min(99, int(100 * (now - self.created) / self.duration))

    def view(self, now: float) -> dict:
        """The GetAsyncResult `result` member."""
        out = {
            "createTime": iso_z(self.created),
            "lastUpdateTime": iso_z(self.last_update(now)),
            "resultType": self.result_type,
        }
        if self.complete():
            out["status"] = "completed" if "bad-gar-status" in ACTIVE else "complete"
            if self.error is not None:
                out["error"] = self.error
            else:
                out["result"] = self.result
        else:
            out["status"] = "running"
            # CHOICE: the asynchronous-methods page says status "might include a percentage
            # of completion"; details carries it.
            out["details"] = {"percentComplete": self.percent(now), "stage": "cloning"}
        return out

    def list_entry(self, now: float) -> dict:
        done = self.complete()
        success = done and self.error is None
        if done:
            data = self.result if success else self.error
        else:
            data = {"percentComplete": self.percent(now)}  # CHOICE: undocumented for running
        return {
            "asyncResultID": self.handle,
            "completed": done,
            "createTime": iso_z(self.created),
            "data": data,
            "lastUpdateTime": iso_z(self.last_update(now)),
            "resultType": self.result_type,
            "success": success,
        }


class Element:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.lock = threading.Lock()
        self.accounts: dict[int, dict] = {}
        self.volumes: dict[int, dict] = {}
        self.ops: dict[int, AsyncOp] = {}
        self.next_account = 1
        self.next_volume = 1
        self.next_clone = 1
        # CHOICE: handles are cluster-wide integers; a cluster has history, so start above 1.
        self.next_handle = 1000 + random.randrange(0, 1000)
        now = time.time()
        # One account and volume that predate the run (a live cluster is never empty).
        self._add_account("existing-tenant", now - 86400)
        self._add_volume("existing-vol", 1, 10**10, now - 86400, "active")
        # Someone else's finished operations, never fetched (the ListAsyncResults example's
        # DriveAdd and the GetAsyncResult page's failed BulkVolume).
        for rtype, result, error in (
                ("DriveAdd", {"drives": [{"driveID": 12}]}, None),
                ("BulkVolume", None, {"bvID": 1, "message": "Bulk volume job failed",
                                      "name": "xBulkVolumeScriptFailure", "volumeID": 1})):
            op = AsyncOp(self.next_handle, rtype, now - 7200, 60.0,
                         lambda r=result, e=error: (r, e))
            op.settle(now)
            self.ops[op.handle] = op
            self.next_handle += 1
        if "busy" in ACTIVE:  # someone else's drive addition, running for an hour
            op = AsyncOp(self.next_handle, "DriveAdd", now - 60, 3600.0,
                         lambda: ({"drives": []}, None))
            self.ops[op.handle] = op
            self.next_handle += 1

    # -- objects
    def _add_account(self, username: str, now: float) -> dict:
        acc = {
            "accountID": self.next_account, "username": username, "status": "active",
            "volumes": [], "initiatorSecret": "initsecret" + str(self.next_account),
            "targetSecret": "targsecret" + str(self.next_account), "attributes": {},
            "enableChap": True, "storageContainerID": "00000000-0000-0000-0000-000000000000",
        }
        self.accounts[acc["accountID"]] = acc
        self.next_account += 1
        return acc

    def _add_volume(self, name: str, account_id: int, size: int, now: float,
                    status: str) -> dict:
        vid = self.next_volume
        self.next_volume += 1
        vol = {
            "volumeID": vid, "name": name, "accountID": account_id, "createTime": iso_z(now),
            "status": status, "access": "readWrite", "enable512e": False, "totalSize": size,
            "blockSize": 4096, "attributes": {}, "qos": {"minIOPS": 50, "maxIOPS": 15000,
                                                        "burstIOPS": 15000, "burstTime": 60},
            "deleteTime": "", "purgeTime": "", "sliceCount": 1, "volumePairs": [],
            "virtualVolumeID": None, "iqn": f"iqn.2010-01.com.solidfire:jc.{name}.{vid}",
            "scsiEUIDeviceID": f"{vid:016x}", "scsiNAADeviceID": f"6f47acc1{vid:024x}",
        }
        self.volumes[vid] = vol
        if account_id in self.accounts:
            self.accounts[account_id]["volumes"].append(vid)
        return vol

    def settle(self, now: float) -> None:
        for op in self.ops.values():
            op.settle(now)

    # -- dispatch
    def call(self, version: str, method: str, params: dict) -> tuple[dict, dict]:
        """Returns (result, unusedParameters) or raises RpcError."""
        since = METHODS_SINCE.get(method)
        if since is None or float(version) < since:
            raise RpcError("xUnknownAPIMethod", f"Unknown method={method}")
        unused = {k: v for k, v in params.items() if k not in PARAMS[method]}
        handler = getattr(self, "m_" + method)
        with self.lock:
            now = time.time()
            self.settle(now)
            return handler(version, params, now), unused

    # -- helpers
    @staticmethod
    def _int(params: dict, name: str, required: bool = True):
        if name not in params:
            if required:
                raise RpcError("xMissingParameter", f"Missing member=[{name}]")
            return None
        v = params[name]
        if isinstance(v, bool):
            raise RpcError("xInvalidParameterType", f"Invalid type for member=[{name}]")
        if isinstance(v, int):
            return v
        if isinstance(v, float) and v.is_integer():
            return int(v)
        # The SDK's live test sends a numeric string handle and gets "does not exist", so the
        # cluster coerces numeric strings.
        if isinstance(v, str) and re.fullmatch(r"-?[0-9]+", v):
            return int(v)
        raise RpcError("xInvalidParameterType", f"Invalid type for member=[{name}]")

    @staticmethod
    def _str(params: dict, name: str) -> str:
        v = params.get(name)
        if v is None:
            raise RpcError("xMissingParameter", f"Missing member=[{name}]")
        if not isinstance(v, str):
            raise RpcError("xInvalidParameterType", f"Invalid type for member=[{name}]")
        if not 1 <= len(v) <= 64:
            raise RpcError("xInvalidParameter", f"Invalid value for member=[{name}]")
        return v

    @staticmethod
    def _bool(params: dict, name: str, default: bool) -> bool:
        if name not in params:
            return default
        v = params[name]
        if not isinstance(v, bool):
            raise RpcError("xInvalidParameterType", f"Invalid type for member=[{name}]")
        return v

    def _volume(self, vid: int, allow_deleted: bool = False) -> dict:
        vol = self.volumes.get(vid)
        if vol is None or (vol["status"] == "deleted" and not allow_deleted):
            raise RpcError("xVolumeIDDoesNotExist", f"VolumeID {vid} does not exist.")
        return vol

    # -- methods
    def m_GetAPI(self, version, params, now):
        if "numbers" in ACTIVE:
            return {"currentVersion": float(CURRENT_VERSION),
                    "supportedVersions": [float(v) for v in SUPPORTED_VERSIONS],
                    CURRENT_VERSION: sorted(METHODS_SINCE)}
        return {"currentVersion": CURRENT_VERSION, "supportedVersions": SUPPORTED_VERSIONS,
                CURRENT_VERSION: sorted(METHODS_SINCE)}

    def m_GetClusterVersionInfo(self, version, params, now):
        return {
            "clusterAPIVersion": CURRENT_VERSION,
            "clusterVersion": CLUSTER_VERSION,
            "clusterVersionInfo": [
                {"nodeID": n, "nodeInternalRevision": "12.5.0.897", "nodeVersion": "12.5.0.897"}
                for n in (1, 2, 3, 4)
            ],
            "softwareVersionInfo": {"currentVersion": CLUSTER_VERSION, "nodeID": 0,
                                    "packageName": "", "pendingVersion": CLUSTER_VERSION,
                                    "startTime": ""},
        }

    def m_GetLimits(self, version, params, now):
        return {
            "accountCountMax": 5000, "accountNameLengthMax": 64, "accountNameLengthMin": 1,
            "cloneJobsPerNodeMax": 8, "cloneJobsPerVolumeMax": 2,
            "volumeCountMax": 4000, "volumeNameLengthMax": 64, "volumeNameLengthMin": 1,
            "volumeSizeMax": 17592186044416, "volumeSizeMin": 1000000000,
            "volumesPerAccountCountMax": 2000, "snapshotsPerVolumeMax": 32,
        }

    def m_ListAccounts(self, version, params, now):
        return {"accounts": [dict(a) for a in sorted(self.accounts.values(),
                                                      key=lambda a: a["accountID"])]}

    def m_AddAccount(self, version, params, now):
        username = self._str(params, "username")
        if any(a["username"] == username for a in self.accounts.values()):
            raise RpcError("xDuplicateUsername", f"Username {username} already exists.")
        acc = self._add_account(username, now)
        return {"accountID": acc["accountID"], "account": dict(acc)}

    def m_RemoveAccount(self, version, params, now):
        aid = self._int(params, "accountID")
        acc = self.accounts.get(aid)
        if acc is None:
            raise RpcError("xAccountIDDoesNotExist", f"AccountID {aid} does not exist.")
        if any(v["accountID"] == aid for v in self.volumes.values()):
            # The RemoveAccount page: all volumes must be deleted and purged first.
            raise RpcError("xAccountHasVolumes",
                           f"Account {aid} still has volumes; delete and purge them first.")
        del self.accounts[aid]
        return {}

    def m_CreateVolume(self, version, params, now):
        name = self._str(params, "name")
        aid = self._int(params, "accountID")
        size = self._int(params, "totalSize")
        if aid not in self.accounts:
            raise RpcError("xAccountIDDoesNotExist", f"AccountID {aid} does not exist.")
        if size < 1000000000:
            raise RpcError("xVolumeSizeTooSmall", f"totalSize {size} is below volumeSizeMin.")
        size = -(-size // 1048576) * 1048576  # "rounded up to the nearest 1MiB"
        vol = self._add_volume(name, aid, size, now, "active")
        vol["enable512e"] = self._bool(params, "enable512e", False)
        return {"volumeID": vol["volumeID"], "volume": dict(vol), "curve": {}}

    def m_CloneVolume(self, version, params, now):
        src = self._volume(self._int(params, "volumeID"))
        name = self._str(params, "name")
        running = [o for o in self.ops.values()
                   if not o.complete() and getattr(o, "src", None) == src["volumeID"]]
        if len(running) >= 2:  # GetLimits.cloneJobsPerVolumeMax
            raise RpcError("xMaxClonesPerVolumeExceeded",
                           f"Volume {src['volumeID']} already has 2 clones in progress.")
        account = self._int(params, "newAccountID", required=False) or src["accountID"]
        if account not in self.accounts:
            raise RpcError("xAccountIDDoesNotExist", f"AccountID {account} does not exist.")
        size = self._int(params, "newSize", required=False) or src["totalSize"]
        clone = self._add_volume(name, account, size, now, "init")
        clone_id = self.next_clone
        self.next_clone += 1
        handle = self.next_handle
        self.next_handle += 1
        src_id, new_id = src["volumeID"], clone["volumeID"]

        def finish():
            vol = self.volumes.get(new_id)
            if vol is None or vol["status"] == "deleted":
                return None, {"name": "xCloneFailed", "message": "Clone target was deleted.",
                              "volumeID": new_id}
            vol["status"] = "active"
            return {"cloneID": clone_id, "message": "Clone complete.",
                    "volumeID": new_id}, None

        op = AsyncOp(handle, "Clone", now, self.cfg.job_s * random.uniform(0.9, 1.3), finish)
        op.src = src_id
        self.ops[handle] = op
        return {"asyncHandle": handle, "cloneID": clone_id, "volumeID": new_id,
                "volume": dict(clone), "curve": {}}

    def m_GetAsyncResult(self, version, params, now):
        handle = self._int(params, "asyncHandle")
        keep = self._bool(params, "keepResult", False)
        op = self.ops.get(handle)
        if op is None:
            # The page's own example for a non-existent handle.
            raise RpcError("xDBNoSuchPath",
                           "DBClient operation requested on a non-existent path at "
                           f"[/asyncresults/{handle}]")
        view = op.view(now)
        # "If keepResult is missing or false, the asyncHandle becomes inactive when the result
        # is returned"; the asynchronous-methods page: only a completed operation is purged.
        if op.complete() and not keep:
            del self.ops[handle]
        return view

    def m_ListAsyncResults(self, version, params, now):
        types = params.get("asyncResultTypes")
        if types is not None:
            if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
                raise RpcError("xInvalidParameterType",
                               "Invalid type for member=[asyncResultTypes]")
        entries = [op.list_entry(now) for op in sorted(self.ops.values(),
                                                       key=lambda o: o.handle)]
        if types is not None:
            entries = [e for e in entries if e["resultType"] in types]
        return {"asyncHandles": entries}

    def m_DeleteVolume(self, version, params, now):
        vol = self._volume(self._int(params, "volumeID"))
        vol["status"] = "deleted"
        vol["deleteTime"] = iso_z(now)
        vol["purgeTime"] = iso_z(now + 8 * 3600)
        return {"volumeID": vol["volumeID"], "volume": dict(vol), "curve": {}}

    def m_PurgeDeletedVolume(self, version, params, now):
        vid = self._int(params, "volumeID")
        vol = self.volumes.get(vid)
        if vol is None:
            raise RpcError("xVolumeIDDoesNotExist", f"VolumeID {vid} does not exist.")
        if vol["status"] != "deleted":
            raise RpcError("xVolumeNotDeleted", f"VolumeID {vid} is not deleted.")
        del self.volumes[vid]
        acc = self.accounts.get(vol["accountID"])
        if acc and vid in acc["volumes"]:
            acc["volumes"].remove(vid)
        return {}

    def m_ListVolumes(self, version, params, now):
        vols = sorted(self.volumes.values(), key=lambda v: v["volumeID"])
        status = params.get("volumeStatus")
        ids = params.get("volumeIDs")
        accounts = params.get("accounts")
        if ids is not None:
            vols = [v for v in vols if v["volumeID"] in ids]
        if accounts is not None:
            vols = [v for v in vols if v["accountID"] in accounts]
        if status is not None:
            vols = [v for v in vols if v["status"] == status]
        elif ids is None:
            vols = [v for v in vols if v["status"] != "deleted"]
        start = params.get("startVolumeID")
        if isinstance(start, int):
            vols = [v for v in vols if v["volumeID"] >= start]
        limit = params.get("limit")
        if isinstance(limit, int) and limit > 0:
            vols = vols[:limit]
        return {"volumes": [dict(v) for v in vols]}

    def m_ListDeletedVolumes(self, version, params, now):
        return {"volumes": [dict(v) for v in self.volumes.values() if v["status"] == "deleted"]}


# ---------------------------------------------------------------------------------------------
# AIQUM

CLUSTER_UUID = "3f9c2a1e-5b7d-11ee-9a3b-00a098d4c1f2"
SVM_KEY = f"{CLUSTER_UUID}:type=vserver,uuid=7d2c6e50-5b7e-11ee-9a3b-00a098d4c1f2"


class HttpError(Exception):
    def __init__(self, status: int, message: str, code: str = "", target: str = ""):
        super().__init__(message)
        self.status, self.message, self.code, self.target = status, message, code, target

    def body(self) -> dict:
        err = {"message": self.message, "code": self.code or str(self.status)}
        if self.target:
            err["target"] = self.target
        return {"error": err}


class Job:
    def __init__(self, key: str, name: str, description: str, submitted: float,
                 duration: float, on_finish, seq: int):
        self.key = key
        self.name = name
        self.description = description
        self.submitted = submitted
        self.duration = duration
        self.on_finish = on_finish  # () -> (status, job_results)
        self.seq = seq
        self.completed_at: float | None = None
        self.state = "running"
        self.status = "normal"
        self.job_results: list[dict] = []
        self.changed = threading.Condition()

    def settle(self, now: float) -> bool:
        if self.completed_at is None and now >= self.submitted + self.duration:
            self.completed_at = self.submitted + self.duration
            self.status, self.job_results = self.on_finish()
            self.state = "completed"
            return True
        return False

    def terminal(self) -> bool:
        return self.state in ("completed", "aborted")

    def last_modified(self) -> float:
        return self.completed_at if self.completed_at is not None else self.submitted

    def view(self, prefix: str) -> dict:
        state = self.state
        if "queued" in ACTIVE and state == "running" and \
                time.time() < self.submitted + self.duration / 3:
            state = "queued"
        status = self.status
        if "bad-job-state" in ACTIVE and state == "completed":
            state = "success"
        if "upper" in ACTIVE:
            state, status = state.upper(), status.upper()
        return {
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "type": "workflow",  # CHOICE
            "state": state,
            "status": status,
            "submit_time": iso_offset(self.submitted),
            # CHOICE: present and null until the job finishes (Jackson serializes nulls).
            "complete_time": iso_offset(self.completed_at) if self.completed_at else None,
            "job_results": list(self.job_results),
            "_links": {"self": {"href": f"{prefix}/management-server/jobs/{self.key}"}},
        }


class Aiqum:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.jobs: dict[str, Job] = {}
        self.luns: dict[str, dict] = {}
        self.seq = 0
        self.node = random.getrandbits(64)
        self.vm_id = random.getrandbits(31)
        self.counter = -0x8000
        self._history()

    def _new_key(self, when: float) -> str:
        """Keys shaped like the doc's 06a6148bf9e862df:-2611856e:16e8d47e722:-7f87."""
        self.counter += 1

        def signed_hex(v: int) -> str:
            return f"-{-v:x}" if v < 0 else f"{v:x}"
        return (f"{self.node:016x}:{signed_hex(-self.vm_id)}:{int(when * 1000):x}:"
                f"{signed_hex(self.counter)}")

    def _history(self) -> None:
        """A server has history: 25 finished jobs from the last two days, some failed."""
        now = time.time()
        outcomes = ["normal"] * 18 + ["warning", "error", "partial_failures"] * 2 + ["normal"]
        for i, status in enumerate(outcomes):
            t = now - 2 * 86400 + i * 3600
            job = Job(self._new_key(t), "Rediscover cluster" if i % 3 else "Provision LUN",
                      "", t, 42.0, lambda s=status: (s, []), self._next_seq())
            job.settle(now)
            self.jobs[job.key] = job
        if "busy" in ACTIVE:
            t = now - 60
            job = Job(self._new_key(t), "Rediscover cluster", "", t, 3600.0,
                      lambda: ("normal", []), self._next_seq())
            self.jobs[job.key] = job

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def settle(self) -> None:
        now = time.time()
        if any(j.settle(now) for j in self.jobs.values()):
            self.cond.notify_all()

    def ticker(self) -> None:
        """Wakes long polls when jobs finish."""
        while True:
            time.sleep(0.02)
            with self.lock:
                self.settle()

    # -- LUNs
    def create_lun(self, body, prefix: str) -> dict:
        if not isinstance(body, dict):
            raise HttpError(400, "The request body must be a JSON object.", "1")
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise HttpError(400, "The field 'name' is required.", "2", "name")
        svm = body.get("svm")
        if not isinstance(svm, dict) or not isinstance(svm.get("key"), str):
            raise HttpError(400, "The field 'svm.key' is required.", "2", "svm.key")
        if svm["key"] != SVM_KEY:
            raise HttpError(404, f"SVM with key {svm['key']} not found.", "4", "svm.key")
        space = body.get("space")
        size = space.get("size") if isinstance(space, dict) else None
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise HttpError(400, "The field 'space.size' must be a positive integer.", "2",
                            "space.size")
        with self.lock:
            self.settle()
            now = time.time()
            lun_uuid = str(uuid.uuid4())
            lun_key = f"{CLUSTER_UUID}:type=lun,uuid={lun_uuid}"
            vol_key = f"{CLUSTER_UUID}:type=volume,uuid={uuid.uuid4()}"

            def finish():
                self.luns[lun_key] = {
                    "key": lun_key, "name": f"/vol/{name}_vol/{name}", "uuid": lun_uuid,
                    "svm": {"key": SVM_KEY, "name": "svm1"},
                    "space": {"size": size}, "volume": {"key": vol_key},
                    "os_type": body.get("os_type", "linux"),
                    "_links": {"self": {"href": f"{prefix}/storage-provider/luns/{lun_key}"}},
                }
                return "normal", [{"name": "lunKey", "value": lun_key},
                                  {"name": "volumeKey", "value": vol_key}]
            job = self._start(now, "Provision LUN", f"Create LUN {name}", finish)
        return self._accepted(job, prefix)

    def delete_lun(self, key: str, prefix: str) -> dict:
        with self.lock:
            self.settle()
            if key not in self.luns:
                raise HttpError(404, f"LUN with key {key} not found.", "4", "key")
            now = time.time()

            def finish():
                self.luns.pop(key, None)
                return "normal", []
            job = self._start(now, "Delete LUN", f"Delete LUN {key}", finish)
        return self._accepted(job, prefix)

    def _start(self, now: float, name: str, description: str, finish) -> Job:
        job = Job(self._new_key(now), name, description, now,
                  self.cfg.job_s * random.uniform(0.9, 1.3), finish, self._next_seq())
        self.jobs[job.key] = job
        return job

    @staticmethod
    def _accepted(job: Job, prefix: str) -> dict:
        if "nolinks" in ACTIVE:
            return {"job": {"key": job.key}}
        return {"job": {"key": job.key,
                        "_links": {"self": {"href": f"{prefix}/management-server/jobs/{job.key}"}}}}

    # -- jobs
    def get_job(self, key: str, query: dict, prefix: str) -> dict:
        allowed = {"poll_timeout", "last_modified", "fields"}
        for k in query:
            if k not in allowed:
                raise HttpError(400, f"Unexpected argument \"{k}\".", "3", k)
        timeout = None
        if "poll_timeout" in query:
            try:
                timeout = int(query["poll_timeout"])
            except ValueError:
                raise HttpError(400, "poll_timeout must be an integer.", "3", "poll_timeout")
            if not 1 <= timeout <= 120:  # Deploy: "1 to 120 seconds"
                raise HttpError(400, "poll_timeout must be between 1 and 120.", "3",
                                "poll_timeout")
        since = None
        if "last_modified" in query:
            since = parse_time(query["last_modified"])
            if since is None:
                raise HttpError(400, "last_modified must be an ISO 8601 date-time.", "3",
                                "last_modified")
        with self.lock:
            self.settle()
            job = self.jobs.get(key)
            if job is None:
                raise HttpError(404, f"Job with key {key} not found.", "4", "key")
            if timeout is not None:
                # Long poll: answer once the job is terminal (AIQUM page), or once it changed
                # after last_modified (Deploy page), or when poll_timeout has passed.
                deadline = time.time() + timeout
                while not job.terminal():
                    if since is not None and job.last_modified() > since:
                        break
                    left = deadline - time.time()
                    if left <= 0:
                        break
                    self.cond.wait(min(left, 0.05))
                    self.settle()
            return job.view(prefix)

    def list_jobs(self, query: dict, prefix: str) -> dict:
        filters = {"key", "name", "type", "state", "status", "submit_time", "complete_time",
                   "description"}
        allowed = filters | {"max_records", "offset", "order_by", "fields"}
        for k in query:
            if k not in allowed:
                raise HttpError(400, f"Unexpected argument \"{k}\".", "3", k)
        max_records = 20  # concept_job_api: "returns the details of the last 20 jobs"
        if "max_records" in query:
            try:
                max_records = int(query["max_records"])
            except ValueError:
                raise HttpError(400, "max_records must be an integer.", "3", "max_records")
            if max_records < 1:
                raise HttpError(400, "max_records must be positive.", "3", "max_records")
        page = min(max_records, 1000)  # "A GET (all) returns at most 1000 records"
        try:
            offset = int(query.get("offset", "0"))
        except ValueError:
            raise HttpError(400, "offset must be an integer.", "3", "offset")
        if offset < 0:
            raise HttpError(400, "offset must not be negative.", "3", "offset")
        order_field, descending = "submit_time", True
        if "order_by" in query:
            parts = query["order_by"].split()
            if not parts or len(parts) > 2 or parts[0] not in filters or (
                    len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
                raise HttpError(400, f"Invalid order_by \"{query['order_by']}\".", "3",
                                "order_by")
            order_field = parts[0]
            descending = len(parts) == 2 and parts[1].lower() == "desc"
        with self.lock:
            self.settle()
            views = [(j, j.view(prefix)) for j in self.jobs.values()]
        for f in filters & set(query):
            views = [(j, v) for j, v in views if matches(v.get(f), query[f])]

        def sort_key(item):
            j, v = item
            if order_field == "submit_time":
                return (j.submitted, j.seq)
            val = v.get(order_field)
            return (val is None, str(val or ""), j.seq)
        views.sort(key=sort_key, reverse=descending)
        total = len(views)
        records = [v for _, v in views[offset:offset + page]]
        base = {k: v for k, v in query.items() if k not in ("offset",)}
        links = {"self": {"href": href(prefix, query)}}
        if offset + page < total:
            nxt = dict(base)
            nxt["max_records"] = str(page)
            nxt["offset"] = str(offset + page)
            links["next"] = {"href": href(prefix, nxt)}
        return {"records": records, "num_records": len(records), "total_records": total,
                "_links": links}


def href(prefix: str, query: dict) -> str:
    q = urllib.parse.urlencode(query, safe=":*|,")
    return f"{prefix}/management-server/jobs" + (f"?{q}" if q else "")


def matches(value, pattern: str) -> bool:
    """reference_recommendations_to_use_um_apis: `|` is OR, `*` is a wildcard."""
    text = "" if value is None else str(value)
    for alt in pattern.split("|"):
        if fnmatch.fnmatchcase(text.lower(), alt.lower()):
            return True
    return False


def parse_time(text: str) -> float | None:
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.timestamp()


# ---------------------------------------------------------------------------------------------
# HTTP


class Handler(BaseHTTPRequestHandler):
    server_version = "jc-independent/1"
    protocol_version = "HTTP/1.1"
    element: Element
    aiqum: Aiqum
    cfg: Config

    def log_message(self, fmt, *args):  # quiet unless asked
        if os.environ.get("JC_INDEPENDENT_LOG"):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    # -- plumbing
    def _send(self, status: int, body, content_type="application/json", headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        if content_type == "application/json" and "charset" in ACTIVE:
            content_type = "application/json;charset=UTF-8"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, pw = base64.b64decode(header[6:]).decode().partition(":")
        except Exception:
            return False
        return user == self.cfg.user and pw == self.cfg.password

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_DELETE(self):
        self._route("DELETE")

    def do_PATCH(self):
        self._route("PATCH")

    def do_PUT(self):
        self._route("PUT")

    def _route(self, verb: str):
        body = self._body()
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        try:
            if path.startswith("/json-rpc/"):
                return self._element(verb, path, body)
            m = re.match(r"^(/api(?:/v2)?)(/.*)?$", path)
            if m:
                return self._aiqum(verb, m.group(1), m.group(2) or "/", url.query, body)
            self._send(404, b"Not Found", "text/plain")
        except Exception as e:  # never leave a client hanging
            self._send(500, {"error": {"message": f"internal error: {e}", "code": "500"}})

    # -- Element
    def _element(self, verb: str, path: str, body: bytes):
        version = path[len("/json-rpc/"):].rstrip("/")
        if version not in SUPPORTED_VERSIONS:
            return self._send(404, b"404 Not Found", "text/plain")
        if not self._authorized():
            # concept_element_api_authentication; the body is not JSON on a real cluster
            return self._send(401, b"<html><body>401 Unauthorized.</body></html>",
                              "text/html", {"WWW-Authenticate": 'Basic realm="SolidFire"'})
        if verb != "POST":
            return self._send(405, b"405 Method Not Allowed", "text/plain", {"Allow": "POST"})
        try:
            req = json.loads(body or b"null")
        except ValueError:
            req = None
        rid = req.get("id") if isinstance(req, dict) else None
        if not isinstance(req, dict) or not isinstance(req.get("method"), str):
            # CHOICE: no batches; anything but one request object is a method error.
            return self._send(200, {"id": rid, "error": {
                "code": 500, "name": "xInvalidRequest",
                "message": "The request must be a JSON object with a string method."}})
        params = req.get("params", {})
        if params is None:
            params = {}
        if not isinstance(params, dict):
            return self._send(200, {"id": rid, "error": {
                "code": 500, "name": "xInvalidParameter",
                "message": "params must be an object (named parameters only)."}})
        try:
            result, unused = self.element.call(version, req["method"], params)
        except RpcError as e:
            return self._send(200, {"id": rid, "error": {"code": e.code, "name": e.name,
                                                         "message": e.message}})
        out = {"id": rid, "result": result}
        if unused and "unused-in-result" in ACTIVE:
            result["unusedParameters"] = unused
        elif unused:
            # reference_element_api_response_object_members: a member of the response object.
            out["unusedParameters"] = unused
        self._send(200, out)

    # -- AIQUM
    def _aiqum(self, verb: str, prefix: str, rest: str, query: str, body: bytes):
        try:
            if not self._authorized():
                raise HttpError(401, "Authentication failed: invalid or missing credentials.",
                                "401")
            q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
            if "abs-links" in ACTIVE:
                prefix = f"http://{self.headers.get('Host', '127.0.0.1')}{prefix}"
            rest = rest.rstrip("/") or "/"
            if rest == "/management-server/jobs":
                if verb != "GET":
                    raise HttpError(405, f"Method {verb} is not allowed on this resource.")
                return self._send(200, self.aiqum.list_jobs(q, prefix))
            m = re.match(r"^/management-server/jobs/([^/]+)$", rest)
            if m:
                if verb != "GET":
                    raise HttpError(405, f"Method {verb} is not allowed on this resource.")
                key = urllib.parse.unquote(m.group(1))
                return self._send(200, self.aiqum.get_job(key, q, prefix))
            if rest == "/storage-provider/luns":
                if verb == "POST":
                    try:
                        parsed = json.loads(body or b"null")
                    except ValueError:
                        raise HttpError(400, "The request body is not valid JSON.", "1")
                    return self._send(202, self.aiqum.create_lun(parsed, prefix))
                if verb == "GET":
                    with self.aiqum.lock:
                        self.aiqum.settle()
                        recs = list(self.aiqum.luns.values())
                    return self._send(200, {"records": recs, "num_records": len(recs),
                                            "total_records": len(recs),
                                            "_links": {"self": {"href": prefix + rest}}})
                raise HttpError(405, f"Method {verb} is not allowed on this resource.")
            m = re.match(r"^/storage-provider/luns/([^/]+)$", rest)
            if m:
                key = urllib.parse.unquote(m.group(1))
                if verb == "DELETE":
                    return self._send(202, self.aiqum.delete_lun(key, prefix))
                if verb == "GET":
                    with self.aiqum.lock:
                        self.aiqum.settle()
                        lun = self.aiqum.luns.get(key)
                    if lun is None:
                        raise HttpError(404, f"LUN with key {key} not found.", "4", "key")
                    return self._send(200, lun)
                raise HttpError(405, f"Method {verb} is not allowed on this resource.")
            if rest == "/storage-provider/svms" or rest == "/datacenter/svm/svms":
                recs = [{"key": SVM_KEY, "name": "svm1"}]
                return self._send(200, {"records": recs, "num_records": 1, "total_records": 1,
                                        "_links": {"self": {"href": prefix + rest}}})
            raise HttpError(404, f"The resource {prefix}{rest} does not exist.")
        except HttpError as e:
            headers = {}
            if e.status == 401:
                headers["WWW-Authenticate"] = 'Basic realm="Unified Manager"'
            self._send(e.status, e.body(), headers=headers)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--user", default="admin")
    ap.add_argument("--password", default=None)
    ap.add_argument("--password-env", default=None)
    ap.add_argument("--fast", action="store_true", help="jobs take ~0.3 s instead of ~1.5 s")
    ap.add_argument("--variant", action="append", default=[], choices=sorted(VARIANTS),
                    help="serve another reading of the pages (repeatable)")
    args = ap.parse_args()
    ACTIVE.update(args.variant)
    password = args.password
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            sys.exit(f"server.py: ${args.password_env} is not set")
    if password is None:
        sys.exit("server.py: give --password or --password-env")
    cfg = Config(args.user, password, args.fast)
    Handler.cfg = cfg
    Handler.element = Element(cfg)
    Handler.aiqum = Aiqum(cfg)
    threading.Thread(target=Handler.aiqum.ticker, daemon=True).start()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    port = srv.server_address[1]
    print(f"ELEMENT http://127.0.0.1:{port}/json-rpc/{CURRENT_VERSION}", flush=True)
    print(f"AIQUM http://127.0.0.1:{port}/api", flush=True)
    print(f"SVM_KEY {SVM_KEY}", flush=True)
    print(f"PORT {port}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
