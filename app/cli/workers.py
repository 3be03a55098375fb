"""Worker commands of the ``yolodesk`` CLI: ``workers add | list | test | remove | install``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, open_library


def _store() -> Any:
    from app.jobs.workers import WorkerStore

    return WorkerStore(open_library())


def _print_probe(name: str, probe: Any) -> None:
    info = probe.info or {}
    if info:
        print(f"{name}: {info.get('platform')}, Python {info.get('python')} ({info.get('executable')})")
        print(f"  torch {info.get('torch') or '—'}, ultralytics {info.get('ultralytics') or '—'}, "
              f"{info.get('cpu_count')} CPUs, {(info.get('ram_total') or 0) / 2**30:.0f} GiB RAM, "
              f"{(info.get('disk_free') or 0) / 2**30:.0f} GiB free")
        for g in info.get("cuda_devices") or []:
            print(f"  GPU {g['index']}: {g['name']} ({g['memory'] / 2**30:.0f} GiB)")
    for p in probe.problems:
        print(f"  ✗ {p}")
    for n in probe.notes:
        print(f"  · {n}")


def _test(store: Any, name: str, trust: str | None, ask: bool) -> int:
    from app.jobs.ssh import HostKeyChanged, HostKeyUnknown, SSHError
    from app.jobs.workers import probe

    try:
        result = probe(store, name, trust=trust)
    except HostKeyUnknown as e:
        print(f"The host key of {e.host} is not known.\n  {e.key.get_name()} key fingerprint: {e.fingerprint}",
              file=sys.stderr)
        if ask and sys.stdin.isatty():
            answer = input("Trust this host and continue? Type the word yes: ").strip().lower()
            if answer == "yes":
                return _test(store, name, e.fingerprint, ask=False)
        print(f"Not trusted. Check it on the worker (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then: "
              f"yolodesk workers test {name} --trust {e.fingerprint}", file=sys.stderr)
        return EXIT_FAILED
    except HostKeyChanged as e:
        return fail("workers", e)
    except SSHError as e:
        return fail("workers", f"{name}: {e}")
    _print_probe(name, result)
    if result.ok and store.get(name).kind == "ray":
        from app.jobs.ray_transport import check_cluster as check_ray

        try:
            print("  Ray (Jobs API through the SSH tunnel): " + check_ray(store, store.get(name)))
        except SSHError as e:
            return fail("workers", f"{name}: {e}")
    if result.ok and store.get(name).kind == "slurm":
        from app.jobs.slurm_transport import check_cluster

        try:
            print("  Slurm (sinfo): " + check_cluster(store, store.get(name)).replace("\n", "; "))
        except SSHError as e:
            return fail("workers", f"{name}: {e}")
    if result.ok:
        print(f"✓ {name} is ready")
        return EXIT_OK
    print(f"✗ {name} cannot run jobs yet", file=sys.stderr)
    return EXIT_FAILED


def cmd_workers(args: argparse.Namespace) -> int:
    from app.jobs.cluster_gpus import default_per_job
    from app.library.repository import LibraryError

    store = _store()
    try:
        if args.action == "add":
            if not args.name or not args.host or not args.host.strip() or not args.host.isprintable():
                print("yolodesk workers add NAME HOST [--port N] [--user U] [--key PATH] [--python PATH]",
                      file=sys.stderr)
                return EXIT_USAGE
            kind, options = _kind_options(args)
            if args.ask_secret and kind == "ray":
                return _add_ray(store, args, options)
            if args.ask_secret:
                import getpass

                from app.jobs.secrets import NoKeyring, store_secret

                secret = getpass.getpass("Password (or the key's passphrase), kept in the OS keyring: ")
                try:
                    store_secret(args.name, secret)
                except NoKeyring as e:
                    return fail("workers", e)
            store.add(args.name, args.host, args.port, args.user, args.key, python=args.python or "python3",
                      auth="password" if args.ask_secret else None, kind=kind, options=options)
            print(f"added worker {args.name}; testing it…")
            return _test(store, args.name, args.trust, ask=True)
        if args.action == "test":
            return _test(store, _one(args), args.trust, ask=True)
        if args.action == "remove":
            store.remove(_one(args))
            print(f"removed worker {args.name}")
            return EXIT_OK
        if args.action == "install":
            from app.jobs.workers import install_packages

            w = install_packages(store, _one(args), lambda text: print(text, end="", flush=True),
                                 packages=args.packages or None)
            print(f"\n✓ {w.name} now runs jobs with {w.python}; testing it…")
            return _test(store, w.name, None, ask=False)
        workers = store.list()
        if args.json:
            print(json.dumps([w.to_json() for w in workers], indent=2))
            return EXIT_OK
        if not workers:
            print("no workers yet: yolodesk workers add NAME HOST --user U --key ~/.ssh/id_ed25519")
            return EXIT_OK
        print(f"{'NAME':<16}{'KIND':<7}{'WHERE':<32}{'PYTHON':<28}{'GPUS':<34}STATE")
        for w in workers:
            ep = w.endpoint()
            gpus = (default_per_job(w.kind, w.options) + " per job" if w.kind in ("slurm", "ray")
                    else ", ".join(f"{g['index']}: {g['name']}" for g in w.gpus) or "—")
            state = "untested" if w.tested_at is None else ("problem: " + w.last_error if w.last_error else "ready")
            print(f"{w.name:<16}{w.kind:<7}{ep.describe():<32}{w.python[-27:]:<28}{gpus[:33]:<34}{state}")
        return EXIT_OK
    except LibraryError as e:
        return fail("workers", e)


def _add_ray(store: Any, args: argparse.Namespace, options: dict[str, Any] | None) -> int:
    """``workers add … --kind ray --ask-secret``: the secret asked for is the cluster's Ray token (not SSH's)."""
    import getpass

    from app.jobs.ray_options import RayOptionError, store_ray_token

    token = getpass.getpass("The Ray cluster's token (RAY_AUTH_TOKEN), kept in the OS keyring: ")
    if not token.strip() or not token.strip().isprintable():
        return fail("workers", "the Ray token is empty or not printable; nothing was added")
    store.add(args.name, args.host, args.port, args.user, args.key, python=args.python or "python3", kind="ray",
              options=options)
    try:
        note = store_ray_token(store.lib.home, args.name, token)
    except (RayOptionError, OSError) as e:
        store.remove(args.name)
        return fail("workers", f"the Ray token could not be kept ({e}); nothing was added")
    if note:
        print(note)
    print(f"added worker {args.name}; testing it…")
    return _test(store, args.name, args.trust, ask=True)


def _kind_options(args: argparse.Namespace) -> tuple[str, dict[str, Any] | None]:
    """The worker's kind and its options (``--max-submissions`` with them); LibraryError if bad."""
    from app.library.repository import LibraryError

    kind, options = _engine_options(args)
    if args.max_submissions is not None:
        if kind not in ("slurm", "ray"):
            raise LibraryError("--max-submissions only applies to --kind slurm or ray (an SSH box runs one training)")
        if args.max_submissions < 1:
            raise LibraryError(f"--max-submissions {args.max_submissions} must be at least 1")
        options = {**(options or {}), "max_submissions": args.max_submissions}
    return kind, options


def _engine_options(args: argparse.Namespace) -> tuple[str, dict[str, Any] | None]:
    """The worker's kind and its options from ``--kind slurm --partition … --env K=V``; LibraryError if bad."""
    from app.jobs.slurm_batch import SlurmOptionError, SlurmOptions, parse_env
    from app.library.repository import LibraryError

    if args.dashboard_port is not None and args.kind != "ray":
        raise LibraryError("--dashboard-port only applies to --kind ray")
    if args.gpus is not None and args.kind != "ray":
        raise LibraryError("--gpus only applies to --kind ray (on Slurm, GPUs per job are --gres; on an SSH box, "
                           "a job's device= picks them)")
    slurm_only = {"partition": args.partition, "account": args.account, "gres": args.gres, "time": args.time,
                  "env": args.env}
    if args.kind != "slurm":
        given = [f"--{k}" for k, v in slurm_only.items() if v]
        if given:
            raise LibraryError(f"{', '.join(given)} only apply to --kind slurm")
        if args.kind == "ray":
            from app.jobs.ray_options import RayOptionError, RayOptions

            try:
                return "ray", RayOptions.from_json({"dashboard_port": args.dashboard_port, "gpus": args.gpus,
                                                    "cpus": args.cpus, "memory": args.mem}).to_json()
            except RayOptionError as e:
                raise LibraryError(str(e)) from e
        if args.cpus is not None or args.mem:
            raise LibraryError("--cpus and --mem only apply to --kind slurm or ray (an SSH box's job has it all)")
        return args.kind, None
    if args.cpus is not None and args.cpus != int(args.cpus):
        raise LibraryError(f"--cpus {args.cpus:g}: Slurm takes a whole number of CPUs per task")
    try:
        options = SlurmOptions.from_json({**slurm_only, "cpus": None if args.cpus is None else int(args.cpus),
                                          "mem": args.mem,
                                          "env": parse_env(args.env)})
    except SlurmOptionError as e:
        raise LibraryError(str(e)) from e
    return "slurm", options.to_json()


def _one(args: argparse.Namespace) -> str:
    if not args.name:
        print(f"yolodesk workers {args.action}: give the worker's NAME", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
    return args.name


def port_number(text: str) -> int:
    """``--port``: a TCP port, 1–65535 (argparse turns the ValueError into a usage error)."""
    port = int(text)
    if not 1 <= port <= 65535:
        raise ValueError(text)
    return port


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("workers", help="remote GPU boxes reached over SSH: add, list, test, remove, install")
    s.add_argument("action", nargs="?", default="list", choices=("list", "add", "test", "remove", "install"))
    s.add_argument("name", nargs="?", metavar="NAME")
    s.add_argument("host", nargs="?", metavar="HOST", help="an alias of ~/.ssh/config, a host name or an address")
    s.add_argument("--port", type=port_number, help="the SSH port (1-65535)")
    s.add_argument("--user")
    s.add_argument("--key", metavar="PATH", help="private key file (else the ssh-agent and ~/.ssh/id_*)")
    s.add_argument("--python", metavar="PATH", help="the worker's interpreter with torch (default python3)")
    s.add_argument("--trust", metavar="SHA256:…", help="trust this host key fingerprint (as ssh-keygen -lf prints it)")
    s.add_argument("--ask-secret", action="store_true",
                   help="ask for a password or key passphrase and keep it in the OS keyring (never in a file)")
    s.add_argument("--kind", choices=("ssh", "slurm", "ray"), default="ssh",
                   help="ssh: jobs run on the host itself; slurm: HOST is a login node, jobs go through sbatch; "
                        "ray: HOST is a Ray head, jobs go through its Jobs API (with --ask-secret: its token)")
    s.add_argument("--dashboard-port", type=port_number, metavar="8265",
                   help="ray: the head's dashboard port on its loopback (reached through an SSH tunnel)")
    s.add_argument("--max-submissions", type=int, metavar="N",
                   help="slurm, ray: how many jobs of ours the cluster may hold at once (it queues them; default 8)")
    s.add_argument("--partition", help="slurm: the partition jobs are submitted to (else the cluster's default)")
    s.add_argument("--account", help="slurm: the account jobs are charged to")
    s.add_argument("--gres", metavar="gpu:1", help="slurm: generic resources per job (GPUs)")
    s.add_argument("--time", metavar="04:00:00", help="slurm: the time limit of each job")
    s.add_argument("--gpus", type=int, metavar="N",
                   help="ray: GPUs a job asks for when it names no device (default 1; 0: CPU jobs; device=0,1 asks 2)")
    s.add_argument("--cpus", type=float, metavar="N",
                   help="slurm: --cpus-per-task of each job (default 1); ray: CPUs each job asks for")
    s.add_argument("--mem", metavar="8G", help="slurm, ray: memory per job (no unit: megabytes)")
    s.add_argument("--env", action="append", metavar="K=V",
                   help="slurm: a variable set for every Slurm command there (e.g. SLURM_CONF=/etc/slurm/slurm.conf)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--package", dest="packages", action="append", help="with install: what to pip install")
    s.set_defaults(func=cmd_workers)
