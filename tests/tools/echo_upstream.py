#!/usr/bin/env python3
# echo_upstream.py SOCKET - the app behind the proxy in tests/test_web.c: answers every request with 200 and the request headers it received, one "Name: value" line each (a header sent twice is listed twice), on a Unix socket.
import http.server
import os
import socketserver
import sys


class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass    # the headers may hold a token: never printed

    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if 0 < n <= 65536:
            self.rfile.read(n)
        body = "".join("%s: %s\n" % (k, v) for k, v in self.headers.items())
        body = body.encode("utf-8", "replace")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = answer


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        conn, _ = super().get_request()
        return conn, ("unix", 0)    # BaseHTTPRequestHandler wants a pair


def main():
    path = sys.argv[1]
    tmp = path + ".new"
    if os.path.exists(tmp):
        os.unlink(tmp)
    srv = Server(tmp, Echo)
    os.chmod(tmp, 0o666)
    os.rename(tmp, path)    # the socket appears only once it listens
    srv.serve_forever()


if __name__ == "__main__":
    main()
