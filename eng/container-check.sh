#!/usr/bin/env bash
# Builds the repository's Dockerfile with podman and runs the image: keys create, serve, the image's own HEALTHCHECK,
# /healthz from the host, a key-protected call with and without the key. For machines that have no Docker engine and
# cannot reach mcr.microsoft.com: the two base images are replaced by local stand-ins made from Debian (debootstrap)
# and this machine's own .NET SDK, tagged with the official names, so the Dockerfile itself is built unchanged.
# What that checks and what it cannot: docs/install.md#what-was-checked.
#
#   sudo bash eng/container-check.sh            # as root; installs podman, runc and debootstrap with apt-get if missing
#
# With a Docker engine and registry access, build the real thing instead: docker build -t flywheel . (docs/install.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

[ "$(id -u)" = 0 ] || { echo "container-check: run as root (podman, debootstrap)" >&2; exit 2; }
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "container-check: the .NET SDK (dotnet) is needed for the stand-in images" >&2; exit 2; }

work=${CONTAINER_CHECK_DIR:-/var/tmp/flywheel-container-check}
mkdir -p "$work"
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime=$(dotnet --list-runtimes | awk '$1 == "Microsoft.AspNetCore.App" { v = $2 } END { print v }')
# crun cannot run in some sandboxes (cgroups v1 and v2 mounted side by side); runc can. The limits are set below the
# machine's own, since raising them is refused there.
run_opts=(--runtime runc --ulimit "nofile=$(ulimit -n):$(ulimit -Hn)" --ulimit nproc=4096:4096)

# 1. Debian 12 minbase with the libraries the official .NET images add (certificates, ICU, OpenSSL, time zones, zlib), once.
packages=ca-certificates,libicu72,libssl3,tzdata,zlib1g
if [ "$(cat "$work/rootfs.packages" 2>/dev/null)" != "$packages" ]; then
  rm -rf "$work/rootfs"
  debootstrap --variant=minbase --include="$packages" bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
    || { echo "container-check: debootstrap failed"; tail -5 "$work/debootstrap.log"; exit 1; }
  echo "$packages" >"$work/rootfs.packages"
fi

# 2. Stand-ins for mcr.microsoft.com/dotnet/sdk:10.0 and aspnet:10.0: the rootfs plus this machine's SDK, or plus its
#    runtimes and the official images' non-root user (app, uid 1654) and environment.
stand_in() { # NAME, then the folders of the .NET install to copy, then --change options
  local name=$1 dir="$work/$2"; shift 2
  rm -rf "$dir"; cp -a "$work/rootfs" "$dir"
  mkdir -p "$dir/usr/share/dotnet" "$dir/etc/ssl/certs"
  local part
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    part=$1; shift
    cp -a "$dotnet_root/$part" "$dir/usr/share/dotnet/"
  done
  shift
  ln -sf /usr/share/dotnet/dotnet "$dir/usr/bin/dotnet"
  cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/" # this machine's, which trusts the NuGet source it uses
  echo "app:x:1654:1654::/home/app:/bin/sh" >>"$dir/etc/passwd"
  echo "app:x:1654:" >>"$dir/etc/group"
  mkdir -p "$dir/home/app" && chown 1654:1654 "$dir/home/app"
  tar -C "$dir" -c . | podman import "$@" - "$name" >/dev/null
  rm -rf "$dir"
}
common_env=(--change "ENV APP_UID=1654" --change "ENV DOTNET_RUNNING_IN_CONTAINER=true" --change "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt")
stand_in mcr.microsoft.com/dotnet/sdk:10.0 sdk dotnet host shared sdk sdk-manifests packs -- "${common_env[@]}" \
  --change "ENV DOTNET_CLI_TELEMETRY_OPTOUT=1" --change "ENV DOTNET_NOLOGO=1" \
  --change "ENV NUGET_CERT_REVOCATION_MODE=${NUGET_CERT_REVOCATION_MODE:-online}"
stand_in mcr.microsoft.com/dotnet/aspnet:10.0 aspnet dotnet host shared -- "${common_env[@]}" \
  --change "ENV ASPNETCORE_HTTP_PORTS=8080"
echo "stand-in base images: Debian 12 minbase + .NET $runtime from $dotnet_root"

# 3. The Dockerfile, unchanged. --pull=never: the base images are the stand-ins; host networking reaches NuGet. This
#    podman does not set TARGETARCH by itself as BuildKit does, so it is passed.
image=localhost/flywheel:check
podman build --pull=never --format docker --network host "${run_opts[@]}" --build-arg "TARGETARCH=$(dpkg --print-architecture)" \
  -t "$image" "$repo" 2>&1 | grep -E '^\[|STEP|Flywheel.Cli ->|error|warning|Successfully' || true
podman image exists "$image" || { echo "container-check: the image did not build"; exit 1; }
echo "image: $(podman image inspect "$image" --format '{{.Size}}') bytes; user $(podman image inspect "$image" --format '{{.Config.User}}')"
podman image inspect "$image" --format 'healthcheck: {{.Config.Healthcheck.Test}} every {{.Config.Healthcheck.Interval}}; volumes {{.Config.Volumes}}; ports {{.Config.ExposedPorts}}; entrypoint {{.Config.Entrypoint}} {{.Config.Cmd}}'

# 4. Run it as docs/install.md says: a key first, then serve on a volume, health from inside and /healthz from outside.
volume=flywheel-check-data name=flywheel-check port=${CONTAINER_CHECK_PORT:-15005}
podman rm -f "$name" >/dev/null 2>&1 || true
podman volume rm -f "$volume" >/dev/null 2>&1 || true
cleanup() { podman rm -f "$name" >/dev/null 2>&1 || true; podman volume rm -f "$volume" >/dev/null 2>&1 || true; }
# (the image and the stand-ins stay, for a second run; podman rmi localhost/flywheel:check removes the image)
trap cleanup EXIT

echo "-- serve without a key (expected: refused, exit 2)"
set +e
podman run --rm --no-healthcheck "${run_opts[@]}" -v "$volume:/data" "$image" 2>&1 | tail -n 2
refused=${PIPESTATUS[0]}
set -e
[ "$refused" = 2 ] || { echo "container-check: serve without a key exited $refused, not 2"; exit 1; }

echo "-- keys create"
key=$(podman run --rm --no-healthcheck "${run_opts[@]}" -v "$volume:/data" "$image" keys create --scope admin | tail -n 1 | awk '{ print $NF }')
[ -n "$key" ] || { echo "container-check: keys create printed no key"; exit 1; }

echo "-- serve"
# Without systemd, podman cannot schedule the HEALTHCHECK itself; `podman healthcheck run` runs it as the timer would.
podman run -d --name "$name" "${run_opts[@]}" -v "$volume:/data" -p "127.0.0.1:$port:5005" "$image" 2>/dev/null >/dev/null
healthy=
for _ in $(seq 120); do
  if podman healthcheck run "$name" >/dev/null 2>&1; then healthy=yes; break; fi
  sleep 1
done
podman logs "$name" 2>&1 | grep -E 'listening|API keys|every interface|refusing' || true
[ -n "$healthy" ] || { echo "container-check: the image's HEALTHCHECK never passed"; exit 1; }
echo "HEALTHCHECK passed: $(podman inspect "$name" --format '{{.State.Health.Status}}')"
echo "whoami in the container: $(podman exec "$name" id)"
echo "GET /healthz from the host: $(curl -sf "http://127.0.0.1:$port/healthz")"
unauthorized=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/loops")
authorized=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "http://127.0.0.1:$port/v1/loops")
echo "GET /v1/loops: $unauthorized without the key, $authorized with it"
[ "$unauthorized" = 401 ] && [ "$authorized" = 200 ] || { echo "container-check: expected 401 then 200"; exit 1; }
podman stop -t 20 "$name" >/dev/null 2>&1
echo "container-check: passed"
