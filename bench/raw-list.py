#!/usr/bin/env python3
"""The floor for a live run: list what vigil lists, and do nothing with it.

Lists the kinds vigil reads from the API server of a kubeconfig, all kinds
at once (one connection each, as vigil does), page by page with the same
page size, following continue tokens, and throws the bodies away. What this
takes is what the API server needs to encode and send the state; vigil
cannot be faster than that. Prints one line of JSON: pages, bytes, seconds.

    bench/raw-list.py --kubeconfig FILE [--protobuf] [--page-size 500]

Only the kubeconfig shape `vigil dev control-plane` writes is understood
(a token, certificate-authority-data).
"""
import argparse
import base64
import http.client
import json
import re
import ssl
import tempfile
import threading
import time
import urllib.parse

import yaml

# What vigil lists on a Kubernetes API server:
# src/sources/live.rs LISTED, minus the kinds such a server does not serve.
KINDS = [
    "/api/v1/namespaces",
    "/api/v1/nodes",
    "/api/v1/pods",
    "/api/v1/services",
    "/api/v1/endpoints",
    "/api/v1/events",
    "/api/v1/replicationcontrollers",
    "/apis/apps/v1/deployments",
    "/apis/apps/v1/replicasets",
    "/apis/apps/v1/statefulsets",
    "/apis/apps/v1/daemonsets",
    "/apis/policy/v1/poddisruptionbudgets",
    "/apis/autoscaling/v2/horizontalpodautoscalers",
    "/apis/discovery.k8s.io/v1/endpointslices",
]


def varint(b, i):
    shift = n = 0
    while True:
        byte = b[i]
        i += 1
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            return n, i
        shift += 7


def fields(b):
    """(field number, value) of a protobuf message; value is a memoryview
    for length-delimited fields, an int otherwise."""
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = varint(b, i)
        elif wire == 2:
            n, i = varint(b, i)
            v = b[i:i + n]
            i += n
        elif wire == 1:
            v, i = None, i + 8
        elif wire == 5:
            v, i = None, i + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield num, v


def continue_protobuf(body):
    """The continue token of a protobuf list: Unknown.raw (2) -> List.metadata (1) -> continue (3)."""
    env = memoryview(body)[4:]
    for num, v in fields(env):
        if num == 2:
            for lnum, lv in fields(v):
                if lnum == 1:
                    for mnum, mv in fields(lv):
                        if mnum == 3:
                            return bytes(mv).decode()
                    return ""
                # metadata is written first; stop at the items.
                return ""
    return ""


CONTINUE_JSON = re.compile(rb'"continue":"([^"]*)"')


def continue_json(body):
    m = CONTINUE_JSON.search(body, 0, 2000)
    return m.group(1).decode() if m else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--protobuf", action="store_true")
    ap.add_argument("--page-size", type=int, default=500, help="0: unpaged")
    ap.add_argument("--resource-version", default="", help="0: any version (the watch cache)")
    args = ap.parse_args()
    kc = yaml.safe_load(open(args.kubeconfig))
    cluster = kc["clusters"][0]["cluster"]
    token = kc["users"][0]["user"]["token"]
    url = urllib.parse.urlparse(cluster["server"])
    ca = tempfile.NamedTemporaryFile("wb", suffix=".pem")
    ca.write(base64.b64decode(cluster["certificate-authority-data"]))
    ca.flush()
    ctx = ssl.create_default_context(cafile=ca.name)
    accept = "application/vnd.kubernetes.protobuf" if args.protobuf else "application/json"
    next_token = continue_protobuf if args.protobuf else continue_json
    totals = {"pages": 0, "bytes": 0}
    lock = threading.Lock()
    errors = []

    def list_kind(path):
        conn = http.client.HTTPSConnection(url.hostname, url.port, context=ctx)
        token_ = ""
        try:
            while True:
                q = f"?limit={args.page_size}" if args.page_size else "?"
                q += f"&continue={urllib.parse.quote(token_)}" if token_ else ""
                q += f"&resourceVersion={args.resource_version}" if args.resource_version else ""
                conn.request("GET", path + q, headers={"Authorization": f"Bearer {token}", "Accept": accept})
                r = conn.getresponse()
                body = r.read()
                if r.status != 200:
                    raise RuntimeError(f"{path}: HTTP {r.status}")
                with lock:
                    totals["pages"] += 1
                    totals["bytes"] += len(body)
                token_ = next_token(body)
                if not token_:
                    return
        except Exception as e:  # reported, and the run fails
            errors.append(str(e))

    started = time.monotonic()
    threads = [threading.Thread(target=list_kind, args=(p,)) for p in KINDS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - started
    if errors:
        raise SystemExit("raw-list: " + "; ".join(errors))
    print(json.dumps({"accept": accept, "page_size": args.page_size, "seconds": round(took, 3), **totals}))


if __name__ == "__main__":
    main()
