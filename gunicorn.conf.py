"""gunicorn's settings for the web (read from the working directory: the image's /app).

Measured with `bench/bench_public.py --mix` (every public page at once, 50 connections;
/work/notes/load.md and docs/performance.md):

- `gthread` workers with as many threads as a worker may hold connections: a cached page
  (a few milliseconds) never waits behind a search or a live page rendering in the same
  worker. With `sync` workers (one request at a time per process) every page, even the
  trivial view, waited behind the slowest ones in the accept queue (p50 about 490 ms for
  all of them at 2 workers); with 4 threads a worker that held the search connections
  served the cached pages on its other connections at the search's pace.
- keep-alive well above a client's pause between two requests of one connection: a
  connection closed by the server just as the client reuses it is an error for that client
  (one read error in 32,667 requests with gunicorn's default of 2 s on a loaded machine).

The number of workers comes from the command line (Dockerfile, docker-compose.yml) or
WEB_CONCURRENCY; the others can be overridden on the command line or through the
environment (GUNICORN_THREADS, GUNICORN_KEEPALIVE). Each thread that
touches the database keeps its own connection (CONN_MAX_AGE): workers x threads per web
replica must stay below PostgreSQL's max_connections.
"""

import os

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
