"""The server side of the embedded node's Kubo RPC API (:class:`flai.storage.node.IpfsNode`).

- :mod:`~flai.storage.rpc.server` — the threaded HTTP server and its connections;
- :mod:`~flai.storage.rpc.handler` — routing, body framing, origin checks, responses;
- :mod:`~flai.storage.rpc.body` — ``Content-Length``/chunked bodies and multipart parts;
- :mod:`~flai.storage.rpc.commands` — ``add``, ``cat``, ``block/*``, ``pin/*``, ``repo/*``,
  ``version``, ``id``;
- :mod:`~flai.storage.rpc.request` — request errors and query-string options.
"""
