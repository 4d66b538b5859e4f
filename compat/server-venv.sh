#!/usr/bin/env bash
# Build a venv with one Prefect server version, for tests/test_compat.py and `python3 dev.py compat`:
#   compat/server-venv.sh 3.0.11   ->  prints /tmp/prefect-compat/3.0.11/venv (its bin/prefect is that version)
# Pins in compat/constraints-VERSION.txt make an old release start on today's package index. A venv is reused
# while its version and constraints are the same (PREFECT_COMPAT_ROOT moves the cache).
set -euo pipefail
version="${1:?usage: compat/server-venv.sh VERSION}"
here="$(cd "$(dirname "$0")" && pwd)"
root="${PREFECT_COMPAT_ROOT:-/tmp/prefect-compat}/$version"
python="${PYTHON:-python3}"
constraints="$here/constraints-$version.txt"
[ -f "$constraints" ] || constraints=/dev/null
stamp="$(cat "$constraints" | sha256sum | cut -c1-16)"
if [ -x "$root/venv/bin/prefect" ] && [ "$(cat "$root/venv/.compat-stamp" 2>/dev/null)" = "$stamp" ] &&
   "$root/venv/bin/python" -c "import prefect" 2>/dev/null; then
  echo "$root/venv"; exit 0
fi
rm -rf "$root/venv"
mkdir -p "$root"
"$python" -m venv "$root/venv"
# as requirements, not -c: the file also adds what a release imports without declaring it
"$root/venv/bin/pip" install -q --disable-pip-version-check "prefect==$version" -r "$constraints" >&2
"$root/venv/bin/python" -c "import prefect; assert prefect.__version__ == '$version', prefect.__version__" >&2
echo "$stamp" > "$root/venv/.compat-stamp"
echo "$root/venv"
