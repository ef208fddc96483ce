#!/bin/sh
# mkdeb.sh OUTDIR [VERSION] - build pat's Debian packages into OUTDIR.
# dpkg-buildpackage runs in a copy of the source (OUTDIR/pat-VERSION): its
# "debian/rules clean" then cannot touch the checkout's build/, and the
# .debs it writes to the parent directory land in OUTDIR.  With VERSION,
# the copy gets a changelog entry for it first: the same source as another
# version (tests/system's upgrade test builds version+1 this way).
# Prints the .deb files built, one per line, on stdout.
set -eu
out=$1 ver=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
[ -n "$ver" ] || ver=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$top/debian/changelog")
mkdir -p "$out"
out=$(cd "$out" && pwd)
src="$out/pat-$ver"
rm -rf "$src"
mkdir -p "$src"
# the tracked files when this is a git checkout, else everything but what
# builds produce
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$top" ls-files -z --cached --others --exclude-standard |
	    (cd "$top" && xargs -0 cp --parents -P -t "$src" 2>/dev/null || true)
	# a file deleted but not yet committed is listed and missing: fine
else
	tar -C "$top" --exclude=./build --exclude=./.demo --exclude=./.git -cf - . |
	    tar -C "$src" -xf -
fi
if ! grep -q "^pat ($ver)" "$src/debian/changelog"; then
	{
		printf 'pat (%s) bookworm; urgency=medium\n\n' "$ver"
		printf '  * Built from the same source as %s by mkdeb.sh.\n\n' \
		    "$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$src/debian/changelog")"
		printf ' -- %s  %s\n\n' \
		    "$(sed -n 's/^ -- \(.*>\)  .*/\1/p' "$src/debian/changelog" | head -1)" \
		    "$(date -R)"
		cat "$src/debian/changelog"
	} >"$src/debian/changelog.new"
	mv "$src/debian/changelog.new" "$src/debian/changelog"
fi
rm -f "$out"/*_"$ver"_*.deb "$out"/*_"$ver"_*.ddeb
(cd "$src" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$out/build-$ver.log" 2>&1 || {
	tail -40 "$out/build-$ver.log" >&2
	echo "mkdeb: dpkg-buildpackage failed; log: $out/build-$ver.log" >&2
	exit 1
}
rm -rf "$src"
ls "$out"/*_"$ver"_*.deb
