#!/usr/bin/env python3
"""SDK proof for the jobconform Element mock: drive it with NetApp's own solidfire-sdk-python and
its typed result models. The SDK's own extraction is lenient (a missing required member silently
becomes None), so every typed call here also checks the raw answer against the model's required
members, recursively.

Usage: sdk_roundtrip.py URL USER PASSWORD     (URL = http[s]://HOST:PORT)

With an https URL the connection goes through solidfire.factory.ElementFactory.create, exactly
as a user would connect to a cluster. The SDK hard-codes https in its endpoints, so with an http
URL the script builds the same Element objects the factory builds (GetAPI at 7.0, then the
current version) over a CurlDispatcher pointed at the http endpoint. Exits 0 on success; any
failed check raises.
"""

import sys
import time
import uuid
from urllib.parse import urlparse

from solidfire import Element, models
from solidfire.common import ApiServerError, CurlDispatcher
from solidfire.common import model as data_model
from solidfire.factory import ElementFactory


def connect(url, user, password):
    u = urlparse(url)
    if u.scheme == "https":
        return ElementFactory.create(u.hostname, user, password, verify_ssl=False,
                                     port=u.port or 443, print_ascii_art=False, timeout=30)

    def element(version):
        endpoint = "http://%s/json-rpc/%.1f" % (u.netloc, float(version))
        dispatcher = CurlDispatcher(endpoint, user, password, False)
        dispatcher.timeout(30)
        return Element(u.netloc, user, password, version, False, dispatcher=dispatcher)

    api = element(7.0).get_api()
    return element(api.current_version)


def missing_required(cls, data, path):
    """Required members of SDK model `cls` absent from `data` (recursively). The SDK's own
    extraction is lenient (a missing member silently becomes None), so this is the strict check."""
    props = getattr(cls, "_properties", None)
    if props is None and isinstance(cls, type) and issubclass(cls, data_model.DataObject):
        cls._create_properties()
        props = cls._properties
    if not props or not isinstance(data, dict):
        return []
    missing = []
    for prop in props.values():
        name = prop.member_name()
        if name not in data or data[name] is None:
            if not prop.optional():
                missing.append(path + "." + name)
            continue
        values = data[name] if prop.array() and isinstance(data[name], list) else [data[name]]
        for i, v in enumerate(values):
            missing += missing_required(prop.member_type(), v, "%s.%s[%d]" % (path, name, i))
    return missing


def strict(sf, method, params, cls):
    """Calls `method` raw, fails on any required member missing, returns the typed result."""
    raw = sf.send_request(method, dict, params)
    missing = missing_required(cls, raw, method)
    assert not missing, "missing required members: %s" % missing
    return data_model.extract(cls, raw)


def expect_server_error(name, call):
    try:
        call()
    except ApiServerError as e:
        assert e.error_name == name, "expected %s, got %r" % (name, e)
        assert e.error_code == 500, e
        return
    raise AssertionError("expected an %s error" % name)


def wait_complete(sf, handle, deadline_s=30.0):
    end = time.monotonic() + deadline_s
    seen_running = False
    while time.monotonic() < end:
        r = sf.get_async_result(handle, keep_result=True)
        assert r["status"] in ("running", "complete"), r
        if r["status"] == "complete":
            return r, seen_running
        seen_running = True
        assert "details" in r and "result" not in r and "error" not in r, r
        time.sleep(0.02)
    raise AssertionError("handle %d never completed" % handle)


def main():
    url, user, password = sys.argv[1:4]
    sf = connect(url, user, password)
    assert 12.5 in [float(v) for v in sf.get_api().supported_versions]
    info = strict(sf, "GetClusterVersionInfo", {}, models.GetClusterVersionInfoResult)
    assert isinstance(info.cluster_version, str), info
    strict(sf, "GetClusterInfo", {}, models.GetClusterInfoResult)
    limits = strict(sf, "GetLimits", {}, models.GetLimitsResult)
    tag = uuid.uuid4().hex[:8]

    acct = strict(sf, "AddAccount", {"username": "jc-sdk-" + tag}, models.AddAccountResult)
    account_id = acct.account_id
    assert acct.account.username == "jc-sdk-" + tag
    vol = strict(sf, "CreateVolume", {"name": "jc-src-" + tag, "accountID": account_id,
                                      "totalSize": limits.volume_size_min, "enable512e": False},
                 models.CreateVolumeResult)
    src = vol.volume_id
    assert vol.volume.status == "active", vol.volume.status

    clone = strict(sf, "CloneVolume", {"volumeID": src, "name": "jc-clone-" + tag},
                   models.CloneVolumeResult)
    handle, clone_id, new_id = clone.async_handle, clone.clone_id, clone.volume_id
    assert clone.volume.status == "init", clone.volume.status
    listed = sf.list_volumes(volume_ids=[new_id]).volumes
    assert [v.status for v in listed] == ["init"], listed

    done, seen_running = wait_complete(sf, handle)
    assert seen_running, "the clone was never seen running"
    assert done["resultType"] == "Clone", done
    assert done["result"]["cloneID"] == clone_id, done
    assert "details" not in done and "error" not in done, done

    entries = strict(sf, "ListAsyncResults", {"asyncResultTypes": ["Clone"]},
                     models.ListAsyncResultsResult).async_handles
    mine = [e for e in entries if e.async_result_id == handle]
    assert len(mine) == 1 and mine[0].completed and mine[0].success, entries
    assert mine[0].data == done["result"], (mine[0].data, done)

    again = sf.get_async_result(handle)  # no keepResult: returns once, then the handle is gone
    assert again == done, (again, done)
    expect_server_error("xAsyncHandleDoesNotExist", lambda: sf.get_async_result(handle))

    done_vols = strict(sf, "ListVolumes", {"volumeIDs": [new_id]}, models.ListVolumesResult)
    assert [v.status for v in done_vols.volumes] == ["active"]
    for v in (new_id, src):
        assert [x.volume_id for x in sf.list_volumes(volume_ids=[v]).volumes] == [v]
    for v in (new_id, src):
        strict(sf, "DeleteVolume", {"volumeID": v}, models.DeleteVolumeResult)
    expect_server_error("xAccountHasVolumes", lambda: sf.remove_account(account_id=account_id))
    for v in (new_id, src):
        sf.purge_deleted_volume(volume_id=v)
    sf.remove_account(account_id=account_id)
    assert sf.list_volumes(accounts=[account_id]).volumes == []
    print("sdk roundtrip ok: handle %d clone %d volume %d" % (handle, clone_id, new_id))


if __name__ == "__main__":
    main()
