#!/usr/bin/env python3
"""make mutants: break each security check once and see the suite notice.

Each mutants/NN-name.mutant holds a comment line (the check it breaks),
`file:`, `from:` (text that must occur exactly once in that file), `to:`
(its replacement; \\t \\n \\\\ are escapes) and `tests:` (a Criterion
--filter: the tests expected to catch it; or `system`: tests/system/run.sh,
the packages under a real systemd, for mutants of debian/ and the units).  The checkout is copied once to
a scratch directory and built; the suite passes there unmutated; then
each mutant is applied alone, rebuilt, its tests run and the file put
back.  A mutant the tests do not fail on SURVIVES, one whose text no longer
matches is STALE, one that does not build is BROKEN: each fails the run.

  scripts/mutants.py [NAME-SUBSTRING...]      (from the top of the checkout)
"""
import glob, os, shutil, subprocess, sys, tempfile, time

TARGETS = ["build/patd", "build/patctl", "build/pam_pat.so", "build/tests/run",
           "build/tests/pamcall", "build/tests/sockact", "build/asan/pam_pat.so",
           "build/pat-gate"]
TEST_TIMEOUT = 600


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append({"t": "\t", "n": "\n", "\\": "\\"}.get(s[i + 1], s[i:i + 2]))
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def load(path):
    m = {"name": os.path.basename(path)[:-len(".mutant")], "what": ""}
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("#") and not m["what"]:
            m["what"] = line[1:].strip()
        elif ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            m[k.strip()] = v[1:] if v.startswith(" ") else v
    for k in ("file", "from", "to", "tests"):
        if k not in m:
            sys.exit("mutants: %s has no %s: line" % (path, k))
    m["from"], m["to"] = unescape(m["from"]), unescape(m["to"])
    return m


def build(top):
    r = subprocess.run(["make", "--no-print-directory", "-C", top] + TARGETS,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return r.returncode == 0, r.stderr[-2000:]


def run_tests(top, flt):
    env = dict(os.environ, PAT_BUILD=os.path.join(top, "build"), PAT_SRC=top)
    cmd = [os.path.join(top, "build/tests/run"), "--jobs", "2"]
    if flt:
        cmd += ["--filter", flt]
    try:
        r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, errors="replace",
                           timeout=TEST_TIMEOUT)
    except subprocess.TimeoutExpired:
        return True, "timed out (counts as caught)"
    synth = [l for l in r.stdout.splitlines() if "Synthesis" in l]
    return r.returncode != 0, synth[-1] if synth else r.stdout[-300:]


def run_system(top, cache):
    """tests/system/run.sh on the scratch copy: 1 caught, 0 survived; 77
    (cannot run here) is neither, and fails the run as BROKEN."""
    env = dict(os.environ, PAT_SYSTEST_CACHE=cache)
    env.pop("PAT_TEST_RUN", None)
    try:
        r = subprocess.run([os.path.join(top, "tests/system/run.sh")], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace", timeout=TEST_TIMEOUT)
    except subprocess.TimeoutExpired:
        return True, "timed out (counts as caught)"
    fails = [l for l in r.stdout.splitlines() if l.startswith("[SYSTEM] FAIL")]
    if r.returncode == 77:
        return None, r.stdout.strip().splitlines()[-1]
    return r.returncode != 0, fails[0][len("[SYSTEM] "):][:160] if fails else r.stdout[-200:]


def main():
    top = os.getcwd()
    paths = sorted(glob.glob(os.path.join(top, "mutants", "*.mutant")))
    want = sys.argv[1:]
    if want:
        paths = [p for p in paths if any(w in os.path.basename(p) for w in want)]
    mutants = [load(p) for p in paths]
    if not mutants:
        sys.exit("mutants: none chosen")
    scratch = tempfile.mkdtemp(prefix="pat-mutants.")
    try:
        files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                                "--exclude-standard"], cwd=top, check=True,
                               stdout=subprocess.PIPE).stdout.split(b"\0")
        for f in files:
            if not f:
                continue
            f = f.decode()
            src = os.path.join(top, f)
            if not os.path.isfile(src):
                continue
            os.makedirs(os.path.dirname(os.path.join(scratch, f)), exist_ok=True)
            shutil.copy2(src, os.path.join(scratch, f))
        os.chmod(scratch, 0o755)	# the suite runs programs as other uids
        ok, err = build(scratch)
        if not ok:
            sys.exit("mutants: the unmutated copy does not build:\n" + err)
        caught, summary = run_tests(scratch, None)
        if caught:
            sys.exit("mutants: the suite fails without any mutant (%s): "
                     "fix that first" % summary)
        print("mutants: unmutated suite passes (%s)" % summary)
        bad = 0
        for m in mutants:
            path = os.path.join(scratch, m["file"])
            orig = open(path, encoding="utf-8").read()
            t0 = time.time()
            if orig.count(m["from"]) != 1:
                verdict, detail = "STALE", "text found %d times in %s" % (
                    orig.count(m["from"]), m["file"])
            else:
                open(path, "w", encoding="utf-8").write(
                    orig.replace(m["from"], m["to"]))
                ok, err = build(scratch)
                if not ok:
                    verdict, detail = "BROKEN", "does not build: " + err.strip()[-300:]
                elif m["tests"] == "system":
                    caught, detail = run_system(scratch, os.path.join(
                        top, "build", "systest"))
                    verdict = ("BROKEN" if caught is None else
                               "KILLED" if caught else "SURVIVED")
                else:
                    caught, detail = run_tests(scratch, m["tests"])
                    verdict = "KILLED" if caught else "SURVIVED"
                open(path, "w", encoding="utf-8").write(orig)
                os.utime(path)	# newer than the mutated objects: rebuilt
            bad += verdict != "KILLED"
            print("%-8s %-32s %5.0fs  %s  [%s]  %s" % (verdict, m["name"],
                  time.time() - t0, m["what"], m["tests"], detail), flush=True)
        build(scratch)
        print("mutants: %d tried, %d killed, %d not" % (len(mutants),
              len(mutants) - bad, bad))
        return 1 if bad else 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
