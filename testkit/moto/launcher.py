"""moto server for the tests, on a free loopback port.

Prints `READY http://127.0.0.1:PORT` once it answers, and exits when its
standard input closes (the Rust test that started it is gone).
"""

import sys

from moto.server import ThreadedMotoServer


def main() -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    print(f"READY http://127.0.0.1:{port}", flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
