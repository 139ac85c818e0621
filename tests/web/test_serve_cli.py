"""``faisceau serve`` through the real command line: one process or several workers, the
login page and the style sheet are served from the store's home, with nothing external."""

from __future__ import annotations

import subprocess
import time

import httpx
import pytest

from tests.conftest import faisceau_cmd, free_port


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_on_loopback(workers: int, store_env: dict[str, str]) -> None:
    port = free_port()
    env = {**store_env, "FAISCEAU_SECRET_KEY": "une clé de test assez longue pour servir"}
    server = subprocess.Popen([*faisceau_cmd(), "serve", "--port", str(port), "--workers",
                               str(workers)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                page = httpx.get(f"{base}/connexion", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("faisceau serve did not answer")
        assert page.status_code == 200 and "Connexion" in page.text
        assert httpx.get(f"{base}/static/faisceau.css").status_code == 200
        assert httpx.get(f"{base}/file", follow_redirects=False).status_code == 303
        # A searched phone must not reach the server's own output (no access log by default).
        httpx.get(f"{base}/annonces?telephone=0612345678", follow_redirects=False)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert "0612345678" not in output and "/annonces" not in output
