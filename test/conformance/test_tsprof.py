"""The official Jupyter kernel conformance suite (jupyter_kernel_test) run against tsprof.

Run with Debian's Python, from the repository root, after `npx tsc -p .`:

    /usr/bin/python3 -m unittest -v test/conformance/test_tsprof.py

setUpClass installs the kernelspec (`tsprof install --prefix TMP`) into a temporary Jupyter data
directory and points JUPYTER_PATH at it, so jupyter_client finds the kernel by name without
touching the user's own Jupyter directories. test/conformance.test.ts runs this file under node:test.
"""

import os
import shutil
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import jupyter_kernel_test
from jupyter_client.utils import run_sync
from jupyter_kernel_test.msgspec_v5 import validate_message

ROOT = Path(__file__).resolve().parents[2]
TSPROF = ROOT / "dist" / "bin" / "tsprof.js"
NODE = os.environ.get("TSPROF_NODE") or shutil.which("node") or "node"
TIMEOUT = jupyter_kernel_test.TIMEOUT


class TsprofKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "tsprof"

    # kernel_info_reply.language_info
    language_name = "typescript"
    file_extension = ".ts"

    # test_execute_stdout: a stream on stdout containing "hello, world"
    code_hello_world = 'console.log("hello, world")'

    # test_execute_stderr: a stream on stderr
    code_stderr = 'console.error("something went wrong")'

    # test_completion: names of the JavaScript globals and of an object's members. The replaced
    # range (cursor_start) is the identifier being typed, as TypeScript's language service gives it.
    completion_samples = [
        {"text": "parseFl", "matches": {"parseFloat"}},
        {"text": "encodeURICompo", "matches": {"encodeURIComponent"}},
        {"text": "Math.fl", "matches": {"floor"}},
        {"text": "JSON.str", "matches": {"stringify"}},
        # a TypeScript-typed local: members come from the declared interface
        {"text": "interface Pt { xCoord: number; yCoord: number }\ndeclare const pt: Pt\npt.xC", "matches": {"xCoord"}},
    ]

    # test_is_complete
    complete_code_samples = [
        "1 + 1",
        'console.log("hi")',
        "const x: number = 1",
        "function add(a: number, b: number): number {\n  return a + b\n}",
        "interface Point { x: number; y: number }",
        "for (let i = 0; i < 3; i++) console.log(i)",
        "await new Promise((r) => setTimeout(r, 1))",
    ]
    incomplete_code_samples = [
        "function add(a: number, b: number): number {",
        "const xs = [1, 2,",
        "if (true) {",
        "interface Point {\n  x: number",
        "const s = `multi\nline",
        "console.log(",
    ]
    invalid_code_samples = [
        "}",
        "const = 1",
        "let 1x = 2",
        "1 +* 2",
    ]

    # test_error: exactly one output, an `error` message, and status "error" in the reply
    code_generate_error = 'throw new Error("boom")'

    # test_execute_result (and test_history, which executes these again)
    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "const answer: number = 40\nanswer + 2", "result": "42"},
        {"code": "'ts' + 'prof'", "result": "'tsprof'"},
        {"code": "[1, 2, 3].map((n: number) => n * 2)", "result": "[ 2, 4, 6 ]"},
        {"code": "({ [display.mimebundle]() { return { 'text/html': '<b>rich</b>' } } })",
         "mime": "text/html", "result": "<b>rich</b>"},
    ]

    # test_display_data
    code_display_data = [
        {"code": "display.html('<b>bold</b>')", "mime": "text/html"},
        {"code": "display.markdown('| a | b |\\n| - | - |\\n| 1 | 2 |')", "mime": "text/markdown"},
        {"code": "display.svg('<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"4\" height=\"4\"/>')",
         "mime": "image/svg+xml"},
        {"code": "display.json({ a: 1, b: [2, 3] })", "mime": "application/json"},
        {"code": "display.vegalite({ mark: 'bar', data: { values: [{ a: 1 }] }, encoding: {} })",
         "mime": "application/vnd.vegalite.v5+json"},
        {"code": "display({ a: 1 })", "mime": "text/plain"},
    ]

    # test_history: a glob that matches exactly one distinct input among everything executed above
    code_history_pattern = "6 ? 7"
    supported_history_operations = ("tail", "range", "search")

    # test_inspect: a reply with found=true and at least one MIME type
    code_inspect_sample = "Math.max"

    # test_clear_output: a cell that clears its output (IPython's clear_output())
    code_clear_output = "display.clear()"

    # test_pager: IPython-style help, `name?`, answers with a "page" payload (the TypeScript signature and doc)
    code_page_something = "Math.max?"

    @classmethod
    def setUpClass(cls):
        # TSPROF_TEST_TMP: the node:test runner's own temp dir, so it can find and clean up after us
        cls._tmp = tempfile.mkdtemp(prefix="tsprof-conformance-", dir=os.environ.get("TSPROF_TEST_TMP"))
        prefix = Path(cls._tmp) / "prefix"
        subprocess.run([NODE, str(TSPROF), "install", "--prefix", str(prefix)], check=True,
                       stdout=subprocess.DEVNULL, timeout=60)
        cls._env_before = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "JUPYTER_RUNTIME_DIR")}
        os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
        os.environ["JUPYTER_RUNTIME_DIR"] = str(Path(cls._tmp) / "runtime")
        try:
            super().setUpClass()
        except BaseException:
            cls._restore()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls._restore()

    @classmethod
    def _restore(cls):
        for k, v in cls._env_before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(cls._tmp, ignore_errors=True)

    # ---- checks beyond the standard suite, validated with the same message schema ----

    def test_tsprof_comm_info(self):
        """comm_info_request gets a valid reply (JupyterLab sends one on every connection)."""
        self.flush_channels()
        msg = self.kc.session.msg("comm_info_request", {})
        self.kc.shell_channel.send(msg)
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        validate_message(reply, "comm_info_reply", msg["header"]["msg_id"])
        self.assertEqual(reply["content"]["status"], "ok")

    def test_tsprof_interrupt_keeps_state(self):
        """interrupt_mode is "message": jupyter_client sends interrupt_request on control."""
        self.flush_channels()
        reply, _ = self.execute_helper("let kept: number = 41")
        self.assertEqual(reply["content"]["status"], "ok")
        msg_id = self.kc.execute("while (true) {}")
        self.assertEqual(self.km.kernel_spec.interrupt_mode, "message")
        time.sleep(0.5)
        self.km.interrupt_kernel()
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        validate_message(reply, "execute_reply", msg_id)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "KeyboardInterrupt")
        self.flush_channels()
        reply, outputs = self.execute_helper("kept + 1")
        self.assertEqual(reply["content"]["status"], "ok")
        results = [m for m in outputs if m["msg_type"] == "execute_result"]
        self.assertEqual(len(results), 1)
        self.assertEqual(results[0]["content"]["data"]["text/plain"], "42")

    def test_tsprof_execution_count(self):
        """execute_input and execute_result carry the reply's execution_count."""
        self.flush_channels()
        msg_id = self.kc.execute("1 + 1")
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        validate_message(reply, "execute_reply", msg_id)
        count = reply["content"]["execution_count"]
        seen = {}
        while True:
            msg = run_sync(self.kc.iopub_channel.get_msg)(timeout=TIMEOUT)
            validate_message(msg, msg["msg_type"], msg_id)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            seen[msg["msg_type"]] = msg["content"]
        self.assertEqual(seen["execute_input"]["execution_count"], count)
        self.assertEqual(seen["execute_result"]["execution_count"], count)


if __name__ == "__main__":
    unittest.main()
