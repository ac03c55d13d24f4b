"""A tiny WSGI app that echoes each request back as JSON, served by waitress.

It listens on a socket handed over by systemd (socket activation, LISTEN_FDS)
when there is one, otherwise on --host/--port.
"""

import argparse
import json
import sys

__version__ = "1.0.0"


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    reply = {
        "method": environ["REQUEST_METHOD"],
        "path": environ.get("PATH_INFO", ""),
        "query": environ.get("QUERY_STRING", ""),
        "body": body.decode("utf-8", "replace"),
        "python": sys.version.split()[0],
    }
    data = json.dumps(reply, sort_keys=True).encode() + b"\n"
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="echo-wsgi", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--version", action="version", version="echo-wsgi " + __version__)
    args = parser.parse_args(argv)

    import waitress

    try:  # in a pyzap artifact: the sockets systemd passed, if any
        from pyzap_runtime import listen_sockets
    except ImportError:
        def listen_sockets():
            return []

    sockets = listen_sockets()
    if sockets:
        waitress.serve(app, sockets=sockets, ident="echo-wsgi")
    else:
        waitress.serve(app, host=args.host, port=args.port, ident="echo-wsgi")
    return 0
