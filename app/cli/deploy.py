"""Endpoint commands of the ``yolodesk`` CLI: deploy, endpoints, endpoint stop|start|delete|logs|rotate-token|replace."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.cli.common import EXIT_FAILED, EXIT_OK, fail, job_manager

READY_TIMEOUT_S = 300.0


def _endpoints(manager: Any) -> Any:
    from app.deploy.endpoints import EndpointManager

    return EndpointManager(manager)


def cmd_deploy(args: argparse.Namespace) -> int:
    from app.library.repository import LibraryError

    manager = job_manager()
    try:
        eps = _endpoints(manager)
        deployed = eps.deploy(args.model, worker=args.worker, port=args.port, lan=args.lan, backend=args.backend,
                              name=args.name)
        if deployed.note and not args.json:
            print(f"note: {deployed.note}", file=sys.stderr)
        if args.lan and not args.json:
            print("warning: --lan: the endpoint listens on every network interface (0.0.0.0), reachable from "
                  "other machines; only the token protects it", file=sys.stderr)
        try:
            ep = eps.wait_ready(deployed.endpoint.id, READY_TIMEOUT_S)
        except KeyboardInterrupt:  # interrupted before it was Ready: leave nothing serving behind
            eps.stop(deployed.endpoint.id)
            return 130
        if ep.state != "Ready":
            return fail("deploy", f"endpoint {ep.id} {ep.state.lower()}" + (f": {ep.error}" if ep.error else ""))
        if args.json:
            print(json.dumps({"id": ep.id, "url": ep.url, "token": deployed.token, "state": ep.state}))
        else:
            print(f"✓ {ep.name} is ready ({ep.backend})\nid:    {ep.id}\nurl:   {ep.url}\ntoken: {deployed.token}")
            if ep.worker != "local":
                print(f"(on {ep.worker}: its port stays on its loopback; this URL is an SSH tunnel from here)")
        return EXIT_OK
    except LibraryError as e:
        return fail("deploy", e)
    finally:
        manager.shutdown()  # the agent goes on (detached); the next manager adopts its job


def _row(eps: Any, ep: Any, model_names: dict[str, str]) -> dict[str, Any]:
    requests, p95 = eps.metrics(ep)
    return {"id": ep.id, "name": ep.name, "model": model_names.get(ep.model_id, ep.model_id), "state": ep.state,
            "url": ep.url, "worker": ep.worker, "backend": ep.backend, "requests": requests, "p95_ms": p95,
            "error": ep.error}


def cmd_endpoints(args: argparse.Namespace) -> int:
    manager = job_manager()
    try:
        eps = _endpoints(manager)
        names = {m.id: m.name for m in manager.lib.models()}
        rows = [_row(eps, ep, names) for ep in eps.listing()]
    finally:
        manager.shutdown()
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print("no endpoints (yolodesk deploy MODEL makes one)")
        return EXIT_OK
    print(f"{'ID':<14}{'NAME':<20}{'STATE':<11}{'BACKEND':<10}{'REQUESTS':>9}{'P95 MS':>8}  URL")
    for r in rows:
        requests = "—" if r["requests"] is None else str(r["requests"])
        p95 = "—" if r["p95_ms"] is None else f"{r['p95_ms']:g}"
        print(f"{r['id']:<14}{r['name'][:19]:<20}{r['state']:<11}{r['backend']:<10}{requests:>9}{p95:>8}  "
              f"{r['url'] or '—'}" + (f"  ({r['error']})" if r["state"] == "Failed" and r["error"] else ""))
    return EXIT_OK


def cmd_endpoint(args: argparse.Namespace) -> int:
    from app.library.repository import LibraryError

    manager = job_manager()
    try:
        eps = _endpoints(manager)
        if args.action == "logs":
            sys.stdout.write(eps.logs(args.id))
            return EXIT_OK
        if args.action == "stop":
            ep = eps.stop(args.id)
        elif args.action == "start":
            eps.start(args.id)
            ep = eps.wait_ready(args.id, READY_TIMEOUT_S)
        elif args.action == "delete":
            ep = eps.delete(args.id)
            print(f"deleted endpoint {ep.name} ({ep.id})")
            return EXIT_OK
        elif args.action == "replace":
            if not args.model:
                return fail("endpoint replace", "which model? yolodesk endpoint replace ID MODEL [--backend NAME]")
            ep = eps.replace(args.id, args.model, backend=args.backend, timeout=READY_TIMEOUT_S)
            print(f"{ep.name} ({ep.id}) now serves {args.model} ({ep.backend}); URL and token unchanged")
        else:
            ep, token = eps.rotate_token(args.id)
            print(f"new token: {token}")
        wanted = {"stop": "Stopped", "start": "Ready", "replace": "Ready"}.get(args.action, ep.state)
        if ep.state != wanted and ep.state in ("Failed", "Stopped", "Stopping", "Creating", "Deploying"):
            return fail(f"endpoint {args.action}", f"endpoint {ep.id} is {ep.state.lower()}"
                        + (f": {ep.error}" if ep.error else ""))
        print(f"{ep.name} ({ep.id}): {ep.state}" + (f" at {ep.url}" if ep.state == "Ready" else ""))
        return EXIT_OK
    except LibraryError as e:
        return fail(f"endpoint {args.action}", e, EXIT_FAILED)
    finally:
        manager.shutdown()


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("deploy", help="serve a model over HTTP (an endpoint); exits once it is Ready")
    s.add_argument("model", metavar="MODEL")
    s.add_argument("--worker", metavar="NAME", help="serve on this worker (reached through an SSH tunnel from here)")
    s.add_argument("--port", type=int, default=0, help="the port to listen on (0, the default: a free one)")
    s.add_argument("--lan", action="store_true", help="listen on every interface (0.0.0.0), not only 127.0.0.1")
    s.add_argument("--backend", metavar="NAME", help="runtime: a verified export's format (onnx, openvino…) or pt")
    s.add_argument("--name", metavar="NAME", help="the endpoint's name (default: the model's)")
    s.add_argument("--json", action="store_true", help="print one object: id, url, token, state")
    s.set_defaults(func=cmd_deploy)
    s = sub.add_parser("endpoints", help="list endpoints with their state, URL, requests and p95 latency")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_endpoints)
    s = sub.add_parser("endpoint", help="stop, start, delete an endpoint, show its log, rotate its token, or "
                                        "replace its model (zero failed requests; URL and token stay)")
    s.add_argument("action", choices=("stop", "start", "delete", "logs", "rotate-token", "replace"))
    s.add_argument("id", metavar="ID")
    s.add_argument("model", metavar="MODEL", nargs="?", help="replace: the model to serve now (same task)")
    s.add_argument("--backend", metavar="NAME", help="replace: its runtime (a verified export's format, or pt)")
    s.set_defaults(func=cmd_endpoint)
