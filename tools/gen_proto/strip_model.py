#!/usr/bin/env python3
"""Strip botocore's cognito-idp service model down to what Portcullis needs.

Reads botocore's `cognito-idp/2016-04-18/service-2.json(.gz)` and writes
`crates/proto/model/cognito-idp.json`: the same model without documentation
text. It also writes `crates/proto/model/cognito-idp.source`, which records the
botocore version and the SHA-256 of the (uncompressed) source model, so that
`check.sh` can tell "someone hand-edited the stripped model" (drift, an error)
from "the installed botocore is a different release" (not our drift).

Output is deterministic: every object has its keys sorted, EXCEPT a
structure's `members`, which keep the model's order (Rust struct fields and
validation error order follow it, and alphabetical order would lose it).
Indent is 1, the file ends with a newline.

Usage:
    strip_model.py [--source PATH] [--out-dir DIR]

Without --source the model is taken from the installed botocore package.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT_DIR = REPO_ROOT / "crates" / "proto" / "model"
MODEL_RELATIVE = Path("data") / "cognito-idp" / "2016-04-18"

# Keys we keep, per level. Anything else is either listed in DROPPED_* (known
# to be documentation-only or irrelevant to a server) or makes the script
# fail: a new botocore key should be looked at by a human, not silently lost.
KEEP_TOP = {"version", "metadata", "operations", "shapes"}
DROPPED_TOP = {"documentation"}

KEEP_OPERATION = {"name", "input", "output", "errors", "authtype", "auth"}
# `http` is always POST / for this JSON 1.1 service.
DROPPED_OPERATION = {"documentation", "http", "deprecated", "deprecatedMessage"}

KEEP_SHAPE = {
    "type",
    "members",
    "required",
    "min",
    "max",
    "pattern",
    "enum",
    "sensitive",
    "timestampFormat",
    "member",
    "key",
    "value",
    "exception",
    "fault",
    "error",
    "document",
    "deprecated",
    "union",
}
DROPPED_SHAPE = {"documentation", "deprecatedMessage"}

KEEP_MEMBER = {
    "shape",
    "jsonvalue",
    "location",
    "locationName",
    "box",
    "deprecated",
    "idempotencyToken",
    "sensitive",
    "timestampFormat",
    "hostLabel",
}
DROPPED_MEMBER = {"documentation", "deprecatedMessage"}


def _filter(obj: dict, keep: set, dropped: set, where: str) -> dict:
    unknown = set(obj) - keep - dropped
    if unknown:
        raise SystemExit(
            f"strip_model.py: unknown key(s) {sorted(unknown)} at {where}; "
            "decide whether to keep or drop them and update the script"
        )
    return {k: obj[k] for k in sorted(obj) if k in keep}


def _ref(ref: dict, where: str) -> dict:
    return _filter(ref, KEEP_MEMBER, DROPPED_MEMBER, where)


def _sorted(value):
    """Recursively sort object keys (used for the free-form `metadata`)."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def strip(model: dict) -> dict:
    top = _filter(model, KEEP_TOP, DROPPED_TOP, "top level")
    top["metadata"] = _sorted(top["metadata"])

    operations = {}
    for name in sorted(top["operations"]):
        op = _filter(top["operations"][name], KEEP_OPERATION, DROPPED_OPERATION, f"operation {name}")
        for key in ("input", "output"):
            if key in op:
                op[key] = _ref(op[key], f"operation {name}.{key}")
        if "errors" in op:
            op["errors"] = [_ref(e, f"operation {name}.errors") for e in op["errors"]]
        operations[name] = op
    top["operations"] = operations

    shapes = {}
    for name in sorted(top["shapes"]):
        shape = _filter(top["shapes"][name], KEEP_SHAPE, DROPPED_SHAPE, f"shape {name}")
        if "members" in shape:
            # Model order on purpose (see module docstring).
            shape["members"] = {
                m: _ref(ref, f"shape {name}.{m}") for m, ref in top["shapes"][name]["members"].items()
            }
        for key in ("member", "key", "value"):
            if key in shape:
                shape[key] = _ref(shape[key], f"shape {name}.{key}")
        shapes[name] = shape
    top["shapes"] = shapes
    return top


def dumps(model: dict) -> str:
    # sort_keys must stay False: key order was already fixed above, and
    # sorting here would also sort `members`.
    return json.dumps(model, indent=1, ensure_ascii=False) + "\n"


def find_source() -> Path:
    try:
        import botocore  # noqa: PLC0415  (optional dependency, only for the default path)
    except ImportError as exc:
        raise SystemExit("strip_model.py: botocore is not installed; pass --source PATH") from exc
    base = Path(botocore.__file__).parent / MODEL_RELATIVE
    for candidate in (base / "service-2.json.gz", base / "service-2.json"):
        if candidate.exists():
            return candidate
    raise SystemExit(f"strip_model.py: no cognito-idp model under {base}")


def botocore_version() -> str:
    try:
        import botocore  # noqa: PLC0415
    except ImportError:
        return "unknown"
    return botocore.__version__


def read_source(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data


def source_record(raw: bytes, version: str) -> str:
    digest = hashlib.sha256(raw).hexdigest()
    return f"botocore {version}\nsha256 {digest}\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, help="service-2.json or service-2.json.gz")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args(argv)

    source = args.source or find_source()
    version = botocore_version() if args.source is None else "unknown"
    raw = read_source(source)
    stripped = strip(json.loads(raw))

    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "cognito-idp.json").write_text(dumps(stripped), encoding="utf-8")
    (args.out_dir / "cognito-idp.source").write_text(source_record(raw, version), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
