# Serves nova-api's WSGI app with a threaded wsgiref server (what Debian's nova-api-wsgi dev server does).
# Nova's import monkeypatches the standard library with eventlet: it must come before socketserver and wsgiref
# are imported, or their accept loop blocks the green threads that talk to Keystone.
import os
import sys

from nova.api.openstack.compute.wsgi import init_application  # noqa: E402  (monkeypatches first)

import wsgiref.simple_server as wss  # noqa: E402
from socketserver import ThreadingMixIn  # noqa: E402


class Server(ThreadingMixIn, wss.WSGIServer):
    daemon_threads = True


class QuietHandler(wss.WSGIRequestHandler):
    def log_message(self, *args):
        pass


host, port = sys.argv[1], int(sys.argv[2])
sys.argv[1:] = []
app = init_application()
server = wss.make_server(host, port, app, server_class=Server, handler_class=QuietHandler)
open(os.environ["READY_FILE"], "w").close()
server.serve_forever()
