"""moto's server, applying one request at a time.

moto's threaded server checks a DynamoDB condition and then writes without a lock, so two racing
conditional writes can both succeed: a lost update that real DynamoDB (atomic per item, and per
transaction) never allows. Latch's concurrency tests race on purpose, so the emulator must be at
least as strict as the service: here requests are still accepted concurrently (keep-alive
connections work), but each is handled inside one global lock.

Usage: python moto_serial.py HOST PORT
"""

import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serial(environ, start_response):
    with lock:
        # Materialise the body inside the lock, so no other request interleaves with it.
        return list(app(environ, start_response))


if __name__ == "__main__":
    run_simple(sys.argv[1], int(sys.argv[2]), serial, threaded=True, request_handler=MotoRequestHandler)
