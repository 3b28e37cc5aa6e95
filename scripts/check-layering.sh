#!/usr/bin/env bash
# Checks that each folder includes only the folders it may use (STYLE.md section 1) and that
# third-party headers stay in the adapters' .cc files.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
  [core]="core"
  [learners]="core learners"
  [metrics]="core metrics"
  [registry]="core registry"
  [engine]="core learners metrics registry engine"
  [tools]="core learners metrics registry engine tools"
)
status=0
for folder in "${!allowed[@]}"; do
  [ -d "$folder" ] || continue
  while IFS= read -r line; do
    file=${line%%:*}
    included=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"$line")
    if [[ " ${allowed[$folder]} " != *" $included "* ]]; then
      echo "layering: $file includes $included/, which $folder/ may not use" >&2
      status=1
    fi
  done < <(grep -rHE '#include "(core|learners|metrics|registry|engine|tools)/' "$folder" --include='*.h' --include='*.cc' || true)
done
# Third-party headers only in .cc files.
if grep -rlE '#include [<"](sqlite3\.h|librdkafka/|cxxopts\.hpp|boost/)' \
     core learners metrics registry engine tools --include='*.h' 2>/dev/null; then
  echo "layering: a third-party header is included from a header (above)" >&2
  status=1
fi
# librdkafka only in engine/kafka/, which the rest of engine/ does not use (it points down).
if grep -rlE '#include [<"]librdkafka/' core learners metrics registry engine tools \
     --include='*.h' --include='*.cc' 2>/dev/null | grep -v '^engine/kafka/'; then
  echo "layering: librdkafka is included outside engine/kafka/ (above)" >&2
  status=1
fi
if grep -rlE '#include "engine/kafka/' engine --include='*.h' --include='*.cc' 2>/dev/null |
     grep -v '^engine/kafka/'; then
  echo "layering: engine/ includes engine/kafka/, which depends on it (above)" >&2
  status=1
fi
[ $status -eq 0 ] && echo "layering: ok"
exit $status
