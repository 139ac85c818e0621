"""The web application: server-rendered pages in French and their JSON API.

This package owns the HTTP side of faisceau: sessions, CSRF protection and the login rate
limit (``security``); the review queue and network pages with their API (``api``,
``pages``); the dashboard of key figures (``dashboard``, drawn by ``charts`` and ``maps``);
ad search and ad pages (``ads``); cases, entities and the link graph (``entities``);
administration (``admin``); the auditor's journal (``journal``); their templates and local
static files. Every read of records goes through one path (``consult``): need-to-know,
the masking of sensitive values (``disclosure``) and the log. It decides nothing on its own:
need-to-know comes from ``faisceau.share.access``, the consultation log from
``faisceau.share.audit``, the figures
from ``faisceau.intel.keyfigures``, search from ``faisceau.ingest.fulltext``. ``create_app``
(``app``) assembles it; ``faisceau serve`` runs it.
"""
