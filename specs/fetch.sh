#!/usr/bin/env bash
# Puts the pinned Azure DevOps REST specs in specs/azure-devops (upstream layout, so
# `opcat build` finds specs/azure-devops/specification). Needs git and network access.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
commit=$(cat "$here/azure-devops.commit")
dest="$here/azure-devops"
mkdir -p "$dest"
cd "$dest"
[ -d .git ] || git init -q
git remote get-url origin >/dev/null 2>&1 \
  || git remote add origin https://github.com/MicrosoftDocs/vsts-rest-api-specs.git
git fetch -q --depth 1 origin "$commit"
git checkout -q --detach FETCH_HEAD
echo "specs/azure-devops at $(git rev-parse HEAD)"
