"""The web application in a real browser: Debian's Chromium driven by Playwright, against
``faisceau serve``'s application on loopback, over the embedded store of a small world.

What an analyst does: log in, open the review queue, follow a network, record a decision,
and be refused a page outside their need-to-know; open a case, follow a party to its entity
page, give a reason to see a victim, and expand the link graph. Screenshots are kept in
``test-artifacts/browser/`` for whoever reads the CI run.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.intel.casefiles import import_case_files
from faisceau.intel.leads import find_leads
from faisceau.score.review import history
from faisceau.score.run import detect_and_score
from faisceau.share.accounts import DEMO_PASSWORD, ensure_demo_accounts
from faisceau.store import open_store
from faisceau.synth.behind import write_behind
from faisceau.synth.world import Params, write_world
from tests.conftest import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    import uvicorn

    from faisceau.web.app import create_app

    root = tmp_path_factory.mktemp("browser")
    params = Params(scale=0.01, days=2, seed=3, images=False)
    write_world(params, root / "world")
    # The case files behind the ads (one case at this scale), and their leads to the ads.
    write_behind(root / "world", params.seed, params.start, params.scale)
    settings = Settings(home=root / "store", database_url=None)
    store = open_store(settings)
    with Ingestor(store, images=False, workers=1).session() as ingestor:
        ingestor.ingest_paths([root / "world" / "crawl"])
    detect_and_score(store)
    import_case_files(store, [root / "world" / "intel" / "csv"])
    find_leads(store)
    ensure_demo_accounts(store)
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                            log_level="warning")
    web = uvicorn.Server(config)
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    for _ in range(100):
        if web.started:
            break
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}", settings
    web.should_exit = True
    thread.join(timeout=10)
    store.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _log_in(browser: object, base: str, login: str) -> object:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(f"{base}/file")
    assert "/connexion" in page.url
    page.fill("#identifiant", login)
    page.fill("#mot_de_passe", DEMO_PASSWORD)
    page.click("button[type=submit]")
    return page


def test_an_analyst_reviews_a_network_and_a_page_outside_need_to_know_is_refused(
        server: tuple[str, Settings], browser: object) -> None:
    base, settings = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = _log_in(browser, base, "analyste")
    page.wait_for_url(f"{base}/file")  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "1-file.png"), full_page=True)  # type: ignore[attr-defined]
    first = page.locator("a[href^='/reseaux/']").first  # type: ignore[attr-defined]
    network_id = first.inner_text()
    first.click()
    page.wait_for_url(f"{base}/reseaux/{network_id}")  # type: ignore[attr-defined]
    assert network_id in page.content()  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "2-reseau.png"), full_page=True)  # type: ignore[attr-defined]

    page.check("input[name=decision][value=investigate]")  # type: ignore[attr-defined]
    page.click("form.decision button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "3-decision.png"), full_page=True)  # type: ignore[attr-defined]
    store = open_store(settings)
    with store.begin() as conn:
        decisions = history(conn, network_id)
    store.dispose()
    assert [(d.decision, d.analyst) for d in decisions] == [("investigate", "analyste")]

    # The dashboard's map of France, drawn by the browser from the page itself.
    page.goto(f"{base}/")  # type: ignore[attr-defined]
    assert page.locator("section.carte svg path").count() >= 101  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "0-tableau.png"), full_page=True)  # type: ignore[attr-defined]

    # The auditor reads the log, not the records: the network page is refused.
    auditor = _log_in(browser, base, "auditeur")
    auditor.wait_for_load_state()  # type: ignore[attr-defined]
    response = auditor.goto(f"{base}/reseaux/{network_id}")  # type: ignore[attr-defined]
    assert response is not None and response.status == 403
    auditor.screenshot(path=str(ARTIFACTS / "4-refus.png"), full_page=True)  # type: ignore[attr-defined]


def test_an_analyst_follows_a_case_to_an_entity_and_expands_its_graph(
        server: tuple[str, Settings], browser: object) -> None:
    base, _settings = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = _log_in(browser, base, "analyste")
    page.wait_for_url(f"{base}/file")  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: errors.append(str(e)))  # type: ignore[attr-defined]

    page.click("nav >> text=Dossiers")  # type: ignore[attr-defined]
    page.wait_for_url(f"{base}/dossiers")  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "5-dossiers.png"), full_page=True)  # type: ignore[attr-defined]
    page.locator("table.dossiers a[href^='/dossiers/']").first.click()  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    assert "identité masquée" in page.content()  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "6-dossier.png"), full_page=True)  # type: ignore[attr-defined]

    # A victim: the entity page first asks for a reason.
    victims = page.locator("h2:has-text('Victimes') + table a[href^='/entites/']")  # type: ignore[attr-defined]
    victim = victims.first
    victim_id = victim.inner_text()
    victim.click()
    page.wait_for_url(f"{base}/entites/{victim_id}")  # type: ignore[attr-defined]
    assert "Motif de consultation" in page.content()  # type: ignore[attr-defined]
    page.fill("#motif", "Audition de la victime prévue demain")  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "7-motif.png"), full_page=True)  # type: ignore[attr-defined]
    page.click("form.motif button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{base}/entites/{victim_id}")  # type: ignore[attr-defined]
    assert "Valeurs et provenance" in page.content()  # type: ignore[attr-defined]
    assert "victimes" in page.content()  # type: ignore[attr-defined]

    # Back to the case: a suspect's page, and its graph grows when a node is clicked.
    page.goto(f"{base}/dossiers/C00001")  # type: ignore[attr-defined]
    suspect = page.locator("h2:has-text('Suspects') + table a[href^='/entites/']").first  # type: ignore[attr-defined]
    suspect_id = suspect.get_attribute("href").rsplit("/", 1)[1]
    suspect.click()
    page.wait_for_url(f"{base}/entites/{suspect_id}")  # type: ignore[attr-defined]
    page.wait_for_selector("#graphe[data-nodes]")  # type: ignore[attr-defined]
    first = int(page.get_attribute("#graphe", "data-nodes"))  # type: ignore[attr-defined]
    assert first > 1
    page.screenshot(path=str(ARTIFACTS / "8-graphe.png"), full_page=True)  # type: ignore[attr-defined]
    # Click (with the mouse) the neighbours in turn until one brings new nodes: the nodes
    # are drawn on a canvas, so their positions are asked of cytoscape (anew after each
    # click, as the layout runs again).
    page.locator("#graphe").scroll_into_view_if_needed()  # type: ignore[attr-defined]
    box = page.locator("#graphe").bounding_box()  # type: ignore[attr-defined]
    where = """(id) => {
        const cy = document.getElementById("graphe")._cyreg.cy;
        const p = cy.getElementById(id).renderedPosition();
        return [p.x, p.y];
    }"""
    neighbours = page.evaluate("""() => {
        const box = document.getElementById("graphe");
        return box._cyreg.cy.nodes().map(n => n.id()).filter(i => i !== box.dataset.node);
    }""")  # type: ignore[attr-defined]
    grown = first
    for node in neighbours[:12]:
        x, y = page.evaluate(where, node)  # type: ignore[attr-defined]
        page.mouse.click(box["x"] + x, box["y"] + y)  # type: ignore[attr-defined]
        page.wait_for_function(  # type: ignore[attr-defined]
            "() => !document.getElementById('graphe-etat').textContent.startsWith('Chargement')")
        grown = int(page.get_attribute("#graphe", "data-nodes"))  # type: ignore[attr-defined]
        if grown > first:
            break
    assert grown > first, (first, grown, page.inner_text("#graphe-etat"))  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "9-graphe-etendu.png"), full_page=True)  # type: ignore[attr-defined]
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
