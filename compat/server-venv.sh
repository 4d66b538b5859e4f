#!/usr/bin/env bash
# Build a venv with one Prefect server version, for tests/test_compat.py:
#   compat/server-venv.sh 3.0.11   ->  /tmp/prefect-compat/3.0.11/venv/bin/prefect
# Pins in compat/constraints-VERSION.txt make an old release start on today's package index.
set -euo pipefail
version="${1:?usage: compat/server-venv.sh VERSION}"
here="$(cd "$(dirname "$0")" && pwd)"
root="${PREFECT_COMPAT_ROOT:-/tmp/prefect-compat}/$version"
python="${PYTHON:-python3}"
constraints="$here/constraints-$version.txt"
[ -f "$constraints" ] || constraints=/dev/null
if [ -x "$root/venv/bin/prefect" ] && "$root/venv/bin/python" -c "import prefect" 2>/dev/null; then
  echo "$root/venv"; exit 0
fi
rm -rf "$root/venv"
mkdir -p "$root"
"$python" -m venv "$root/venv"
"$root/venv/bin/pip" install -q --disable-pip-version-check "prefect==$version" \
  "importlib_metadata" -c "$constraints" >&2
"$root/venv/bin/python" -c "import prefect; assert prefect.__version__ == '$version', prefect.__version__" >&2
echo "$root/venv"
