#!/usr/bin/env bash
# Test engines for @swarmkit-ts/engine-adapter: a private dockerd and a private containerd.
#
#   test-engines.sh install              apt-get install docker.io containerd runc busybox-static (root; only when missing)
#   test-engines.sh up   [docker|containerd|all] [HOLDER]  install if needed, start, wait until ready, build the busybox image
#   test-engines.sh down [docker|containerd|all] [HOLDER]  stop the daemons and their shims, unmount, delete their directories
#                        (with HOLDER, `<pid>` or `<pid>_<token>`: `up` registers it as a user of the engine and `down` only
#                        unregisters it, stopping the engine when no live holder is left)
#   test-engines.sh stop-daemon [docker|containerd|all]  stop only the daemon (as a crash or an upgrade would); shims and
#                        containers keep running, `up` starts the daemon again (the engine's restart tests use a private
#                        SWARMKIT_ENGINES_DIR so no other test's engine goes down)
#   test-engines.sh env                  print the sockets and image names as shell assignments
#   test-engines.sh status               exit 0 when both engines answer
#
# Everything lives under $SWARMKIT_ENGINES_DIR (default /tmp/swarmkit-engines): no default socket,
# port or data directory is used, so it runs beside any other engine on the machine. Idempotent:
# `up` on a running engine only checks it, `down` on a stopped one does nothing. Root only.
set -euo pipefail

DIR="${SWARMKIT_ENGINES_DIR:-/tmp/swarmkit-engines}"
DOCKER_DIR="$DIR/docker"
CTRD_DIR="$DIR/containerd"
IMAGE_DIR="$DIR/image"
DOCKER_SOCK="$DOCKER_DIR/docker.sock"
CTRD_SOCK="$CTRD_DIR/containerd.sock"
IMAGE_TAR="$IMAGE_DIR/busybox-rootfs.tar"
DOCKER_IMAGE="swarmkit-test/busybox:latest"
CTRD_NAMESPACE="swarmkit-test"
READY_TIMEOUT_S="${SWARMKIT_ENGINES_TIMEOUT_S:-60}"
# overlay2 when the kernel has overlayfs (a container create takes ~50 ms; vfs copies the image
# and takes 1-2 s here), else vfs. Force one with SWARMKIT_DOCKER_STORAGE_DRIVER.
if grep -qw overlay /proc/filesystems 2>/dev/null; then DEFAULT_STORAGE_DRIVER=overlay2; else DEFAULT_STORAGE_DRIVER=vfs; fi

log() { printf '[test-engines] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_root() {
  [ "$(id -u)" = "0" ] || die "must run as root (dockerd and containerd need it)"
}

# Serialise concurrent `up`/`down` calls (test files may start engines in parallel).
with_lock() {
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock 9
}

install_engines() {
  need_root
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v containerd >/dev/null 2>&1 || missing+=(containerd)
  command -v containerd-shim-runc-v2 >/dev/null 2>&1 || missing+=(containerd)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  [ -x /usr/bin/busybox ] && /usr/bin/busybox --list >/dev/null 2>&1 || missing+=(busybox-static)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker.io containerd runc busybox-static >/dev/null
  fi
  # A Debian install may enable the system units; they are not ours to run.
  command -v dockerd >/dev/null 2>&1 || die "dockerd still missing after install"
}

# Holders: processes (test workers) using an engine; `down ENGINE HOLDER` stops it only when none is left.
add_holder() { mkdir -p "$DIR/holders" && touch "$DIR/holders/$1.$2"; }
live_holders() { # engine
  local f pid n=0
  for f in "$DIR/holders/$1".*; do
    [ -e "$f" ] || continue
    pid="${f##*.}"; pid="${pid%%_*}"
    if kill -0 "$pid" 2>/dev/null; then n=$((n + 1)); else rm -f "$f"; fi
  done
  echo "$n"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

docker_ready() { docker_cli version --format '{{.Server.Version}}' >/dev/null 2>&1; }
ctrd_ready() { ctr --address "$CTRD_SOCK" version >/dev/null 2>&1; }

docker_cli() {
  local bin
  bin="$(command -v docker || true)"
  [ -n "$bin" ] || die "no docker client on PATH"
  DOCKER_HOST="unix://$DOCKER_SOCK" "$bin" "$@"
}

wait_until() { # name, command...
  local name="$1"; shift
  local deadline=$(( $(date +%s) + READY_TIMEOUT_S ))
  until "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      die "$name not ready after ${READY_TIMEOUT_S}s (log: $DIR/$name/$name.log)"
    fi
    sleep 0.2
  done
}

# Busybox root file system from the static binary: /bin/busybox, one symlink per applet.
build_rootfs_tar() {
  [ -s "$IMAGE_TAR" ] && return 0
  local root="$IMAGE_DIR/rootfs"
  rm -rf "$root" && mkdir -p "$root"/{bin,etc,tmp,proc,sys,dev,run,var,root}
  cp /usr/bin/busybox "$root/bin/busybox"
  local applet
  for applet in $(/usr/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  ln -s bin "$root/sbin"
  mkdir -p "$root/usr" && ln -s ../bin "$root/usr/bin" && ln -s ../bin "$root/usr/sbin"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
  chmod 1777 "$root/tmp"
  # Reproducible: same bytes (so the same layer digest) on every build.
  tar --sort=name --mtime='@0' --owner=0 --group=0 --numeric-owner -C "$root" -cf "$IMAGE_TAR.tmp" .
  mv "$IMAGE_TAR.tmp" "$IMAGE_TAR"
}

docker_up() {
  mkdir -p "$DOCKER_DIR/data" "$DOCKER_DIR/exec"
  if pid_alive "$DOCKER_DIR/dockerd.pid" && docker_ready; then
    log "dockerd already running"
  else
    # SWARMKIT_DOCKER_LIVE_RESTORE=1: containers keep running while dockerd is down.
    if [ ! -f "$DOCKER_DIR/daemon.json" ]; then
      if [ "${SWARMKIT_DOCKER_LIVE_RESTORE:-0}" = 1 ]; then echo '{"live-restore": true}'; else echo '{}'; fi >"$DOCKER_DIR/daemon.json"
    fi
    rm -f "$DOCKER_SOCK"
    log "starting dockerd"
    setsid dockerd \
      --config-file "$DOCKER_DIR/daemon.json" \
      --data-root "$DOCKER_DIR/data" \
      --exec-root "$DOCKER_DIR/exec" \
      --pidfile "$DOCKER_DIR/dockerd.pid" \
      -H "unix://$DOCKER_SOCK" \
      --storage-driver "${SWARMKIT_DOCKER_STORAGE_DRIVER:-$DEFAULT_STORAGE_DRIVER}" \
      --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
      --bridge=none \
      --exec-opt native.cgroupdriver=cgroupfs \
      --log-level warn \
      </dev/null >"$DOCKER_DIR/docker.log" 2>&1 9>&- &
    wait_until docker docker_ready
  fi
  if ! docker_cli image inspect "$DOCKER_IMAGE" >/dev/null 2>&1; then
    log "importing $DOCKER_IMAGE"
    docker_cli import -c 'CMD ["/bin/sh"]' "$IMAGE_TAR" "$DOCKER_IMAGE" >/dev/null
  fi
}

ctrd_up() {
  mkdir -p "$CTRD_DIR/root" "$CTRD_DIR/state"
  if pid_alive "$CTRD_DIR/containerd.pid" && ctrd_ready; then
    log "containerd already running"
    return 0
  fi
  cat >"$CTRD_DIR/config.toml" <<EOF
version = 2
root = "$CTRD_DIR/root"
state = "$CTRD_DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.internal.v1.opt", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "$CTRD_SOCK"

[ttrpc]
  address = "$CTRD_SOCK.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""
EOF
  rm -f "$CTRD_SOCK" "$CTRD_SOCK.ttrpc"
  log "starting containerd"
  setsid containerd --config "$CTRD_DIR/config.toml" --log-level warn \
    </dev/null >"$CTRD_DIR/containerd.log" 2>&1 9>&- &
  echo $! >"$CTRD_DIR/containerd.pid"
  wait_until containerd ctrd_ready
}

# Processes whose command line names one of our directories (dockerd's containerd, shims).
pids_under() {
  local needle="$1" p
  for p in /proc/[0-9]*; do
    if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$needle"; then
      echo "${p#/proc/}"
    fi
  done
}

stop_pidfile() { # pidfile, seconds
  local pidfile="$1" secs="$2"
  pid_alive "$pidfile" || return 0
  local pid; pid="$(cat "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

unmount_under() {
  local m
  for m in $(awk -v d="$1" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}

teardown() { # dir, pidfile
  local dir="$1" pidfile="$2"
  [ -d "$dir" ] || return 0
  stop_pidfile "$pidfile" 15
  local p
  for p in $(pids_under "$dir/"); do kill -KILL "$p" 2>/dev/null || true; done
  unmount_under "$dir/"
  rm -rf "$dir"
}

print_env() {
  cat <<EOF
SWARMKIT_ENGINES_DIR=$DIR
SWARMKIT_DOCKER_SOCKET=$DOCKER_SOCK
DOCKER_HOST=unix://$DOCKER_SOCK
SWARMKIT_DOCKER_IMAGE=$DOCKER_IMAGE
SWARMKIT_CONTAINERD_SOCKET=$CTRD_SOCK
SWARMKIT_CONTAINERD_NAMESPACE=$CTRD_NAMESPACE
SWARMKIT_IMAGE_TAR=$IMAGE_TAR
EOF
}

which_engines() {
  case "${1:-all}" in
    docker) echo docker ;;
    containerd) echo containerd ;;
    all) echo docker containerd ;;
    *) die "unknown engine '$1' (docker, containerd or all)" ;;
  esac
}

cmd="${1:-}"
case "$cmd" in
  install) install_engines ;;
  up)
    need_root
    with_lock
    install_engines
    mkdir -p "$IMAGE_DIR"
    build_rootfs_tar
    for e in $(which_engines "${2:-all}"); do
      case "$e" in docker) docker_up ;; containerd) ctrd_up ;; esac
      [ -z "${3:-}" ] || add_holder "$e" "$3"
    done
    print_env
    ;;
  down)
    need_root
    with_lock
    for e in $(which_engines "${2:-all}"); do
      if [ -n "${3:-}" ]; then
        rm -f "$DIR/holders/$e.$3"
        if [ "$(live_holders "$e")" -gt 0 ]; then log "$e still in use; left running"; continue; fi
      fi
      case "$e" in
        docker) teardown "$DOCKER_DIR" "$DOCKER_DIR/dockerd.pid" ;;
        containerd) teardown "$CTRD_DIR" "$CTRD_DIR/containerd.pid" ;;
      esac
    done
    # Nothing left running: drop everything else too (image, holders, runtimes' state directories).
    if [ ! -d "$DOCKER_DIR" ] && [ ! -d "$CTRD_DIR" ]; then
      unmount_under "$DIR/"
      find "$DIR" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
    fi
    ;;
  stop-daemon)
    need_root
    with_lock
    for e in $(which_engines "${2:-all}"); do
      case "$e" in
        docker) stop_pidfile "$DOCKER_DIR/dockerd.pid" 30 ;;
        containerd) stop_pidfile "$CTRD_DIR/containerd.pid" 15 ;;
      esac
    done
    ;;
  env) print_env ;;
  status)
    ok=0
    if docker_ready; then echo "docker: up ($DOCKER_SOCK)"; else echo "docker: down"; ok=1; fi
    if ctrd_ready; then echo "containerd: up ($CTRD_SOCK)"; else echo "containerd: down"; ok=1; fi
    exit "$ok"
    ;;
  *)
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
