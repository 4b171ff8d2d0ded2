#!/usr/bin/env bash
# agent-image.sh — build the eagle-agent image from build/eagle-agent: FROM scratch
# with the binary, the shared libraries it links (as ldd lists them) and their loader.
# No base image is pulled.
#
#   scripts/agent-image.sh TAG [BINARY]       e.g. scripts/agent-image.sh registry:5000/eagle-agent:1
#
# The image goes to the engine DOCKER_HOST names (or the default); push it to a
# registry every node can pull from, then install it:
#   eaglectl cluster agent install CLUSTER --image TAG --url http://EAGLED-ADDRESS:8420
set -euo pipefail
tag=${1:?usage: agent-image.sh TAG [BINARY]}
bin=${2:-$(dirname "$0")/../build/eagle-agent}
[ -x "$bin" ] || { echo "agent-image.sh: no $bin (run make first)" >&2; exit 1; }
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/root/usr/bin" "$ctx/root/run/secrets" "$ctx/root/host/proc" "$ctx/root/tmp"
cp "$bin" "$ctx/root/usr/bin/eagle-agent"
# every library and the loader, at the paths the binary looks for them
ldd "$bin" | awk '/=> \// {print $3} /^\t\// {print $1}' | sort -u | while read -r lib; do
  mkdir -p "$ctx/root$(dirname "$lib")"
  cp -L "$lib" "$ctx/root$lib"
done
# libcurl and glibc resolve names through these
mkdir -p "$ctx/root/etc"
printf 'hosts: files dns\n' >"$ctx/root/etc/nsswitch.conf"
for lib in /lib/x86_64-linux-gnu/libnss_dns.so.2 /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libresolv.so.2; do
  [ -e "$lib" ] && { mkdir -p "$ctx/root$(dirname "$lib")"; cp -L "$lib" "$ctx/root$lib"; }
done
[ -d /etc/ssl/certs ] && mkdir -p "$ctx/root/etc/ssl" && cp -rL /etc/ssl/certs "$ctx/root/etc/ssl/" 2>/dev/null || true
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY root/ /
ENTRYPOINT ["/usr/bin/eagle-agent"]
DOCKERFILE
docker build -q --network none -t "$tag" "$ctx"
