"""What the end-to-end scripts share: a free local port, and waiting for a URL to answer."""
import socket
import time
import urllib.request


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, seconds=60):
    """GETs `url` until it answers, then returns (status, body); RuntimeError after `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status, r.read()
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def stop(process, seconds=10):
    """SIGTERM, then SIGKILL if `process` has not ended within `seconds`; None or ended: nothing."""
    import signal
    import subprocess
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()


def load_sample(binary, work, root):
    """The repository's catalog (`root`/Layers) loaded into `work`/onemap.sqlite; returns its path."""
    import os
    import subprocess
    db = os.path.join(work, "onemap.sqlite")
    subprocess.run([binary, "load", "--catalog", os.path.join(root, "Layers"), "--db", db],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return db


class Checks:
    """Named checks, each printed as it is judged (`ok   name — detail` or `FAIL …`); `finish`
    prints the tally under `title` and exits 1 if any failed."""

    def __init__(self):
        self.passed, self.failed = [], []

    def __call__(self, name, ok, detail=""):
        (self.passed if ok else self.failed).append(name)
        print(("ok   " if ok else "FAIL ") + name + (f" — {detail}" if detail else ""), flush=True)

    def finish(self, title):
        import sys
        print(f"{title}: {len(self.passed)} passed, {len(self.failed)} failed")
        sys.exit(1 if self.failed else 0)
