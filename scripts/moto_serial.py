"""moto's server, applying one request at a time.

moto's threaded server checks a DynamoDB condition and then writes without a lock, so two racing
conditional writes can both succeed: a lost update that real DynamoDB (atomic per item, and per
transaction) never allows. Latch's concurrency tests race on purpose, so the emulator must be at
least as strict as the service: here requests are still accepted concurrently (keep-alive
connections work), but each is handled inside one global lock.

It also answers `GET /moto-api/latch/ses.json`: the part of `/moto-api/data.json` the test suites
read mail from (`{"ses": {"Message": [...]}}`, same shape), without serialising every other
model. data.json grows with every DynamoDB item and transaction the suites make, until one read
takes seconds; this one stays as cheap as the number of messages.

Usage: python moto_serial.py HOST PORT
"""

import json
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


SES_PATH = "/moto-api/latch/ses.json"


def ses_messages():
    """moto's SES messages, each with its JSON-serialisable public attributes (as data.json)."""
    from moto.core.model_instances import model_data

    messages = []
    for instance in getattr(model_data.get("ses", {}).get("Message"), "instances_tracked", []):
        record = {}
        for attr in dir(instance):
            if attr.startswith("_"):
                continue
            try:
                value = getattr(instance, attr)
                json.dumps(value)
            except (TypeError, AttributeError, ValueError):
                continue
            record[attr] = value
        messages.append(record)
    return {"ses": {"Message": messages}}


def serial(environ, start_response):
    with lock:
        if environ.get("PATH_INFO") == SES_PATH:
            body = json.dumps(ses_messages()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        # Materialise the body inside the lock, so no other request interleaves with it.
        return list(app(environ, start_response))


if __name__ == "__main__":
    run_simple(sys.argv[1], int(sys.argv[2]), serial, threaded=True, request_handler=MotoRequestHandler)
