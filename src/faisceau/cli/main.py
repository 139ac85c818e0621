"""Entry point of the ``faisceau`` command."""

from __future__ import annotations

import sys
import tempfile
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from faisceau.cli.cases import cases_app, print_import
from faisceau.cli.common import (
    analyst_name,
    console,
    fail,
    opened_store,
    out,
    refusals,
    shown,
    user_errors,
    warn,
)
from faisceau.cli.consult import consultation
from faisceau.cli.exchange import register as register_exchange
from faisceau.cli.graph import graph_app
from faisceau.cli.leads import leads_app, leads_find, print_leads
from faisceau.cli.people import people_app, resolve_command
from faisceau.cli.serve import register as register_serve
from faisceau.cli.serve import serve
from faisceau.cli.share import audit_app, retention_app, units_app, users_app
from faisceau.evaluate.report import evaluate_paths, render
from faisceau.export import jsonout
from faisceau.export.ads import write_ads
from faisceau.export.networks import write_networks
from faisceau.ingest import quarantine as quarantine_store
from faisceau.ingest.inspect import ad_history
from faisceau.ingest.pipeline import CHUNK_LINES, Ingestor, Summary, store_counts
from faisceau.ingest.records import FileList, escaped_controls, file_size, find_files
from faisceau.link.inspect import largest_networks, network_detail
from faisceau.score.inspect import ad_score_detail, network_score_detail
from faisceau.score.review import (
    Decision,
    QueueEntry,
    ReviewError,
    earlier_decisions,
    french_risk,
    history,
    network_exists,
    queue,
    record_decision,
)
from faisceau.score.settings import load_settings as load_score_settings
from faisceau.share.accounts import DEMO_PASSWORD, ensure_demo_accounts
from faisceau.store import Store
from faisceau.synth.behind import write_behind
from faisceau.synth.world import PRESETS, Params, write_world

if TYPE_CHECKING:
    from faisceau.link.detect import DetectSummary
    from faisceau.score.run import ScoreSummary

app = typer.Typer(help="faisceau: veille des annonces et renseignement criminel "
                       "(TEH/proxénétisme).", no_args_is_help=True, pretty_exceptions_enable=False)
ingest_app = typer.Typer(help="Load collected data into the store.", no_args_is_help=True)
quarantine_app = typer.Typer(help="Records set aside at ingestion.", no_args_is_help=True)
export_app = typer.Typer(help="Exports in the data contracts.", no_args_is_help=True)
ads_app = typer.Typer(help="Look at ingested ads.", no_args_is_help=True)
networks_app = typer.Typer(help="Look at detected networks.", no_args_is_help=True)
app.add_typer(networks_app, name="networks")
app.add_typer(ads_app, name="ads")
app.add_typer(ingest_app, name="ingest")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(export_app, name="export")
app.add_typer(cases_app, name="cases")
register_exchange(export_app)
app.add_typer(graph_app, name="graph")
app.add_typer(leads_app, name="leads")
app.add_typer(people_app, name="people")
app.add_typer(units_app, name="units")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(retention_app, name="retention")
register_serve(app)

def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                    transient=False, disable=not console.is_terminal)


def print_summary(summary: Summary, *, show_rejections: int = 20) -> None:
    table = Table(title="Ingestion", show_header=False)
    for label, value in (
        ("fichiers", summary.files), ("lignes lues", summary.read),
        ("nouvelles annonces", summary.new_ads), ("nouvelles versions", summary.new_versions),
        ("passages répétés", summary.repeat_sightings),
        ("déjà ingérées", summary.already_ingested),
        ("mises de côté (quarantaine)", summary.set_aside),
        ("quarantaine résolue", summary.resolved),
        ("chemins non lus en entier", len(summary.unread)),
    ):
        table.add_row(label, f"{value:,}".replace(",", " "))
    out.print(table)
    for path, line, reason in summary.rejections[:show_rejections]:
        out.print(f"  mise de côté: {path}:{line}: {reason}", highlight=False, soft_wrap=True)
    if len(summary.rejections) > show_rejections:
        more = len(summary.rejections) - show_rejections
        out.print(f"  … et {more} autres: faisceau quarantine list", highlight=False)
    # Every path not read in full, on standard error: never cut short, and seen by scripts.
    for path, reason in summary.unread:
        warn(f"chemin non lu en entier (quarantaine, ligne 0) : {path} : {reason}")


def run_ingest(store: Store, found: FileList, *, images: bool = True,
               workers: int | None = None, chunk_lines: int = CHUNK_LINES,
               lock_timeout: float | None = None) -> Summary:
    """Ingest what ``find_files`` found, with a progress bar."""
    total_bytes = sum(file_size(f) for f in found.files)
    ingestor = Ingestor(store, images=images, workers=workers, chunk_lines=chunk_lines,
                        lock_timeout=lock_timeout)
    with _progress() as progress, ingestor.session():
        task = progress.add_task("ingestion", total=total_bytes)
        summary = ingestor.ingest_found(found, lambda n: progress.advance(task, n))
    return summary


@ingest_app.command("ads")
def ingest_ads(
    paths: Annotated[list[Path], typer.Argument(help="JSON Lines files (.jsonl, .jsonl.gz) "
                                                     "or directories of them.")],
    images: Annotated[bool, typer.Option(help="Hash the image files.")] = True,
    workers: Annotated[int | None, typer.Option(help="Normalisation processes.")] = None,
    chunk_lines: Annotated[int, typer.Option(min=1, help="Lines per transaction.")]
    = CHUNK_LINES,
    lock_timeout: Annotated[float | None, typer.Option(
        min=0, help="Give up (exit status 2) after this many seconds waiting for another "
        "ingest or detection on the same store; default: wait.")] = None,
) -> None:
    """Ingest collected ads; bad lines, and files that cannot be read in full, are set aside
    (quarantine), the rest goes in."""
    with user_errors():
        found = find_files(paths)  # an unreadable path given fails before the store is touched
        with opened_store() as store:
            summary = run_ingest(store, found, images=images, workers=workers,
                                 chunk_lines=chunk_lines, lock_timeout=lock_timeout)
    print_summary(summary)


@quarantine_app.command("list")
def quarantine_list(
    all_entries: Annotated[bool, typer.Option("--all", help="Include resolved entries.")] = False,
    file: Annotated[str | None, typer.Option(help="Only this file.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows (0: all).")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines, for scripts.")] = False,
) -> None:
    """List the lines set aside: file, line, reason (which may quote what the line held)."""
    with user_errors(), consultation("quarantine list", "quarantine", "liste") as seen:
        entries = quarantine_store.list_entries(seen.conn, include_resolved=all_entries,
                                                path=file, limit=limit or None)
        seen.shows(str(e.id) for e in entries)
    if as_json:
        for e in entries:
            sys.stdout.write(jsonout.text({
                "id": e.id, "path": e.path, "line": e.line, "reason": e.reason,
                "set_aside_at": e.set_aside_at.isoformat(), "resolution": e.resolution,
            }) + "\n")
        return
    table = Table(title=f"Quarantaine ({len(entries)})")
    for column in ("id", "fichier", "ligne", "motif", "état"):
        table.add_column(column)
    for e in entries:
        state = e.resolution or "ouverte"
        table.add_row(str(e.id), Text(e.path), str(e.line), Text(e.reason), Text(state))
    out.print(table)


@quarantine_app.command("show")
def quarantine_show(entry_id: int) -> None:
    """Print one set-aside line as it was read."""
    with user_errors(), consultation("quarantine show", "quarantine", str(entry_id)) as seen:
        entry = quarantine_store.get_entry(seen.conn, entry_id)
        if entry is None:
            raise fail(f"no quarantine entry {entry_id}")
        seen.shows([str(entry_id)])
    out.print(f"{entry.path}:{entry.line}: {entry.reason}", markup=False, highlight=False,
              soft_wrap=True)
    # Escaped again: entries set aside by older versions may hold control characters.
    sys.stdout.write(shown(escaped_controls(entry.raw)) + "\n")


@quarantine_app.command("retry")
def quarantine_retry() -> None:
    """Ingest again the files that have open entries (fixed lines go in, others stay)."""
    with user_errors(), opened_store() as store:
        with store.begin() as conn:
            files = quarantine_store.files_to_retry(conn)
        if not files:
            out.print("Aucune entrée ouverte dont le fichier existe encore.")
            return
        summary = run_ingest(store, find_files(files, strict=False))
    print_summary(summary)


@quarantine_app.command("dismiss")
def quarantine_dismiss(
    entry_ids: list[int],
    reason: Annotated[str, typer.Option(help="Why the lines will not be ingested.")],
) -> None:
    """Close entries that will never be fixed, with a reason (they are kept)."""
    with user_errors(), opened_store() as store, store.begin() as conn:
        count = quarantine_store.dismiss(conn, entry_ids, reason)
    out.print(f"{count} entrée(s) classée(s).")


@export_app.command("ads")
def export_ads(out_file: Annotated[Path, typer.Option("--out", help="JSON Lines file.")]) -> None:
    """One line per ad (latest version), in the contract's format."""
    with user_errors(), consultation("export ads", "ad", "*", action="export") as seen, \
            open(out_file, "wb") as handle:
        seen.detail["file"] = str(out_file)
        count = write_ads(seen.conn, handle)
        seen.detail["ads"] = count
    out.print(Text(f"{count} annonces exportées vers {out_file}"))


@export_app.command("networks")
def export_networks(
    out_file: Annotated[Path, typer.Option("--out", help="JSON Lines file.")],
) -> None:
    """One line per network, in the contract's format."""
    with user_errors(), consultation("export networks", "network", "*",
                                     action="export") as seen, \
            open(out_file, "wb") as handle:
        seen.detail["file"] = str(out_file)
        count = write_networks(seen.conn, handle)
        seen.detail["networks"] = count
    out.print(Text(f"{count} réseaux exportés vers {out_file}"))


@app.command("detect")
def detect_command() -> None:
    """Link what has been ingested into networks (incremental: only new ads cost work)."""
    from faisceau.score.run import detect_and_score

    with user_errors(), opened_store() as store:
        linked, scored = detect_and_score(store)
    print_detect_summary(linked)
    print_score_summary(scored)


@app.command("score")
def score_command(
    indicators: Annotated[Path | None, typer.Option(
        "--indicators", help="Another catalogue of indicators (the shape of the shipped "
        "src/faisceau/score/indicators.toml), e.g. to try new weights.")] = None,
) -> None:
    """Score the networks of the last detection again, without linking (detect scores too).
    Only what changed is written; decisions are kept."""
    from faisceau.score.run import score

    with user_errors(), opened_store() as store:
        settings = load_score_settings(indicators) if indicators is not None else None
        summary = score(store, settings=settings)
    print_score_summary(summary)


def print_detect_summary(summary: DetectSummary) -> None:
    seconds = sum(summary.seconds.values())
    out.print(f"Détection: {summary.ads} annonces en {summary.networks} réseaux "
              f"({summary.linked_ads} annonces reliées à d'autres), {summary.new_versions} "
              f"versions nouvelles, {summary.reassigned} annonces (ré)affectées, "
              f"{summary.merges} fusions, {summary.splits} scissions, "
              f"{summary.weak_links} liens faibles corroborés ({summary.cut_links} coupés, "
              f"{summary.refused_links} rapprochements refusés faute de preuves), "
              f"{summary.handovers} numéros ou comptes passés de main en main; "
              f"{seconds:.1f} s.", highlight=False)


def print_score_summary(summary: ScoreSummary) -> None:
    scope = (f"{summary.scored_networks} réseaux réévalués (ceux qui ont changé)"
             if summary.incremental else f"{summary.scored_networks} réseaux évalués")
    out.print(f"Évaluation du risque: {scope}; {summary.networks} réseaux actifs, dont "
              f"{summary.suspected} suspectés d'exploitation et {summary.minor_networks} où une "
              f"personne mineure est suspectée ({summary.minor_ads} annonces); "
              f"{summary.networks_written} scores mis à jour; "
              f"{sum(summary.seconds.values()):.1f} s.", highlight=False)


def print_largest_networks(command: str, top: int, *, as_json: bool = False) -> None:
    """The largest networks with their phones, as ``networks list`` prints them (``demo``
    too, under its own name)."""
    with user_errors(), consultation(command, "network", "liste") as seen:
        rows = largest_networks(seen.conn, top)
        seen.shows(r["network_id"] for r in rows)
    if as_json:
        sys.stdout.write(jsonout.text(rows, indent=True) + "\n")
        return
    table = Table(title="Plus grands réseaux")
    for column in ("réseau", "annonces", "personnes", "téléphones", "départements", "vu"):
        table.add_column(column, no_wrap=column == "réseau")
    for r in rows:
        table.add_row(r["network_id"], str(r["ads"]), str(r["persons"]),
                      Text(" ".join(r["phones"][:3]) + (" …" if len(r["phones"]) > 3 else "")),
                      Text(" ".join(r["departements"])),
                      f"{(r['first_seen'] or '')[:10]} → {(r['last_seen'] or '')[:10]}")
    out.print(table)


@networks_app.command("list")
def networks_list(
    top: Annotated[int, typer.Option(help="How many networks.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on standard output.")] = False,
) -> None:
    """The largest networks."""
    print_largest_networks("networks list", top, as_json=as_json)


@networks_app.command("show")
def networks_show(network_id: str) -> None:
    """One network: its ads, persons (names, photos), phones and handles, circuit, first and
    last seen, the evidence of its links with provenance, its merges and splits, its score
    with the reasons and their evidence, and the analysts' decisions. JSON."""
    with user_errors(), consultation("networks show", "network", network_id) as seen:
        detail = network_detail(seen.conn, network_id)
        if detail is None:
            raise fail(f"no network {network_id!r}")
        seen.shows([network_id])
        detail["score"] = network_score_detail(seen.conn, network_id)
        detail["decisions"] = [d.to_dict() for d in history(seen.conn, network_id)]
    sys.stdout.write(jsonout.text(detail, indent=True) + "\n")


@ads_app.command("show")
def ads_show(source: str, ad_id: str) -> None:
    """One ad: every version as collected, each normalised value with its field, the images
    (hashes or the error), when it was seen, and what scoring read in it (cues, the words
    that set them, a suspected minor and why). JSON on standard output."""
    with user_errors(), consultation("ads show", "ad", f"{source}:{ad_id}") as seen:
        found = ad_history(seen.conn, source, ad_id)
        if found is None:
            raise fail(f"no ad {ad_id!r} from {source!r}")
        seen.shows([f"{source}:{ad_id}"])
        found["score"] = ad_score_detail(seen.conn, source, ad_id)
    sys.stdout.write(jsonout.text(found, indent=True) + "\n")


@app.command()
def status() -> None:
    """What the store holds."""
    with user_errors(), opened_store() as store, store.begin() as conn:
        counts = store_counts(conn)
    table = Table(title="Contenu du stockage", show_header=False)
    labels = {"ads": "annonces", "versions": "versions", "sightings": "passages",
              "values": "valeurs normalisées", "images": "images", "quarantined": "en quarantaine"}
    for key, label in labels.items():
        table.add_row(label, f"{counts[key]:,}".replace(",", " "))
    out.print(table)


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write into.")],
    preset: Annotated[str, typer.Option(help="small | demo | national-day | national-year")]
    = "small",
    scale: Annotated[float | None, typer.Option(help="Share of the national volume.")] = None,
    ads_per_day: Annotated[int | None, typer.Option(help="Active ads a day (overrides "
                                                         "--scale).")] = None,
    days: Annotated[int | None, typer.Option(help="Days of crawl.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    corrupt_rate: Annotated[float | None, typer.Option(help="Share of lines corrupted.")] = None,
    images: Annotated[bool | None, typer.Option("--images/--no-images")] = None,
    gzip: Annotated[bool | None, typer.Option("--gzip/--no-gzip", help=".jsonl.gz files.")]
    = None,
    single_file: Annotated[bool, typer.Option("--single-file", help="One file.")] = False,
    confounding: Annotated[float | None, typer.Option(
        help="Multiplies every confounder's rate (0: none, 1: calibrated, 2: doubled).")]
    = None,
) -> None:
    """Generate a synthetic world: a daily crawl of ads (OUT/crawl) and its ground truth
    (OUT/truth). Same parameters and seed, same bytes."""
    if preset not in PRESETS:
        raise fail(f"unknown preset {preset!r} ({', '.join(PRESETS)})")
    base = PRESETS[preset]
    params = Params(
        scale=scale if scale is not None else base.scale,
        ads_per_day=ads_per_day if ads_per_day is not None else base.ads_per_day,
        days=days if days is not None else base.days,
        seed=seed if seed is not None else base.seed,
        corrupt_rate=corrupt_rate if corrupt_rate is not None else base.corrupt_rate,
        images=images if images is not None else base.images,
        gzip=gzip if gzip is not None else base.gzip,
        single_file=single_file,
        confounding=confounding if confounding is not None else base.confounding,
    )
    if params.confounding < 0:
        raise fail("--confounding must be 0 or more")
    with user_errors(), _progress() as progress:
        task = progress.add_task("monde synthétique", total=params.days)
        written = write_world(params, out_dir, on_day=lambda: progress.advance(task))
        behind = write_behind(out_dir, params.seed, params.start, params.scale)
    out.print(f"{written.lines} passages de {written.ads} annonces "
              f"({written.controllers} contrôleurs, {written.corrupt} lignes corrompues, "
              f"{written.images} images) sous {out_dir}", markup=False, highlight=False)
    out.print(f"Derrière les annonces : {behind.cases} procédures "
              f"({behind.networks_dismantled} réseaux démantelés), "
              f"{behind.suspects_identified} mis en cause, {behind.victims_identified} victimes, "
              f"{behind.transactions} transactions, {behind.runaway_reports} fugues, "
              f"{behind.partner_signals} signalements de partenaires", highlight=False)


@app.command()
def evaluate(
    truth: Annotated[Path, typer.Option(help="A synthetic world's directory, or its "
                                             "truth/ads.jsonl.")],
    ads: Annotated[Path | None, typer.Option(help="Ads export; default: export the store "
                                                  "now.")] = None,
    networks: Annotated[Path | None, typer.Option(help="Networks export.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on standard output.")] = False,
) -> None:
    """Compare the system's exports with a synthetic world's ground truth: clustering
    (B-cubed), network ranking (top-k, ROC AUC), minors, false flags on independent workers
    overall and by presented origin, scam ads flagged as trafficking and scam suspicions."""
    truth_file = truth / "truth" / "ads.jsonl" if truth.is_dir() else truth
    with user_errors(), tempfile.TemporaryDirectory(prefix="faisceau-eval-") as tmp:
        if ads is None:
            ads = Path(tmp) / "ads.jsonl"
            with opened_store() as store, store.begin() as conn, open(ads, "wb") as handle:
                write_ads(conn, handle)
        report = evaluate_paths(truth_file, ads, networks)
    if as_json:
        sys.stdout.write(jsonout.text(report.to_dict(), indent=True)
                         + "\n")
    else:
        out.print(render(report))


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option("--data", help="Where to write the synthetic crawl.")]
    = Path("demo-data"),
    serve_after: Annotated[bool, typer.Option(
        "--serve", help="Then serve the web application on http://127.0.0.1:8000 "
        "(until interrupted).")] = False,
) -> None:
    """Generate the demo world, ingest it, link its ads into networks, score them, and show
    the largest networks and the top of the review queue; import the world's case files,
    resolve their people and cross-reference them with the ads (leads)."""
    with user_errors():
        demo_world = PRESETS["demo"]
        written = write_world(demo_world, data_dir)
        write_behind(data_dir, demo_world.seed, demo_world.start, demo_world.scale)
        out.print(f"Monde synthétique: {written.lines} lignes, {written.ads} annonces "
                  f"({written.corrupt} lignes corrompues volontairement).")
        with opened_store() as store:
            summary = run_ingest(store, find_files([data_dir / "crawl"]))
            print_summary(summary, show_rejections=5)
            with store.begin() as conn:
                counts = store_counts(conn)
            out.print(f"Stockage: {counts['ads']} annonces, {counts['versions']} versions, "
                      f"{counts['sightings']} passages, {counts['values']} valeurs "
                      f"normalisées, {counts['quarantined']} lignes en quarantaine.")
            from faisceau.score.run import detect_and_score

            linked, scored = detect_and_score(store)
            print_detect_summary(linked)
            print_score_summary(scored)
            print_largest_networks("demo", 10)
            with store.begin() as conn:
                print_queue(queue(conn, limit=10), include_decided=False)
            from faisceau.intel.casefiles import import_case_files

            print_import(import_case_files(store, [data_dir / "intel" / "csv"]), show=5)
        # The intelligence picture: people resolved across files, then ads x case files.
        resolve_command(settings_file=None, as_json=False)
        leads_find()
        print_leads("demo", limit=5, include_decided=False, as_json=False, reason=None)
        out.print("Analyse de liens : faisceau graph key-persons, faisceau graph neighbours ID, "
                  "faisceau graph path ID1 ID2 ; exports : faisceau export ftm|gexf|graphml|i2",
                  highlight=False)
        with opened_store() as store:
            accounts = ensure_demo_accounts(store)
        out.print(Text("Application web : faisceau serve (ou faisceau demo --serve), puis "
                       "http://127.0.0.1:8000 ; comptes de démonstration, mot de passe "
                       f"« {DEMO_PASSWORD} » : "
                       + ", ".join(f"{u.login} ({u.role}, {u.unit})" for u in accounts)))
    if serve_after:
        serve()


# --- The review queue ------------------------------------------------------------------------

queue_app = typer.Typer(help="The review queue: networks by risk, and analysts' decisions.",
                        invoke_without_command=True)
app.add_typer(queue_app, name="queue")

DECISION_WORDS = {"investigate": "à enquêter", "dismissed": "classé sans suite",
                  "known": "déjà connu"}


def review_errors() -> AbstractContextManager[None]:
    """A decision refused (unknown network, missing reason…): one line, exit status 2."""
    return refusals(ReviewError)


def _signed(contribution: float) -> str:
    return f"{contribution:+.2f}".replace(".", ",")


def _when(decision: Decision) -> str:
    return decision.decided_at.strftime("%Y-%m-%d %H:%M UTC")


def describe_decision(decision: Decision) -> str:
    """One French line: what was decided, by whom, when, and why."""
    text = f"{DECISION_WORDS[decision.decision]} par {decision.analyst} le {_when(decision)}"
    if decision.case_ref:
        text += f", procédure {decision.case_ref}"
    if decision.reason:
        text += f" : {decision.reason}"
    return text


def _status_text(entry: QueueEntry) -> str:
    if entry.status == "new":
        lines = ["nouveau"]
    elif entry.status == "returned":
        lines = ["revenu : " + " ; ".join(entry.changes)]
    else:
        assert entry.decision is not None
        lines = [describe_decision(entry.decision)]
    lines += [f"avant fusion, {d.network_id} : {describe_decision(d)}"
              for d in entry.earlier_decisions]
    return "\n".join(lines)


def print_queue(entries: list[QueueEntry], *, include_decided: bool) -> None:
    if not entries:
        out.print("Aucun réseau à examiner." if include_decided else
                  "Aucun réseau à examiner (réseaux déjà décidés : faisceau queue --all).")
        return
    table = Table(title="File d'examen : réseaux par risque décroissant")
    table.add_column("#", no_wrap=True)
    table.add_column("réseau", no_wrap=True)
    table.add_column("risque", no_wrap=True)
    table.add_column("annonces", max_width=8)
    table.add_column("raisons principales", min_width=21)
    table.add_column("statut", min_width=7)
    short = {i.name: i.short for i in load_score_settings().indicators}
    for e in entries:
        reasons = "\n".join(f"{short.get(r.indicator, r.label)}\u00a0{_signed(r.contribution)}"
                             for r in e.reasons) or "aucun indicateur"
        size = ", ".join([str(e.ads), *(["mineur suspecté"] if e.minor_suspected else []),
                          *(["escroquerie suspectée"] if e.scam_suspected else [])])
        table.add_row(str(e.rank), e.network_id, french_risk(e.risk), size, Text(reasons),
                      Text(_status_text(e)))
    out.print(table)


@queue_app.callback()
def queue_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="How many networks.")] = 20,
    include_decided: Annotated[bool, typer.Option(
        "--all", help="Also the networks already decided on, with their latest decision.")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines, for scripts.")] = False,
    only: Annotated[str | None, typer.Option(
        "--only", help="One category: trafficking, scam (fake ads defrauding clients) or "
                       "minor.")] = None,
) -> None:
    """The networks to review, highest risk first, with their main reasons: those never
    decided on, and those dismissed that changed materially since."""
    if ctx.invoked_subcommand is not None:
        return
    with user_errors(), review_errors(), opened_store() as store, store.begin() as conn:
        entries = queue(conn, limit=limit, include_decided=include_decided, only=only)
    if as_json:
        for entry in entries:
            sys.stdout.write(jsonout.text(entry.to_dict()) + "\n")
        return
    print_queue(entries, include_decided=include_decided)


def _chosen_decision(investigate: bool, dismiss: str | None, known: str | None,
                     reason: str | None) -> tuple[str, str | None, str | None]:
    """(decision, reason, case reference) from the options; exactly one decision."""
    if investigate + (dismiss is not None) + (known is not None) != 1:
        raise ReviewError("choisir exactement une décision : --investigate, --dismiss MOTIF "
                          "ou --known RÉFÉRENCE")
    if dismiss is not None:
        if reason is not None:
            raise ReviewError("le motif d'un classement se donne avec --dismiss MOTIF")
        return "dismissed", dismiss, None
    if known is not None:
        return "known", reason, known
    return "investigate", reason, None


@queue_app.command("decide")
def queue_decide(
    network_id: str,
    investigate: Annotated[bool, typer.Option("--investigate",
                                              help="Worth an investigation.")] = False,
    dismiss: Annotated[str | None, typer.Option("--dismiss", metavar="REASON",
                                                help="Dismiss it, with the reason.")] = None,
    known: Annotated[str | None, typer.Option("--known", metavar="CASE_REF",
                                              help="Already known: the case reference.")]
    = None,
    reason: Annotated[str | None, typer.Option(help="Why (with --investigate or --known).")]
    = None,
    analyst: Annotated[str | None, typer.Option(
        help="Who decides; default $FAISCEAU_ANALYST, else the session's user.")] = None,
) -> None:
    """Record a decision on a network (never changed afterwards: a new decision is added)."""
    with user_errors(), review_errors():
        decision, why, case_ref = _chosen_decision(investigate, dismiss, known, reason)
        name = analyst_name(analyst)
        with opened_store() as store, store.begin() as conn:
            decision_id = record_decision(conn, network_id, decision, name, reason=why,
                                          case_ref=case_ref)
            recorded = next(d for d in history(conn, network_id) if d.id == decision_id)
    out.print(f"Décision n° {decision_id} enregistrée sur le réseau {network_id} : "
              f"{describe_decision(recorded)} (vu : risque {french_risk(recorded.seen.risk)}, "
              f"{recorded.seen.ads} annonces).", markup=False, highlight=False, soft_wrap=True)


def print_decisions(title: str, decisions: list[Decision]) -> None:
    table = Table(title=Text(title))
    for column in ("n°", "réseau", "date", "analyste", "décision", "procédure", "motif",
                   "vu : risque", "vu : annonces"):
        table.add_column(column, no_wrap=column in ("réseau", "date"))
    for d in decisions:
        table.add_row(str(d.id), Text(d.network_id), _when(d), Text(d.analyst),
                      DECISION_WORDS[d.decision], Text(d.case_ref or ""), Text(d.reason or ""),
                      french_risk(d.seen.risk), str(d.seen.ads))
    out.print(table)


@queue_app.command("history")
def queue_history(
    network_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines, for scripts.")] = False,
) -> None:
    """The decisions taken on a network, oldest first, then those taken on the networks it
    absorbed."""
    with user_errors(), review_errors(), opened_store() as store, store.begin() as conn:
        if not network_exists(conn, network_id):
            raise ReviewError(f"réseau inconnu : {network_id}")
        own = history(conn, network_id)
        earlier = earlier_decisions(conn, [network_id]).get(network_id, [])
    if as_json:
        for d in [*own, *earlier]:
            sys.stdout.write(jsonout.text(d.to_dict()) + "\n")
        return
    if own:
        print_decisions(f"Décisions sur le réseau {network_id}", own)
    else:
        out.print(f"Aucune décision sur le réseau {network_id}.", markup=False, highlight=False)
    if earlier:
        print_decisions("Décisions sur les réseaux qu'il a absorbés", earlier)


def main() -> None:
    app()
