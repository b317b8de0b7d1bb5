"""moto server for the tests, on a free loopback port.

Prints `READY http://127.0.0.1:PORT` once it answers, and exits when its
standard input closes (the Rust test that started it is gone).

Before the server starts it teaches moto's CloudFormation the resource types
the product's stack uses (`cfn_types`) and makes it behave like the real
service where moto 5.2.5 differs (`patches`); both live beside this file.
"""

import logging
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from moto.server import ThreadedMotoServer  # noqa: E402

import cfn_types  # noqa: E402
import patches  # noqa: E402


def main() -> None:
    # Ctrl-C at a terminal reaches the whole process group: this process
    # stops when its parent closes its standard input, after the parent has
    # stopped what uses it, not with a traceback before that.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One line per request on stderr would drown the tests' own output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    cfn_types.register()
    patches.apply()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    print(f"READY http://127.0.0.1:{port}", flush=True)
    # The parent reads that one line and may close its end of the pipe; any
    # later stray print (moto's or ours) goes to stderr instead of failing.
    os.dup2(2, 1)
    sys.stdin.read()
    server.stop()
    # Tearing down moto's modules takes seconds on a loaded machine and frees
    # nothing the exit does not: leave at once.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
