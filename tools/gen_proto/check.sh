#!/usr/bin/env bash
# Regenerates the proto crate's generated files into a temporary directory and
# diffs them against the checked-in ones. Exits non-zero on drift (CI).
#
# 1. crates/proto/model/cognito-idp.json from botocore (strip_model.py). This
#    step needs the exact botocore model the checked-in file came from,
#    recorded in crates/proto/model/cognito-idp.source. If the installed
#    botocore's model differs (another release) or botocore is missing, the
#    step is skipped with a notice: that is an upstream change to adopt on
#    purpose (rerun strip_model.py), not drift in this repository.
#    Set GEN_PROTO_STRICT=1 to make a skipped step fail instead.
# 2. crates/proto/src/generated.rs from the checked-in model (gen.py). Always
#    runs; needs python3 and rustfmt only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
model_dir="$root/crates/proto/model"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

python="${PYTHON:-python3}"
status=0

# --- 1. stripped model -------------------------------------------------------
recorded_sha="$(awk '$1 == "sha256" { print $2 }' "$model_dir/cognito-idp.source")"
source_path="$("$python" - <<'EOF' 2>/dev/null || true
import pathlib
try:
    import botocore
except ImportError:
    raise SystemExit(0)
base = pathlib.Path(botocore.__file__).parent / "data" / "cognito-idp" / "2016-04-18"
for name in ("service-2.json.gz", "service-2.json"):
    if (base / name).exists():
        print(base / name)
        break
EOF
)"
installed_sha=""
if [[ -n "$source_path" ]]; then
    installed_sha="$("$python" - "$source_path" <<'EOF'
import gzip, hashlib, pathlib, sys
p = pathlib.Path(sys.argv[1])
data = p.read_bytes()
if p.suffix == ".gz":
    data = gzip.decompress(data)
print(hashlib.sha256(data).hexdigest())
EOF
)"
fi

if [[ -n "$installed_sha" && "$installed_sha" == "$recorded_sha" ]]; then
    "$python" "$here/strip_model.py" --out-dir "$tmp/model"
    for f in cognito-idp.json cognito-idp.source; do
        if ! diff -u "$model_dir/$f" "$tmp/model/$f" >"$tmp/$f.diff"; then
            echo "check.sh: crates/proto/model/$f differs from strip_model.py output:" >&2
            head -n 40 "$tmp/$f.diff" >&2
            status=1
        fi
    done
else
    if [[ -z "$source_path" ]]; then
        echo "check.sh: notice: botocore not installed; skipped the stripped-model check" >&2
    else
        echo "check.sh: notice: installed botocore model ($source_path) is not the one" \
            "crates/proto/model/cognito-idp.source records; skipped the stripped-model check" >&2
    fi
    if [[ "${GEN_PROTO_STRICT:-0}" == "1" ]]; then
        status=1
    fi
fi

# --- 2. generated Rust ---------------------------------------------------------
"$python" "$here/gen.py" --out "$tmp/generated.rs"
if ! diff -u "$root/crates/proto/src/generated.rs" "$tmp/generated.rs" >"$tmp/generated.diff"; then
    echo "check.sh: crates/proto/src/generated.rs differs from gen.py output" \
        "(edit the generator, not the file, then rerun tools/gen_proto/gen.py):" >&2
    head -n 40 "$tmp/generated.diff" >&2
    status=1
fi

if [[ "$status" == 0 ]]; then
    echo "check.sh: generated proto files are up to date"
fi
exit "$status"
