"""The web application: server-rendered pages in French and their JSON API.

This package owns the HTTP side of faisceau: sessions, CSRF protection and the login rate
limit (``security``), the pages (``pages``: login, dashboard, review queue, network page)
and the JSON API that serves the same data (``api``), their templates and the local style
sheet. It decides nothing on its own: need-to-know comes from ``faisceau.share.access``, the
consultation log from ``faisceau.share.audit``, the queue and decisions from
``faisceau.score.review``. ``create_app`` (``app``) assembles it; ``faisceau serve`` runs it.
"""
