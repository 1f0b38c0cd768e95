#!/usr/bin/python3
"""Probe ONE Jupyter kernel over real ZeroMQ and print a JSON result.

Run by bench/kernel_bench.py (one probe process per kernel), always with
Debian's /usr/bin/python3, which has jupyter_client and pyzmq.

    /usr/bin/python3 bench/kernel_probe.py --spec SPEC.json --out RESULT.json \
        [--pidfile FILE]

SPEC.json: {"name", "argv" (with "{connection_file}"), "interrupt_mode"
("signal" | "message"), "language" ("python" | "js"), "cwd"?, "env"?}

Measures, in this order (every wait has a timeout):
  1. start: spawn -> first kernel_info_reply on shell
  2. warm-up executes, then idle RSS of the kernel process tree (/proc)
  3. 200 trivial executes: execute_request -> execute_reply AND iopub idle
  4. a 20,000-line print burst: wall time to reply+idle, lines on iopub
  5. interrupt of a busy-loop cell: latency to execute_reply, heartbeat
     while spinning, kernel alive afterwards, state kept

The kernel runs in its own session/process group (start_new_session), so
signal-mode interrupts (killpg SIGINT, exactly what jupyter_client's
KernelManager.interrupt_kernel does) never reach this probe, and cleanup
kills exactly that group (and nothing else).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import zmq
from jupyter_client.connect import write_connection_file
from jupyter_client.session import Session

N_EXEC = 200
N_PIPELINED = 1000
PIPELINED_TIMEOUT = 60.0
EXEC_TIMEOUT = 5.0          # per trivial execute
EXEC_GIVE_UP_AFTER = 5      # consecutive unanswered executes -> stop the loop
EXEC_BUDGET = 90.0          # whole execute loop, seconds -> stop the loop
START_TIMEOUT = 30.0
START_TRIALS = 5            # start time = median of this many cold starts
RESEND_S = float(os.environ.get("KBENCH_RESEND_S", "1.0"))  # kernel_info re-send interval while starting
BURST_LINES = 20000
BURST_TIMEOUT = 60.0
BURST_GRACE = 1.0           # after reply+idle, listen until this much silence
BURST_NO_IDLE = 5.0         # replied but no idle and silent this long: give up
INTERRUPT_TIMEOUT = 10.0
HB_TIMEOUT = 1.0

CODE = {
    "python": {
        "trivial": "pass",
        "burst": f"for i in range({BURST_LINES}): print(i)",
        "set": "state_probe = 42",
        "spin": "while True: pass",
        "read": "print(state_probe)",
    },
    "js": {
        "trivial": "void 0",
        "burst": f"for (let i = 0; i < {BURST_LINES}; i++) console.log(i)",
        "set": "let stateProbe = 42;",
        "spin": "while (true) {}",
        "read": "console.log(stateProbe)",
    },
}

DELIM = b"<IDS|MSG>"


def now() -> float:
    return time.perf_counter()


# --------------------------------------------------------------------------
# /proc helpers


def proc_tree(root: int) -> list[int]:
    """root and all its descendants (by ppid), from /proc."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # comm may contain spaces/parens: ppid is 2 fields after the last ')'
        rest = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(rest[1]), []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss(root: int) -> dict[str, Any]:
    pids = proc_tree(root)
    per = {}
    for p in pids:
        try:
            with open(f"/proc/{p}/comm") as f:
                comm = f.read().strip()
        except OSError:
            comm = "?"
        per[f"{p}:{comm}"] = rss_kib(p)
    total = sum(per.values())
    return {"mib": round(total / 1024, 1), "processes": per}


# --------------------------------------------------------------------------
# client


class Client:
    """Minimal jupyter_client-based client.

    Sends with jupyter_client's Session (signed, standard wire format).
    Receives raw multipart and json-decodes only header/parent/content
    (no signature check, no date parsing) so that a kernel that sends one
    message per printed line is not penalised by client-side parsing cost.
    """

    def __init__(self, conn: dict[str, Any]):
        self.conn = conn
        self.session = Session(key=conn["key"].encode(),
                               signature_scheme=conn["signature_scheme"])
        self.ctx = zmq.Context()
        url = lambda ch: f"tcp://{conn['ip']}:{conn[ch + '_port']}"
        ident = self.session.bsession
        self.shell = self.ctx.socket(zmq.DEALER)
        self.shell.setsockopt(zmq.IDENTITY, ident)
        self.shell.setsockopt(zmq.LINGER, 0)
        self.shell.connect(url("shell"))
        self.control = self.ctx.socket(zmq.DEALER)
        self.control.setsockopt(zmq.IDENTITY, ident)
        self.control.setsockopt(zmq.LINGER, 0)
        self.control.connect(url("control"))
        self.iopub = self.ctx.socket(zmq.SUB)
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        if os.environ.get("KBENCH_IOPUB_RCVHWM"):  # diagnosis only; default
            # is libzmq's 1000, as in jupyter_client / jupyter_server
            self.iopub.setsockopt(zmq.RCVHWM, int(os.environ["KBENCH_IOPUB_RCVHWM"]))
        self.iopub.setsockopt(zmq.LINGER, 0)
        self.iopub.connect(url("iopub"))
        self.stdin = self.ctx.socket(zmq.DEALER)
        self.stdin.setsockopt(zmq.IDENTITY, ident)
        self.stdin.setsockopt(zmq.LINGER, 0)
        self.stdin.connect(url("stdin"))
        self.hb_url = url("hb")
        for sock in (self.shell, self.control, self.iopub, self.stdin):
            # libzmq retries a refused connect every 100 ms by default, which
            # would quantise the measured start time; retry every 5 ms
            sock.setsockopt(zmq.RECONNECT_IVL, 5)
        self.poller = zmq.Poller()
        for s in (self.shell, self.control, self.iopub):
            self.poller.register(s, zmq.POLLIN)
        self.names = {self.shell: "shell", self.control: "control",
                      self.iopub: "iopub"}

    def close(self) -> None:
        self.ctx.destroy(linger=0)

    def send(self, sock: zmq.Socket, msg_type: str, content: dict) -> str:
        msg = self.session.msg(msg_type, content)
        self.session.send(sock, msg)
        return msg["header"]["msg_id"]

    def execute(self, code: str) -> str:
        return self.send(self.shell, "execute_request", {
            "code": code, "silent": False, "store_history": True,
            "user_expressions": {}, "allow_stdin": False,
            "stop_on_error": True})

    @staticmethod
    def parse(frames: list[bytes]) -> dict[str, Any]:
        i = frames.index(DELIM)
        header = json.loads(frames[i + 2])
        parent = json.loads(frames[i + 3])
        content = json.loads(frames[i + 5])
        return {"msg_type": header.get("msg_type"),
                "parent_id": parent.get("msg_id") if parent else None,
                "content": content}

    def poll(self, timeout: float):
        """Yield (channel, msg, t_received) for everything readable within
        timeout seconds (returns after the first batch)."""
        events = dict(self.poller.poll(max(0, int(timeout * 1000))))
        out = []
        for sock in (self.shell, self.control, self.iopub):
            if sock in events:
                while True:
                    try:
                        frames = sock.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    t = now()
                    try:
                        out.append((self.names[sock], self.parse(frames), t))
                    except Exception:  # malformed message: ignore
                        pass
        return out

    def hb_ping(self, timeout: float) -> float | None:
        """Round-trip on the heartbeat channel, seconds, or None."""
        s = self.ctx.socket(zmq.REQ)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(self.hb_url)
        try:
            t0 = now()
            s.send(b"ping")
            if s.poll(int(timeout * 1000)):
                s.recv()
                return now() - t0
            return None
        finally:
            s.close(linger=0)


class Run:
    """Collects everything for one request (by parent msg_id)."""

    def __init__(self, client: Client, msg_id: str, t0: float):
        self.c = client
        self.msg_id = msg_id
        self.t0 = t0
        self.reply: dict | None = None
        self.t_reply: float | None = None
        self.t_busy: float | None = None
        self.t_idle: float | None = None
        self.iopub: list[tuple[float, dict]] = []

    def feed(self, ch: str, m: dict, t: float) -> None:
        if m["parent_id"] != self.msg_id:
            return
        if ch in ("shell", "control") and m["msg_type"].endswith("_reply"):
            if self.reply is None:
                self.reply, self.t_reply = m, t
        elif ch == "iopub":
            if m["msg_type"] == "status":
                st = m["content"].get("execution_state")
                if st == "busy" and self.t_busy is None:
                    self.t_busy = t
                elif st == "idle" and self.t_idle is None:
                    self.t_idle = t
            else:
                self.iopub.append((t, m))

    @property
    def done(self) -> bool:
        return self.reply is not None and self.t_idle is not None

    def wait(self, timeout: float, until=None) -> bool:
        """Pump until done (or until(self) is true) or timeout."""
        cond = until or (lambda r: r.done)
        deadline = now() + timeout
        while not cond(self):
            left = deadline - now()
            if left <= 0:
                return False
            for ch, m, t in self.c.poll(min(left, 0.05)):
                self.feed(ch, m, t)
        return True

    def drain(self, seconds: float) -> None:
        end = now() + seconds
        while True:
            left = end - now()
            if left <= 0:
                return
            for ch, m, t in self.c.poll(left):
                self.feed(ch, m, t)

    def text(self) -> str:
        parts = []
        for _, m in self.iopub:
            c = m["content"]
            if m["msg_type"] == "stream":
                parts.append(c.get("text", ""))
            elif m["msg_type"] in ("execute_result", "display_data"):
                parts.append(str(c.get("data", {}).get("text/plain", "")))
            elif m["msg_type"] == "error":
                parts.append(f"{c.get('ename')}: {c.get('evalue')}")
        return "".join(parts)

    def elapsed(self) -> float | None:
        if not self.done:
            return None
        return max(self.t_reply, self.t_idle) - self.t0  # type: ignore


def execute(c: Client, code: str, timeout: float) -> Run:
    t0 = now()
    r = Run(c, c.execute(code), t0)
    r.wait(timeout)
    return r


def reply_summary(r: Run) -> dict[str, Any]:
    if r.reply is None:
        return {"status": None}
    c = r.reply["content"]
    out = {"status": c.get("status")}
    if c.get("status") == "error":
        out["ename"] = c.get("ename")
        out["evalue"] = str(c.get("evalue"))[:300]
    return out


# --------------------------------------------------------------------------
# the probe


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    k = max(0, math.ceil(p / 100 * len(s)) - 1)
    return s[k]


def probe(spec: dict[str, Any], pidfile: str | None,
          out: str | None = None) -> dict[str, Any]:
    code = CODE[spec["language"]]
    res: dict[str, Any] = {"name": spec["name"], "argv": spec["argv"],
                           "interrupt_mode": spec["interrupt_mode"],
                           "ok": False}

    def checkpoint() -> None:
        """Write what we have so far, in case the driver has to kill us."""
        if out:
            with open(out + ".tmp", "w") as f:
                json.dump(res, f, indent=2)
            os.replace(out + ".tmp", out)
    tmp = tempfile.mkdtemp(prefix=f"kbench-{spec['name']}-")
    env = dict(os.environ)
    env.update(spec.get("env") or {})
    log_path = os.path.join(tmp, "kernel.log")
    log = open(log_path, "ab")
    cwd = spec.get("cwd") or tmp

    proc: subprocess.Popen | None = None
    client: Client | None = None

    def log_tail() -> str:
        log.flush()
        try:
            with open(log_path, "rb") as f:
                return f.read()[-2000:].decode("utf8", "replace")
        except OSError:
            return ""

    def alive() -> bool:
        return proc is not None and proc.poll() is None

    def stop() -> None:
        """Shut down the current kernel; kill the process group we made."""
        nonlocal proc, client
        if client is not None and proc is not None and alive():
            try:
                client.send(client.control, "shutdown_request", {"restart": False})
                proc.wait(timeout=2.0)
            except Exception:
                pass
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                proc.wait(timeout=5.0)
            except Exception:
                pass
        if client is not None:
            client.close()
        proc, client = None, None

    def start(trial: int) -> float | str:
        """Spawn the kernel; seconds to first kernel_info_reply, or an error."""
        nonlocal proc, client
        cf = os.path.join(tmp, f"connection-{trial}.json")
        write_connection_file(cf, ip="127.0.0.1", key=os.urandom(16).hex().encode(),
                              transport="tcp", signature_scheme="hmac-sha256",
                              kernel_name=spec["name"])
        with open(cf) as f:
            conn = json.load(f)
        argv = [a.replace("{connection_file}", cf) for a in spec["argv"]]
        client = Client(conn)  # connect first; zmq queues until kernel binds
        log.write(f"---- start {trial}\n".encode())
        log.flush()
        t_spawn = now()
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        except OSError as e:
            return f"failed to spawn: {e}"
        if pidfile:
            with open(pidfile, "w") as f:
                f.write(str(proc.pid))
        res["pid"] = proc.pid
        sent: dict[str, int] = {}
        next_send = t_spawn
        deadline = t_spawn + START_TIMEOUT
        while now() < deadline:
            if not alive():
                return "kernel exited during startup (code %s)" % proc.poll()
            if now() >= next_send:
                # re-send in case the kernel dropped a request that arrived
                # before it was listening; any reply counts
                sent[client.send(client.shell, "kernel_info_request", {})] = len(sent)
                next_send = now() + RESEND_S
            for ch, m, t in client.poll(0.02):
                if ch == "shell" and m["msg_type"] == "kernel_info_reply" \
                        and m["parent_id"] in sent:
                    res["kernel_info"] = {
                        k: m["content"].get(k) for k in
                        ("implementation", "implementation_version",
                         "protocol_version", "language_info")}
                    res["kernel_info_requests_sent"] = len(sent)
                    res["kernel_info_answered_first"] = sent[m["parent_id"]]
                    return t - t_spawn
        return f"no kernel_info_reply within {START_TIMEOUT:.0f} s"

    try:
        # ---- 1. start -> first kernel_info_reply (median of START_TRIALS;
        #         the kernel of the last start is the one measured below) ----
        starts = []
        for trial in range(START_TRIALS):
            if trial:
                stop()
            st = start(trial)
            if isinstance(st, str):
                res["error"] = st
                res["start_all_s"] = starts
                res["log_tail"] = log_tail()
                return res
            starts.append(st)
        res["start_s"] = statistics.median(starts)
        res["start_all_s"] = starts
        assert proc is not None and client is not None

        checkpoint()
        # ---- 2. warm-up (also makes sure iopub is subscribed) -------------
        warm = []
        for i in range(5):
            r = execute(client, code["trivial"], EXEC_TIMEOUT)
            if r.done:
                warm.append(r.elapsed())
            elif i == 0 and alive():
                # slow joiner on iopub: jupyter_client 'nudges' the same way
                continue
        res["warmup_ms"] = [round(x * 1000, 2) for x in warm]
        if not warm:
            res["error"] = "warm-up executes never completed (reply + idle)"
            res["log_tail"] = log_tail()
            return res
        time.sleep(1.0)
        res["idle_rss"] = tree_rss(proc.pid)

        checkpoint()
        # ---- 3. trivial execute round-trip ---------------------------------
        times, missing, missing_reply, missing_idle = [], 0, 0, 0
        statuses: dict[str, int] = {}
        consecutive = 0
        t_loop = now()
        for i in range(N_EXEC):
            if not alive() or consecutive >= EXEC_GIVE_UP_AFTER \
                    or now() - t_loop > EXEC_BUDGET:
                missing += N_EXEC - i
                res["exec_gave_up_at"] = i
                break
            r = execute(client, code["trivial"], EXEC_TIMEOUT)
            if r.done:
                times.append(r.elapsed())
                consecutive = 0
                st = reply_summary(r)["status"]
                statuses[st] = statuses.get(st, 0) + 1
            else:
                missing += 1
                consecutive += 1
                missing_reply += r.reply is None
                missing_idle += r.t_idle is None
        res["exec"] = {
            "n": N_EXEC, "answered": len(times), "never_answered": missing,
            "missing_reply": missing_reply, "missing_idle": missing_idle,
            "timeout_s": EXEC_TIMEOUT, "reply_status": statuses,
            "median_ms": statistics.median(times) * 1000 if times else None,
            "p99_ms": pct(times, 99) * 1000 if times else None,
            "min_ms": min(times) * 1000 if times else None,
            "max_ms": max(times) * 1000 if times else None,
        }
        if not alive():
            res["error"] = "kernel died during executes"
            res["log_tail"] = log_tail()
            return res

        checkpoint()
        # ---- 3b. pipelined executes: N_PIPELINED sent without waiting; time
        #          from the first send to the last reply and idle; replies must
        #          come in the order sent, every status ok ----------------------
        t0 = now()
        ids = [client.execute(code["trivial"]) for _ in range(N_PIPELINED)]
        t_sent = now()
        pos = {m: i for i, m in enumerate(ids)}
        reply_order: list[int] = []
        idles = 0
        pstatus: dict[str, int] = {}
        t_end = None
        deadline = t0 + PIPELINED_TIMEOUT
        while now() < deadline and (len(reply_order) < N_PIPELINED or idles < N_PIPELINED):
            for ch, m, t in client.poll(0.05):
                i = pos.get(m["parent_id"])
                if i is None:
                    continue
                if ch == "shell" and m["msg_type"] == "execute_reply":
                    reply_order.append(i)
                    st = m["content"].get("status")
                    pstatus[st] = pstatus.get(st, 0) + 1
                    t_end = t
                elif ch == "iopub" and m["msg_type"] == "status" \
                        and m["content"].get("execution_state") == "idle":
                    idles += 1
                    t_end = t
            if not alive():
                break
        done = len(reply_order) == N_PIPELINED and idles == N_PIPELINED
        res["pipelined"] = {
            "n": N_PIPELINED, "replies": len(reply_order), "idles": idles,
            "in_order": reply_order == sorted(reply_order),
            "reply_status": pstatus, "send_s": t_sent - t0,
            "wall_s": (t_end - t0) if (done and t_end) else None,
        }

        checkpoint()
        # ---- 4. print burst --------------------------------------------------
        t0 = now()
        r = Run(client, client.execute(code["burst"]), t0)
        deadline = t0 + BURST_TIMEOUT
        t_last = t0  # last message of any kind for this request
        stop_reason = "timeout"
        while now() < deadline:
            for ch, m, t in client.poll(0.05):
                if m["parent_id"] == r.msg_id:
                    t_last = t
                r.feed(ch, m, t)
            quiet = now() - t_last
            if r.done and quiet >= BURST_GRACE:
                stop_reason = "done"       # reply + idle, then 1 s of silence
                break
            if r.reply is not None and r.t_idle is None and quiet >= BURST_NO_IDLE:
                stop_reason = "no idle"    # replied, then silence, never idle
                break
            if not alive():
                stop_reason = "kernel died"
                break
        finished = r.done
        lines = []
        stream_msgs = 0
        t_last_line = None
        lines_before_idle = 0
        for t, m in r.iopub:
            if m["msg_type"] != "stream":
                continue
            stream_msgs += 1
            got = m["content"].get("text", "").splitlines()
            lines.extend(got)
            t_last_line = t
            if r.t_idle is not None and t <= r.t_idle:
                lines_before_idle += len(got)
        expected = [str(i) for i in range(BURST_LINES)]
        nums = []
        for line in lines:
            try:
                nums.append(int(line.strip()))
            except ValueError:
                nums.append(None)
        in_order = None not in nums and all(
            a < b for a, b in zip(nums, nums[1:]))  # type: ignore[operator]
        res["burst"] = {
            "finished": finished,
            "stop": stop_reason,
            "wall_s": r.elapsed(),
            "reply_s": (r.t_reply - t0) if r.t_reply else None,
            "idle_s": (r.t_idle - t0) if r.t_idle else None,
            "last_line_s": (t_last_line - t0) if t_last_line else None,
            "lines": len(lines),
            "lines_before_idle": lines_before_idle,
            "complete": lines == expected,
            "in_order": in_order,
            "first_missing": next((i for i, x in enumerate(lines) if x != str(i)),
                                  None if len(lines) == BURST_LINES else len(lines)),
            "stream_messages": stream_msgs,
            "reply": reply_summary(r),
            "timeout_s": BURST_TIMEOUT,
        }
        if not finished or not res["burst"]["complete"]:
            res["burst"]["log_tail"] = log_tail()[-600:]
        if not alive():
            res["error"] = "kernel died during burst"
            res["log_tail"] = log_tail()
            return res
        # is it still usable (a kernel still printing would pollute the
        # interrupt test)?
        ki = Run(client, client.send(client.shell, "kernel_info_request", {}), now())
        ki.wait(5.0, until=lambda r: r.reply is not None)
        if ki.reply is None:
            res["error"] = "kernel unresponsive after burst; interrupt test skipped"
            return res
        res["rss_after_burst"] = tree_rss(proc.pid)

        checkpoint()
        # ---- 5. interrupt -----------------------------------------------------
        intr: dict[str, Any] = {"mode": spec["interrupt_mode"]}
        res["interrupt"] = intr
        s = execute(client, code["set"], EXEC_TIMEOUT)
        intr["set_state"] = reply_summary(s)
        spin = Run(client, client.execute(code["spin"]), now())
        spin.wait(5.0, until=lambda r: r.t_busy is not None or r.reply is not None)
        time.sleep(0.3)  # let it actually spin
        intr["spin_started"] = spin.t_busy is not None and spin.reply is None
        hb = client.hb_ping(HB_TIMEOUT)
        intr["hb_while_spinning_ms"] = hb * 1000 if hb is not None else None
        # drain anything that arrived meanwhile
        spin.drain(0.0)
        t_int = now()
        if spec["interrupt_mode"] == "message":
            ir = Run(client, client.send(client.control, "interrupt_request", {}), t_int)
            intr["sent"] = "interrupt_request on control"
        else:
            # what jupyter_client's KernelManager.interrupt_kernel() does for
            # interrupt_mode "signal": SIGINT to the kernel's process group
            ir = None
            try:
                os.killpg(os.getpgid(proc.pid), signal.SIGINT)
            except OSError:
                proc.send_signal(signal.SIGINT)
            intr["sent"] = "SIGINT to kernel process group"

        def spin_done(r: Run) -> bool:
            return r.reply is not None or not alive()

        deadline = now() + INTERRUPT_TIMEOUT
        while not spin_done(spin) and now() < deadline:
            for ch, m, t in client.poll(0.02):
                spin.feed(ch, m, t)
                if ir is not None:
                    ir.feed(ch, m, t)
        died_at = None
        if not alive():
            died_at = now()
        if spin.reply is not None:
            intr["latency_ms"] = (spin.t_reply - t_int) * 1000
            intr["reply"] = reply_summary(spin)
            spin.wait(2.0)  # idle
            intr["idle_after"] = spin.t_idle is not None
            intr["outcome"] = "replied"
        elif died_at is not None:
            intr["outcome"] = "kernel died"
            intr["exit_code"] = proc.poll()
            intr["died_after_ms"] = (died_at - t_int) * 1000
        else:
            intr["outcome"] = f"no execute_reply within {INTERRUPT_TIMEOUT:.0f} s"
        if ir is not None and ir.reply is not None:
            intr["interrupt_reply_ms"] = (ir.t_reply - t_int) * 1000
        time.sleep(0.3)
        intr["alive_after"] = alive()
        if alive():
            info_id = client.send(client.shell, "kernel_info_request", {})
            ki = Run(client, info_id, now())
            ki.wait(5.0, until=lambda r: r.reply is not None)
            intr["responsive_after"] = ki.reply is not None
        else:
            intr["responsive_after"] = False
            intr["exit_code"] = proc.poll()
        if intr["responsive_after"]:
            rd = execute(client, code["read"], EXEC_TIMEOUT)
            out = rd.text()
            intr["read_state"] = reply_summary(rd)
            intr["read_output"] = out[:200]
            intr["state_kept"] = (reply_summary(rd)["status"] == "ok"
                                  and "42" in out)
        else:
            intr["state_kept"] = False
        if not alive():
            res["log_tail"] = log_tail()
        res["ok"] = True
        return res
    except Exception as e:  # never let the probe die without a result
        import traceback
        res["error"] = f"probe exception: {e!r}"
        res["traceback"] = traceback.format_exc()[-2000:]
        return res
    finally:
        stop()
        log.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pidfile")
    a = ap.parse_args()
    with open(a.spec) as f:
        spec = json.load(f)
    res = probe(spec, a.pidfile, a.out)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
