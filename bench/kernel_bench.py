#!/usr/bin/python3
"""Side-by-side Jupyter kernel benchmark: tsprof vs ipykernel, tslab, Deno.

    npm run bench:kernel            # = /usr/bin/python3 bench/kernel_bench.py
    /usr/bin/python3 bench/kernel_bench.py --kernels tsprof,deno --no-build

Runs bench/kernel_probe.py once per kernel (sequentially, one process each,
each with a hard time limit), prints a table with tsprof's targets and the
tsprof/peer ratios, and writes the raw results to
bench/results/kernel-latest.json.

Must be run with Debian's /usr/bin/python3 (jupyter_client + pyzmq).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import statistics
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROBE = os.path.join(HERE, "kernel_probe.py")
RESULTS = os.path.join(HERE, "results", "kernel-latest.json")
PY = "/usr/bin/python3"
PROBE_TIMEOUT = 420.0  # whole probe of one kernel, seconds (worst case ~360)
BUILD_TIMEOUT = 300.0

TARGETS = {  # tsprof's targets (DESIGN.md)
    "start_s": 0.5,
    "exec_median_ms": 1.5,
    "burst_s": 0.1,
    "pipelined_s": 0.5,
    "idle_rss_mib": 100.0,
    "interrupt_ms": 100.0,
}


def node_bin() -> str:
    return shutil.which("node") or "node"


def deno_bin() -> str | None:
    # npm's postinstall (blocked by default here) would copy the binary to
    # node_modules/deno/deno; node_modules/.bin/deno is a Node wrapper that
    # would add a node process to the tree, so use the real binary.
    for p in ("node_modules/deno/deno", "node_modules/@deno/linux-x64-glibc/deno"):
        p = os.path.join(ROOT, p)
        if os.access(p, os.X_OK):
            return p
    return None


def kernel_specs() -> dict[str, dict[str, Any]]:
    deno = deno_bin()
    return {
        "tsprof": {
            "argv": [node_bin(), "--experimental-import-meta-resolve", "--expose-gc",
                     "--min-semi-space-size=1", "--max-semi-space-size=1",
                     os.path.join(ROOT, "dist/bin/tsprof.js"), "kernel",
                     "{connection_file}"],
            "interrupt_mode": "message", "language": "js",
            "needs": os.path.join(ROOT, "dist/bin/tsprof.js"),
        },
        "ipykernel": {
            # ipykernel's own kernelspec (ipykernel.kernelspec.get_kernel_dict)
            "argv": [PY, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "interrupt_mode": "signal", "language": "python",
        },
        "tslab": {
            # tslab's kernelspec (tslab/python/install.py), TypeScript mode
            "argv": [os.path.join(ROOT, "node_modules/.bin/tslab"), "kernel",
                     "--config-path", "{connection_file}"],
            "interrupt_mode": "signal", "language": "js",
            "needs": os.path.join(ROOT, "node_modules/.bin/tslab"),
        },
        "deno": {
            # what `deno jupyter --install` writes (no interrupt_mode = signal)
            "argv": [deno or "deno", "jupyter", "--kernel", "--conn",
                     "{connection_file}"],
            "interrupt_mode": "signal", "language": "js",
            "needs": deno or os.path.join(ROOT, "node_modules/deno/deno"),
        },
    }


def versions() -> dict[str, Any]:
    v: dict[str, Any] = {"python_client": platform.python_version()}
    try:
        import jupyter_client
        import zmq
        v["jupyter_client"] = jupyter_client.__version__
        v["pyzmq"] = zmq.__version__
        v["libzmq"] = zmq.zmq_version()
    except Exception:
        pass
    try:
        v["node"] = subprocess.run([node_bin(), "--version"], capture_output=True,
                                   text=True, timeout=10).stdout.strip()
    except Exception:
        pass
    for pkg in ("tslab", "deno", "zeromq"):
        try:
            with open(os.path.join(ROOT, "node_modules", pkg, "package.json")) as f:
                v[pkg] = json.load(f)["version"]
        except Exception:
            pass
    try:
        import ipykernel  # type: ignore
        v["ipykernel"] = ipykernel.__version__
    except Exception:
        pass
    return v


def machine() -> dict[str, Any]:
    m: dict[str, Any] = {"cpus": os.cpu_count(), "kernel": platform.release(),
                         "loadavg_at_start": os.getloadavg()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    m["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            m["mem_total"] = f.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    return m


def build() -> dict[str, Any]:
    """npx tsc -p . (tsc emits even with type errors)."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(["npx", "tsc", "-p", "."], cwd=ROOT, capture_output=True,
                           text=True, timeout=BUILD_TIMEOUT, start_new_session=True)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"tsc timed out after {BUILD_TIMEOUT:.0f} s"}
    except OSError as e:
        return {"ok": False, "error": str(e)}
    out = (p.stdout + p.stderr).strip()
    errors = sum(1 for line in out.splitlines() if "error TS" in line)
    return {"ok": p.returncode == 0, "exit_code": p.returncode, "ts_errors": errors,
            "seconds": round(time.monotonic() - t0, 1),
            "output_tail": out[-1500:] if p.returncode else ""}


def kill_group(pid: int) -> None:
    if pid <= 1:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def run_probe(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    needs = spec.pop("needs", None)
    if needs and not os.path.exists(needs):
        return {"name": name, "ok": False, "error": f"not found: {needs}"}
    tmp = tempfile.mkdtemp(prefix="kbench-")
    spec_path = os.path.join(tmp, "spec.json")
    out_path = os.path.join(tmp, "result.json")
    pidfile = os.path.join(tmp, "kernel.pid")
    with open(spec_path, "w") as f:
        json.dump({"name": name, **spec}, f)
    # the probe gets its own process group (so we can end it and only it);
    # the kernel it starts gets another one, recorded in pidfile
    p = subprocess.Popen([PY, PROBE, "--spec", spec_path, "--out", out_path,
                          "--pidfile", pidfile], cwd=ROOT, start_new_session=True)
    try:
        p.wait(timeout=PROBE_TIMEOUT)
    except (subprocess.TimeoutExpired, KeyboardInterrupt) as e:
        kill_group(p.pid)
        p.wait()
        if isinstance(e, KeyboardInterrupt):
            raise
        partial: dict[str, Any] = {"name": name}
        try:
            with open(out_path) as f:  # the probe checkpoints after each phase
                partial = json.load(f)
        except (OSError, ValueError):
            pass
        partial["ok"] = False
        partial["error"] = f"probe exceeded {PROBE_TIMEOUT:.0f} s and was killed"
        return partial
    finally:
        # belt and braces: the probe kills its kernel's group itself
        if os.path.exists(pidfile):
            try:
                with open(pidfile) as f:
                    kpid = int(f.read().strip())
                kill_group(kpid)
            except (OSError, ValueError):
                pass
    try:
        with open(out_path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"name": name, "ok": False,
                "error": f"probe exited with code {p.returncode} and no result"}


# --------------------------------------------------------------------------
# summary


def g(d: Any, *path: str) -> Any:
    for k in path:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def summarize(r: dict[str, Any]) -> dict[str, Any]:
    """Flat numbers + short texts per kernel for the table."""
    s: dict[str, Any] = {"error": r.get("error")}
    s["start_s"] = r.get("start_s")
    s["exec_median_ms"] = g(r, "exec", "median_ms")
    s["exec_p99_ms"] = g(r, "exec", "p99_ms")
    s["exec_never_answered"] = g(r, "exec", "never_answered")
    s["exec_gave_up_at"] = r.get("exec_gave_up_at")
    b = r.get("burst")
    if b:
        done_at = None
        if b["finished"]:
            done_at = max(x for x in (b["reply_s"], b["idle_s"], b["last_line_s"]) if x)
        s["burst_s"] = done_at if (b["finished"] and b["complete"]) else None
        s["burst_idle_s"] = b["idle_s"]
        s["burst_last_line_s"] = b["last_line_s"]
        s["burst_lines"] = b["lines"]
        s["burst_lines_before_idle"] = b["lines_before_idle"]
        s["burst_in_order"] = b["in_order"]
        s["burst_complete"] = b["complete"]
        s["burst_idle_seen"] = b["idle_s"] is not None
    p = r.get("pipelined")
    if p:
        s["pipelined_s"] = p["wall_s"] if (p["in_order"] and p["reply_status"].get("ok") == p["n"]) else None
        s["pipelined_replies"] = p["replies"]
        s["pipelined_in_order"] = p["in_order"]
    s["idle_rss_mib"] = g(r, "idle_rss", "mib")
    s["rss_after_burst_mib"] = g(r, "rss_after_burst", "mib")
    i = r.get("interrupt")
    if i:
        s["interrupt_outcome"] = i.get("outcome")
        s["interrupt_ms"] = i.get("latency_ms")
        s["interrupt_state_kept"] = i.get("state_kept")
        s["interrupt_alive_after"] = i.get("alive_after")
        s["hb_while_spinning_ms"] = i.get("hb_while_spinning_ms")
        s["interrupt_died_after_ms"] = i.get("died_after_ms")
    return s


def fmt(x: Any, nd: int = 2) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def cells(s: dict[str, Any]) -> dict[str, str]:
    """Text of each row for one kernel."""
    c: dict[str, str] = {}
    if s.get("start_s") is None:
        err = s.get("error") or "failed"
        c["start"] = "FAILED"
        c["_error"] = err
        return c
    c["start"] = fmt(s["start_s"], 2)
    if s.get("exec_median_ms") is not None:
        c["exec_median"] = fmt(s["exec_median_ms"], 2)
        c["exec_p99"] = fmt(s["exec_p99_ms"], 2)
    c["exec_missing"] = f"{fmt(s.get('exec_never_answered'))} / 200" \
        if s.get("exec_never_answered") is not None else "—"
    if s.get("exec_gave_up_at") is not None:
        c["exec_missing"] += f" (stopped at {s['exec_gave_up_at']})"
    if "burst_lines" in s:
        if s["burst_s"] is not None:
            c["burst"] = fmt(s["burst_s"], 3)
        elif not s["burst_idle_seen"]:
            c["burst"] = "never idle"
        else:
            c["burst"] = "lines lost"
        c["burst_idle"] = fmt(s["burst_idle_s"], 3) if s["burst_idle_seen"] else "never"
        c["burst_lines"] = f"{s['burst_lines']}" + ("" if s["burst_in_order"] else " (out of order)")
        c["burst_before_idle"] = f"{s['burst_lines_before_idle']}" \
            if s["burst_idle_seen"] else "—"
    if "pipelined_replies" in s:
        c["pipelined"] = fmt(s["pipelined_s"], 3) if s.get("pipelined_s") is not None else \
            f"{s['pipelined_replies']} replies" + ("" if s["pipelined_in_order"] else ", out of order")
    c["idle_rss"] = fmt(s.get("idle_rss_mib"), 1)
    c["rss_after_burst"] = fmt(s.get("rss_after_burst_mib"), 1)
    if s.get("interrupt_outcome"):
        o = s["interrupt_outcome"]
        if o == "replied":
            c["interrupt"] = fmt(s["interrupt_ms"], 1)
        elif o == "kernel died":
            c["interrupt"] = f"DIED ({fmt(s['interrupt_died_after_ms'], 0)} ms)"
        else:
            c["interrupt"] = "no reply (10 s)"
        c["state_kept"] = fmt(s["interrupt_state_kept"])
        c["alive_after"] = fmt(s["interrupt_alive_after"])
        hb = s.get("hb_while_spinning_ms")
        c["hb_spin"] = fmt(hb, 1) if hb is not None else "no answer (1 s)"
    if s.get("error"):
        c["_error"] = s["error"]
    return c


ROWS = [  # key, label, target text
    ("start", "start → first kernel_info_reply (s)", "≤ 0.5"),
    ("exec_median", "execute round-trip, median (ms)", "≤ 1.5"),
    ("exec_p99", "execute round-trip, p99 (ms)", ""),
    ("exec_missing", "executes never answered (5 s each)", "0 / 200"),
    ("pipelined", "1,000 pipelined executes, in order (s)", "≤ 0.5"),
    ("burst", "20k-line burst: all lines + idle (s)", "≤ 0.1"),
    ("burst_idle", "  burst: send → idle (s)", ""),
    ("burst_lines", "  burst: lines received, in order", "20000"),
    ("burst_before_idle", "  burst: lines received before idle", "20000"),
    ("idle_rss", "idle RSS, process tree (MiB)", "≤ 100"),
    ("rss_after_burst", "  RSS after burst (MiB)", ""),
    ("interrupt", "interrupt → execute_reply (ms)", "≤ 100"),
    ("state_kept", "  state kept after interrupt", "yes"),
    ("alive_after", "  kernel alive after interrupt", "yes"),
    ("hb_spin", "  heartbeat while cell spins (ms)", ""),
]


def target_ok(key: str, s: dict[str, Any]) -> bool | None:
    t = TARGETS
    if s.get("start_s") is None:
        return None
    if key == "start":
        return s["start_s"] <= t["start_s"]
    if key == "exec_median" and s.get("exec_median_ms") is not None:
        return s["exec_median_ms"] <= t["exec_median_ms"]
    if key == "exec_missing" and s.get("exec_never_answered") is not None:
        return s["exec_never_answered"] == 0
    if key == "pipelined" and "pipelined_replies" in s:
        return s.get("pipelined_s") is not None and s["pipelined_s"] <= t["pipelined_s"]
    if key == "burst" and "burst_s" in s:
        return s["burst_s"] is not None and s["burst_s"] <= t["burst_s"]
    if key == "idle_rss" and s.get("idle_rss_mib") is not None:
        return s["idle_rss_mib"] <= t["idle_rss_mib"]
    if key == "interrupt" and s.get("interrupt_outcome"):
        return s.get("interrupt_ms") is not None and s["interrupt_ms"] <= t["interrupt_ms"]
    if key == "state_kept" and s.get("interrupt_outcome"):
        return bool(s.get("interrupt_state_kept"))
    return None


RATIO_ROWS = [
    ("start_s", "start"),
    ("exec_median_ms", "execute median"),
    ("exec_p99_ms", "execute p99"),
    ("pipelined_s", "1,000 pipelined executes"),
    ("burst_s", "burst (all lines + idle)"),
    ("idle_rss_mib", "idle RSS"),
    ("interrupt_ms", "interrupt latency"),
]


# Ratio targets (issue 13): tsprof at most this fraction of the peer's figure.
RATIO_TARGETS = {("deno", "start_s"): 0.7, ("deno", "exec_median_ms"): 0.7}


def ratio_cell(peer: str, key: str, r: float | None) -> str:
    if r is None:
        return "n/a"
    t = RATIO_TARGETS.get((peer, key))
    mark = "" if t is None else (f" ✓ (≤ {t}×)" if r <= t else f" ✗ (≤ {t}×)")
    return f"{r:.2f}×{mark}"


def median_summary(ss: list[dict[str, Any]]) -> dict[str, Any]:
    """Numbers: median over rounds (None if any round has none); the rest from the last round."""
    out = dict(ss[-1])
    for k, v in ss[-1].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            xs = [s.get(k) for s in ss]
            out[k] = statistics.median(xs) if all(isinstance(x, (int, float)) for x in xs) else None
    return out


def median_ratios(rs: list[dict[str, dict[str, float | None]]]) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for peer in rs[-1]:
        out[peer] = {}
        for key in rs[-1][peer]:
            xs = [r[peer][key] for r in rs]
            out[peer][key] = statistics.median(xs) if all(x is not None for x in xs) else None  # type: ignore[type-var]
    return out


def ratios(summ: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    ts = summ.get("tsprof", {})
    for peer, ps in summ.items():
        if peer == "tsprof":
            continue
        out[peer] = {}
        for key, _ in RATIO_ROWS:
            a, b = ts.get(key), ps.get(key)
            out[peer][key] = (a / b) if (a is not None and b) else None
    return out


def table(rows: list[list[str]]) -> str:
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i])
                               for i, c in enumerate(r)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * x for x in w))
    return "\n".join(lines)


def render(names: list[str], summ: dict[str, dict[str, Any]],
           rat: dict[str, dict[str, float | None]]) -> str:
    cs = {n: cells(summ[n]) for n in names}
    rows = [["metric", "tsprof target"] + names]
    for key, label, target in ROWS:
        row = [label, target]
        for n in names:
            v = cs[n].get(key, "—")
            if n == "tsprof":
                ok = target_ok(key, summ[n])
                if ok is not None:
                    v += " ✓" if ok else " ✗"
            row.append(v)
        rows.append(row)
    out = [table(rows)]
    errs = [f"  {n}: {cs[n]['_error']}" for n in names if cs[n].get("_error")]
    if errs:
        out.append("\nnotes:\n" + "\n".join(errs))
    peers = [n for n in names if n != "tsprof"]
    if "tsprof" in names and peers:
        rr = [["tsprof ÷ peer (< 1 = tsprof better)"] + peers]
        for key, label in RATIO_ROWS:
            rr.append([label] + [ratio_cell(p, key, rat[p][key]) for p in peers])
        out.append("\n" + table(rr))
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", default="tsprof,ipykernel,tslab,deno",
                    help="comma-separated subset/order (default: all four)")
    ap.add_argument("--no-build", action="store_true",
                    help="do not run `npx tsc -p .` before probing tsprof")
    ap.add_argument("--out", default=RESULTS)
    ap.add_argument("--rounds", type=int, default=1,
                    help="probe every kernel this many times, the order reversed each round; "
                         "figures are medians over rounds, ratios medians of each round's ratios "
                         "(side by side: load on a shared machine falls on both)")
    a = ap.parse_args()
    names = [n.strip() for n in a.kernels.split(",") if n.strip()]
    specs = kernel_specs()
    for n in names:
        if n not in specs:
            sys.exit(f"unknown kernel {n!r}; known: {', '.join(specs)}")

    meta: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(), "versions": versions(),
        "targets": TARGETS,
        "method": {
            "client": "bench/kernel_probe.py: pyzmq + jupyter_client Session, "
                      "iopub SUB with default HWM",
            "executes": 200, "exec_timeout_s": 5.0,
            "burst_lines": 20000, "interrupt_timeout_s": 10.0,
        },
    }
    if "tsprof" in names and not a.no_build:
        print("building tsprof (npx tsc -p .) ...", flush=True)
        meta["tsprof_build"] = build()
        b = meta["tsprof_build"]
        print(f"  build: {'ok' if b.get('ok') else 'FAILED'}"
              + (f" ({b.get('ts_errors')} TS errors; tsc still emits)" if b.get("ts_errors") else "")
              + (f" {b.get('error')}" if b.get("error") else ""), flush=True)

    rounds: list[dict[str, Any]] = []
    for rnd in range(max(1, a.rounds)):
        order = names if rnd % 2 == 0 else list(reversed(names))
        results: dict[str, Any] = {}
        for n in order:
            print(f"probing {n} (round {rnd + 1}/{a.rounds}) ...", flush=True)
            t0 = time.monotonic()
            r = run_probe(n, dict(specs[n]))
            results[n] = r
            msg = f"  {n}: {time.monotonic() - t0:.1f} s"
            if r.get("error"):
                msg += f" — {r['error']}"
            print(msg, flush=True)
        rounds.append(results)

    meta["loadavg_at_end"] = os.getloadavg()
    per_round = [{n: summarize(rs[n]) for n in names} for rs in rounds]
    summ = {n: median_summary([pr[n] for pr in per_round]) for n in names}
    rat = median_ratios([ratios(pr) for pr in per_round])
    results = rounds[-1]
    meta["rounds"] = len(rounds)
    meta["per_round_ratios"] = [ratios(pr) for pr in per_round]
    text = render(names, summ, rat)
    print()
    la0, la1 = meta["machine"]["loadavg_at_start"][0], meta["loadavg_at_end"][0]
    print(f"Kernel benchmark, {meta['date']}, {meta['machine'].get('cpus')} CPUs "
          f"({meta['machine'].get('cpu', '?')}), load avg {la0:.2f} → {la1:.2f}")
    print()
    print(text)

    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump({"meta": meta, "summary": summ, "ratios_tsprof_over_peer": rat,
                   "results": results, "table": text}, f, indent=2)
    print(f"\nraw results: {os.path.relpath(a.out, ROOT)}")


if __name__ == "__main__":
    main()
