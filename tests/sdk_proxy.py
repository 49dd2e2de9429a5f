#!/usr/bin/env python3
"""NetApp's solidfire-sdk-python through `jobconform proxy`: clone a volume, poll the clone's
handle with keepResult=True until it is complete, then fetch it once more with keepResult=True
(a conformant cluster still has it: EL-KEEP-TRUE). Prints what the second fetch got; the proxy
judges the rules. Cleans up what it created.

Usage: sdk_proxy.py URL USER PASSWORD     (URL = the proxy's http[s]://HOST:PORT)
"""

import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sdk_roundtrip import connect  # noqa: E402
from solidfire.common import ApiServerError  # noqa: E402


def main():
    url, user, password = sys.argv[1:4]
    sf = connect(url, user, password)
    tag = uuid.uuid4().hex[:8]
    acct = sf.add_account(username="jc-proxy-" + tag)
    size = sf.get_limits().volume_size_min
    vol = sf.create_volume(name="jc-src-" + tag, account_id=acct.account_id, total_size=size,
                           enable512e=False)
    clone = sf.clone_volume(volume_id=vol.volume_id, name="jc-clone-" + tag)
    handle = clone.async_handle
    for _ in range(600):
        r = sf.get_async_result(handle, keep_result=True)
        if r["status"] == "complete":
            break
        time.sleep(0.1)
    else:
        raise AssertionError("handle %d never completed" % handle)
    try:
        again = sf.get_async_result(handle, keep_result=True)
        print("second fetch with keepResult=True: %s" % again["status"])
    except ApiServerError as e:
        print("second fetch with keepResult=True: %s" % e)
    for v in (clone.volume_id, vol.volume_id):
        sf.delete_volume(volume_id=v)
        sf.purge_deleted_volume(volume_id=v)
    sf.remove_account(account_id=acct.account_id)


if __name__ == "__main__":
    main()
