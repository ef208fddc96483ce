#!/usr/bin/env python3
# json_contract.py - checks patctl --json outputs against the shapes
# patctl(1) documents (section JSON OUTPUT).  Usage: json_contract.py DIR
# where DIR/manifest has one "N RC KIND" line per run and DIR/out.N holds
# that run's stdout.  Prints each problem; exits 1 if there is any.
import json
import sys

S, I, B = str, int, bool
OPT = "optional"

TOKEN = {"id": I, "user": S, "uid": I, "name": S, "role": S, "state": S,
         "created": I, "by": S, "parent": I, "expires": I, "ends": I,
         "ends_by": (S, OPT), "revoked": I, "bind_from": [S],
         "bind_service": [S], "bind_uses": I, "used": (I, OPT),
         "last_used": I,
         "last_service": (S, OPT), "last_rhost": (S, OPT)}
CREATED = {"id": I, "token": S, "user": S, "role": S, "name": S,
           "expires": I, "expires_by": (S, OPT), "by": S, "parent": I,
           "perms": [S], "bind_from": [S], "bind_service": [S],
           "bind_uses": I,
           "stripped": [S], "stripped_owner": [S],
           "stripped_cap": [S]}
POLICY = {"max_lifetime": I, "default_lifetime": I, "max_idle": I}
PERM = {"perm": S, "status": S, "by": (S, OPT), "effective": [S]}
FOUND = {"file": S, "line": I, "id": I, "revoke": (S, OPT)}


def items(item, **more):
    d = {"items": [item], "count": I}
    d.update(more)
    return d


SCHEMAS = {
    "create": CREATED,
    "rotate": CREATED,
    "list": items(TOKEN),
    "show": {"token": dict(TOKEN, perms=[S], cap=[S]), "items": [PERM],
             "count": I},
    "revoke": items({"id": I, "revoked": I, "pending": B,
                     "already": (S, OPT), "revoked_at": (I, OPT),
                     "rotated_into": (I, OPT)}, revoked=I),
    "revoke-all": items({"all": B, "user": S, "revoked": I, "pending": B},
                        revoked=I),
    "revoke-secret": {"revoked": I, "pending": B, "id": (I, OPT),
                      "already": (S, OPT)},
    "scan": items(FOUND, revoked=I, unreadable=I),
    "verify": {"valid": B, "id": I, "user": S, "uid": I, "role": S,
               "name": S, "expires": I, "perms": [S]},
    "role-list": items(dict({"name": S, "perms": [S]}, **POLICY)),
    "role-show": items({"kind": S, "name": S}, name=S, perms=[S], **POLICY),
    "role-set": {"name": S},
    "role-delete": {"deleted": B, "name": S},
    "grant": {"role": S, "user": (S, OPT), "group": (S, OPT), "existed": B},
    "ungrant": {"role": S, "user": (S, OPT), "group": (S, OPT)},
    "status": {"proto": I, "version": S, "tokens": I, "roles": I,
               "grants": I, "connections": I, "accepted": I, "uptime": I,
               "writes": I, "commits": I, "store_bytes": I,
               "store_max_bytes": I, "peer_uid": I, "peer_admin": B},
    "whoami": items({"role": S, "via": S, "group": (S, OPT)}, uid=I, user=S,
                    perms=[S], admin=B, verifier=B,
                    session=(("null", {"state": S, "expires": I}), )),
    "login": {"session": {"state": S, "expires": I}},
    "logout": {"session": (("null", {"state": S}), )},
    "help": {"help": S},
    "version": {"version": S},
    "error": {"error": {"code": S, "message": S, "hint": (S, OPT)},
              "valid": (B, OPT), "revoked": (I, OPT),
              # scan: what was found goes with tokens-found
              "items": ([FOUND], OPT), "count": (I, OPT),
              "unreadable": (I, OPT)},
}


def check(v, shape, path, probs):
    if isinstance(shape, tuple) and len(shape) == 1:  # alternatives
        for alt in shape[0]:
            if alt == "null" and v is None:
                return
            if alt != "null" and isinstance(v, dict):
                return check(v, alt, path, probs)
        probs.append(f"{path}: {v!r} is none of the documented shapes")
        return
    if isinstance(shape, list):
        if not isinstance(v, list):
            probs.append(f"{path}: expected an array, got {v!r}")
            return
        for i, e in enumerate(v):
            check(e, shape[0], f"{path}[{i}]", probs)
        return
    if isinstance(shape, dict):
        if not isinstance(v, dict):
            probs.append(f"{path}: expected an object, got {v!r}")
            return
        for k, s in shape.items():
            opt = isinstance(s, tuple) and len(s) == 2 and s[1] == OPT
            if k not in v:
                if not opt:
                    probs.append(f"{path}: no member {k!r}")
                continue
            check(v[k], s[0] if opt else s, f"{path}.{k}", probs)
        for k in v:
            if k not in shape:
                probs.append(f"{path}: undocumented member {k!r}")
        if "items" in shape and isinstance(v.get("items"), list) and \
                v.get("count") != len(v["items"]):
            probs.append(f"{path}: count {v.get('count')} is not the "
                         f"number of items {len(v['items'])}")
        return
    # booleans are ints in Python: tell them apart
    if shape is I and (type(v) is not int):
        probs.append(f"{path}: expected a number, got {v!r}")
    elif shape is B and type(v) is not bool:
        probs.append(f"{path}: expected a boolean, got {v!r}")
    elif shape is S and not isinstance(v, str):
        probs.append(f"{path}: expected a string, got {v!r}")


def main():
    d = sys.argv[1]
    probs, n = [], 0
    for line in open(f"{d}/manifest"):
        num, rc, kind = line.split()
        rc = int(rc)
        raw = open(f"{d}/out.{num}", "rb").read()
        where = f"run {num} ({kind}, exit {rc})"
        n += 1
        if raw.count(b"\n") != 1 or not raw.endswith(b"\n"):
            probs.append(f"{where}: not exactly one line of output: {raw!r}")
            continue
        try:
            doc = json.loads(raw.decode("utf-8"))
        except ValueError as e:
            probs.append(f"{where}: not JSON ({e}): {raw!r}")
            continue
        if rc != 0:
            check(doc, SCHEMAS["error"], where, probs)
            if kind == "verify" and doc.get("valid") is not False:
                probs.append(f"{where}: a refused verify says no verdict")
        else:
            if "error" in doc:
                probs.append(f"{where}: an error document with exit 0")
            check(doc, SCHEMAS[kind], where, probs)
    for p in probs:
        print(p)
    print(f"{n} outputs checked, {len(probs)} problems")
    return 1 if probs else 0


sys.exit(main())
