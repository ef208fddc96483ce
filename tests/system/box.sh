# box.sh - a Debian 12 container with a real systemd as PID 1, for
# tests/system/run.sh (sourced).  After ../shared/notes/systemd-box/recipe.sh:
# mmdebstrap builds a bookworm root filesystem once (cached, never written
# afterwards), each boot runs systemd-nspawn on an overlay of it whose upper
# layer is the test's own, and commands run inside with nsenter.
#
# The host these tests run on has no systemd, D-Bus or machined, hybrid
# cgroups, /run on the root file system and a seccomp allow-list in nspawn
# without bpf(): hence --register=no --keep-unit, a private mount namespace
# with a tmpfs on /run, a cgroup of our own (removed afterwards),
# --private-network (so PrivateNetwork= units get a working lo) and
# --system-call-filter=bpf (else IPAddressDeny= is silently not enforced).
#
# The packages' runtime dependencies are in BOX_PKGS (apt inside has no
# network): libldap-2.5-0 since patd links libldap for fleet mode.
#
# Uses: BOX_DIR (the run's directory), BOX_CACHE (where root filesystems are
# cached), BOX_BIND (a host directory shown read-only at /debs inside).

BOX_PKGS="systemd,systemd-sysv,dbus,libpam-runtime,procps,socat,openssh-server,openssh-client,sudo,sshpass,libsodium23,liblmdb0,libmicrohttpd12,libsystemd0,libldap-2.5-0"
BOX_MACHINE=pattest
BOX_NSPID=
BOX_LEADER=
BOX_CG=

# box_rootfs: print the path of a cached root filesystem, building it first
# when there is none for this package list.  Fails (1) when it cannot.
box_rootfs() {
	local key dir tmp srcs=() f
	key=$(printf '%s\n%s\n' "$BOX_PKGS" "bookworm minbase v1" |
	    sha256sum | cut -c1-12)
	dir=$BOX_CACHE/rootfs-$key
	mkdir -p "$BOX_CACHE" || return 1
	exec 8>"$BOX_CACHE/.lock"
	flock 8
	if [ ! -x "$dir/lib/systemd/systemd" ]; then
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
		    /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] && grep -qi '^[^#]*debian' "$f" && srcs+=("$f")
		done
		[ ${#srcs[@]} -gt 0 ] || { echo "box: no Debian apt sources on the host" >&2; exec 8>&-; return 1; }
		tmp=$BOX_CACHE/.rootfs-$key.$$
		# (the lock is ours: any half-built one is an interrupted build's)
		rm -rf --one-file-system "$BOX_CACHE/.rootfs-$key".*
		if ! mmdebstrap --variant=minbase --mode=root \
		    --include="$BOX_PKGS" --aptopt='Acquire::Retries "3"' \
		    bookworm "$tmp" "${srcs[@]}" >"$BOX_CACHE/mmdebstrap.log" 2>&1; then
			tail -15 "$BOX_CACHE/mmdebstrap.log" >&2
			rm -rf --one-file-system "$tmp"
			exec 8>&-
			return 1
		fi
		echo "$BOX_MACHINE" >"$tmp/etc/hostname"
		rm -rf --one-file-system "$dir"
		mv "$tmp" "$dir"
	fi
	exec 8>&-
	echo "$dir"
}

# the cgroup directories nspawn runs in: one per hierarchy this host has
box_cgroups() {
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		echo /sys/fs/cgroup
	else
		local h
		for h in unified systemd; do
			[ -d /sys/fs/cgroup/$h ] && echo /sys/fs/cgroup/$h
		done
	fi
}

# box_boot LOWER: boot a container on an overlay of LOWER, upper layer
# $BOX_DIR/upper (kept across boots).  Returns when systemd has finished
# booting, with the state it reached in BOX_STATE.  (Not in $(...): it sets
# BOX_NSPID and BOX_LEADER.)
box_boot() {
	local lower=$1 c h
	mkdir -p "$BOX_DIR/upper" "$BOX_DIR/work" "$BOX_DIR/merged" "$BOX_DIR/logs"
	BOX_CG=pat-systest.$$
	(
		for h in $(box_cgroups); do
			mkdir -p "$h/$BOX_CG"
			echo "$BASHPID" >"$h/$BOX_CG/cgroup.procs"
		done
		exec unshare --mount --propagation private sh -c '
		    mount -t tmpfs -o mode=0755 tmpfs /run &&
		    mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4" &&
		    shift 4 && exec "$@"' sh \
		    "$lower" "$BOX_DIR/upper" "$BOX_DIR/work" "$BOX_DIR/merged" \
		    env SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 \
		    systemd-nspawn -q -D "$BOX_DIR/merged" -M "$BOX_MACHINE" -b \
		    --register=no --keep-unit --private-network \
		    --system-call-filter=bpf --console=read-only \
		    --bind-ro="$BOX_BIND:/debs"
	) >>"$BOX_DIR/logs/console.log" 2>&1 </dev/null &
	BOX_NSPID=$!
	BOX_LEADER=
	# nspawn is a subreaper: the container's PID 1 is its child
	for _ in $(seq 300); do
		for c in $(ps -o pid= --ppid "$BOX_NSPID" 2>/dev/null); do
			[ "$(cat /proc/$c/comm 2>/dev/null)" = systemd ] && BOX_LEADER=$c
		done
		[ -n "$BOX_LEADER" ] && break
		kill -0 "$BOX_NSPID" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$BOX_LEADER" ]; then
		tail -20 "$BOX_DIR/logs/console.log" >&2
		echo "box: the container did not start" >&2
		return 1
	fi
	for _ in $(seq 300); do
		box_in test -S /run/systemd/private && break
		sleep 0.02
	done
	BOX_STATE=$(box_in timeout 60 systemctl is-system-running --wait 2>&1)
}

# box_in CMD...: run CMD inside the container, as root, with a clean
# environment (never this run's variables), for at most 10 minutes
box_in() {
	timeout -k 10 600 nsenter -t "$BOX_LEADER" -a env -i \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
}

# box_poweroff: shut the container down cleanly (then harder)
box_poweroff() {
	[ -n "$BOX_NSPID" ] || return 0
	if kill -0 "$BOX_NSPID" 2>/dev/null; then
		[ -n "$BOX_LEADER" ] && box_in systemctl poweroff >/dev/null 2>&1
		for _ in $(seq 300); do
			kill -0 "$BOX_NSPID" 2>/dev/null || break
			sleep 0.05
		done
		kill -0 "$BOX_NSPID" 2>/dev/null && kill -TERM "$BOX_NSPID"
		for _ in $(seq 100); do
			kill -0 "$BOX_NSPID" 2>/dev/null || break
			sleep 0.05
		done
		kill -0 "$BOX_NSPID" 2>/dev/null && kill -KILL "$BOX_NSPID"
	fi
	wait "$BOX_NSPID" 2>/dev/null
	BOX_NSPID= BOX_LEADER=
	box_cgclean
}

# box_cgclean: whatever still runs in our cgroup (a container whose
# nspawn died, its PID 1 orphaned) is killed, then the cgroups removed
box_cgclean() {
	local h p
	[ -n "$BOX_CG" ] || return 0
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		p=$(for h in $(box_cgroups); do
			[ -d "$h/$BOX_CG" ] && find "$h/$BOX_CG" -name cgroup.procs \
			    -exec cat {} + 2>/dev/null
		done | sort -u)
		[ -n "$p" ] || break
		kill -KILL $p 2>/dev/null
		sleep 0.1
	done
	for h in $(box_cgroups); do
		[ -d "$h/$BOX_CG" ] && find "$h/$BOX_CG" -depth -type d \
		    -exec rmdir {} + 2>/dev/null
	done
	return 0
}
