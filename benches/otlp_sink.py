#!/usr/bin/env python3
# A do-nothing OTLP/HTTP receiver for timing `buildprof export --otlp`: accepts every POST
# (reads the body, answers 200 with an empty ExportTraceServiceResponse) and prints nothing.
# Usage: python3 benches/otlp_sink.py PORT &
#        /usr/bin/time target/release/buildprof --db DB export --otlp http://127.0.0.1:PORT --quiet
import http.server, sys


class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
