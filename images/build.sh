#!/usr/bin/env bash
# Builds skiff's images from Debian packages as OCI layouts and pushes them
# to the local registry:
#   docker.io/library/busybox:latest  -> <registry>/library/busybox:latest
#   docker.io/library/busybox:1.35    -> the same image under Debian's busybox version,
#                                        so tests can roll a Deployment between two tags
#   registry.k8s.io/pause:3.10        -> <registry>/pause:3.10
#   docker.io/skiff/idle:1            -> <registry>/skiff/idle:1, the pause binary under a
#                                        config of its own: an image nothing else uses, for
#                                        the image garbage collection tests
# Layers are built reproducibly (fixed mtimes and owners), so a rebuild yields
# the same digests and a push of an unchanged image is skipped.
set -euo pipefail

REGISTRY="${SKIFF_REGISTRY:-127.0.0.1:5000}"
WORK="${SKIFF_IMAGE_WORK:-/var/lib/skiff/images}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { echo "images: $*" >&2; }

sha() { sha256sum "$1" | cut -d' ' -f1; }

# make_layer ROOTFS OUT.tar.gz: a deterministic gzip'd tar of ROOTFS
make_layer() {
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
    -C "$1" -cf - . | gzip -n -9 >"$2"
}

# make_oci NAME TAG LAYER.tar.gz CONFIG_JSON_FRAGMENT: writes an OCI layout in $WORK/NAME
make_oci() {
  local name="$1" tag="$2" layer="$3" cfg="$4"
  local dir="$WORK/oci/$name"
  rm -rf "$dir" && mkdir -p "$dir/blobs/sha256"
  local ldigest lsize diffid
  ldigest="$(sha "$layer")"
  lsize="$(stat -c %s "$layer")"
  diffid="$(gzip -dc "$layer" | sha256sum | cut -d' ' -f1)"
  cp "$layer" "$dir/blobs/sha256/$ldigest"
  printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"skiff images/build.sh"}]}' \
    "$cfg" "$diffid" >"$dir/config.json"
  local cdigest csize
  cdigest="$(sha "$dir/config.json")"
  csize="$(stat -c %s "$dir/config.json")"
  mv "$dir/config.json" "$dir/blobs/sha256/$cdigest"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "$cdigest" "$csize" "$ldigest" "$lsize" >"$dir/manifest.json"
  local mdigest msize
  mdigest="$(sha "$dir/manifest.json")"
  msize="$(stat -c %s "$dir/manifest.json")"
  mv "$dir/manifest.json" "$dir/blobs/sha256/$mdigest"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
    "$mdigest" "$msize" "$tag" >"$dir/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
  echo "sha256:$mdigest"
}

# push NAME TAG REPO DIGEST [AS_TAG]: copy the layout to the registry (as AS_TAG,
# TAG by default) unless it already holds DIGEST there
push() {
  local name="$1" tag="$2" repo="$3" digest="$4" as="${5:-$2}"
  local have
  have="$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/$repo:$as" 2>/dev/null || true)"
  if [[ "$have" == "$digest" ]]; then
    log "$repo:$as up to date ($digest)"
    return
  fi
  skopeo copy --quiet --dest-tls-verify=false --preserve-digests \
    "oci:$WORK/oci/$name:$tag" "docker://$REGISTRY/$repo:$as"
  log "pushed $repo:$as ($digest)"
}

build_busybox() {
  local root="$WORK/rootfs/busybox"
  rm -rf "$root" && mkdir -p "$root"/{bin,etc,tmp,root,var/www,home}
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  local applet
  for applet in $("$root/bin/busybox" --list); do
    [[ "$applet" == busybox ]] || ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
  make_layer "$root" "$WORK/busybox.tar.gz"
  make_oci busybox latest "$WORK/busybox.tar.gz" \
    '{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]}'
}

build_pause() {
  local root="$WORK/rootfs/pause"
  rm -rf "$root" && mkdir -p "$root"
  gcc -static -Os -s -Wall -Werror -o "$root/pause" "$HERE/pause/pause.c"
  make_layer "$root" "$WORK/pause.tar.gz"
  make_oci pause 3.10 "$WORK/pause.tar.gz" \
    '{"Entrypoint":["/pause"],"User":"65535:65535"}'
}

# after build_pause: the same layer, another config, so another image
build_idle() {
  make_oci idle 1 "$WORK/pause.tar.gz" \
    '{"Entrypoint":["/pause"],"Labels":{"io.skiff.image":"idle"}}'
}

mkdir -p "$WORK"
busybox_digest="$(build_busybox)"
push busybox latest library/busybox "$busybox_digest"
push busybox latest library/busybox "$busybox_digest" 1.35
push pause 3.10 pause "$(build_pause)"
push idle 1 skiff/idle "$(build_idle)"
